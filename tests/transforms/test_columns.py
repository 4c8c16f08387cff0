from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest

from ingestguard.policy import Action
from ingestguard.transforms.actions import Pseudonymize, Redact, Transform
from ingestguard.transforms.columns import ColumnTransformer


class CountingUpper(Transform):
    """Upper-cases values and counts how often each one was computed."""

    name = Action.REPLACE

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()

    def apply(self, value: str, entity: str) -> str | None:
        self.calls[(value, entity)] += 1
        return f"{entity}:{value.upper()}"


class CountingPseudonymizer:
    """Stands in for the keyed pseudonymizer and counts each value it computes."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()

    def tokens(self, entity: str, values: list[str]) -> list[str]:
        self.calls.update((v, entity) for v in values)
        return [f"{entity}:{v.upper()}" for v in values]


VALUES = ["ann", None, "bob", "ann", None, "cy", "bob", "ann"]
EXPECTED = ["E:ANN", None, "E:BOB", "E:ANN", None, "E:CY", "E:BOB", "E:ANN"]


@pytest.mark.parametrize("dtype", [pa.string(), pa.large_string()])
def test_keeps_nulls_order_and_type(dtype: pa.DataType) -> None:
    transform = CountingUpper()
    out = ColumnTransformer(transform, "E")(pa.array(VALUES, dtype))
    assert out.type == dtype
    assert out.to_pylist() == EXPECTED
    assert out.null_count == 2
    assert transform.calls == Counter({("ann", "E"): 1, ("bob", "E"): 1, ("cy", "E"): 1})


def test_dictionary_array_keeps_its_type() -> None:
    dtype = pa.dictionary(pa.int32(), pa.string())
    array = pa.array(VALUES, pa.string()).dictionary_encode()
    assert array.type == dtype
    transform = CountingUpper()
    out = ColumnTransformer(transform, "E")(array)
    assert out.type == dtype
    assert out.to_pylist() == EXPECTED
    assert transform.calls == Counter({("ann", "E"): 1, ("bob", "E"): 1, ("cy", "E"): 1})


def test_pseudonyms_are_computed_once_across_batches() -> None:
    counting = CountingPseudonymizer()
    transform = Pseudonymize(counting)
    column = ColumnTransformer(transform, "E")
    first = column(pa.array(["ann", "bob", "ann"]))
    second = column(pa.array(["bob", "dee", None, "ann"], pa.large_string()))
    assert first.to_pylist() == ["E:ANN", "E:BOB", "E:ANN"]
    assert second.to_pylist() == ["E:BOB", "E:DEE", None, "E:ANN"]
    assert second.type == pa.large_string()
    assert counting.calls == Counter({("ann", "E"): 1, ("bob", "E"): 1, ("dee", "E"): 1})


def test_sliced_array() -> None:
    array = pa.array(VALUES)[2:6]
    assert ColumnTransformer(CountingUpper(), "E")(array).to_pylist() == ["E:BOB", "E:ANN", None, "E:CY"]


def test_empty_and_all_null_arrays() -> None:
    transform = CountingUpper()
    empty = ColumnTransformer(transform, "E")(pa.array([], pa.string()))
    assert (empty.type, len(empty)) == (pa.string(), 0)
    nulls = ColumnTransformer(transform, "E")(pa.array([None, None], pa.string()))
    assert nulls.to_pylist() == [None, None]
    assert nulls.type == pa.string()
    assert not transform.calls


@pytest.mark.parametrize(
    "array",
    [
        pa.array(["a", None, "b"], pa.string()),
        pa.array(["a", None, "b"], pa.large_string()),
        pa.array(["a", None, "b"]).dictionary_encode(),
    ],
    ids=["string", "large_string", "dictionary"],
)
def test_redact_gives_nulls(array: pa.Array) -> None:
    out = ColumnTransformer(Redact(), "US_SSN")(array)
    assert out.type == array.type
    assert out.to_pylist() == [None, None, None]
    assert out.null_count == 3
