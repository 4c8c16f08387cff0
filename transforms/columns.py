"""Whole-column transforms, computed once per distinct value.

A column is dictionary-encoded, the transform runs once over the distinct
values (vectorized in Arrow where the action allows), and the result is
expanded back with `take`. Pseudonyms are also remembered across batches,
since columns that repeat values repeat them across batches.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ingestguard.transforms.actions import Pseudonymize, Transform

CACHE_LIMIT = 200_000


class ColumnTransformer:
    """Transforms every non-null value of one entity column."""

    def __init__(self, transform: Transform, entity: str) -> None:
        self.transform = transform
        self.entity = entity
        self._cache: dict[str, str | None] = {}

    def __call__(self, array: pa.Array) -> pa.Array:
        original_type = array.type
        if not pa.types.is_dictionary(original_type):
            array = pc.dictionary_encode(array)
        values = array.dictionary.cast(pa.large_string())
        if isinstance(self.transform, Pseudonymize):
            replaced = pa.array([self._pseudonym(v) for v in values.to_pylist()], pa.large_string())
        else:
            replaced = self.transform.apply_array(values, self.entity)
        return pc.take(replaced, array.indices).cast(original_type)

    def _pseudonym(self, value: str) -> str | None:
        try:
            return self._cache[value]
        except KeyError:
            out = self.transform.apply(value, self.entity)
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[value] = out
            return out
