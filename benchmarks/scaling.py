"""Scaling of the orchestrated protect (issue 12): the same data protected in
this process without Prefect, through the flow with 1 and 2 local worker
processes, and through a 2-worker Dask cluster; plus the orchestration's
overhead as a share of wall time.

    .venv/bin/python -m benchmarks.scaling [--kind structured|text] [--files 8] [--rows-per-file 250000]
        [--large-rows 2000000] [--repeat 2] [--no-heartbeats] [--part-rows N] [--out FILE.json]

Datasets (`--kind structured`, the default: benchmarks/generate.py
`structured_table`, 20,000 distinct values per sensitive column): `multi`, N
files of R rows each, and `large`, one file (kept whole, as the flow keeps
files without free text; `--part-rows N` has the flow runs divide it into
parts of N rows, ingestguard/parts.py, as `ingestguard protect --part-rows`
does). `--kind text`: N files of the demo's customers table (free-text notes
through the full detector, NER included), 1,500 rows each, no large file
unless `--large-rows` asks for one (a large text file is divided by default).
Everything runs against a real `prefect server start` and a real `dask
scheduler` with two `dask worker` processes (one thread each) started here, on
loopback. Every configuration is warmed up first (worker processes started,
engines loaded), and every measured run writes to a fresh output folder, so
no plan cache or completion record is reused. Overhead = (flow with 1 worker -
in-process) / flow with 1 worker: Prefect's API calls, the worker process
hand-off and the resume bookkeeping (digests, plan cache, completion records);
Prefect's own share is measured against `stages, 1 worker`: the flow's stages
in the same worker process, called directly, without Prefect. `cores busy`:
the machine's busy CPU time during a run over its wall time (/proc/stat, so
run it on an idle machine); a 1-worker run that already keeps C of N cores
busy (Arrow's threads, the read-ahead and write-behind threads, the Prefect
server) can be at most N / C times faster with more workers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as fh:
        return subprocess.Popen(args, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def _wait_http(url: str, limit: float = 180) -> None:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                return
        time.sleep(0.25)
    raise SystemExit(f"no answer from {url}")


def _services(base: Path, env: dict[str, str]) -> tuple[list[subprocess.Popen], str, str]:
    """A Prefect server and a Dask scheduler with two one-thread workers."""
    bindir = Path(sys.executable).parent
    api_port, dask_port = _port(), _port()
    api = f"http://127.0.0.1:{api_port}/api"
    address = f"tcp://127.0.0.1:{dask_port}"
    procs = [
        _start(
            [str(bindir / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(api_port)],
            env,
            base / "prefect.log",
        )
    ]
    _wait_http(f"{api}/health")
    worker_env = env | {"PREFECT_API_URL": api, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    dask = str(bindir / "dask")
    procs.append(
        _start(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(dask_port), "--no-dashboard"],
            env,
            base / "s.log",
        )
    )
    for i in range(2):
        procs.append(
            _start(
                [
                    dask,
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                ],
                worker_env,
                base / f"w{i}.log",
            )
        )
    from distributed import Client

    with Client(address, timeout=120) as client:
        client.wait_for_workers(2, timeout=180)
    return procs, api, address


def _generate(folder: Path, files: int, rows: int, seed: int, kind: str = "structured") -> Path:
    """`structured`: benchmarks.generate's 12 columns; `text`: the demo's customers
    table, whose free-text notes go through the full detector (NER included)."""
    from benchmarks.generate import structured_table, write
    from ingestguard.demo import write_demo

    for i in range(files):
        path = folder / f"part-{i:03d}.parquet"
        if kind == "text":
            write_demo(path, rows=rows, seed=seed + i)
        else:
            write(structured_table(rows, 20_000, seed + i), path)
    return folder


def _cpu_jiffies() -> tuple[int, int]:
    """The machine's busy and total CPU time so far (/proc/stat, every core, every process)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def _timed(run: object, src: Path, out: Path) -> tuple[float, float]:
    """A run's wall time, and how many of the machine's cores were busy during it
    on average: the ceiling on any speed-up is cores / the 1-worker run's busy cores."""
    busy0, total0 = _cpu_jiffies()
    wall = run(src, out)  # type: ignore[operator]
    busy1, total1 = _cpu_jiffies()
    cores = (busy1 - busy0) / max(total1 - total0, 1) * (os.cpu_count() or 1)
    return wall, cores


