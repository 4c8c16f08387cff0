"""Pattern sweeps over whole Arrow columns.

pyarrow's RE2 kernels test every value against each recognizer's prefilter
in C++; only the values that pass go through the Presidio recognizer (its
regexes and checksum validators) in Python. On columns where most values
cannot hold an entity, almost no Python runs at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestguard.detectors.finding import Finding
from ingestguard.detectors.recognizers.spec import RecognizerSpec

# Presidio's default context similarity factor and a window of a few words.
CONTEXT_BOOST = 0.35
CONTEXT_BEFORE = 40
CONTEXT_AFTER = 20
_WORD = re.compile(r"[a-z0-9#]+")


class PatternSweep:
    def __init__(self, specs: list[RecognizerSpec], thresholds: dict[str, float]) -> None:
        self._recognizers = [(spec, spec.build(), thresholds[spec.entity]) for spec in specs]
        # One pass with every prefilter at once rules out most values of most
        # columns; only the values it lets through see the per-recognizer passes.
        self._any = "|".join(f"(?:{spec.prefilter})" for spec in specs) if specs else None

    @property
    def entities(self) -> list[str]:
        return [spec.entity for spec, _, _ in self._recognizers]

    def find(self, values: pa.Array, context: Sequence[str] = ()) -> dict[int, list[Finding]]:
        """Findings by position, for the values that have any (nulls never do).

        Sparse, because most values of most columns hold nothing; pass distinct
        values, each is analyzed once. `context` words (a column's name) count
        as present in every value.
        """
        out: dict[int, list[Finding]] = {}
        if not len(values) or self._any is None:
            return out
        candidates = _true_positions(pc.match_substring_regex(values, self._any))
        if not len(candidates):
            return out
        subset = values.take(pa.array(candidates))
        for spec, recognizer, threshold in self._recognizers:
            hits = _true_positions(pc.match_substring_regex(subset, spec.prefilter))
            if not len(hits):
                continue
            name = recognizer.name
            for hit, text in zip(hits, subset.take(pa.array(hits)).to_pylist(), strict=True):
                row = int(candidates[hit])
                for r in recognizer.analyze(text, [spec.entity], None):
                    score = float(r.score)
                    if score < threshold and _near_context(text, r.start, r.end, recognizer.context, context):
                        score = min(1.0, score + CONTEXT_BOOST)
                    if score >= threshold:
                        found = Finding(spec.entity, r.start, r.end, round(score, 4), name)
                        out.setdefault(row, []).append(found)
        return out


def _near_context(
    text: str, start: int, end: int, words: Sequence[str] | None, column_words: Sequence[str]
) -> bool:
    """A context word within a few words before the finding (or just after),
    or in the column's name: Presidio's context rule, made cheap."""
    if not words:
        return False
    wanted = {w.lower() for w in words}
    if wanted & set(column_words):
        return True
    window = text[max(0, start - CONTEXT_BEFORE) : start] + " " + text[end : end + CONTEXT_AFTER]
    near = set(_WORD.findall(window.lower()))
    # Plurals count ("ZIPs 10001 and 30301", "phones: ...").
    near |= {w[:-1] for w in near if w.endswith("s")}
    return bool(wanted & near)


def _true_positions(mask: pa.Array) -> np.ndarray:
    return np.flatnonzero(mask.fill_null(False).to_numpy(zero_copy_only=False))
