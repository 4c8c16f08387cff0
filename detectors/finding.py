"""A finding: where an entity is and how sure, never the matched text itself."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NER_RECOGNIZER = "SpacyNer"


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
    the union before NER does: the model's fixed 0.85 says less than a checksum.
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
    return (f.recognizer != NER_RECOGNIZER, f.score, f.end - f.start)
