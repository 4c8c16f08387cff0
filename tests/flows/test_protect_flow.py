"""The Prefect flow end to end through the CLI: fan-out per file, all-or-nothing."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from ingestguard.completions import STATE_DIR
from ingestguard.demo import write_demo
from tests.test_e2e import run_cli


def test_directory_input_is_mirrored(tmp_path, prefect_api):
    write_demo(tmp_path / "in" / "2024" / "a.parquet", rows=50, seed=1)
    write_demo(tmp_path / "in" / "2025" / "b.parquet", rows=70, seed=2)
    # The session's server: the CLI's own temporary one is tested in test_no_network.
    proc = run_cli(
        ["protect", str(tmp_path / "in"), str(tmp_path / "out"), "--evidence-dir", str(tmp_path / "ev")],
        tmp_path,
        {"PREFECT_API_URL": prefect_api},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert pq.read_metadata(tmp_path / "out" / "2024" / "a.parquet").num_rows == 50
    assert pq.read_metadata(tmp_path / "out" / "2025" / "b.parquet").num_rows == 70
    [ev] = (tmp_path / "ev").glob("*.evidence.json")
    doc = json.loads(ev.read_text())
    assert [f["rows"] for f in doc["files"]] == [50, 70]
    assert doc["orchestrator"].startswith("prefect:")


def test_violation_in_one_file_publishes_none(tmp_path, prefect_api):
    write_demo(tmp_path / "in" / "a.parquet", rows=30, seed=1)
    write_demo(tmp_path / "in" / "b.parquet", rows=30, seed=2)
    policy = tmp_path / "p.yaml"
    policy.write_text("actions: {US_SSN: keep}\nfail_on: [US_SSN]\n")
    proc = run_cli(
        [
            "protect",
            str(tmp_path / "in"),
            str(tmp_path / "out"),
            "--policy",
            str(policy),
            "--evidence-dir",
            str(tmp_path / "ev"),
        ],
        tmp_path,
        {"PREFECT_API_URL": prefect_api},  # the session's server: no second ephemeral one
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "fail_on entities US_SSN left in the output" in proc.stderr
    published = [p for p in (tmp_path / "out").rglob("*") if p.is_file() and STATE_DIR not in p.parts]
    assert published == []
    # the state folder keeps plans and records, never a held output of a failed run
    assert not list((tmp_path / "out" / STATE_DIR).glob("held/*"))
    [ev] = (tmp_path / "ev").glob("*.evidence.json")
    assert json.loads(ev.read_text())["status"] == "failed"


def test_task_errors_reach_prefect_without_their_message(tmp_path, monkeypatch):
    """Prefect logs a failed task's exception: a library message quoting a value must not get there."""
    import pytest

    from ingestguard import stages
    from ingestguard.errors import ScanError

    def leaky(*_args, **_kwargs):
        raise ValueError("could not convert 'jane.doe@example.com'")

    monkeypatch.setenv("INGESTGUARD_KEY", "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=")
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(stages, "protect_file", leaky)
    src = write_demo(tmp_path / "in.parquet", rows=10)
    job = stages.FileJob(str(src), str(tmp_path / "out.parquet"), None, str(tmp_path / STATE_DIR))
    with pytest.raises(ScanError) as info:
        stages.protect_one(job)
    assert "jane.doe" not in str(info.value) and "ValueError" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
