"""Where the names model can change the outcome of a text.

The names model costs about ten times what the spaCy model does per token, so
it reads only the parts of a text where its opinion can matter: around words
that may be a name or a place and that nothing else has already found, and
around the spans spaCy could not type (ORG, NORP, FAC). A note whose names,
addresses and numbers the patterns and spaCy have all found costs it nothing.

Candidates:
- a capitalised or all-capitals word that no finding covers and that does
  not just start a sentence (a sentence's first word counts when the next word
  is capitalised too, or a colon follows: "Tanya Mason called", "Ronald: hi");
- a run of three or more digits no finding covers (postal codes, house and
  document numbers the patterns did not claim);
- every spaCy ORG, NORP or FAC span not inside a finding;
- a short text (a column value), or one written all in lower case (its
  capitals say nothing), as a whole.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

# Characters of context on each side of a candidate: a few words, enough for
# the model to see "Spoke with ... ;" or "zip code ...".
CONTEXT_CHARS = 48
# Texts this short are read whole: column values, labels, one-line answers.
SHORT_TEXT = 64
# A word ends in a letter or digit ("Gonzalez." is the word "Gonzalez").
_WORD = re.compile(r"[^\W\d_](?:[\w'’.\-]*\w)?|\d[\d\s\-]{1,}\d|\d{3,}")
# What starts a sentence or a clause whose first word is capitalised anyway.
_RUN = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?:^|[.!?:]['\")\]]?\s+|\n\s*)$")


def candidate_windows(
    text: str, covered: Sequence[tuple[int, int]], spacy_candidates: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Character ranges of `text` for the names model, merged and in order.

    `covered`: spans other detectors have already found (not candidates);
    `spacy_candidates`: spaCy spans the model is asked to type.
    """
    if not text.strip():
        return []
    if len(text) <= SHORT_TEXT or writes_in_lower_case(text):
        return [(0, len(text))]
    found = Covered(covered)
    spots = [(s, e) for s, e in spacy_candidates if not found.contains(s, e)]
    words = list(_WORD.finditer(text))
    for i, word in enumerate(words):
        if found.contains(word.start(), word.end()) or not _may_name(text, word, words, i, found):
            continue
        spots.append((word.start(), word.end()))
    return _merge(
        [
            (
                _word_edge(text, max(0, s - CONTEXT_CHARS), -1),
                _word_edge(text, min(len(text), e + CONTEXT_CHARS), 1),
            )
            for s, e in spots
        ]
    )


def writes_in_lower_case(text: str) -> bool:
    """No capital letter but the pronoun "I": the writer's case says nothing
    about which words are names ("i spoke with tanya mason", "I saw tanya")."""
    if not any(ch.isupper() for ch in text):
        return True
    return not any(
        m.group() != "I" and not m.group().islower() for m in _RUN.finditer(text) if not m.group().isdigit()
    )


class Covered:
    """Spans already found, merged and sorted, for fast "is this inside one" checks."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [s for s, _ in merged]
        self._ends = [e for _, e in merged]

    def contains(self, start: int, end: int) -> bool:
        at = bisect.bisect_right(self._starts, start) - 1
        return at >= 0 and end <= self._ends[at]


def _may_name(text: str, word: re.Match[str], words: list[re.Match[str]], i: int, found: Covered) -> bool:
    token = word.group()
    if token[0].isdigit():
        return sum(ch.isdigit() for ch in token) >= 3
    if not token[0].isupper():
        return False
    if len(token) > 1 and token.isupper():
        return True
    # Only the few characters before the word: searching from 0 is quadratic.
    if not _SENTENCE_END.search(text, max(0, word.start() - 16), word.start()):
        return True
    following = text[word.end() : word.end() + 2]
    # "Tanya Mason called": the next word goes on a name, unless it is one
    # already found ("Customer Justin Russell ...": the name is covered).
    nxt = words[i + 1] if i + 1 < len(words) else None
    next_capital = (
        nxt is not None
        and nxt.group()[0].isupper()
        and not text[word.end() : nxt.start()].strip()
        and not found.contains(nxt.start(), nxt.end())
    )
    return following.startswith(":") or next_capital


def _word_edge(text: str, at: int, direction: int) -> int:
    """Move a window edge outwards to the nearest space, so no word is cut; at
    most CONTEXT_CHARS further (text with no spaces, such as minified JSON,
    would otherwise make every window the whole text)."""
    if direction < 0:
        stop = max(0, at - CONTEXT_CHARS)
        while at > stop and not text[at - 1].isspace():
            at -= 1
    else:
        stop = min(len(text), at + CONTEXT_CHARS)
        while at < stop and not text[at].isspace():
            at += 1
    return at


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
