"""Case ignored in SQL, on SQLite and PostgreSQL alike: `casefolded(...)` on both sides.

SQLite's own `lower()`, `LIKE` and `ILIKE` fold A–Z only ("Émile" stays "Émile"), so there
SQL calls Python's `str.casefold()` itself, registered on every connection by `storage.db`.
On PostgreSQL `lower()` folds every letter the database's ctype knows (a UTF-8 locale's, such
as en_GB.UTF-8 or C.UTF-8: all of Unicode's one-letter mappings; a "C" ctype would fold A–Z
only), and the full folds it lacks in the alphabets names use (ß, ſ, final ς, dotted İ) are
added.

Compare a folded column with the typed words folded the same way, in SQL:
`casefolded(column) == casefolded(words)`, `.in_([casefolded(w) ...])`, and for LIKE
`casefolded(column).like(casefolded(escaped_pattern), escape="\\")`. Folding leaves `\\`, `%`
and `_` as they are and makes none of them out of another letter (casefold() and lower() map
letters to letters, one character at a time), so an escaped pattern folds to the escaped
pattern of the folded words. Both sides then go through one function on each database: a
name always finds itself, whatever letters it holds, and typed in any case ("ZOË ÅNGSTRÖM",
"GROSSMANN") it is found as casefold() would find it (on PostgreSQL, but for the letters
below). Python-side grouping that must agree with such a look-up (the directory import's
schools by name) takes the folds from the database too, never from `str.casefold()`.

What differs between the databases: on PostgreSQL the few letters casefold() rewrites beyond
lower() are kept as written — Latin ligatures ("ﬁ"), Greek letters with an iota subscript or
in symbol forms ("ᾳ", "ϐ"), the precomposed letters casefold() decomposes ("ǰ"). A name
holding one finds itself and its other-case spellings letter for letter ("SOﬁA" for "Soﬁa"),
but not the letters spelled out ("SOFIA" finds "Soﬁa" on SQLite only).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String

# Where casefold() differs from PostgreSQL's lower() in the alphabets names use. Before
# lower(): the Turkish dotted capital I, which lower() makes a plain "i" but casefold() keeps
# dotted ("i" and a combining dot), so that "İlkay" would not even find itself.
FOLDS_BEFORE_LOWER = (("İ", "i\u0307"),)
# After lower(), which has already made "ẞ" "ß".
FOLDS_LOWER_MISSES = (("ß", "ss"), ("ſ", "s"), ("ς", "σ"))


class casefolded(FunctionElement[str]):  # used like func.lower()
    """`column` (or a value) casefolded, for `==`, `IN` and `LIKE` against values folded
    by `casefolded` too."""

    type = String()
    name = "casefolded"
    inherit_cache = True


class casefold_order(FunctionElement[str]):  # used like func.lower()
    """`column` casefolded, sorting in codepoint order: as Python sorts the folded values
    it returns (on SQLite, `str.casefold()`'s)."""

    type = String()
    name = "casefold_order"
    inherit_cache = True


def sqlite_casefold(value: str | None) -> str | None:
    """The `casefold(text)` SQL function `storage.db` gives each SQLite connection."""
    return value.casefold() if value is not None else None


@compiles(casefolded, "sqlite")
@compiles(casefold_order, "sqlite")  # SQLite's own order (BINARY) is codepoint order
def _sqlite_casefold(element: Any, compiler: Any, **kw: Any) -> str:
    return f"casefold({compiler.process(element.clauses, **kw)})"


@compiles(casefolded)
def _lower_and_full_folds(element: Any, compiler: Any, **kw: Any) -> str:
    folded = compiler.process(element.clauses, **kw)
    for letter, fold in FOLDS_BEFORE_LOWER:
        folded = f"replace({folded}, '{letter}', '{fold}')"
    folded = f"lower({folded})"
    for letter, fold in FOLDS_LOWER_MISSES:
        folded = f"replace({folded}, '{letter}', '{fold}')"
    return folded


@compiles(casefold_order)
def _lower_and_full_folds_in_codepoint_order(element: Any, compiler: Any, **kw: Any) -> str:
    return f'({_lower_and_full_folds(element, compiler, **kw)}) COLLATE "C"'
