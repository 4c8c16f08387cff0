"""The flow against a real `prefect server start`: final states, artifacts and
events read back through the Prefect client, for a passing and a failing run."""

from __future__ import annotations

import json
import time
from pathlib import Path
from uuid import UUID

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestguard.completions import STATE_DIR
from ingestguard.demo import write_demo
from ingestguard.reports.ledger import read_records
from tests.test_e2e import run_cli

pytestmark = pytest.mark.slow


def _run(tmp: Path, url: str, name: str, policy: str | None = None, empty: bool = False):
    for i, file in enumerate(["a.parquet", "sub/b.parquet"]):
        write_demo(tmp / name / "in" / file, rows=150, seed=40 + i)
    if empty:  # a file with no rows cannot be vouched for
        pq.write_table(
            pa.table({"email": pa.array([], pa.string())}), tmp / name / "in" / "sub" / "empty.parquet"
        )
    args = [
        "protect",
        str(tmp / name / "in"),
        str(tmp / name / "out"),
        "--evidence-dir",
        str(tmp / name / "ev"),
    ]
    if policy:
        (tmp / name / "policy.yaml").write_text(policy)
        args += ["--policy", str(tmp / name / "policy.yaml")]
    proc = run_cli(args, tmp / name, {"PREFECT_API_URL": url})
    [evidence] = (tmp / name / "ev").glob("*.evidence.json")
    return proc, json.loads(evidence.read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> dict:
    tmp = tmp_path_factory.mktemp("server")
    return {
        "passed": _run(tmp, prefect_api, "passed"),
        "failed": _run(tmp, prefect_api, "failed", "actions: {US_SSN: keep}\nfail_on: [US_SSN]\n"),
        "unscannable": _run(tmp, prefect_api, "unscannable", empty=True),
        "tmp": tmp,
    }


def _read_back(url: str, evidence: dict) -> tuple:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
    )
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
    from prefect.settings import PREFECT_API_URL, temporary_settings

    flow_run_id = UUID(evidence["orchestrator"].removeprefix("prefect:"))
    resource = f"ingestguard.run.{evidence['run_id']}"
    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        flow_run = client.read_flow_run(flow_run_id)
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
        # The server stores events in batches: wait for this run's (the limit only bounds a hang).
        end = time.monotonic() + 60
        while True:
            page = client.read_events(
                EventFilter(
                    event=EventNameFilter(prefix=["ingestguard.run."]),
                    resource=EventResourceFilter(id=[resource]),
                ),
                limit=10,
            )
            if page.events or time.monotonic() > end:
                break
            time.sleep(0.5)
    return flow_run, {a.key: a for a in artifacts}, page.events


def test_a_passing_run_is_completed_with_its_artifacts_and_event(runs: dict, prefect_api: str) -> None:
    proc, evidence = runs["passed"]
    assert proc.returncode == 0, proc.stderr[-2000:]
    flow_run, artifacts, events = _read_back(prefect_api, evidence)
    assert flow_run.state.is_completed()
    assert set(artifacts) == {"ingestguard-summary", "ingestguard-columns", "ingestguard-report"}
    summary = artifacts["ingestguard-summary"].data
    assert f"`{evidence['run_id']}`: **passed**" in summary and "- rows: 300" in summary
    table = json.loads(artifacts["ingestguard-columns"].data)
    email = next(r for r in table if r["column"] == "email" and r["file"].endswith("a.parquet"))
    assert (email["entity"], email["transformed"], email["residual"]) == ("EMAIL_ADDRESS", 150, 0)
    link = artifacts["ingestguard-report"].data
    assert "(file:///" in link and link.endswith(".report.html)")
    [event] = events
    assert event.event == "ingestguard.run.completed"
    assert (event.payload["files"], event.payload["rows"], event.payload["status"]) == (2, 300, "passed")
    # No value of the data reached Prefect.
    shown = "\n".join([*(str(a.data) for a in artifacts.values()), json.dumps(event.payload)])
    table = pq.read_table(runs["tmp"] / "passed" / "in" / "a.parquet")
    values = {
        v for c in table.columns if pa.types.is_string(c.type) for v in c.to_pylist() if v and len(v) >= 8
    }
    assert values and not [v for v in values if v in shown]


def test_a_failing_run_is_failed_with_one_line_and_is_recorded(runs: dict, prefect_api: str) -> None:
    proc, evidence = runs["failed"]
    assert proc.returncode == 1
    flow_run, artifacts, events = _read_back(prefect_api, evidence)
    assert flow_run.state.is_failed()
    message = flow_run.state.message
    assert "fail_on entities US_SSN left in the output" in message and "\n" not in message
    assert evidence["status"] == "failed"
    [record] = read_records(runs["tmp"] / "failed" / "ev" / "ledger.jsonl")
    assert (record["run_id"], record["status"]) == (evidence["run_id"], "failed")
    assert "ingestguard-summary" in artifacts
    [event] = events
    assert event.event == "ingestguard.run.failed"
    assert event.payload["residual"].get("US_SSN", 0) > 0
    assert not list((runs["tmp"] / "failed" / "out").glob("**/*.parquet"))


def test_a_file_that_cannot_be_scanned_fails_the_run_closed(runs: dict, prefect_api: str) -> None:
    proc, evidence = runs["unscannable"]
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "1 of 3 files could not be protected (input has zero rows" in proc.stderr
    flow_run, artifacts, events = _read_back(prefect_api, evidence)
    assert flow_run.state.is_failed() and "\n" not in flow_run.state.message
    assert "1 of 3 files could not be protected" in flow_run.state.message
    assert evidence["status"] == "failed"
    assert [n["file"].endswith("empty.parquet") for n in evidence["not_scanned"] if n["column"] is None] == [
        True
    ]
    [record] = read_records(runs["tmp"] / "unscannable" / "ev" / "ledger.jsonl")
    assert record["status"] == "failed"
    assert [e.event for e in events] == ["ingestguard.run.failed"]
    out = runs["tmp"] / "unscannable" / "out"
    assert not list(out.glob("**/*.parquet"))
    # The two files that were protected stay held (hidden) for the rerun.
    assert len(list((out / STATE_DIR / "held").iterdir())) == 2
