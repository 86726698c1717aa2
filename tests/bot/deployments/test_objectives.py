"""Reading the agreement's objectives from the form: one per line, with list markers ("1.",
"2)", "(3)", "- ", "• ") dropped and every word of the objective kept, numbers included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.deployments.service import parse_objectives


def test_objectives_are_read_one_per_line() -> None:
    raw = "1. Set up the register\n\n- Train the SENCO\n2) Review EHCPs\n• Parents' forum"
    assert parse_objectives(raw) == [
        "Set up the register",
        "Train the SENCO",
        "Review EHCPs",
        "Parents' forum",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "100 pupils in Year 6 reach the expected standard in reading",
        "2027 SATs: close the gap",
        "12 ECTs observed each half-term",
        "95 per cent attendance by July",
        "95% attendance by July",
        "3 teachers trained in precision teaching",
        "1.5 days a week with the SENCO",
        "10.30 Tuesday briefings for SLT",
        "2:1 reading support for Year 3",
        "-5% persistent absence by Easter",
        "*All* pupils read daily",
        "A-level results in line with 2025",
        "£10,000 of pupil premium spent on tutoring",
        "KS2 maths: 80 pupils at the expected standard",
    ],
)
def test_a_number_or_sign_that_begins_the_objective_is_kept(line: str) -> None:
    assert parse_objectives(line) == [line]


@pytest.mark.parametrize(
    ("line", "objective"),
    [
        ("1. Set up the register", "Set up the register"),
        ("1.Set up the register", "1.Set up the register"),  # no space: not clearly a marker
        ("2) Review EHCPs", "Review EHCPs"),
        ("10. Review EHCPs", "Review EHCPs"),
        ("(3) Review EHCPs", "Review EHCPs"),
        ("(3)Review EHCPs", "Review EHCPs"),
        ("a) Review EHCPs", "Review EHCPs"),
        ("(b) Review EHCPs", "Review EHCPs"),
        ("- Train the SENCO", "Train the SENCO"),
        ("* Train the SENCO", "Train the SENCO"),
        ("+ Train the SENCO", "Train the SENCO"),
        ("– Train the SENCO", "Train the SENCO"),  # a phone's en dash
        ("— Train the SENCO", "Train the SENCO"),
        ("• Train the SENCO", "Train the SENCO"),
        ("•Train the SENCO", "Train the SENCO"),
        ("◦ Train the SENCO", "Train the SENCO"),
        ("  3.\tTrain the SENCO  ", "Train the SENCO"),
        ("\u00a02.\u00a0Train the SENCO", "Train the SENCO"),
        ("1. 100 pupils reach the expected standard", "100 pupils reach the expected standard"),
        ("- 2027 SATs: close the gap", "2027 SATs: close the gap"),
        ("(4) 95% attendance", "95% attendance"),
        ("• 1. Train the SENCO", "Train the SENCO"),
    ],
)
def test_a_list_marker_is_dropped(line: str, objective: str) -> None:
    assert parse_objectives(line) == [objective]


@pytest.mark.parametrize("line", ["", "   ", "1.", "2)", "(3)", "-", "•", "- ", "1. • "])
def test_a_line_with_only_a_marker_is_no_objective(line: str) -> None:
    assert parse_objectives(f"{line}\nTrain the SENCO") == ["Train the SENCO"]


MARKERS = st.sampled_from(
    ["", "- ", "* ", "• ", "•", "– ", "(1) ", "a) "]
    + [f"{n}{end} " for n in (1, 2, 9, 10, 12) for end in ".)"]
)
WORDS = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzSENCO'&%:,", min_size=1, max_size=12),
    min_size=1,
    max_size=8,
).map(" ".join)
LEADS = st.one_of(
    st.just(""),
    st.integers(min_value=0, max_value=1_000_000).map(lambda n: f"{n} "),
    st.integers(min_value=0, max_value=100).map(lambda n: f"{n}% "),
    st.decimals(min_value=0, max_value=100, places=1).map(lambda n: f"{n} "),
)


@settings(max_examples=300, deadline=None)
@given(marker=MARKERS, lead=LEADS, words=WORDS)
def test_whatever_the_marker_the_objective_is_kept_whole(
    marker: str, lead: str, words: str
) -> None:
    """Objectives starting with a number of any length ("100 pupils", "2027 SATs", "95%") come
    back whole, with or without a list marker in front."""
    objective = f"{lead}{words}".strip()
    assert parse_objectives(f"{marker}{objective}") == [objective]


@settings(max_examples=300, deadline=None)
@given(raw=st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_reading_the_saved_objectives_again_changes_nothing(raw: str) -> None:
    """The form to revise the agreement holds the saved objectives, one per line: saving it
    unchanged saves the same objectives."""
    objectives = parse_objectives(raw)
    assert parse_objectives("\n".join(objectives)) == objectives
    assert all(o == o.strip() and o for o in objectives)
