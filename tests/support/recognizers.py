"""Running one recognizer of the registry the way the column sweep does."""

from __future__ import annotations

from ingestguard.detectors.recognizers import PATTERN_RECOGNIZERS

THRESHOLD = 0.5


def found(entity: str, text: str) -> list[tuple[str, int, int]]:
    """(entity, start, end) of the findings at or above the default threshold."""
    results = PATTERN_RECOGNIZERS[entity].build().analyze(text, [entity], None)
    return sorted((r.entity_type, r.start, r.end) for r in results if r.score >= THRESHOLD)


def span(entity: str, text: str, part: str) -> tuple[str, int, int]:
    start = text.index(part)
    return (entity, start, start + len(part))
