"""The expertise vocabulary: the file is valid and complete, lookups, checks, and the DB copy."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import delete, select

from bot.core.clock import FixedClock
from bot.core.vocabulary import (
    SLUG_PATTERN,
    Vocabulary,
    default_vocabulary,
    default_vocabulary_path,
    load_vocabulary,
    sync_vocabulary,
)
from storage.db import SessionFactory, transaction
from storage.models import ExpertiseTag, Person, PersonExpertise

# The official SLE areas of expertise (2016-18), by the slug each is filed under.
OFFICIAL_SLE_AREAS = {
    "academy transition": "academy-transition",
    "assessment": "assessment",
    "leadership of CPD": "cpd",
    "school business management and finance": "school-business-management",
    "leadership of curriculum": "curriculum",
    "art": "art",
    "drama": "drama",
    "design and technology": "design-technology",
    "English": "english",
    "phonics and early reading": "phonics",
    "maths": "maths",
    "science": "science",
    "geography": "geography",
    "history": "history",
    "computing": "computing",
    "modern foreign languages": "mfl",
    "music": "music",
    "PE and sport": "pe",
    "PSHE": "pshe",
    "RE": "re",
    "citizenship": "citizenship",
    "early years": "early-years",
    "special educational needs": "send",
    "disadvantaged pupils": "disadvantaged",
    "most able pupils": "most-able",
    "initial teacher training and early career teachers": "ect",
    "behaviour": "behaviour",
    "attendance": "attendance",
}
# What this bot brokers beyond the SLE list.
BOT_AREAS = {
    "headship and whole-school leadership": "leadership",
    "governance": "governance",
    "safeguarding": "safeguarding",
    "English as an additional language": "eal",
    "wellbeing and mental health": "wellbeing",
    "premises and estates": "premises",
    "HR": "hr",
    "Ofsted inspection readiness": "ofsted-readiness",
}


def entry(slug: str, *synonyms: str) -> dict[str, Any]:
    """One vocabulary entry as it would be written in the YAML file."""
    return {"slug": slug, "label": slug.title(), "category": "Test", "synonyms": list(synonyms)}


@pytest.fixture
def vocabulary() -> Vocabulary:
    """The packaged vocabulary."""
    return default_vocabulary()


# --- the file ------------------------------------------------------------------------------
def test_the_packaged_file_loads_and_is_well_formed(vocabulary: Vocabulary) -> None:
    assert load_vocabulary(default_vocabulary_path()).slugs == vocabulary.slugs
    assert len(set(vocabulary.slugs)) == len(vocabulary) > 30
    for tag in vocabulary:
        assert SLUG_PATTERN.fullmatch(tag.slug)
        assert tag.label and tag.category and len(tag.category) <= 75  # a Slack group label
        assert all(synonym == synonym.lower() for synonym in tag.synonyms)


@pytest.mark.parametrize(("area", "slug"), sorted({**OFFICIAL_SLE_AREAS, **BOT_AREAS}.items()))
def test_every_area_is_present_and_named_by_its_label(
    area: str, slug: str, vocabulary: Vocabulary
) -> None:
    assert slug in vocabulary
    assert vocabulary.normalise(area) == slug


def test_no_synonym_belongs_to_two_tags(vocabulary: Vocabulary) -> None:
    raw = yaml.safe_load(default_vocabulary_path().read_text(encoding="utf-8"))["tags"]
    owners: dict[str, list[str]] = {}
    for item in raw:
        for synonym in item.get("synonyms", []):
            owners.setdefault(synonym, []).append(item["slug"])
    assert {s: o for s, o in owners.items() if len(o) > 1} == {}


def test_the_vocabulary_is_immutable(vocabulary: Vocabulary) -> None:
    assert isinstance(vocabulary.tags, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        vocabulary.tags = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        vocabulary["send"].label = "Other"  # type: ignore[misc]
    assert default_vocabulary() is default_vocabulary()


def test_lookup_by_slug(vocabulary: Vocabulary) -> None:
    assert vocabulary["send"].label == "Special educational needs and disabilities (SEND)"
    assert vocabulary.get("nonsense") is None
    assert vocabulary.has("maths") and not vocabulary.has("Maths")
    assert vocabulary.label("maths") == "Maths"
    assert vocabulary.label("retired-tag") == "retired-tag"
    assert vocabulary.slugs[:2] == ("leadership", "ofsted-readiness")  # file order


# --- normalise ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("term", "slug"),
    [
        ("send", "send"),
        ("early-years", "early-years"),
        ("Early years", "early-years"),
        ("  EARLY   YEARS ", "early-years"),
        ("early_years", "early-years"),
        ("#early-years", "early-years"),
        ("#SEND", "send"),
        ("School business management and finance", "school-business-management"),
        ("SENCO", "send"),
        ("SENDCo", "send"),
        ("EHCPs", "send"),
        ("SENCO's", "send"),
        ("KS2 Maths", "maths"),
        ("DSL", "safeguarding"),
        ("Requires Improvement", "ofsted-readiness"),
        ("RI", "ofsted-readiness"),
        ("Governors", "governance"),
        ("D&T", "design-technology"),
        ("PE", "pe"),
        ("re", "re"),
    ],
)
def test_normalise_finds_the_slug(term: str, slug: str, vocabulary: Vocabulary) -> None:
    assert vocabulary.normalise(term) == slug


@pytest.mark.parametrize("term", ["", "  ", "#", "underwater basket weaving", "mathss", "sendd"])
def test_normalise_returns_none_for_unknown_terms(term: str, vocabulary: Vocabulary) -> None:
    assert vocabulary.normalise(term) is None


# --- checks ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        ([entry("maths", "numeracy"), entry("science", "numeracy")], "numeracy"),
        ([entry("maths", "numeracy"), entry("numeracy")], "numeracy"),
        ([entry("maths", "ks2-maths"), entry("english", "ks2 maths")], "ks2 maths"),
        ([entry("maths"), entry("maths")], "maths"),
        ([entry("Maths")], "Maths"),
        ([entry("early_years")], "early_years"),
        ([entry("maths", "Numeracy")], "lower-case"),
        ([entry("maths", "numeracy", "numeracy")], "twice"),
        ([entry("re", "religious education")], "upper_case_only"),
        ([{**entry("pe"), "upper_case_only": ["pe", "xyz"]}], "xyz"),
        ([{"slug": "maths", "category": "Test"}], "label"),
        ([{**entry("maths"), "synonyms": "numeracy"}], "synonyms"),
        ([{**entry("maths"), "colour": "red"}], "colour"),
    ],
)
def test_invalid_vocabularies_raise_naming_the_problem(
    entries: list[dict[str, Any]], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        Vocabulary.from_entries(entries)


def test_short_terms_listed_as_upper_case_only_are_accepted() -> None:
    vocabulary = Vocabulary.from_entries([{**entry("re", "rs"), "upper_case_only": ["re", "rs"]}])
    assert vocabulary.normalise("RS") == "re"


def write(tmp_path: Path, document: object) -> Path:
    """Write `document` as a YAML vocabulary file and return its path."""
    path = tmp_path / "expertise.yml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def test_load_vocabulary_reads_a_given_file_in_order(tmp_path: Path) -> None:
    path = write(tmp_path, {"tags": [entry("science", "biology"), entry("art")]})
    vocabulary = load_vocabulary(path)
    assert vocabulary.slugs == ("science", "art")
    assert vocabulary.normalise("Biology") == "science"


def test_a_shared_synonym_in_a_file_is_reported_with_the_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, {"tags": [entry("send", "inclusion"), entry("behaviour", "inclusion")]})
    with pytest.raises(ValueError, match=r"expertise\.yml.*'inclusion'.*'send'"):
        load_vocabulary(path)


@pytest.mark.parametrize("document", [[entry("send")], {"tags": "send"}, None, "tags"])
def test_a_file_without_a_tags_list_is_rejected(tmp_path: Path, document: object) -> None:
    with pytest.raises(ValueError, match="tags"):
        load_vocabulary(write(tmp_path, document))


def test_a_file_that_is_not_yaml_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text("tags: [unclosed", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.yml"):
        load_vocabulary(path)


# --- the database copy -----------------------------------------------------------------------
@pytest.fixture
def no_tags(sessions: SessionFactory) -> SessionFactory:
    """The test database without the packaged vocabulary it is prepared with."""
    with transaction(sessions) as session:
        session.execute(delete(ExpertiseTag))
    return sessions


def test_test_databases_come_with_the_packaged_vocabulary(
    sessions: SessionFactory, vocabulary: Vocabulary
) -> None:
    assert sorted(stored_tags(sessions)) == sorted(vocabulary.slugs)
    assert sync(sessions, vocabulary) == 0


def stored_tags(sessions: SessionFactory) -> dict[str, ExpertiseTag]:
    """The ExpertiseTag rows, by slug."""
    with sessions() as session:
        return {row.slug: row for row in session.exec(select(ExpertiseTag))}


def sync(sessions: SessionFactory, vocabulary: Vocabulary) -> int:
    """Sync `vocabulary` in a transaction of its own."""
    with transaction(sessions) as session:
        return sync_vocabulary(session, vocabulary)


def test_sync_inserts_every_tag_then_changes_nothing(
    no_tags: SessionFactory, vocabulary: Vocabulary
) -> None:
    sessions = no_tags
    assert sync(sessions, vocabulary) == len(vocabulary)
    assert sync(sessions, vocabulary) == 0
    rows = stored_tags(sessions)
    assert sorted(rows) == sorted(vocabulary.slugs)
    send = rows["send"]
    assert (send.label, send.category) == (vocabulary["send"].label, vocabulary["send"].category)
    assert send.synonyms == list(vocabulary["send"].synonyms)


def test_sync_updates_a_changed_label_and_synonyms(no_tags: SessionFactory) -> None:
    sessions = no_tags
    before = Vocabulary.from_entries([entry("maths", "numeracy"), entry("science")])
    assert sync(sessions, before) == 2
    after = Vocabulary.from_entries(
        [{**entry("maths", "numeracy", "times tables"), "label": "Mathematics"}, entry("science")]
    )
    assert sync(sessions, after) == 1
    row = stored_tags(sessions)["maths"]
    assert (row.label, row.synonyms) == ("Mathematics", ["numeracy", "times tables"])
    assert sync(sessions, after) == 0


def test_sync_uses_the_callers_transaction(no_tags: SessionFactory) -> None:
    sessions = no_tags
    vocabulary = Vocabulary.from_entries([entry("maths")])
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        sync_vocabulary(session, vocabulary)
        raise RuntimeError("the caller's work failed")
    assert stored_tags(sessions) == {}


def test_sync_removes_retired_tags_unless_someone_still_uses_them(
    no_tags: SessionFactory, clock: FixedClock
) -> None:
    sessions = no_tags
    sync(sessions, Vocabulary.from_entries([entry("maths"), entry("latin"), entry("ict")]))
    with transaction(sessions) as session:
        person = Person(
            slack_user_id="U0001", name="Ann", created_at=clock.now(), updated_at=clock.now()
        )
        session.add(person)
        session.flush()
        session.add(PersonExpertise(person_id=person.id, tag_slug="latin"))

    assert sync(sessions, Vocabulary.from_entries([entry("maths")])) == 1  # "ict" removed
    assert sorted(stored_tags(sessions)) == ["latin", "maths"]