def _in_process(src: Path, out: Path) -> float:
    from ingestguard.io import resolve_inputs
    from ingestguard.policy import Policy
    from ingestguard.runs import evidence_paths, new_run, protect_pairs

    pairs = resolve_inputs(src, out)
    ctx = new_run(Policy(), "default", "none")
    started = time.perf_counter()
    protect_pairs(pairs, ctx, evidence_paths(out, ctx.run_id, out.parent / "ev"))
    return time.perf_counter() - started


def _stages(src: Path, out: Path) -> float:
    """The flow's stages in the same order and worker process, without Prefect."""
    from ingestguard.completions import state_dir
    from ingestguard.io import resolve_inputs
    from ingestguard.pipeline import FileOutcome, get_engine
    from ingestguard.policy import Policy
    from ingestguard.runs import evidence_paths, gate, key_for, new_run, record_protect
    from ingestguard.stages import FileJob, check_held, plan_in_worker, protect_in_worker

    started = time.perf_counter()
    policy = Policy()
    key = key_for(policy)
    pairs = resolve_inputs(src, out)
    ctx = new_run(policy, "default", "none")
    jobs = [FileJob(str(p.source), str(p.destination), None, str(state_dir(pairs))) for p in pairs]
    for job in jobs:
        plan_in_worker(job, 1, None)
    done = [FileOutcome.from_dict(protect_in_worker(job, 1, None)["outcome"]) for job in jobs]
    check_held(done)
    gate(
        record_protect(ctx, done, get_engine(policy, key), evidence_paths(out, ctx.run_id, out.parent / "ev"))
    )
    return time.perf_counter() - started


