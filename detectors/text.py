"""Scanning string columns in full, once per distinct value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

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

    dictionary: pa.Array
    findings: list[Sequence[Finding]]
    indices: pa.Array
    rows_per_value: np.ndarray
    original_type: pa.DataType

    @cached_property
    def values(self) -> list[str]:
        """The distinct values as Python strings, made only when something needs them."""
        return [v or "" for v in self.dictionary.to_pylist()]

    def found_any(self) -> bool:
        return any(self.findings)

    def entity_counts(self) -> dict[str, int]:
        return _count(self.findings, self.rows_per_value)


def _distinct(array: pa.Array) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """Distinct values (those no row uses set to null), row indices, rows per value."""
    encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
    dictionary = encoded.dictionary.cast(pa.large_string())
    valid = encoded.indices.drop_null().to_numpy(zero_copy_only=False)
    rows_per_value = np.bincount(valid, minlength=len(dictionary))
    # A dictionary may carry values no row uses (sliced or filtered input): skip them.
    if len(dictionary) and not rows_per_value.all():
        dictionary = pc.if_else(pa.array(rows_per_value > 0), dictionary, pa.scalar(None, pa.large_string()))
    return dictionary, encoded.indices, rows_per_value


def _count(findings: Sequence[Sequence[Finding]], rows_per_value: np.ndarray) -> dict[str, int]:
    counts: dict[str, int] = {}
    # Most values hold nothing: visit only those that hold something.
    for i in [i for i, found in enumerate(findings) if found]:
        rows = int(rows_per_value[i])
        for f in findings[i]:
            counts[f.entity_type] = counts.get(f.entity_type, 0) + rows
    return counts


def scan_text_column(array: pa.Array, detector: Detector) -> TextScan:
    """Findings per distinct value, with what is needed to rebuild the column."""
    dictionary, indices, rows_per_value = _distinct(array)
    return TextScan(dictionary, detector.analyze_batch(dictionary), indices, rows_per_value, array.type)


def count_entities(array: pa.Array, detector: Detector) -> dict[str, int]:
    """Rows' worth of findings per entity type in a column; no Python strings
    are made for values the detector's prefilters rule out."""
    dictionary, _, rows_per_value = _distinct(array)
    return _count(detector.analyze_batch(dictionary), rows_per_value)
