"""Scanning string columns in full, once per distinct value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import compress
from operator import not_
from typing import Protocol

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


class Verified(Protocol):
    """Which of a column's distinct values a detector already read, in an earlier
    batch of the same column, and found nothing in; and the way to record the ones
    it reads now and finds nothing in (`transforms.columns.CachedPseudonyms`)."""

    def clean(self, detector: Detector) -> np.ndarray: ...

    def mark_clean(self, detector: Detector, positions: np.ndarray) -> None: ...


@dataclass
class DistinctValues:
    """A column's distinct values and each row's index into them (null rows: null).

    The step that made a column often holds these already (a whole-column
    transform, a sweep that changed nothing); handing them on spares the
    re-scan encoding the column again. `findings`: the verifying detector's
    findings per value, when that same detector already made them. `repeats`:
    the dictionary may hold a value more than once (a transform's outputs:
    replace and redact make one value of many, masks collide).
    `verified`: for a dictionary that holds each value once, which values the
    re-scan need not read again (pseudonyms repeat across batches, not within one).
    """

    dictionary: pa.Array
    indices: pa.Array
    findings: list[Sequence[Finding]] | None = None
    repeats: bool = False
    verified: Verified | None = None

    @classmethod
    def of(cls, array: pa.Array) -> DistinctValues:
        encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
        return cls(encoded.dictionary, encoded.indices)


def _used(values: DistinctValues) -> tuple[pa.Array, np.ndarray]:
    """The distinct values (those no row uses set to null) and rows per value."""
    dictionary = values.dictionary.cast(pa.large_string())
    valid = values.indices.drop_null().to_numpy(zero_copy_only=False)
    rows_per_value = np.bincount(valid, minlength=len(dictionary))
    if values.repeats:
        # Equal values folded into one, with their rows: encoding is cheaper than scanning.
        encoded = pc.dictionary_encode(dictionary)
        present = encoded.indices.is_valid().to_numpy(zero_copy_only=False)
        codes = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False)[present]
        folded = np.bincount(codes, weights=rows_per_value[present], minlength=len(encoded.dictionary))
        dictionary, rows_per_value = encoded.dictionary, folded.astype(np.int64)
    # A dictionary may carry values no row uses (sliced or filtered input): skip them.
    if len(dictionary) and not rows_per_value.all():
        dictionary = pc.if_else(pa.array(rows_per_value > 0), dictionary, pa.scalar(None, pa.large_string()))
    return dictionary, rows_per_value


def _count(findings: Sequence[Sequence[Finding]], rows_per_value: np.ndarray) -> dict[str, int]:
    counts: dict[str, int] = {}
    # Most values hold nothing: visit only those that hold something (compress tests them in C).
    for i in compress(range(len(findings)), findings):
        rows = int(rows_per_value[i])
        for f in findings[i]:
            counts[f.entity_type] = counts.get(f.entity_type, 0) + rows
    return counts


def scan_text_column(array: pa.Array, detector: Detector) -> TextScan:
    """Findings per distinct value, with what is needed to rebuild the column."""
    distinct = DistinctValues.of(array)
    dictionary, rows_per_value = _used(distinct)
    return TextScan(
        dictionary, detector.analyze_batch(dictionary), distinct.indices, rows_per_value, array.type
    )


def count_entities(columns: Sequence[DistinctValues], detector: Detector) -> list[dict[str, int]]:
    """Rows' worth of findings per entity type in each column; no Python strings
    are made for values the detector's prefilters rule out.

    The values of every column without findings go to the detector in one call:
    each call has a fixed cost (RE2 compiles the prefilters) that would otherwise
    be paid per column and batch. Detection reads each value on its own, so
    this finds what one call per column finds, and a value this detector found
    nothing in before (`DistinctValues.verified`) need not be read again.
    """
    used = [_used(values) for values in columns]
    todo = [i for i, values in enumerate(columns) if values.findings is None]
    # Per column: the positions the detector reads, where some are verified clean (None: all).
    read = {i: _unverified(columns[i], used[i][1], detector) for i in todo}
    arrays = [used[i][0] if read[i] is None else used[i][0].take(pa.array(read[i])) for i in todo]
    found = detector.analyze_batch(pa.concat_arrays(arrays)) if todo else []
    findings = [values.findings for values in columns]
    rows = [rows_per_value for _, rows_per_value in used]
    start = 0
    for i, array in zip(todo, arrays, strict=True):
        end = start + len(array)
        findings[i] = found[start:end]
        start = end
        positions, verified = read[i], columns[i].verified
        if positions is not None and verified is not None:
            nothing = np.fromiter(map(not_, findings[i]), bool, count=len(positions))
            verified.mark_clean(detector, positions[nothing])
            rows[i] = rows[i][positions]
    return [_count(f, r) for f, r in zip(findings, rows, strict=True)]


def _unverified(values: DistinctValues, rows_per_value: np.ndarray, detector: Detector) -> np.ndarray | None:
    """Positions of the values some row uses that `detector` has not found clean before."""
    if values.verified is None:
        return None
    return np.flatnonzero(~values.verified.clean(detector) & (rows_per_value > 0))
