"""The re-scan reads the distinct values protect already holds, and still catches leftovers.

Whole-column transforms hand their output's distinct values and row indices to
the re-scan (`BatchProtector.outputs`), and clean columns that the pattern
sweep left unchanged hand on its findings. These tests feed a transform that
leaves some values behind and check the residual counts per row, against the
data and against a re-scan that encodes the output from scratch.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ingestguard.detectors.text import DistinctValues
from ingestguard.io import TableSource
from ingestguard.keys import _make_key
from ingestguard.pipeline import BatchProtector, Engine, plan, residual_scan
from ingestguard.policy import Action, Policy
from ingestguard.transforms.actions import Transform

KEY = _make_key(bytes(range(32)), source="test")
ROWS = 300
LEFT = "left.behind@example.net"


@pytest.fixture(scope="module")
def engine() -> Engine:
    policy = Policy(
        entities=["EMAIL_ADDRESS", "US_SSN", "PHONE_NUMBER"],
        actions={"EMAIL_ADDRESS": "mask"},
        sampling={"size": 50, "seed": 1},
    )
    return Engine(policy, KEY)


class Leaky(Transform):
    """Leaves values starting with 'keep' as they are, replaces those starting with
    'user2' with one fixed address, redacts those starting with 'user1' and masks the
    rest to one value, so outputs repeat as replace, redact and masks make them; the
    output comes back in `dtype` (a transform need not return strings)."""

    name = Action.MASK

    def __init__(self, dtype: pa.DataType) -> None:
        self.dtype = dtype
        self.calls = 0

    def apply_array(self, values: pa.Array, entity: str) -> pa.Array:
        self.calls += 1
        hidden = pc.if_else(pc.starts_with(values, "user1"), pa.scalar(None, values.type), "***")
        hidden = pc.if_else(pc.starts_with(values, "user2"), LEFT, hidden)
        out = pc.if_else(pc.starts_with(values, "keep"), values, hidden)
        if pa.types.is_dictionary(self.dtype):
            return out.dictionary_encode()
        return out.cast(self.dtype)


def _emails() -> list[str | None]:
    """Repeating addresses, some left behind by `Leaky`, some null."""
    return [
        None if i % 10 == 9 else f"keep{i % 7}@example.com" if i % 3 == 0 else f"user{i % 11}@example.org"
        for i in range(ROWS)
    ]


def _expected(email: str | None) -> str | None:
    """What `Leaky` makes of one value."""
    if email is None or email.startswith("keep"):
        return email
    return None if email.startswith("user1") else LEFT if email.startswith("user2") else "***"


def _left_behind(emails: list[str | None]) -> int:
    return sum(1 for e in emails if e and e.startswith(("keep", "user2")))


def _protector(
    engine: Engine, table: pa.Table, leaky: Leaky, monkeypatch: pytest.MonkeyPatch
) -> BatchProtector:
    monkeypatch.setitem(engine.transforms, Action.MASK, leaky)
    plans = plan(TableSource(table), engine)
    assert {p.name: (p.entity, p.action) for p in plans}["email"] == ("EMAIL_ADDRESS", Action.MASK)
    return BatchProtector(plans, table.schema, engine)


@pytest.mark.parametrize(
    "column_type", [pa.string(), pa.large_string(), pa.dictionary(pa.int32(), pa.string())]
)
@pytest.mark.parametrize(
    "output_type", [pa.large_string(), pa.string(), pa.large_binary(), pa.dictionary(pa.int8(), pa.string())]
)
def test_a_left_behind_value_is_counted_per_row(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, column_type: pa.DataType, output_type: pa.DataType
) -> None:
    emails = _emails()
    column = pa.array(emails, pa.string())
    column = column.dictionary_encode() if pa.types.is_dictionary(column_type) else column.cast(column_type)
    table = pa.table({"email": column, "status": pa.array(["open", "closed", "held"] * (ROWS // 3))})
    leaky = Leaky(output_type)
    protector = _protector(engine, table, leaky, monkeypatch)
    [batch] = table.to_batches()
    out = protector(batch)
    assert leaky.calls == 1
    assert out.column("email").type == column_type
    assert out.column("email").to_pylist() == [_expected(e) for e in emails]
    assert set(protector.outputs) == {"email", "status"}  # the re-scan reads these without encoding
    expected = {"email": Counter({"EMAIL_ADDRESS": _left_behind(emails)})}
    assert expected["email"]["EMAIL_ADDRESS"] == 90 + 17  # every third row and the user2 rows, less nulls
    assert residual_scan(out, engine.patterns, known=protector.outputs) == expected
    assert residual_scan(out, engine.patterns) == expected  # the same as encoding the output afresh


def test_values_a_sliced_dictionary_holds_but_no_row_uses_are_not_counted(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    emails = _emails()
    column = pa.array(emails, pa.string()).dictionary_encode()
    table = pa.table({"email": column})
    protector = _protector(engine, table, Leaky(pa.large_string()), monkeypatch)
    # Rows 100..149 only: the dictionary still carries every address of the 300 rows.
    part = table.slice(100, 50).to_batches()[0]
    assert len(part.column("email").dictionary) == len(set(e for e in emails if e))
    out = protector(part)
    left = _left_behind(emails[100:150])
    assert 0 < left < _left_behind(emails)
    assert residual_scan(out, engine.patterns, known=protector.outputs) == {
        "email": Counter({"EMAIL_ADDRESS": left})
    }


def _protector_plain(engine: Engine, table: pa.Table) -> BatchProtector:
    plans = plan(TableSource(table), engine)
    assert {p.name: p.column_class.value for p in plans} == {"ref": "clean", "status": "clean"}
    return BatchProtector(plans, table.schema, engine)


def test_a_clean_column_the_sweep_changed_is_scanned_again(engine: Engine) -> None:
    refs = [f"REF-{i:05d}" for i in range(2_000)]
    refs[1_234] = "see 536-22-1983"  # a 50-value sample will not see it; the sweep of every value does
    table = pa.table({"ref": refs, "status": pa.array(["open", "closed"] * 1_000)})
    protector = _protector_plain(engine, table)
    [batch] = table.to_batches()
    out = protector(batch)
    assert out.column("ref")[1_234].as_py() == "see <US_SSN>"
    # Unchanged, the sweep's own findings (none) stand for the column; changed, it is read again.
    assert set(protector.outputs) == {"status"}
    assert all(not found for found in protector.outputs["status"].findings)
    assert residual_scan(out, engine.patterns, known=protector.outputs) == {}


def test_known_values_never_stand_for_a_nested_leaf(engine: Engine) -> None:
    emails = _emails()
    batch = pa.record_batch({"a": pa.array([{"b": e} for e in emails], pa.struct([("b", pa.string())]))})
    clean = DistinctValues.of(pa.array(["nothing here"] * ROWS))
    # "a.b" is the leaf's path, not a column: the leaf is read back out of its column.
    assert residual_scan(batch, engine.patterns, known={"a.b": clean, "a": clean}) == {
        "a.b": Counter({"EMAIL_ADDRESS": sum(1 for e in emails if e)})
    }


def test_an_encrypted_columns_own_entity_is_not_counted_any_other_is(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SSN-shaped outputs (as format-preserving encryption makes) with an address left in some rows.
    ssns = [f"536-22-{1000 + i}" if i % 4 else f"keep{i}@example.com" for i in range(ROWS)]
    batch = pa.record_batch({"ssn": pa.array(ssns)})
    known = {"ssn": DistinctValues.of(batch.column("ssn"))}
    counts = {"US_SSN": ROWS - ROWS // 4, "EMAIL_ADDRESS": ROWS // 4}
    assert residual_scan(batch, engine.patterns, known=known) == {"ssn": Counter(counts)}
    assert residual_scan(batch, engine.patterns, {"ssn": "US_SSN"}, known) == {
        "ssn": Counter({"EMAIL_ADDRESS": ROWS // 4})
    }
