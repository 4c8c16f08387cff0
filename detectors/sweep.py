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

    @property
    def entities(self) -> list[str]:
        return [spec.entity for spec, _, _ in self._recognizers]

    def find(self, values: pa.Array) -> dict[int, list[Finding]]:
        """Findings by position, for the values that have any (nulls never do).

        Sparse, because most values of most columns hold nothing; pass distinct
        values, each is analyzed once.
        """
        out: dict[int, list[Finding]] = {}
        if not len(values):
            return out
        for spec, recognizer, threshold in self._recognizers:
            hits = pc.match_substring_regex(values, spec.prefilter).fill_null(False)
            rows = np.flatnonzero(hits.to_numpy(zero_copy_only=False))
            if not len(rows):
                continue
            name = recognizer.name
            for row, text in zip(rows, values.take(pa.array(rows)).to_pylist(), strict=True):
                for r in recognizer.analyze(text, [spec.entity], None):
                    if r.score >= threshold:
                        found = Finding(spec.entity, r.start, r.end, round(float(r.score), 4), name)
                        out.setdefault(int(row), []).append(found)
        return out
