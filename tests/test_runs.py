"""A run and its ledger record: no record, no published output."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestguard import Guard, Policy
from ingestguard.errors import LedgerError


def test_a_run_the_ledger_cannot_record_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"email": [f"user{i}@example.com" for i in range(20)]}), src)
    blocked = tmp_path / "ledger-is-a-directory"
    blocked.mkdir()
    guard = Guard(Policy(ledger=blocked))
    with pytest.raises(LedgerError, match="cannot append to the ledger"):
        guard.protect_file(src, tmp_path / "out.parquet", evidence_dir=tmp_path / "ev")
    assert not (tmp_path / "out.parquet").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out") or p.name.endswith(".partial")]
    assert not list((tmp_path / "ev").iterdir())  # no evidence claims a place the ledger does not hold


def test_a_blocked_destination_fails_before_the_run_is_recorded_as_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingestguard.errors import InputError

    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"email": [f"user{i}@example.com" for i in range(20)]}), src)
    out = tmp_path / "out"
    guard = Guard()
    from ingestguard.io import resolve_inputs
    from ingestguard.runs import evidence_paths, new_run, protect_pairs

    pairs = resolve_inputs(src, out / "out.parquet")
    (out / "out.parquet").mkdir(parents=True)  # the destination turns into a directory mid-run
    ctx = new_run(guard.policy, "default", "library")
    with pytest.raises(InputError, match="is a directory"):
        protect_pairs(pairs, ctx, evidence_paths(out / "out.parquet", ctx.run_id, tmp_path / "ev"))
    assert not (tmp_path / "ev" / "ledger.jsonl").exists()


def test_runs_append_in_sequence_to_one_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingestguard.keys import load_signing_key
    from ingestguard.reports.ledger import read_records, verify

    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"email": [f"user{i}@example.com" for i in range(20)]}), src)
    guard = Guard()
    runs = [
        guard.protect_file(src, tmp_path / f"out{i}.parquet", evidence_dir=tmp_path / "ev") for i in range(3)
    ]
    records = read_records(tmp_path / "ev" / "ledger.jsonl")
    assert [r["run_id"] for r in records] == [e.run_id for e in runs]
    assert [e.ledger.sequence for e in runs] == [0, 1, 2]
    documents = [e.model_dump(mode="json") for e in runs]
    assert verify(tmp_path / "ev" / "ledger.jsonl", load_signing_key().public_key(), documents).ok


def test_a_run_that_stops_on_an_error_is_recorded_as_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingestguard.errors import InputError
    from ingestguard.keys import load_signing_key
    from ingestguard.reports.ledger import read_records, verify

    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    (tmp_path / "in").mkdir()
    pq.write_table(
        pa.table({"email": [f"user{i}@example.com" for i in range(20)]}), tmp_path / "in" / "a.parquet"
    )
    pq.write_table(pa.table({"email": pa.array([], pa.string())}), tmp_path / "in" / "b.parquet")  # zero rows
    with pytest.raises(InputError, match="zero rows"):
        Guard().protect_file(tmp_path / "in", tmp_path / "out", evidence_dir=tmp_path / "ev")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.parquet"))
    [record] = read_records(tmp_path / "ev" / "ledger.jsonl")
    [path] = (tmp_path / "ev").glob("*.evidence.json")
    doc = __import__("json").loads(path.read_text())
    assert record["status"] == doc["status"] == "failed"
    assert doc["failure"].startswith("the run stopped: input has zero rows")
    assert [(n["file"].endswith("b.parquet"), n["column"]) for n in doc["not_scanned"]] == [(True, None)]
    assert {c["id"]: c["status"] for c in doc["controls"]}["IG-SCAN"] == "not-satisfied"
    assert verify(tmp_path / "ev" / "ledger.jsonl", load_signing_key().public_key(), [doc]).ok


def test_record_then_gate_a_violation_records_it_before_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flow records (evidence, ledger, reports) and only then gates: a
    violated policy leaves its whole record and raises one line."""
    import json

    from ingestguard.errors import PolicyViolation
    from ingestguard.io import resolve_inputs
    from ingestguard.pipeline import get_engine, protect_file
    from ingestguard.reports.ledger import read_records
    from ingestguard.runs import column_rows, evidence_paths, gate, new_run, record_protect, run_counts

    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    src = tmp_path / "in.parquet"
    ssns = [f"123-45-{6000 + i}" for i in range(20)]
    pq.write_table(pa.table({"ssn": ssns, "n": list(range(20))}), src)
    policy = Policy.from_dict({"actions": {"US_SSN": "keep"}, "fail_on": ["US_SSN"]})
    [pair] = resolve_inputs(src, tmp_path / "out.parquet")
    engine = get_engine(policy, None)
    ctx = new_run(policy, "test", "library")
    path = evidence_paths(pair.destination, ctx.run_id, tmp_path / "ev")
    record = record_protect(ctx, [protect_file(pair, engine)], engine, path)  # no raise here
    assert record.evidence.status == "failed" and path.is_file()
    assert path.with_name(path.name.replace(".evidence.json", ".report.html")).is_file()
    assert [r["status"] for r in read_records(tmp_path / "ev" / "ledger.jsonl")] == ["failed"]
    assert not pair.destination.exists()
    with pytest.raises(PolicyViolation) as info:
        gate(record)
    assert "fail_on entities US_SSN left in the output" in str(info.value) and "\n" not in str(info.value)
    [row] = [r for r in column_rows(record.evidence) if r["column"] == "ssn"]
    assert (row["entity"], row["findings"], row["residual"]) == ("US_SSN", 20, 20)
    counts = run_counts(record.evidence)
    assert (counts["files"], counts["rows"], counts["residual"]) == (1, 20, {"US_SSN": 20})
    shown = json.dumps([column_rows(record.evidence), counts])
    assert not [s for s in ssns if s in shown]  # counts and names, never a value


def test_a_run_stopped_by_an_unscannable_file_fails_closed_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingestguard.errors import InputError, PolicyViolation
    from ingestguard.pipeline import get_engine
    from ingestguard.runs import evidence_paths, new_run, record_failed_run, stopped

    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    policy = Policy()
    engine = get_engine(policy, None)
    ctx = new_run(policy, "default", "library")
    path = evidence_paths(tmp_path / "out", ctx.run_id, tmp_path / "ev")
    error = InputError(f"input has zero rows, nothing to protect: {tmp_path / 'b.parquet'}")
    evidence = record_failed_run(ctx, [], engine, path, [str(tmp_path / "b.parquet")], error)
    assert evidence is not None and evidence.status == "failed"
    violation = stopped(evidence, path, error)
    assert isinstance(violation, PolicyViolation) and violation.exit_code == 1
    assert str(violation).startswith("1 of 1 files could not be protected (input has zero rows")
    leaky = stopped(evidence, path, ValueError("could not convert 'jane.doe@example.com'"))
    assert "jane.doe" not in str(leaky) and "internal error (ValueError)" in str(leaky)
