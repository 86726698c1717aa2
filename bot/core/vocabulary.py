"""The controlled vocabulary of expertise tags: loaded from `bot/data/expertise.yml`, checked,
looked up by slug, label or synonym, and copied into the `ExpertiseTag` table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from sqlalchemy import Row, Table, delete, exists, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.models import ExpertiseTag, PersonExpertise, RequestTag

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# A word: letters and digits with inner apostrophes ("SENCO's", "don't"), or "&" (read "and").
WORD_PATTERN = re.compile(r"&|[^\W_]+(?:['’][^\W_]+)*")
_SHORT_WORD = 2  # one- and two-letter terms ("RE", "PE", "HR") count only in capitals


def canonical_word(raw: str) -> str:
    """The comparable form of one word: lower-case, without a possessive or apostrophes."""
    if raw == "&":
        return "and"
    word = raw.casefold()
    for possessive in ("'s", "’s"):
        word = word.removesuffix(possessive)
    return word.replace("'", "").replace("’", "")


def words(text: str) -> tuple[str, ...]:
    """The canonical words of `text`, ignoring case, punctuation and hashtags."""
    return tuple(canonical_word(match.group()) for match in WORD_PATTERN.finditer(text))


def term_key(text: str) -> str:
    """How a slug, label or synonym is looked up: "#Early-Years" → "early years"."""
    return " ".join(words(text))


@dataclass(frozen=True)
class Tag:
    """One area of need and expertise, as written in the vocabulary file."""

    slug: str
    label: str
    category: str
    synonyms: tuple[str, ...] = ()
    upper_case_only: frozenset[str] = frozenset()

    @property
    def terms(self) -> tuple[str, ...]:
        """The slug, the label and every synonym: all the ways of naming this tag."""
        return (self.slug, self.label, *self.synonyms)


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The validated tags in file order, looked up by slug or by any of their terms."""

    tags: tuple[Tag, ...]
    _by_slug: Mapping[str, Tag] = field(init=False, repr=False)
    _by_key: Mapping[str, str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        tags = tuple(self.tags)
        _check_tags(tags)
        object.__setattr__(self, "tags", tags)
        object.__setattr__(self, "_by_slug", MappingProxyType({t.slug: t for t in tags}))
        keys = {term_key(term): tag.slug for tag in tags for term in tag.terms}
        object.__setattr__(self, "_by_key", MappingProxyType(keys))

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[str, Any]]) -> Vocabulary:
        """Build a vocabulary from parsed YAML entries; raises ValueError naming any problem."""
        return cls(tuple(_tag_from_entry(number, entry) for number, entry in enumerate(entries, 1)))

    def __iter__(self) -> Iterator[Tag]:
        return iter(self.tags)

    def __len__(self) -> int:
        return len(self.tags)

    def __contains__(self, slug: object) -> bool:
        return slug in self._by_slug

    def __getitem__(self, slug: str) -> Tag:
        return self._by_slug[slug]

    @property
    def slugs(self) -> tuple[str, ...]:
        """Every slug, in file order."""
        return tuple(tag.slug for tag in self.tags)

    def has(self, slug: str) -> bool:
        """Whether `slug` is a tag of this vocabulary."""
        return slug in self._by_slug

    def get(self, slug: str) -> Tag | None:
        """The tag called `slug`, or None."""
        return self._by_slug.get(slug)

    def label(self, slug: str) -> str:
        """The label of `slug`; the slug itself for a tag no longer in the vocabulary."""
        tag = self._by_slug.get(slug)
        return tag.label if tag else slug

    def normalise(self, term: str) -> str | None:
        """The slug named by `term` (a slug, label, synonym or `#hashtag`, in any case), or None."""
        key = term_key(term)
        if not key:
            return None
        if key in self._by_key:
            return self._by_key[key]
        for plural in ("es", "s"):  # "EHCPs", "SENCOs", "Governors", but not "Mathss"
            singular = key.removesuffix(plural)
            if singular != key and not singular.endswith("s") and singular in self._by_key:
                return self._by_key[singular]
        return None


# --- loading and checking --------------------------------------------------------------------
# libyaml's safe loader when PyYAML was built with it (about 10× faster on start-up), else the
# pure-Python one; both construct plain Python objects only.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def default_vocabulary_path() -> Path:
    """Where the packaged vocabulary file lives."""
    return Path(str(resources.files("bot") / "data" / "expertise.yml"))


def load_vocabulary(path: str | Path | None = None) -> Vocabulary:
    """Read and check the vocabulary file (the packaged one by default).

    Raises ValueError, naming the file and the problem, when it is not a valid vocabulary.
    """
    source = Path(path) if path is not None else default_vocabulary_path()
    try:
        document = yaml.load(source.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise ValueError(f"{source}: not valid YAML: {exc}") from None
    entries = document.get("tags") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{source}: expected a top-level 'tags:' list")
    try:
        return Vocabulary.from_entries(entries)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from None


@cache
def default_vocabulary() -> Vocabulary:
    """The packaged vocabulary, read once per process."""
    return load_vocabulary()


def _tag_from_entry(number: int, entry: Any) -> Tag:
    """One `Tag` from the `number`th YAML entry, checking the shape of each field."""
    if not isinstance(entry, Mapping):
        raise ValueError(f"tag #{number} is not a mapping")
    name = f"tag #{number} ({entry.get('slug')!r})"
    unknown = set(entry) - {"slug", "label", "category", "synonyms", "upper_case_only"}
    if unknown:
        raise ValueError(f"{name} has unknown fields: {', '.join(sorted(map(str, unknown)))}")
    for required in ("slug", "label", "category"):
        if not isinstance(entry.get(required), str) or not entry[required].strip():
            raise ValueError(f"{name} needs a non-empty {required}")
    lists = {}
    for optional in ("synonyms", "upper_case_only"):
        value = entry.get(optional) or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"{name}: {optional} must be a list of strings")
        lists[optional] = value
    return Tag(
        slug=entry["slug"],
        label=entry["label"].strip(),
        category=entry["category"].strip(),
        synonyms=tuple(s.strip() for s in lists["synonyms"]),
        upper_case_only=frozenset(lists["upper_case_only"]),
    )


