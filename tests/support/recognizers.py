"""Running one recognizer of the registry the way the column sweep does."""

from __future__ import annotations

import pyarrow as pa

from ingestguard.detectors.recognizers import PATTERN_RECOGNIZERS
from ingestguard.detectors.sweep import PatternSweep
from ingestguard.policy import Policy

THRESHOLD = 0.5


def found(entity: str, text: str) -> list[tuple[str, int, int]]:
    """(entity, start, end) of the findings at or above the default threshold."""
    results = PATTERN_RECOGNIZERS[entity].build().analyze(text, [entity], None)
    return sorted((r.entity_type, r.start, r.end) for r in results if r.score >= THRESHOLD)


def swept(entity: str, text: str, column: str = "") -> list[tuple[str, int, int]]:
    """(entity, start, end) the sweep reports at the default policy's threshold
    for `entity`: base scores plus the context-word boost (near the value, or
    in the `column` name)."""
    sweep = PatternSweep([PATTERN_RECOGNIZERS[entity]], {entity: Policy().threshold_for(entity)})
    findings = sweep.find(pa.array([text], pa.large_string()), column.lower().split("_")).get(0, [])
    return sorted((f.entity_type, f.start, f.end) for f in findings)


def span(entity: str, text: str, part: str) -> tuple[str, int, int]:
    start = text.index(part)
    return (entity, start, start + len(part))
