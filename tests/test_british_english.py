"""What users read is in British English: no American spelling from a short, precise list
in the string literals of `bot/` and `handlers/` (docstrings and one-word identifiers, such
as a manifest's `color` key or an `Authorization` header, are not prose and are skipped)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers")

# Each alternative is American only: no British word and no sense British English keeps
# (so not "program", "license", "practice", "grade" or "principal", which are right in some
# senses). "-ize" is matched by word so that "size", "prize" and "capsize" stay right.
AMERICAN = re.compile(
    r"""(?ix)\b(
        (organi|recogni|prioriti|summari|reali|authori|apologi|emphasi|speciali|categori|
         minimi|maximi|personali|standardi|finali|utili|normali|customi|synchroni|
         memori|criti|visuali|initiali|optimi)z(e|es|ed|ing|ation|ations)
      | analyz(e|es|ed|ing)
      | color(s|ed|ful|ing)? | behavior(s|al)? | favorite(s)? | honor(s|ed)?
      | neighbor(s|ing|hood)? | center(s|d)?
      | cancel(ed|ing) | enroll(s|ment|ments)? | judgment(s)?
      | practic(ed|ing) | math | semesters? | vacations? | fall\s+(term|semester|break)
      | school\s+districts? | catalog(s)? | gray
    )\b"""
)
# Month-first dates in a format string.
MONTH_FIRST = re.compile(r"%m/%d")
# Words that are another system's names, not English: (file, word) and why.
NOT_ENGLISH = {
    ("bot/deployments/html.py", "color"): "the CSS property",
    ("handlers/slack/payloads.py", "authorizations"): "the field of Slack's event payloads",
}


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of every module, class and function in `tree`."""
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, owners) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _text_of(part: ast.expr) -> str:
    """A part of an f-string: its text, or `{}` for a field."""
    if isinstance(part, ast.Constant) and isinstance(part.value, str):
        return part.value
    return "{}"


def prose(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each string literal in `source` that could be read by a person: not a
    docstring, and more than one word (f-strings with their fields as `{}`)."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    inside_fstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inside_fstrings.update(id(value) for value in node.values)
            yield node.lineno, "".join(_text_of(value) for value in node.values)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip | inside_fstrings
            and len(node.value.split()) > 1
        ):
            yield node.lineno, node.value


def american_words(source: str) -> list[tuple[int, str]]:
    """(line, word) of each American spelling, or month-first date format, in `source`."""
    return [
        (line, match.group(0))
        for line, text in prose(source)
        for match in (*AMERICAN.finditer(text), *MONTH_FIRST.finditer(text))
    ]


def test_the_check_sees_american_words_in_prose_only() -> None:
    source = '''
"""A docstring may say color."""
HEADERS = {"Authorization": "Bearer x"}
ICONS = {"color": "color.png"}
SIZE = "a small size; the prize"
SAID = "Your request was canceled; we will prioritize it."
LATER = f"The {colour} visit on {day:%m/%d} is in the fall term at the center."
'''
    assert sorted(american_words(source)) == [
        (6, "canceled"),
        (6, "prioritize"),
        (7, "%m/%d"),
        (7, "center"),
        (7, "fall term"),
    ]


def test_british_words_pass() -> None:
    source = (
        'SAID = "Cancelled: we organised, prioritised and summarised the colour, behaviour '
        'and favourite maths practice; the centre enrols in the autumn term (enrolment)."'
    )
    assert american_words(source) == []


def test_what_users_read_has_no_american_spelling() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {word!r}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, word in american_words(path.read_text())
        if (path.relative_to(ROOT).as_posix(), word) not in NOT_ENGLISH
    ]
    assert found == []
