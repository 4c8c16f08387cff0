"""Whole-column transforms, computed once per distinct value.

A column is dictionary-encoded, the transform runs once over the distinct
values (vectorized in Arrow where the action allows), and the result is
expanded back with `take`. Pseudonyms are also remembered across batches,
since columns that repeat values repeat them across batches.
"""

from __future__ import annotations

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
        self._batches = 0

    def __call__(self, array: pa.Array) -> pa.Array:
        replaced, indices = self.distinct(array)
        return pc.take(replaced, indices).cast(array.type)

    @property
    def repeats(self) -> bool:
        """Whether distinct values can come out equal (replace, redact, masks, generalizing),
        so that a re-scan of `distinct`'s values gains by folding equal ones first."""
        return not isinstance(self.transform, ONE_TO_ONE)

    def distinct(self, array: pa.Array) -> tuple[pa.Array, pa.Array]:
        """The transformed distinct values and each row's index into them: the
        output is their `take`, and a re-scan of the output can read the few
        distinct values instead of encoding the whole column again."""
        encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
        values = encoded.dictionary.cast(pa.large_string())
        if isinstance(self.transform, Pseudonymize):
            replaced = self._pseudonyms(values)
        else:
            replaced = self.transform.apply_array(values, self.entity)
        return replaced, encoded.indices

    def _pseudonyms(self, values: pa.Array) -> pa.Array:
        """Computed for values not seen before; the cache stops growing when full,
        keeping the values that came first, which in repetitive data repeat most.
        Once batches show that values do not repeat, the cache is dropped.

        The lookup is Arrow's (`index_in`), so a batch whose values were all
        seen before costs no Python per value."""
        tokens = self.transform.pseudonymizer.tokens
        if self._known is None:
            return pa.array(tokens(self.entity, values.to_pylist()), pa.large_string())
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
        if self._batches > 1 and len(fresh) > (1 - MIN_HIT_RATE) * len(values):
            self._known = None
        elif len(every) <= CACHE_LIMIT:
            self._known = pa.concat_arrays([self._known, new_values])
            self._pseudonyms_known = every
        return every.take(pa.array(found))
