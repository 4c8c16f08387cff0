"""A pattern recognizer whose score comes from a checksum, not from the regex.

A failed checksum drops a candidate, a passed checksum in a distinctive
layout scores 1.0, and a passed checksum on a bare digit run (which many
order numbers satisfy by chance) keeps the pattern's base score, below the
default reporting threshold of 0.5, unless a context word stands near it or
names its column (the sweep's context boost).
"""

from __future__ import annotations

from typing import ClassVar

from presidio_analyzer import Pattern, PatternRecognizer

# Left and right edges of a candidate: not inside a longer word, dash-joined
# run, decimal number, time or path. Stricter than RE2's \b, so a prefilter
# that uses \b stays a superset.
EDGE_START = r"(?<![\w+\-]|[0-9][.,/:])"
EDGE_END = r"(?![\w\-]|[.,/:][0-9])"


class ValidatedPatternRecognizer(PatternRecognizer):
    ENTITY: ClassVar[str]
    REGEX: ClassVar[str]
    BASE_SCORE: ClassVar[float] = 0.3
    # Looser layouts, tried as well; an over-long match just fails validation.
    EXTRA_REGEXES: ClassVar[tuple[str, ...]] = ()
    # Words that lift a bare-digit candidate over the threshold when they stand
    # near it in the text, or name its column (see detectors/sweep.py).
    CONTEXT: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        name = type(self).__name__
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=[
                Pattern(f"{self.ENTITY} candidate {i}", EDGE_START + regex + EDGE_END, self.BASE_SCORE)
                for i, regex in enumerate((self.REGEX, *self.EXTRA_REGEXES))
            ],
            context=list(self.CONTEXT),
            name=name,
        )

    def is_valid(self, candidate: str) -> bool:
        raise NotImplementedError

    def is_distinctive(self, candidate: str) -> bool:
        """Whether the layout alone rules out look-alikes (default: yes)."""
        return True

    def validate_result(self, pattern_text: str) -> bool | None:
        if not self.is_valid(pattern_text):
            return False
        return True if self.is_distinctive(pattern_text) else None


def digits(text: str) -> str:
    return "".join(filter(str.isdigit, text))


def has_separator(text: str) -> bool:
    return not text.isalnum()
