"""Naming someone or a school in words: case aside in any alphabet, as Python's casefold()
has it ("ZOË ÅNGSTRÖM", "GROSSMANN" for "Großmann"); what is typed is never a pattern."""

from __future__ import annotations

import io

import pytest
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.core.errors import NotFound
from bot.directory.people import find_or_create_school, person_named
from bot.directory.service import import_directory
from storage.db import SessionFactory, transaction
from storage.models import Person, School
from tests.bot.directory.test_directory import count, person
from tests.handlers.slack.conftest import DIRECTORY


@pytest.fixture
def directory(sessions: SessionFactory, clock: FixedClock) -> None:
    """The sample directory, two of its people renamed beyond A–Z."""
    assert import_directory(sessions, io.StringIO(DIRECTORY), now=clock.now()).ok
    with transaction(sessions) as session:
        person(session, "USPEC1").name = "Zoë Ångström"
        person(session, "USLE1").name = "Jürgen Großmann"
        person(session, "UNLE1").name = "İlkay Gündoğan"


@pytest.mark.usefixtures("directory")
def test_a_person_is_named_in_any_case_in_any_alphabet(sessions: SessionFactory) -> None:
    with sessions() as session:
        assert person_named(session, "ZOË  ÅNGSTRÖM").slack_user_id == "USPEC1"
        assert person_named(session, "zoë ångström").slack_user_id == "USPEC1"
        assert person_named(session, "JÜRGEN GROSSMANN").slack_user_id == "USLE1"
        assert person_named(session, "İlkay Gündoğan").slack_user_id == "UNLE1", "as written"
        assert person_named(session, "İLKAY GÜNDOĞAN").slack_user_id == "UNLE1"
        with pytest.raises(NotFound):
            person_named(session, "Zo_ Ångström")
        with pytest.raises(NotFound):
            person_named(session, "Zo% Ångström")


@pytest.mark.usefixtures("directory")
def test_a_school_is_found_by_its_name_in_any_case_not_as_a_pattern(
    sessions: SessionFactory,
) -> None:
    with transaction(sessions) as session:
        known = find_or_create_school(session, "St Æthelred's Primary")
        schools = count(session, School)
    with transaction(sessions) as session:
        assert find_or_create_school(session, "  ST ÆTHELRED'S  primary ").id == known.id
        assert find_or_create_school(session, "st æthelred's primary").id == known.id
        assert count(session, School) == schools
        assert find_or_create_school(session, "St Æthelred_s Primary").id != known.id
        assert find_or_create_school(session, "St Æthelred% Primary").id != known.id
        assert count(session, School) == schools + 2
    with transaction(sessions) as session:
        istanbul = find_or_create_school(session, "İstanbul Academy")
    with transaction(sessions) as session:
        assert find_or_create_school(session, "İstanbul Academy").id == istanbul.id, "no twin"
        assert find_or_create_school(session, "İSTANBUL ACADEMY").id == istanbul.id


def test_of_two_schools_with_the_same_name_but_for_case_the_oldest_is_found(
    sessions: SessionFactory,
) -> None:
    with transaction(sessions) as session:
        older, newer = School(name="Straße School"), School(name="STRASSE SCHOOL")
        session.add(older)
        session.flush()
        session.add(newer)
    with transaction(sessions) as session:
        # Changed since: on PostgreSQL its row now lies after the newer one's.
        changed = session.get(School, older.id)
        assert changed is not None
        changed.region = "North West"
    with transaction(sessions) as session:
        assert find_or_create_school(session, "strasse school").id == older.id
        assert find_or_create_school(session, "Straße School").id == older.id


# Letters PostgreSQL's lower() leaves as they are but casefold() changes: a ligature, a Greek
# letter with an iota subscript and one in its symbol form, a letter casefold() decomposes.
FOLDED_APART = ["Soﬁa Raﬁq", "Ἀθηνᾳ Ἀϐραάμ", "Raǰ Patel"]


def _other_letters_in_capitals(name: str) -> str:
    """`name` with each letter written as its capital, where that capital's small letter is
    the letter again ("ϐ" stays: its capital's small letter is "β")."""
    return "".join(c.upper() if c.upper().lower() == c else c for c in name)


@pytest.mark.usefixtures("directory")
@pytest.mark.parametrize("name", FOLDED_APART)
def test_a_person_whose_name_casefold_changes_is_named_by_it(
    sessions: SessionFactory, name: str
) -> None:
    with transaction(sessions) as session:
        person(session, "USPEC1").name = name
    with sessions() as session:
        assert person_named(session, name).slack_user_id == "USPEC1", "as written"
        assert person_named(session, f"  {name}  ").slack_user_id == "USPEC1"
        shouted = _other_letters_in_capitals(name)
        assert person_named(session, shouted).slack_user_id == "USPEC1", shouted


@pytest.mark.parametrize("name", FOLDED_APART)
def test_a_school_whose_name_casefold_changes_is_found_not_made_again(
    sessions: SessionFactory, name: str
) -> None:
    with transaction(sessions) as session:
        known = find_or_create_school(session, f"{name} Academy")
    with transaction(sessions) as session:
        assert find_or_create_school(session, f"{name} Academy").id == known.id
        shouted = _other_letters_in_capitals(f"{name} Academy")
        assert find_or_create_school(session, shouted).id == known.id, shouted
        assert count(session, School) == 1


@pytest.mark.parametrize("name", FOLDED_APART)
def test_reimporting_a_school_whose_name_casefold_changes_makes_no_twin(
    sessions: SessionFactory, clock: FixedClock, name: str
) -> None:
    school = f"{name} Academy"
    first = f"slack_user_id,name,roles,school\nUONE,Ann One,head,{school}\n"
    again = f"{first}UTWO,Bob Two,head,{school}\n"
    assert import_directory(sessions, io.StringIO(first), now=clock.now()).ok
    assert import_directory(sessions, io.StringIO(again), now=clock.now()).ok
    with sessions() as session:
        [only] = session.exec(select(School)).all()
        assert only.name == school
        assert {p.school_id for p in session.exec(select(Person))} == {only.id}
    with transaction(sessions) as session:
        assert find_or_create_school(session, school).id == only.id


def test_the_import_groups_schools_as_find_or_create_school_finds_them(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    """Spellings that only casefold() makes one ("ﬁ" and "FI") are one school or two as the
    database folds them, in the import just as in `find_or_create_school`."""
    rows = "".join(
        f"U01SOFIA{n},Person {n},head,{school}\n"
        for n, school in enumerate(["Soﬁa Academy", "SOFIA ACADEMY", "soﬁa academy"])
    )
    report = import_directory(
        sessions, io.StringIO(f"slack_user_id,name,roles,school\n{rows}"), now=clock.now()
    )
    assert report.ok
    with transaction(sessions) as session:
        for n, school in enumerate(["Soﬁa Academy", "SOFIA ACADEMY", "soﬁa academy"]):
            found = find_or_create_school(session, school)
            assert person(session, f"U01SOFIA{n}").school_id == found.id, school
        assert person(session, "U01SOFIA0").school_id == person(session, "U01SOFIA2").school_id
