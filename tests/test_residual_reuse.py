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
from ingestguard.transforms.actions import Pseudonymize, Transform

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


# Pseudonyms across batches: the re-scan reads a cached pseudonym once per column and detector.

BATCH_ROWS = 60


class LeakyPseudonymizer:
    """Stands in for the keyed pseudonymizer: 'keep' addresses come out as they are
    (a sensitive value left behind), others as a plain name no pattern matches."""

    def tokens(self, entity: str, values: list[str]) -> list[str]:
        return [
            v if v.startswith("keep") else f"{entity}_{v.split('@')[0].replace('-', '_')}" for v in values
        ]


class Reading:
    """The pattern detector, recording the values each call hands it."""

    def __init__(self, detector: object) -> None:
        self.detector = detector
        self.calls: list[list[str | None]] = []

    def analyze_batch(self, texts: pa.Array, context: tuple[str, ...] = ()) -> list:
        self.calls.append(texts.to_pylist())
        return self.detector.analyze_batch(texts, context)


@pytest.fixture(scope="module")
def pseudo_engine() -> Engine:
    policy = Policy(
        entities=["EMAIL_ADDRESS", "US_SSN", "PHONE_NUMBER"],
        actions={"EMAIL_ADDRESS": "pseudonymize"},
        sampling={"size": 50, "seed": 1},
    )
    return Engine(policy, KEY)


def _repeating(batch: int, users: range = range(13)) -> list[str | None]:
    """Addresses that repeat across batches, two new ones per batch, some left behind, some null."""
    return [
        None
        if j % 10 == 9
        else f"keep{j % 4}@example.com"
        if j % 5 == 0
        else f"b{batch}-{j % 2}@example.org"
        if j % 7 == 3
        else f"user{users[(j + batch) % len(users)]}@example.org"
        for j in range(BATCH_ROWS)
    ]


def _pseudo_protector(
    engine: Engine, table: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> tuple[BatchProtector, list[pa.RecordBatch]]:
    monkeypatch.setitem(engine.transforms, Action.PSEUDONYMIZE, Pseudonymize(LeakyPseudonymizer()))
    plans = plan(TableSource(table), engine)
    for name in table.column_names:
        assert {p.name: (p.entity, p.action) for p in plans}[name] == ("EMAIL_ADDRESS", Action.PSEUDONYMIZE)
    return BatchProtector(plans, table.schema, engine), table.to_batches(max_chunksize=BATCH_ROWS)


def _kept(values: list[str | None]) -> int:
    return sum(1 for v in values if v and v.startswith("keep"))


def test_reused_verdicts_give_the_counts_of_a_fresh_rescan_in_every_batch(
    pseudo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    columns = [_repeating(b) for b in range(6)]
    table = pa.table({"email": [v for c in columns for v in c]})
    protector, batches = _pseudo_protector(pseudo_engine, table, monkeypatch)
    assert len(batches) == 6
    for emails, batch in zip(columns, batches, strict=True):
        out = protector(batch)
        assert protector.outputs["email"].verified is not None
        reused = residual_scan(out, pseudo_engine.patterns, known=protector.outputs)
        # The left-behind addresses are never marked clean: counted in every batch, per row.
        assert reused == {"email": Counter({"EMAIL_ADDRESS": _kept(emails)})}
        assert _kept(emails) == 12
        assert reused == residual_scan(out, pseudo_engine.patterns)  # encoding the output afresh


def test_a_second_batch_of_the_same_values_reads_only_what_held_a_finding(
    pseudo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    emails = _repeating(0)
    table = pa.table({"email": emails + emails[::-1]})  # the same values, in another order
    protector, (first, second) = _pseudo_protector(pseudo_engine, table, monkeypatch)
    reading = Reading(pseudo_engine.patterns)
    counts, outputs = [], []
    for batch in (first, second):
        out = protector(batch)
        outputs.append(set(out.column("email").to_pylist()) - {None})
        counts.append(residual_scan(out, reading, known=protector.outputs))
    left = {e for e in emails if e and e.startswith("keep")}
    assert len(left) == 4 and outputs[0] == outputs[1]
    assert len(outputs[0] - left) == 15  # thirteen users and this batch's two new addresses
    assert [set(read) for read in reading.calls] == [outputs[0], left]  # clean pseudonyms: read once
    assert counts[0] == counts[1] == {"email": Counter({"EMAIL_ADDRESS": _kept(emails)})}


def test_verdicts_hold_only_for_the_detector_and_the_column_that_made_them(
    pseudo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _repeating(0, range(0, 7)), _repeating(1, range(7, 14))
    # Batch 2 swaps the columns' values: each column meets values only the other one had.
    table = pa.table({"email": a + b + b, "contact": b + a + a})
    protector, batches = _pseudo_protector(pseudo_engine, table, monkeypatch)
    one, other = Reading(pseudo_engine.patterns), Reading(pseudo_engine.patterns)
    read = []
    for batch, detector in zip(batches + [batches[2]], [one, one, one, other], strict=True):
        out = protector(batch)
        found = residual_scan(out, detector, known=protector.outputs)
        assert found == residual_scan(out, pseudo_engine.patterns)
        assert found == {c: Counter({"EMAIL_ADDRESS": 12}) for c in ("email", "contact")}
        read.append(Counter(detector.calls[-1]))
    left = {e for e in a if e and e.startswith("keep")}
    everything = Counter(v for c in out.columns for v in set(c.to_pylist()) - {None})
    assert read[1] == everything  # the same pseudonyms, but new to each column: read in both
    assert set(read[2]) == left and all(n == 2 for n in read[2].values())  # once per column
    assert read[3] == everything  # another detector's scan cannot vouch for these


@pytest.mark.parametrize("limit", [0, 10])
def test_values_outside_the_cache_are_read_in_every_batch(
    pseudo_engine: Engine, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """A full cache keeps the values that came first (a limit of 10: the first batch's
    10, not the second's 9 new ones; 0: none); a dropped one (new values in more than
    90% of a batch) keeps nothing."""
    monkeypatch.setattr("ingestguard.transforms.columns.CACHE_LIMIT", limit)
    small = [
        f"keep{j % 4}@example.com" if j % 5 == 0 else f"user{j % 6}@example.org" for j in range(BATCH_ROWS)
    ]
    large, unseen = _repeating(0), [f"other{j}@example.org" for j in range(BATCH_ROWS)]
    table = pa.table({"email": small + large + large + unseen + large})
    protector, batches = _pseudo_protector(pseudo_engine, table, monkeypatch)
    reading = Reading(pseudo_engine.patterns)
    for i, batch in enumerate(batches):
        out = protector(batch)
        found = residual_scan(out, reading, known=protector.outputs)
        assert found == residual_scan(out, pseudo_engine.patterns)
        assert found == ({} if i == 3 else {"email": Counter({"EMAIL_ADDRESS": 12})})
    assert protector.outputs["email"].verified is None  # dropped after the unseen batch
    outputs = {v for v in protector(batches[1]).column("email").to_pylist() if v}
    assert len(outputs) == 19 and len(set(small)) == 10
    clean_cached = {f"EMAIL_ADDRESS_user{j}" for j in range(6)} if limit else set()
    assert set(reading.calls[2]) == outputs - clean_cached
    assert set(reading.calls[4]) == outputs
