"""A finding: where an entity is and how sure, never the matched text itself."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NER_RECOGNIZER = "SpacyNer"
NAMES_RECOGNIZER = "RampartNer"
# Models give a fixed or learned confidence, not a check: a validated pattern
# labels a merged span before either does.
MODEL_RECOGNIZERS = frozenset({NER_RECOGNIZER, NAMES_RECOGNIZER})


@dataclass(frozen=True, slots=True)
class Finding:
    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str


def merge_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Merge overlapping findings into one span labelled by the surest of them.

    A union, not a choice: when a phone number overlaps a name, replacing only
    the name would leave part of the number behind. A validated pattern labels
    the union before a model does: a model's score says less than a checksum.
    """
    merged: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if merged and f.start < merged[-1].end:
            last = merged[-1]
            best = last if _rank(last) >= _rank(f) else f
            merged[-1] = Finding(
                best.entity_type, last.start, max(last.end, f.end), best.score, best.recognizer
            )
        else:
            merged.append(f)
    return merged


def _rank(f: Finding) -> tuple[bool, float, int]:
    return (f.recognizer not in MODEL_RECOGNIZERS, f.score, f.end - f.start)