def _flow(
    src: Path, out: Path, workers: int | None, address: str | None, heartbeats: bool, part_rows: int | None
) -> float:
    """One flow run against the real server; `heartbeats=False` as the CLI runs
    without PREFECT_API_URL (Prefect joins its heartbeat thread in 1 s steps, so
    with heartbeats every flow wall ends on a whole second)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from ingestguard.flows.protect import Execution, ProtectRequest, protect_dataset

    request = ProtectRequest(input_path=str(src), output_path=str(out), evidence_dir=str(out.parent / "ev"))
    updates = {} if heartbeats else {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    with temporary_settings(updates=updates):
        started = time.perf_counter()
        protect_dataset(request, Execution(workers=workers, dask_address=address, part_rows=part_rows))
        return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", choices=["structured", "text"], default="structured")
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--rows-per-file", type=int, default=None, help="default 250,000; 1,500 for text")
    p.add_argument("--large-rows", type=int, default=None, help="default 2,000,000; 0 (skipped) for text")
    p.add_argument("--repeat", type=int, default=2, help="runs per configuration; the fastest is reported")
    p.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    p.add_argument(
        "--no-heartbeats",
        action="store_true",
        help="flow runs without flow-run heartbeats, as the CLI runs on Prefect's temporary server",
    )
    p.add_argument("--part-rows", type=int, default=None, help="the flow runs' --part-rows")
    a = p.parse_args(argv)
    text = a.kind == "text"
    a.rows_per_file = a.rows_per_file or (1_500 if text else 250_000)
    a.large_rows = a.large_rows if a.large_rows is not None else (0 if text else 2_000_000)

    base = Path(tempfile.mkdtemp(prefix="ig-scaling-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(base / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "INGESTGUARD_HOME": str(base / "ig"),
        "INGESTGUARD_KEY": KEY,
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    procs, api, address = _services(base, env)
    os.environ.update(env | {"PREFECT_API_URL": api})
    try:
        data = {
            "warm": _generate(base / "warm", 2, 200 if text else 20_000, 100, a.kind),
            "multi": _generate(base / "multi", a.files, a.rows_per_file, 0, a.kind),
        }
        if a.large_rows:
            data["large"] = _generate(base / "large", 1, a.large_rows, 50, a.kind)
        beats = not a.no_heartbeats
        configs = {
            "in-process": lambda s, o: _in_process(s, o),
            "stages, 1 worker": lambda s, o: _stages(s, o),
            "flow, 1 worker": lambda s, o: _flow(s, o, 1, None, beats, a.part_rows),
            "flow, 2 workers": lambda s, o: _flow(s, o, 2, None, beats, a.part_rows),
            "flow, Dask 2 workers": lambda s, o: _flow(s, o, None, address, beats, a.part_rows),
        }
        for name, run in configs.items():  # start pools, load engines
            run(data["warm"], base / "runs" / f"warm-{len(name)}-{name[:4]}")
        load_before = os.getloadavg()
        every: dict[str, dict[str, list[float]]] = {}
        busy: dict[str, dict[str, list[float]]] = {}
        for dataset in [d for d in ("multi", "large") if d in data]:
            for turn in range(a.repeat):  # configurations interleaved, so a busy spell hits all
                for name, run in configs.items():
                    out = base / "runs" / f"{dataset}-{turn}-{name.replace(' ', '_').replace(',', '')}"
                    wall, cores = _timed(run, data[dataset], out)
                    every.setdefault(dataset, {}).setdefault(name, []).append(wall)
                    busy.setdefault(dataset, {}).setdefault(name, []).append(cores)
                    shutil.rmtree(out.parent, ignore_errors=True)
        results = {d: {n: min(w) for n, w in walls.items()} for d, walls in every.items()}
        # the busy cores of each configuration's fastest run
        cores_of = {
            d: {n: busy[d][n][w.index(min(w))] for n, w in walls.items()} for d, walls in every.items()
        }
        load_after = os.getloadavg()
    finally:
        _stop(procs)
        shutil.rmtree(base, ignore_errors=True)

    rows = {"multi": a.files * a.rows_per_file, "large": a.large_rows}
    print(
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min); cores {os.cpu_count()}; "
        f"flow-run heartbeats {'off' if a.no_heartbeats else 'on'}; --part-rows {a.part_rows or 'default'}"
    )
    for dataset, walls in results.items():
        files = a.files if dataset == "multi" else 1
        print(f"\n== {dataset}: {files} file(s), {rows[dataset]:,} rows ==")
        print(f"{'configuration':24} {'wall s':>8} {'rows/s':>10} {'vs 1 worker':>12} {'cores busy':>11}")
        for name, wall in walls.items():
            ratio = walls["flow, 1 worker"] / wall
            cores = cores_of[dataset][name]
            print(f"{name:24} {wall:8.2f} {rows[dataset] / wall:10,.0f} {ratio:11.2f}x {cores:11.2f}")
        ceiling = (os.cpu_count() or 1) / cores_of[dataset]["flow, 1 worker"]
        print(f"ceiling on the 2-worker speed-up (cores / the 1-worker run's busy cores): {ceiling:.2f}x")
        flow = walls["flow, 1 worker"]
        prefect = (flow - walls["stages, 1 worker"]) / flow
        total = (flow - walls["in-process"]) / flow
        print(
            f"Prefect's own overhead (flow vs the same stages without Prefect, 1 worker): {prefect:.1%} of the flow's wall"
        )
        print(f"all orchestration (flow, 1 worker vs in-process): {total:.1%} of the flow's wall")
    if a.out:
        a.out.write_text(
            json.dumps(
                {
                    "rows": rows,
                    "fastest": results,
                    "runs": every,
                    "cores_busy": busy,
                    "load": [load_before, load_after],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