def _check_tags(tags: tuple[Tag, ...]) -> None:
    """Raise ValueError unless slugs are valid and unique and every term names one tag only."""
    owners: dict[str, str] = {}
    slugs: set[str] = set()
    for tag in tags:
        _check_tag(tag)
        if tag.slug in slugs:
            raise ValueError(f"slug {tag.slug!r} is used by more than one tag")
        slugs.add(tag.slug)
        own_keys: set[str] = set()
        for term in tag.terms:
            key = term_key(term)
            owner = owners.get(key)
            if owner is not None and owner != tag.slug:
                raise ValueError(f"{term!r} of {tag.slug!r} already names tag {owner!r}")
            if term in tag.synonyms and key in own_keys:
                raise ValueError(f"synonym {term!r} of {tag.slug!r} is listed twice")
            owners[key] = tag.slug
            own_keys.add(key)


def _check_tag(tag: Tag) -> None:
    """Raise ValueError if one tag's own fields are malformed."""
    if not SLUG_PATTERN.fullmatch(tag.slug):
        raise ValueError(f"slug {tag.slug!r} must be lower-case letters, digits and hyphens")
    for synonym in tag.synonyms:
        if not term_key(synonym):
            raise ValueError(f"{tag.slug!r} has an empty synonym")
        if synonym != synonym.lower():
            raise ValueError(f"synonym {synonym!r} of {tag.slug!r} must be lower-case")
    tag_words = {word for term in tag.terms for word in words(term)}
    for word in sorted(tag.upper_case_only):
        if word not in tag_words:
            raise ValueError(f"upper_case_only word {word!r} is not a word of {tag.slug!r}")
    for term in (tag.slug, *tag.synonyms):
        term_words = words(term)
        short = len(term_words) == 1 and len(term_words[0]) <= _SHORT_WORD
        if short and term_words[0] not in tag.upper_case_only:
            raise ValueError(
                f"short term {term!r} of {tag.slug!r} must be listed in upper_case_only"
            )


# --- the database copy ------------------------------------------------------------------------
# Plain SQL on the tables rather than ORM objects: every start syncs, and the first ORM query
# of a process configures every mapper (about 25 ms), which can then wait until it listens.
TAGS: Table = ExpertiseTag.__table__  # type: ignore[attr-defined]  # SQLModel sets it on tables
PEOPLES_TAGS: Table = PersonExpertise.__table__  # type: ignore[attr-defined]  # as above
REQUESTS_TAGS: Table = RequestTag.__table__  # type: ignore[attr-defined]  # as above


def sync_vocabulary(session: Session, vocabulary: Vocabulary) -> int:
    """Make the `ExpertiseTag` rows match `vocabulary`, in the caller's transaction.

    Adds missing tags, updates changed ones and removes tags no longer in the vocabulary
    unless a person or a request still refers to them. Returns how many rows changed.
    """
    existing = {row.slug: row for row in session.execute(select(TAGS))}
    changed = _insert_absent(session, [tag for tag in vocabulary if tag.slug not in existing])
    for tag in vocabulary:
        row = existing.get(tag.slug)
        if row is not None and _differs(row, tag):
            session.execute(update(TAGS).where(TAGS.c.slug == tag.slug).values(**_row_values(tag)))
            changed += 1
    stale = sorted(set(existing) - set(vocabulary.slugs))
    if stale:
        changed += _delete_unreferenced(session, stale)
    return changed


def _row_values(tag: Tag) -> dict[str, Any]:
    """The column values of `tag`'s row."""
    return {
        "slug": tag.slug,
        "label": tag.label,
        "category": tag.category,
        "synonyms": list(tag.synonyms),
    }


def _insert_absent(session: Session, tags: list[Tag]) -> int:
    """Insert `tags`' rows in one statement, skipping any another process has just inserted;
    return how many this call inserted."""
    if not tags:
        return 0
    rows = [_row_values(tag) for tag in tags]
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        session.execute(insert(TAGS), rows)
        return len(rows)
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        upsert(TAGS)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["slug"])
        .returning(TAGS.c.slug)
    )
    return len(session.execute(statement).all())


def _differs(row: Row[Any], tag: Tag) -> bool:
    """Whether the stored `row` says something other than `tag`."""
    return any(getattr(row, name) != value for name, value in _row_values(tag).items())


def _delete_unreferenced(session: Session, slugs: list[str]) -> int:
    """Delete those of `slugs` that no person and no request refers to; return how many."""
    referenced = or_(
        exists().where(PEOPLES_TAGS.c.tag_slug == TAGS.c.slug),
        exists().where(REQUESTS_TAGS.c.tag_slug == TAGS.c.slug),
    )
    result = session.execute(delete(TAGS).where(TAGS.c.slug.in_(slugs), ~referenced))
    return result.rowcount  # type: ignore[attr-defined]  # a DML result is a CursorResult
