"""A normalized copy of a text to detect on, with a map back to the original.

An email with a zero-width space before the `@`, an SSN in full-width digits
(`０７８-０５-１１２０`) or a name with a Cyrillic `А` reads the same to a person
and to a model trained on it, but no pattern matches it. Detection therefore
runs on a copy where:

- default-ignorable code points are removed: zero-width spaces and joiners
  (U+200B..U+200D), word joiner (U+2060), BOM (U+FEFF), soft hyphen (U+00AD),
  bidi controls (U+200E/F, U+202A..U+202E, U+2066..U+2069), variation
  selectors, tag characters (Unicode's `Default_Ignorable_Code_Point`);
- each character that NFKC changes is replaced by its NFKC form (full-width
  letters and digits, ligatures, no-break and ideographic spaces, circled and
  super/subscript digits);
- inside a word that holds a Latin letter, Cyrillic and Greek letters that look
  like a Latin letter are read as that letter (`CONFUSABLES`).

The findings' spans are mapped back, so the replaced span is the original one,
including any invisible characters inside it. Text with none of this costs one
`isascii` check (most text), or one regex pass when it is not ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import regex

# Characters to remove or rewrite. NFKC_Quick_Check=No is exactly the set of
# characters that NFKC changes on their own (Maybe: combining marks that only
# change when they compose with the letter before; those are kept as they are).
_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")
_SPECIAL = regex.compile(r"[\p{Default_Ignorable_Code_Point}\p{NFKC_Quick_Check=No}]+")

# Cyrillic and Greek letters whose prototype in Unicode's confusables data
# (UTS #39, confusables.txt) is a single ASCII letter. Kept to letters that
# pass for Latin in common fonts; a word wholly in another script is a word of
# that script and is left alone (only mixed words are obfuscation).
CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x",
    "ѕ": "s", "і": "i", "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "У": "Y", "Ѕ": "S", "І": "I", "Ј": "J", "Ү": "Y",
    "Ԛ": "Q", "Ԝ": "W", "Ӏ": "I",
    # Greek
    "α": "a", "ο": "o", "ν": "v", "ι": "i", "ρ": "p", "ϲ": "c", "ϳ": "j",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ϲ": "C", "Ϳ": "J",
}  # fmt: skip
_TO_LATIN = str.maketrans(CONFUSABLES)
_CONFUSABLE_CLASS = "".join(CONFUSABLES)
# A word (at its start only, so the scan stays linear) holding both a Latin
# letter and a confusable letter.
_MIXED_WORD = re.compile(rf"(?<!\w)(?=\w*?[A-Za-z])(?=\w*?[{_CONFUSABLE_CLASS}])\w+")


@dataclass(frozen=True)
class Normalized:
    """A normalized text and the map of its spans back to the original.

    The map is a list of segments of the normalized text: a linear segment
    maps character for character, an expansion (one original character that
    NFKC made into several, such as `ﬁ`) maps as a whole. Removed characters
    fall between segments. Memory grows with the characters changed, not with
    the text.
    """

    text: str
    _starts: tuple[int, ...]  # segment starts in `text`
    _origins: tuple[int, ...]  # where each segment starts in the original
    _expansions: frozenset[int]  # segments that are one original character

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the normalized span [start, end), end > start."""
        first = bisect_right(self._starts, start) - 1
        last = bisect_right(self._starts, end - 1) - 1
        if first in self._expansions:
            orig_start = self._origins[first]
        else:
            orig_start = self._origins[first] + start - self._starts[first]
        if last in self._expansions:
            orig_end = self._origins[last] + 1
        else:
            orig_end = self._origins[last] + end - self._starts[last]
        return orig_start, orig_end


def normalize(text: str) -> Normalized | None:
    """The copy to detect on, or None when it would equal `text`."""
    if text.isascii():
        return None
    special = _SPECIAL.search(text) is not None
    if not special and _MIXED_WORD.search(text) is None:
        return None
    # Confusables map one character to one, so they keep the map as it is.
    normalized = _rewrite(text) if special else Normalized(text, (0,), (0,), frozenset())
    mapped = _MIXED_WORD.sub(lambda m: m.group().translate(_TO_LATIN), normalized.text)
    return replace(normalized, text=mapped)


def _rewrite(text: str) -> Normalized:
    """Remove the ignorable characters and apply NFKC to the others that it
    changes, keeping a segment wherever the map stops being linear."""
    pieces: list[str] = []
    starts: list[int] = []
    origins: list[int] = []
    expansions: set[int] = set()
    length = 0  # of the normalized text so far

    def linear(orig: int, piece: str) -> None:
        nonlocal length
        if not piece:
            return
        # Extend the previous linear segment when the original runs on without a gap.
        contiguous = (
            starts
            and len(starts) - 1 not in expansions
            and origins[-1] + length - starts[-1] == orig
        )
        if not contiguous:
            starts.append(length)
            origins.append(orig)
        pieces.append(piece)
        length += len(piece)

    cursor = 0
    for match in _SPECIAL.finditer(text):
        linear(cursor, text[cursor : match.start()])
        for offset, char in enumerate(match.group(), match.start()):
            if _IGNORABLE.match(char):
                continue
            replacement = _IGNORABLE.sub("", unicodedata.normalize("NFKC", char))
            if len(replacement) == 1:
                linear(offset, replacement)
            elif replacement:
                expansions.add(len(starts))
                starts.append(length)
                origins.append(offset)
                pieces.append(replacement)
                length += len(replacement)
        cursor = match.end()
    linear(cursor, text[cursor:])
    return Normalized("".join(pieces), tuple(starts), tuple(origins), frozenset(expansions))


def normalize_array(values: pa.Array) -> tuple[pa.Array, dict[int, Normalized]]:
    """The values with each one that needs it replaced by its normalized copy,
    and the copies by position. ASCII values are ruled out in C (`string_is_ascii`)
    and never become Python strings here."""
    if not len(values):
        return values, {}
    non_ascii = np.flatnonzero(
        pc.invert(pc.string_is_ascii(values)).fill_null(False).to_numpy(zero_copy_only=False)
    )
    if not len(non_ascii):
        return values, {}
    copies: dict[int, Normalized] = {}
    for row, text in zip(non_ascii, values.take(pa.array(non_ascii)).to_pylist(), strict=True):
        normalized = normalize(text)
        if normalized is not None:
            copies[int(row)] = normalized
    if not copies:
        return values, {}
    mask = np.zeros(len(values), dtype=bool)
    rows = sorted(copies)
    mask[rows] = True
    replacements = pa.array([copies[row].text for row in rows], values.type)
    return pc.replace_with_mask(values, pa.array(mask), replacements), copies
