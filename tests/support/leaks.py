"""Finding seeded sensitive values anywhere in output values or text files."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[^\s,;:()\[\]<>\"']+")


def candidates(text: str, max_words: int = 3) -> set[str]:
    """Every run of 1..max_words words, with and without trailing punctuation."""
    words = _WORD.findall(text)
    out: set[str] = {text}
    for i in range(len(words)):
        for n in range(1, max_words + 1):
            if i + n <= len(words):
                gram = " ".join(words[i : i + n])
                out.add(gram)
                out.add(gram.rstrip(".!?"))
    return out


def leaked(seeded: set[str], values: Iterable[str | None]) -> set[str]:
    """Seeded values that occur in any value, whole or as words inside text."""
    found: set[str] = set()
    for value in values:
        if value:
            found |= seeded & candidates(value)
    return found


def leaked_in_text(seeded: Iterable[str], text: str) -> set[str]:
    return {s for s in seeded if s in text}
