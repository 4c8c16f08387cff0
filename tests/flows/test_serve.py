"""`ingestguard serve` against a real Prefect server: a run started on the
deployment protects the folder, and a file-arrival event protects that file."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingestguard.demo import write_demo
from tests.flows.prefect_server import offline_env
from tests.test_e2e import KEY

pytestmark = pytest.mark.slow


def _wait_until(condition, limit: float = 300.0) -> bool:
    """Poll `condition`; `limit` only bounds a hung test."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.5)
    return False


def test_serve_runs_the_folder_on_request_and_a_new_file_on_its_event(
    tmp_path: Path, prefect_api: str
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    write_demo(tmp_path / "in" / "a.parquet", rows=120, seed=70)
    env = offline_env(tmp_path / "prefect") | {
        "PREFECT_API_URL": prefect_api,
        "INGESTGUARD_KEY": KEY,
        "INGESTGUARD_HOME": str(tmp_path / "ig"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",  # the runner looks for due runs every second, not every 10
    }
    exe = Path(sys.executable).with_name("ingestguard")
    args = [str(tmp_path / "in"), str(tmp_path / "out"), "--evidence-dir", str(tmp_path / "ev")]
    args += ["--name", "serve-test", "--on-file-event", "--workers", "1"]
    with open(tmp_path / "serve.log", "wb") as log:
        proc = subprocess.Popen(
            [str(exe), "serve", *args], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        with temporary_settings({PREFECT_API_URL: prefect_api}):

            def registered() -> bool:
                with get_client(sync_client=True) as client:
                    try:
                        client.read_deployment_by_name("protect-dataset/serve-test")
                    except Exception:
                        return False
                return True

            assert _wait_until(registered), (tmp_path / "serve.log").read_text()[-2000:]
            run = run_deployment("protect-dataset/serve-test", timeout=600)
            assert run.state.is_completed(), run.state.message
            assert (tmp_path / "out" / "a.parquet").is_file()

            new = write_demo(tmp_path / "landing" / "new.parquet", rows=80, seed=71)
            resource = {"prefect.resource.id": f"ingestguard.file.{new.name}", "ingestguard.path": str(new)}
            emitted = subprocess.run(
                [
                    str(exe.with_name("prefect")),
                    "event",
                    "emit",
                    "ingestguard.file.arrived",
                    "--resource",
                    json.dumps(resource),
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert emitted.returncode == 0, emitted.stderr[-2000:]
            assert _wait_until(lambda: (tmp_path / "out" / "new.parquet").is_file()), (
                tmp_path / "serve.log"
            ).read_text()[-3000:]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    evidence = sorted((tmp_path / "ev").glob("*.evidence.json"))
    assert len(evidence) == 2  # one run for the folder, one for the new file
    assert {json.loads(e.read_text())["files"][0]["rows"] for e in evidence} == {120, 80}


def test_prefect_yaml_deploys_its_two_deployments(tmp_path: Path, prefect_api: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    repo = Path(__file__).resolve().parents[2]
    env = offline_env(tmp_path / "prefect") | {"PREFECT_API_URL": prefect_api}
    prefect = str(Path(sys.executable).with_name("prefect"))
    pool = subprocess.run(
        [prefect, "work-pool", "create", "ingestguard", "--type", "process", "--overwrite"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pool.returncode == 0, pool.stdout[-2000:]
    deploy = subprocess.run(
        [prefect, "--no-prompt", "deploy", "--all"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert deploy.returncode == 0, deploy.stdout[-3000:]
    with temporary_settings({PREFECT_API_URL: prefect_api}), get_client(sync_client=True) as client:
        folder = client.read_deployment_by_name("protect-dataset/guard-folder")
        per_file = client.read_deployment_by_name("protect-dataset/guard-new-file")
    assert [s.schedule.cron for s in folder.schedules] == ["0 * * * *"]
    assert folder.parameters["request"]["input_path"] == "/data/landing"
    assert folder.work_pool_name == per_file.work_pool_name == "ingestguard"
    assert set(folder.parameter_openapi_schema["properties"]) == {"request", "execution"}
