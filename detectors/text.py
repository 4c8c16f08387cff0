"""Free-text scanning: every value, once per distinct value, in NER batches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestguard.detectors.analyzer import Detector, Finding


@dataclass
class TextScan:
    """Findings for the distinct values of one column of one batch.

    `indices` maps each row to its distinct value (null rows stay null), and
    `rows_per_value` says how many rows hold each, so counts are per row.
    """

    values: list[str]
    findings: list[list[Finding]]
    indices: pa.Array
    rows_per_value: np.ndarray
    original_type: pa.DataType

    def entity_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for found, rows in zip(self.findings, self.rows_per_value, strict=True):
            for f in found:
                counts[f.entity_type] = counts.get(f.entity_type, 0) + int(rows)
        return counts


def scan_text_column(array: pa.Array, detector: Detector) -> TextScan:
    encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
    values = encoded.dictionary.cast(pa.large_string()).to_pylist()
    indices = encoded.indices
    valid = indices.drop_null().to_numpy(zero_copy_only=False)
    rows_per_value = np.bincount(valid, minlength=len(values)) if len(values) else np.zeros(0, np.int64)
    # A dictionary may carry values no row uses (sliced or filtered input): skip them.
    used = [v if rows_per_value[i] else None for i, v in enumerate(values)]
    findings = detector.analyze_batch(pa.array(used, pa.large_string()))
    return TextScan([v or "" for v in used], findings, indices, rows_per_value, array.type)
