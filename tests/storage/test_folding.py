"""`casefolded()` in SQL folds as Python's `str.casefold()` does, on both databases, for
names beyond A–Z; `casefold_order()` sorts as Python sorts the casefolded names."""

from __future__ import annotations

from sqlalchemy import literal, select

from storage.db import SessionFactory
from storage.folding import casefold_order, casefolded

NAMES = [
    "Zoë Ångström",
    "ÉMILE ZOLA ACADEMY",
    "St Æthelred's",
    "Jürgen Großmann",
    "STRAẞE",
    "Ørsted Łódź Čapek Dvořák",
    "ΣΊΣΥΦΟΣ σίσυφος",
    "Ciarán Ó Súilleabháin",
    "İLKAY GÜNDOĞAN İnce",  # Turkish dotted capital I: casefold() keeps the dot, lower() not
    "Smith",
]


def test_names_fold_in_sql_as_python_folds_them(sessions: SessionFactory) -> None:
    with sessions() as session:
        for name in NAMES:
            assert session.scalar(select(casefolded(literal(name)))) == name.casefold(), name


def test_the_order_is_pythons_order_of_the_folded_names(sessions: SessionFactory) -> None:
    with sessions() as session:
        for name in NAMES:
            assert session.scalar(select(casefold_order(literal(name)))) == name.casefold()
        for a in NAMES:
            for b in NAMES:
                in_sql = session.scalar(
                    select(casefold_order(literal(a)) < casefold_order(literal(b)))
                )
                assert bool(in_sql) == (a.casefold() < b.casefold()), (a, b)


# Letters PostgreSQL's lower() keeps but casefold() rewrites, and LIKE's own characters.
KEPT_ON_POSTGRESQL = ["Soﬁa Raﬁq", "Ἀθηνᾳ Ἀϐραάμ", "Raǰ Patel", "STRAẞE_100% \\ İnce"]


def _escaped(words: str) -> str:
    return words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def test_a_value_folded_on_both_sides_finds_itself_and_the_words_within_it(
    sessions: SessionFactory,
) -> None:
    with sessions() as session:
        for name in NAMES + KEPT_ON_POSTGRESQL:
            folded = casefolded(literal(name))
            assert session.scalar(select(folded == casefolded(literal(name)))), name
            within = f"%{_escaped(name[1:-1])}%"
            like = folded.like(casefolded(literal(within)), escape="\\")
            assert session.scalar(select(like)), name
        literally = casefolded(literal("Straße 100 Academy"))
        for pattern in ("%STRASSE\\_100%", "%100\\%%", "%\\\\%"):
            assert not session.scalar(
                select(literally.like(casefolded(literal(pattern)), escape="\\"))
            ), pattern
        assert session.scalar(
            select(literally.like(casefolded(literal("%STRASSE 1_0%")), escape="\\"))
        ), "an unescaped _ is still any one letter"
