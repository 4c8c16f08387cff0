"""Whole-column transforms, computed once per distinct value.

A column is dictionary-encoded, the transform runs once over the distinct
values (vectorized in Arrow where the action allows), and the result is
expanded back with `take`. Pseudonyms are also remembered across batches,
since columns that repeat values repeat them across batches; so is whether the
re-scan found each one clean, so that it reads a pseudonym once per column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestguard.transforms.actions import Fpe, Pseudonymize, Tokenize, Transform

CACHE_LIMIT = 200_000
# Below this share of repeated values per batch, the cache costs more than it saves.
MIN_HIT_RATE = 0.1
# Keyed one-to-one transforms: distinct values stay distinct.
ONE_TO_ONE = (Pseudonymize, Tokenize, Fpe)


class ColumnTransformer:
    """Transforms every non-null value of one entity column."""

    def __init__(self, transform: Transform, entity: str) -> None:
        self.transform = transform
        self.entity = entity
        # Values seen and their pseudonyms, as Arrow arrays: looked up in C++.
        self._known: pa.Array | None = pa.array([], pa.large_string())
        self._pseudonyms_known = pa.array([], pa.large_string())
        self._clean = CleanPseudonyms()  # aligned with the cache
        self._batches = 0

    def __call__(self, array: pa.Array) -> pa.Array:
        replaced, indices, _ = self.distinct(array)
        return pc.take(replaced, indices).cast(array.type)

    @property
    def repeats(self) -> bool:
        """Whether distinct values can come out equal (replace, redact, masks, generalizing),
        so that a re-scan of `distinct`'s values gains by folding equal ones first."""
        return not isinstance(self.transform, ONE_TO_ONE)

    def distinct(self, array: pa.Array) -> tuple[pa.Array, pa.Array, CachedPseudonyms | None]:
        """The transformed distinct values and each row's index into them: the
        output is their `take`, and a re-scan of the output can read the few
        distinct values instead of encoding the whole column again. Third, for
        pseudonyms while the cache is kept: which of them earlier re-scans found clean."""
        encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
        values = encoded.dictionary.cast(pa.large_string())
        if not isinstance(self.transform, Pseudonymize):
            return self.transform.apply_array(values, self.entity), encoded.indices, None
        replaced, slots = self._pseudonyms(values)
        cached = None if slots is None else CachedPseudonyms(self._clean, slots)
        return replaced, encoded.indices, cached

    def _pseudonyms(self, values: pa.Array) -> tuple[pa.Array, np.ndarray | None]:
        """Computed for values not seen before; the cache stops growing when full,
        keeping the values that came first, which in repetitive data repeat most.
        Once batches show that values do not repeat, the cache is dropped.

        The lookup is Arrow's (`index_in`), so a batch whose values were all
        seen before costs no Python per value. Second: each value's place in the
        cache (-1: not kept), or None once the cache is dropped."""
        tokens = self.transform.pseudonymizer.tokens
        if self._known is None:
            return pa.array(tokens(self.entity, values.to_pylist()), pa.large_string()), None
        found = (
            pc.index_in(values, value_set=self._known)
            .fill_null(-1)
            .to_numpy(zero_copy_only=False, writable=True)
        )
        missing = found < 0
        new_values = values.filter(pa.array(missing))
        fresh = pa.array(tokens(self.entity, new_values.to_pylist()), pa.large_string())
        every = pa.concat_arrays([self._pseudonyms_known, fresh])
        found[missing] = len(self._known) + np.arange(len(fresh))
        self._batches += 1
        replaced = every.take(pa.array(found))
        if self._batches > 1 and len(fresh) > (1 - MIN_HIT_RATE) * len(values):
            self._known = None
            return replaced, None
        if len(every) <= CACHE_LIMIT:
            self._known = pa.concat_arrays([self._known, new_values])
            self._pseudonyms_known = every
            self._clean.grow(len(every))
        return replaced, np.where(found < len(self._known), found, -1)


class CleanPseudonyms:
    """Per cached pseudonym of one column: the verifying detector re-scanned it
    and found nothing. The verdicts hold for that one detector only; another
    detector's scan starts them afresh."""

    def __init__(self) -> None:
        self.detector: object | None = None
        self.flags = np.zeros(0, bool)

    def grow(self, size: int) -> None:
        """New cache places start unverified."""
        self.flags = np.concatenate([self.flags, np.zeros(size - len(self.flags), bool)])


@dataclass
class CachedPseudonyms:
    """One batch's distinct pseudonyms as places in their column's cache (-1:
    outside it), bound to that column's verdicts: what the re-scan asks before
    reading them (`clean`) and tells after (`mark_clean`). Values outside the
    cache are never clean, so they are read every time."""

    verdicts: CleanPseudonyms
    slots: np.ndarray

    def clean(self, detector: object) -> np.ndarray:
        """Per distinct value: `detector` found nothing in it in an earlier batch."""
        clean = np.zeros(len(self.slots), bool)
        if self.verdicts.detector is detector:
            kept = self.slots >= 0
            clean[kept] = self.verdicts.flags[self.slots[kept]]
        return clean

    def mark_clean(self, detector: object, positions: np.ndarray) -> None:
        """`detector` read the distinct values at `positions` and found nothing."""
        if self.verdicts.detector is not detector:
            self.verdicts.flags[:] = False
            self.verdicts.detector = detector
        slots = self.slots[positions]
        self.verdicts.flags[slots[slots >= 0]] = True
