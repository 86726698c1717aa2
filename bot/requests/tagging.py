"""Inferring a request's areas of need from what the head wrote, using the vocabulary's terms.

Deterministic word and phrase matching, no statistics: a hashtag (`#send`) names a tag
outright; otherwise the longest slug, label or synonym found as whole words wins, tolerant
of case, punctuation, plurals and possessives ("EHCPs", "SENCO's"). Words the vocabulary
marks upper-case-only ("RE", "PE", "SEND") count only when written in capitals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from bot.core.vocabulary import WORD_PATTERN, Vocabulary, canonical_word, words

HASHTAG_WEIGHT = 3.0  # the head named the tag
PHRASE_WEIGHT = 1.5  # several words in a row ("persistent absence") are rarely an accident
WORD_WEIGHT = 1.0

# Slack's markup: <https://x|label>, <@U123>, <#C123|channel>, <!here>.
_SLACK_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_HASHTAG = re.compile(r"(?<![\w#&])#([^\W_][\w-]*)")


@dataclass(frozen=True)
class TagMatch:
    """A tag found in a text: the words that named it and how strongly (higher is stronger)."""

    slug: str
    evidence: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class _Token:
    """One word of the text: as written, in canonical form, and where it lies."""

    raw: str
    word: str
    start: int
    end: int


@dataclass(frozen=True)
class _Phrase:
    """One term of a tag as a sequence of words, with which must be written in capitals."""

    slug: str
    words: tuple[str, ...]
    capitals: tuple[bool, ...]


@dataclass(frozen=True)
class _Hit:
    """One occurrence of a tag: tokens `first` to `last` (exclusive), characters `start:end`."""

    slug: str
    first: int
    last: int
    start: int
    end: int
    weight: float
    hashtag: bool = False


def infer_tags(text: str, vocabulary: Vocabulary) -> list[TagMatch]:
    """The tags `text` asks for, strongest first (then earliest mentioned, then by slug)."""
    plain = plain_text(text)
    tokens = _tokenise(plain)
    if not tokens:
        return []
    hits = _hashtag_hits(plain, tokens, vocabulary) + _phrase_hits(tokens, _index(vocabulary))
    return _rank(_without_overlaps(hits), plain)


def plain_text(text: str) -> str:
    """`text` without Slack's link, mention and entity markup; channel links become hashtags."""

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("#") and label:
            return f" #{label} "
        if label and not target.startswith(("@", "!", "#")):
            return f" {label} "
        return " "

    text = _SLACK_MARKUP.sub(replace, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _tokenise(text: str) -> list[_Token]:
    """The words of `text`, in order."""
    return [
        _Token(m.group(), canonical_word(m.group()), m.start(), m.end())
        for m in WORD_PATTERN.finditer(text)
    ]


@lru_cache(maxsize=8)
def _index(vocabulary: Vocabulary) -> Mapping[str, tuple[_Phrase, ...]]:
    """Every term of `vocabulary` as a phrase, grouped by its first word."""
    index: dict[str, list[_Phrase]] = {}
    for tag in vocabulary:
        seen: set[tuple[str, ...]] = set()
        for term in tag.terms:
            term_words = words(term)
            if term_words and term_words not in seen:
                seen.add(term_words)
                capitals = tuple(word in tag.upper_case_only for word in term_words)
                index.setdefault(term_words[0], []).append(_Phrase(tag.slug, term_words, capitals))
    return {first: tuple(phrases) for first, phrases in index.items()}


def _hashtag_hits(text: str, tokens: list[_Token], vocabulary: Vocabulary) -> list[_Hit]:
    """A hit for each hashtag in `text` that names a tag (`#send`, `#early-years`)."""
    hits = []
    for match in _HASHTAG.finditer(text):
        slug = vocabulary.normalise(match.group(1))
        inside = [i for i, t in enumerate(tokens) if match.start() < t.start < match.end()]
        if slug is not None and inside:
            first, last = inside[0], inside[-1] + 1
            hits.append(
                _Hit(slug, first, last, match.start(), match.end(), HASHTAG_WEIGHT, hashtag=True)
            )
    return hits


def _phrase_hits(tokens: list[_Token], index: Mapping[str, tuple[_Phrase, ...]]) -> list[_Hit]:
    """A hit for every place where a term's words occur in `tokens`, overlapping or not."""
    hits = []
    for position, token in enumerate(tokens):
        for phrase in _candidates(token.word, index):
            end = position + len(phrase.words)
            if _phrase_at(tokens[position:end], phrase):
                weight = PHRASE_WEIGHT if len(phrase.words) > 1 else WORD_WEIGHT
                start, stop = token.start, tokens[end - 1].end
                hits.append(_Hit(phrase.slug, position, end, start, stop, weight))
    return hits


def _phrase_at(tokens: list[_Token], phrase: _Phrase) -> bool:
    """Whether `tokens` are exactly the words of `phrase`."""
    return len(tokens) == len(phrase.words) and all(
        _word_matches(token, word, capitals)
        for token, word, capitals in zip(tokens, phrase.words, phrase.capitals, strict=True)
    )


def _candidates(word: str, index: Mapping[str, tuple[_Phrase, ...]]) -> Iterable[_Phrase]:
    """The phrases that could start with `word`, itself or its singular."""
    for stem in dict.fromkeys((word, word.removesuffix("s"), word.removesuffix("es"))):
        yield from index.get(stem, ())


def _word_matches(token: _Token, word: str, capitals: bool) -> bool:
    """Whether `token` is `word` (or its plural), in capitals where the term requires them."""
    if token.word not in (word, f"{word}s", f"{word}es"):
        return False
    return not capitals or token.raw[: len(word)].isupper()


def _without_overlaps(hits: list[_Hit]) -> list[_Hit]:
    """Keep hashtags, then the longest hits, dropping any that share a word with one kept."""
    kept: list[_Hit] = []
    taken: set[int] = set()
    for hit in sorted(hits, key=lambda h: (not h.hashtag, h.first - h.last, h.first)):
        span = set(range(hit.first, hit.last))
        if not span & taken:
            kept.append(hit)
            taken |= span
    return sorted(kept, key=lambda h: h.first)


def _rank(hits: list[_Hit], text: str) -> list[TagMatch]:
    """One match per tag, with its evidence in order of appearance, strongest first."""
    by_slug: dict[str, list[_Hit]] = {}
    for hit in hits:
        by_slug.setdefault(hit.slug, []).append(hit)
    matches = [
        TagMatch(slug, _evidence(slug_hits, text), sum(h.weight for h in slug_hits))
        for slug, slug_hits in by_slug.items()
    ]
    first_seen = {slug: slug_hits[0].first for slug, slug_hits in by_slug.items()}
    return sorted(matches, key=lambda m: (-m.score, first_seen[m.slug], m.slug))


def _evidence(hits: list[_Hit], text: str) -> tuple[str, ...]:
    """The words of `hits` as written, each once (ignoring case), in order of appearance."""
    evidence: dict[str, str] = {}
    for hit in hits:
        written = " ".join(text[hit.start : hit.end].split())
        evidence.setdefault(written.casefold(), written)
    return tuple(evidence.values())
