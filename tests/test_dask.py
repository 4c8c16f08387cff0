"""The protect tasks on a real Dask cluster (a `dask scheduler` and two `dask
worker` processes on loopback) give outputs byte-identical to an in-process run.
The key reaches the workers as a key file named by the policy (shared storage
here), never as a task parameter."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestguard.demo import write_demo
from ingestguard.io import file_sha256
from tests.flows.prefect_server import free_port, offline_env
from tests.test_e2e import run_cli
from tests.test_parts import large_text_file

pytest.importorskip("prefect_dask", reason="the dask extra is not installed: pip install 'ingestguard[dask]'")
pytestmark = pytest.mark.slow
FILES = ["a.parquet", "b.parquet", "more/c.parquet", "more/d.parquet"]
LARGE = "large.parquet"


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A scheduler and two single-thread workers; yields (address, shared folder)."""
    shared = tmp_path_factory.mktemp("dask")
    env = offline_env(shared / "prefect") | {"INGESTGUARD_HOME": str(shared / "ig-worker")}
    env.pop("INGESTGUARD_KEY", None)
    # A worker under a nanny is daemonic unless told otherwise, and a daemonic
    # process may not start the guard's (killable) worker process.
    env["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
    dask = str(Path(sys.executable).with_name("dask"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = shared / "logs"
    logs.mkdir()

    def start(name: str, args: list[str]) -> subprocess.Popen:
        with open(logs / f"{name}.log", "wb") as log:
            return subprocess.Popen(
                [dask, *args], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    procs = [start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"])]
    worker_args = [
        "worker",
        address,
        "--nthreads",
        "1",
        "--nworkers",
        "1",
        "--no-dashboard",
        "--host",
        "127.0.0.1",
    ]
    procs += [start(f"worker{i}", worker_args) for i in range(2)]
    try:
        from distributed import Client

        with Client(address, timeout=120) as client:
            client.wait_for_workers(2, timeout=180)
            assert len(client.scheduler_info()["workers"]) == 2
        yield address, shared
    finally:
        _stop(procs)


def test_protect_on_a_dask_cluster_matches_an_in_process_run(
    tmp_path: Path,
    cluster: tuple[str, Path],
    prefect_api: str,
) -> None:
    address, shared = cluster
    for i, name in enumerate(FILES):
        write_demo(shared / "in" / name, rows=200, seed=60 + i)
    large_text_file(shared / "in" / LARGE)  # 140,000 rows: three parts and a merge
    key_file = shared / "key"
    key_file.write_text(base64.b64encode(os.urandom(32)).decode())
    key_file.chmod(0o600)
    policy = shared / "policy.yaml"
    policy.write_text(f"key_file: {key_file}\n")
    no_env_key = {"INGESTGUARD_KEY": "", "PREFECT_API_URL": prefect_api}

    local = run_cli(
        [
            "protect",
            str(shared / "in"),
            str(tmp_path / "local"),
            "--policy",
            str(policy),
            "--no-orchestrator",
        ],
        tmp_path,
        no_env_key,
    )
    assert local.returncode == 0, local.stderr[-2000:]
    on_dask = run_cli(
        [
            "protect",
            str(shared / "in"),
            str(shared / "out"),
            "--policy",
            str(policy),
            "--dask-address",
            address,
            "--evidence-dir",
            str(shared / "ev"),
        ],
        tmp_path,
        no_env_key,
    )
    assert on_dask.returncode == 0, on_dask.stderr[-2000:]
    for name in [*FILES, LARGE]:
        assert file_sha256(shared / "out" / name) == file_sha256(tmp_path / "local" / name), name
    [evidence] = (shared / "ev").glob("*.evidence.json")
    doc = json.loads(evidence.read_text())
    assert doc["key"]["source"] == f"file:{key_file}"
    # The work ran in the Dask workers' processes: they built engines, the key
    # file was read there, and no key material went over the wire as a parameter.
    assert key_file.read_text() not in (shared / "logs" / "worker0.log").read_text()
    assert not (shared / "ig-worker" / "key").exists()  # the workers used the policy's key file
    from distributed import Client

    with Client(address, timeout=60) as client:
        done = client.run_on_scheduler(
            lambda dask_scheduler: {
                k: v.state_counts["memory"] for k, v in dask_scheduler.task_prefixes.items()
            }
        )
    assert done == {
        "plan_task": len(FILES) + 1,
        "protect_task": len(FILES),
        "protect_part_task": 3,
        "merge_task": 1,
    }  # every file went through the cluster, the large one in parts
