"""Pattern sweeps over whole Arrow columns.

pyarrow's RE2 kernels test every value against each recognizer's prefilter
in C++; only the values that pass go through the Presidio recognizer (its
regexes and checksum validators) in Python. On columns where most values
cannot hold an entity, almost no Python runs at all.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestguard.detectors.finding import Finding
from ingestguard.detectors.recognizers.spec import RecognizerSpec


class PatternSweep:
    def __init__(self, specs: list[RecognizerSpec], thresholds: dict[str, float]) -> None:
        self._recognizers = [(spec, spec.build(), thresholds[spec.entity]) for spec in specs]
        # One pass with every prefilter at once rules out most values of most
        # columns; only the values it lets through see the per-recognizer passes.
        self._any = "|".join(f"(?:{spec.prefilter})" for spec in specs) if specs else None

    @property
    def entities(self) -> list[str]:
        return [spec.entity for spec, _, _ in self._recognizers]

    def find(self, values: pa.Array) -> dict[int, list[Finding]]:
        """Findings by position, for the values that have any (nulls never do).

        Sparse, because most values of most columns hold nothing; pass distinct
        values, each is analyzed once.
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
                    if r.score >= threshold:
                        found = Finding(spec.entity, r.start, r.end, round(float(r.score), 4), name)
                        out.setdefault(row, []).append(found)
        return out


def _true_positions(mask: pa.Array) -> np.ndarray:
    return np.flatnonzero(mask.fill_null(False).to_numpy(zero_copy_only=False))
