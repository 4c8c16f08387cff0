"""The training gate: only data the signed ledger vouches for, under the current policy."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

import ingestguard
from ingestguard import Guard, Policy
from ingestguard.demo import synthetic_table
from ingestguard.errors import UnprotectedDataError
from ingestguard.io import file_sha256

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
# Two policies that protect the same data but differ, so their sha256 differ.
OLD = Policy(actions={"PHONE_NUMBER": "redact"})
NEW = Policy(actions={"PHONE_NUMBER": "mask"})


@pytest.fixture(autouse=True)
def _home(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


@pytest.fixture
def protected_file(tmp_path):
    src = tmp_path / "raw" / "customers.parquet"
    src.parent.mkdir()
    pq.write_table(synthetic_table(40, seed=2), src)
    out = tmp_path / "clean" / "customers.parquet"
    evidence = Guard(NEW).protect_file(src, out)
    return src, out, evidence


def test_a_protected_parquet_file_passes_and_names_its_run(protected_file):
    _, out, evidence = protected_file
    proof = ingestguard.require_protected(out, NEW)
    assert proof.run_ids == (evidence.run_id,)
    assert [(i.name, i.sha256) for i in proof.items] == [(str(out), file_sha256(out))]
    assert proof.policy_sha256 == NEW.sha256() == evidence.policy["sha256"]
    assert proof.ledger == str(out.parent / "ledger.jsonl")


def test_the_raw_input_of_a_protect_run_is_refused(protected_file):
    src, out, _ = protected_file
    # Its digest is a subject of the run's record, but as an input, not an output.
    with pytest.raises(UnprotectedDataError, match="no passing protect record") as err:
        ingestguard.require_protected(src, NEW, ledger=out.parent / "ledger.jsonl")
    assert err.value.exit_code == 1


def test_a_file_changed_by_one_byte_is_refused(protected_file):
    _, out, _ = protected_file
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x01
    out.write_bytes(bytes(data))
    with pytest.raises(UnprotectedDataError, match="never protected, or changed since"):
        ingestguard.require_protected(out, NEW)


def test_a_tampered_ledger_vouches_for_nothing(protected_file):
    _, out, _ = protected_file
    ledger = out.parent / "ledger.jsonl"
    text = ledger.read_text()
    # One byte of the signed payload changed (base64 stays valid).
    at = text.index('"payload":"') + 40
    ledger.write_text(text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1 :])
    with pytest.raises(UnprotectedDataError, match="does not verify"):
        ingestguard.require_protected(out, NEW)


def test_data_protected_under_an_older_policy_is_stale(protected_file):
    _, out, _ = protected_file
    with pytest.raises(UnprotectedDataError, match="under another policy"):
        ingestguard.require_protected(out, OLD)


def test_a_policy_file_gives_the_current_policy(protected_file, tmp_path):
    _, out, _ = protected_file
    path = tmp_path / "policy.yaml"
    path.write_text(NEW.to_yaml())
    assert ingestguard.require_protected(out, path).policy_sha256 == NEW.sha256()


def test_a_directory_passes_only_when_every_file_is_protected(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for i in range(2):
        pq.write_table(synthetic_table(20, seed=i), raw / f"part{i}.parquet")
    Guard(NEW).protect_file(raw, tmp_path / "clean")
    proof = ingestguard.require_protected(tmp_path / "clean", NEW)
    assert sorted(i.name for i in proof.items) == [str(tmp_path / "clean" / f"part{i}.parquet") for i in range(2)]
    pq.write_table(synthetic_table(5, seed=9), tmp_path / "clean" / "extra.parquet")
    with pytest.raises(UnprotectedDataError, match="extra.parquet"):
        ingestguard.require_protected(tmp_path / "clean", NEW)


def test_in_memory_data_protected_with_a_ledger_passes(tmp_path):
    ledger = tmp_path / "evidence" / "ledger.jsonl"
    df = synthetic_table(30, seed=4).to_pandas()
    out, evidence = Guard(NEW, ledger=ledger).protect(df)
    proof = ingestguard.require_protected(out, NEW, ledger=ledger)
    assert proof.run_ids == (evidence.run_id,)
    assert proof.items[0].sha256 == evidence.files[0].output_sha256
    assert (ledger.parent / f"dataframe.{evidence.run_id}.evidence.json").is_file()
    assert evidence.ledger is not None and evidence.ledger.sequence == 0
    with pytest.raises(UnprotectedDataError, match="no passing protect record"):
        ingestguard.require_protected(df, NEW, ledger=ledger)  # the raw frame
    changed = out.copy()
    changed.loc[3, "amount"] = changed.loc[3, "amount"] + 0.01
    with pytest.raises(UnprotectedDataError, match="changed since"):
        ingestguard.require_protected(changed, NEW, ledger=ledger)
    with pytest.raises(UnprotectedDataError, match="under another policy"):
        ingestguard.require_protected(out, OLD, ledger=ledger)


def test_in_memory_data_without_a_ledger_is_refused_with_the_fix():
    out, _ = Guard(NEW).protect(synthetic_table(20))
    with pytest.raises(UnprotectedDataError, match="pass ledger="):
        ingestguard.require_protected(out, NEW)


def test_the_decorator_runs_the_training_function_only_on_protected_data(protected_file):
    src, out, _ = protected_file
    calls = []

    @ingestguard.guarded("path", NEW)
    def train(epochs: int, path: str) -> int:
        calls.append(path)
        return len(pd.read_parquet(path))

    assert train(1, str(out)) == 40
    with pytest.raises(UnprotectedDataError):
        train(1, path=str(src))
    assert calls == [str(out)]
