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
