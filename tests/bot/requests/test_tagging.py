"""Inferring areas of need from request text: accuracy on real-style requests, and the rules."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.core.vocabulary import Vocabulary, default_vocabulary
from bot.requests.tagging import TagMatch, infer_tags, plain_text

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "requests_tagging.yml"
MIN_PRECISION = 0.85
MIN_RECALL = 0.85


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    """The packaged vocabulary."""
    return default_vocabulary()


def slugs(text: str, vocabulary: Vocabulary) -> list[str]:
    """The slugs inferred from `text`, strongest first."""
    return [match.slug for match in infer_tags(text, vocabulary)]


# --- accuracy on the gold standard ------------------------------------------------------------
@dataclass(frozen=True)
class Scored:
    """One fixture request with its gold tags and the tags inferred."""

    text: str
    gold: frozenset[str]
    got: frozenset[str]


def load_requests() -> list[dict[str, object]]:
    """The fixture requests, each with `text` and gold `tags`."""
    return yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))["requests"]


def score_requests(vocabulary: Vocabulary) -> list[Scored]:
    """Run `infer_tags` over every fixture request."""
    return [
        Scored(
            text=str(request["text"]),
            gold=frozenset(request["tags"]),  # type: ignore[arg-type]
            got=frozenset(slugs(str(request["text"]), vocabulary)),
        )
        for request in load_requests()
    ]


def micro_precision_recall(scored: list[Scored]) -> tuple[float, float]:
    """Micro-averaged precision and recall over all (request, tag) pairs."""
    true_positives = sum(len(s.got & s.gold) for s in scored)
    predicted = sum(len(s.got) for s in scored)
    expected = sum(len(s.gold) for s in scored)
    return true_positives / predicted, true_positives / expected


def error_table(scored: list[Scored]) -> str:
    """One line per request where inference and gold disagree: misses and extras."""
    lines = [f"{'request':<60} | {'missed':<30} | extra"]
    for s in scored:
        if s.got != s.gold:
            text = " ".join(s.text.split())[:60]
            missed = ", ".join(sorted(s.gold - s.got))
            extra = ", ".join(sorted(s.got - s.gold))
            lines.append(f"{text:<60} | {missed:<30} | {extra}")
    return "\n".join(lines)


def test_the_gold_standard_is_big_enough_and_uses_only_known_tags(vocabulary: Vocabulary) -> None:
    requests = load_requests()
    assert len(requests) >= 40
    assert any(not request["tags"] for request in requests), "include requests with no need"
    assert any(len(request["tags"]) >= 3 for request in requests), "include multi-need requests"  # type: ignore[arg-type]
    unknown = {tag for r in requests for tag in r["tags"] if tag not in vocabulary}  # type: ignore[attr-defined]
    assert not unknown


def test_precision_and_recall_on_real_style_requests(vocabulary: Vocabulary) -> None:
    scored = score_requests(vocabulary)
    precision, recall = micro_precision_recall(scored)
    print(f"\nprecision {precision:.3f}, recall {recall:.3f} over {len(scored)} requests")
    report = f"precision {precision:.3f}, recall {recall:.3f}\n{error_table(scored)}"
    assert precision >= MIN_PRECISION, report
    assert recall >= MIN_RECALL, report


def test_the_measure_itself_counts_misses_and_extras() -> None:
    scored = [
        Scored("a", gold=frozenset({"send", "maths"}), got=frozenset({"send"})),
        Scored("b", gold=frozenset(), got=frozenset({"hr"})),
    ]
    assert micro_precision_recall(scored) == (0.5, 0.5)
    assert "maths" in error_table(scored) and "hr" in error_table(scored)


# --- the rules ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Could our maths lead visit you?", "maths"),
        ("our SENCO is new", "send"),
        ("We're expecting Ofsted in the autumn", "ofsted-readiness"),
        ("attendance is 89%", "attendance"),
        ("KS2 maths is weak", "maths"),
        ("PA is 25%", "attendance"),
        ("persistent absence has doubled", "attendance"),
        ("We have 30 EHCPs", "send"),
        ("The SENCO's caseload is huge", "send"),
        ("we were judged RI", "ofsted-readiness"),
        ("just gone into special measures", "ofsted-readiness"),
        ("support for our DSL", "safeguarding"),
        ("two ECTs and an NQT", "ect"),
        ("phonics screening check results", "phonics"),
        ("we use RWI", "phonics"),
        ("Reception GLD is low", "early-years"),
        ("closing the gap for FSM pupils", "disadvantaged"),
        ("lots of suspensions", "behaviour"),
        ("chair of governors", "governance"),
        ("our SBM left", "school-business-management"),
        ("joining a MAT", "academy-transition"),
        ("RE is weak", "re"),
        ("PE lead", "pe"),
        ("our DT room", "design-technology"),
        ("an HR issue", "hr"),
        ("Design & Technology", "design-technology"),
        ("Health &amp; Safety audit", "premises"),  # Slack escapes "&"
    ],
)
def test_heads_phrasings_find_their_tag(text: str, slug: str, vocabulary: Vocabulary) -> None:
    assert slug in slugs(text, vocabulary)


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Can you send me the dates?", "send"),
        ("Please Send the link", "send"),
        ("We made promises to parents", "premises"),
        ("Our PAN is 30", "attendance"),
        ("My PA will book it", "attendance"),
        ("the papers are in the post", "attendance"),
        ("re: Thursday's meeting", "re"),
        ("we need to re-think this", "re"),
        ("Re-organising the timetable", "re"),
        ("a pe teacher? maybe", "pe"),
        ("open the pens and pegs", "pe"),
        ("the dt was wrong", "design-technology"),
        ("3 hr meeting", "hr"),
        ("off to a good start", "art"),
        ("we started a new website", "art"),
        ("the website is down", "premises"),
        ("our Send to Parents app", "send"),
    ],
)
def test_words_inside_words_and_lower_case_acronyms_do_not_match(
    text: str, slug: str, vocabulary: Vocabulary
) -> None:
    assert slug not in slugs(text, vocabulary)


def test_acronyms_match_as_standalone_capitals_with_punctuation(vocabulary: Vocabulary) -> None:
    assert slugs("(RE)", vocabulary) == ["re"]
    assert slugs("PE, RE and DT.", vocabulary) == ["pe", "re", "design-technology"]
    assert slugs("SEND/EHCP", vocabulary) == ["send"]


def test_hashtags_name_tags_outright(vocabulary: Vocabulary) -> None:
    matches = infer_tags("need help #send #early-years", vocabulary)
    assert [(m.slug, m.evidence) for m in matches] == [
        ("send", ("#send",)),
        ("early-years", ("#early-years",)),
    ]
    assert slugs("#SEND", vocabulary) == ["send"]
    assert slugs("#re please", vocabulary) == ["re"]
    assert slugs("#school-business-management", vocabulary) == ["school-business-management"]
    assert slugs("#english hub visit", vocabulary) == ["english"]  # not the phrase "English hub"


def test_unknown_hashtags_and_slack_markup_are_ignored(vocabulary: Vocabulary) -> None:
    assert infer_tags("#help #thanks <@U0123ABC> <!here>", vocabulary) == []
    assert slugs("see <https://example.org/x|our SEND policy>", vocabulary) == ["send"]
    assert slugs("posted in <#C0123|send>", vocabulary) == ["send"]
    assert plain_text("a <https://x.example|link> &amp; more") == "a  link  & more"


def test_the_longest_phrase_wins_over_the_words_inside_it(vocabulary: Vocabulary) -> None:
    assert slugs("our new head of maths", vocabulary) == ["maths"]
    assert slugs("English as an additional language", vocabulary) == ["eal"]
    assert slugs("early reading", vocabulary) == ["phonics"]
    assert slugs("staff absence", vocabulary) == ["hr"]
    assert slugs("harmful sexual behaviour", vocabulary) == ["safeguarding"]


def test_matches_are_ranked_by_strength_with_their_evidence(vocabulary: Vocabulary) -> None:
    text = "Maths is weak: KS2 maths, times tables, our maths lead. Also some attendance."
    matches = infer_tags(text, vocabulary)
    assert [m.slug for m in matches] == ["maths", "attendance"]
    assert matches[0].evidence == ("Maths", "KS2 maths", "times tables", "maths lead")
    assert matches[0].score > matches[1].score
    assert all(isinstance(m, TagMatch) for m in matches)


def test_equal_scores_keep_the_order_of_mention(vocabulary: Vocabulary) -> None:
    assert slugs("science then history then art", vocabulary) == ["science", "history", "art"]
    assert slugs("art then history then science", vocabulary) == ["art", "history", "science"]


def test_evidence_lists_each_wording_once(vocabulary: Vocabulary) -> None:
    [match] = infer_tags("SENCO, senco, Senco and EHCPs", vocabulary)
    assert match.evidence == ("SENCO", "EHCPs")


def test_inference_is_deterministic(vocabulary: Vocabulary) -> None:
    text = " ".join(str(r["text"]) for r in load_requests())
    assert infer_tags(text, vocabulary) == infer_tags(text, vocabulary)


@pytest.mark.parametrize("text", ["", "   ", "\n", "thanks!", "👍", "???"])
def test_text_without_a_need_gives_no_tags(text: str, vocabulary: Vocabulary) -> None:
    assert infer_tags(text, vocabulary) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We need a mentor", []),
        ("Our mentors need more time", []),
        ("A new head who would like a mentor", ["leadership"]),
        ("mentoring for our new DSL", ["safeguarding"]),
        ("mentoring for our ECTs", ["ect"]),
        ("ECT mentor training", ["ect"]),
    ],
)
def test_mentor_alone_does_not_mean_early_career_teachers(
    text: str, expected: list[str], vocabulary: Vocabulary
) -> None:
    assert slugs(text, vocabulary) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KS2 SATs maths", {"assessment", "maths"}),
        ("Key stage 2 SATs reading", {"assessment", "english"}),
        ("KS1 SATs", {"assessment"}),
        ("KS2 maths", {"maths"}),
        ("we sat down together", set()),
    ],
)
def test_sats_are_assessment_as_well_as_their_subject(
    text: str, expected: set[str], vocabulary: Vocabulary
) -> None:
    assert set(slugs(text, vocabulary)) == expected
