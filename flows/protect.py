"""The `protect_dataset` flow: discover, plan, protect, verify, record, gate.

Parameters are two pydantic models (the Prefect UI shows them as a form) that
hold paths and settings only. Tasks take and return paths, digests and counts,
never a value; nothing is persisted as a Prefect result or cached by Prefect
(the plan cache is the library's: ingestguard/plan_cache.py). Each task calls
one library function; plan and protect run in worker processes (local, or one
pool per Dask worker), so a timeout stops the work for real.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ingestguard.completions import state_dir
from ingestguard.errors import InputError
from ingestguard.flows.artifacts import publish
from ingestguard.io import BATCH_ROWS, FilePair, resolve_inputs
from ingestguard.parts import row_ranges
from ingestguard.pipeline import FileOutcome, get_engine
from ingestguard.runs import (
    RunContext,
    RunRecord,
    evidence_paths,
    gate,
    key_for,
    ledger_path,
    new_run,
    record_failed_run,
    record_protect,
    stopped,
)
from ingestguard.stages import (
    FileJob,
    PartJob,
    check_held,
    discard_parts,
    load_policy,
    merge_in_worker,
    part_in_worker,
    plan_in_worker,
    protect_in_worker,
    remove_stale_parts,
)
from ingestguard.workers import default_workers


class ProtectRequest(BaseModel):
    """What to protect: paths only, never a value or a key."""

    model_config = ConfigDict(extra="forbid")

    input_path: str = Field(description="A Parquet file, a directory of them, or a glob.")
    output_path: str = Field(description="Output file, or a directory (mirrors the input tree).")
    policy_path: str | None = Field(None, description="Policy YAML file (default: the built-in policy).")
    evidence_dir: str | None = Field(None, description="Where evidence goes (default: beside the output).")


class Execution(BaseModel):
    """Where and how long the work runs."""

    model_config = ConfigDict(extra="forbid")

    workers: int | None = Field(None, ge=1, description="Local worker processes (default: one per core).")
    dask_address: str | None = Field(
        None, description="tcp://HOST:PORT of an existing Dask scheduler; the protect work runs there."
    )
    timeout_seconds: float | None = Field(
        None, gt=0, description="Per-task limit: past it the worker is stopped and the run fails."
    )
    part_rows: int | None = Field(
        None,
        ge=1,
        description="Divide every Parquet file larger than this into protect tasks of this many rows "
        f"(default: only files with free text larger than one worker's share of the run, in parts "
        f"of {BATCH_ROWS:,} rows).",
    )


def _parse(model: type[BaseModel], value: object) -> BaseModel:
    """Our own validation, whose one-line error names the field, never its value
    (Prefect's own logs the parameter values when it fails: it is switched off)."""
    if isinstance(value, model):
        return value
    try:
        return model.model_validate(value if value is not None else {})
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or model.__name__
        raise InputError(f"bad flow parameter '{where}': {err['msg']}") from None


def _io_error(_task, _task_run, state) -> bool:
    """Retry only what I/O may fix (a network filesystem's hiccup), never a
    policy, input or timeout error."""
    try:
        state.result()
    except OSError:
        return True
    except BaseException:
        return False
    return False


def _slots(execution: Execution) -> int:
    """Worker processes here: one per thread of the Dask worker running this
    task, else the run's local workers."""
    try:
        from distributed import get_worker

        return get_worker().state.nthreads
    except (ImportError, ValueError):
        return execution.workers or default_workers()


_IO = {"retries": 2, "retry_delay_seconds": [2, 10], "retry_condition_fn": _io_error}
_QUIET = {"persist_result": False, "cache_policy": NO_CACHE}


@task(name="discover", **_IO, **_QUIET)
def discover(request: ProtectRequest) -> list[tuple[str, str]]:
    return [
        (str(p.source), str(p.destination)) for p in resolve_inputs(request.input_path, request.output_path)
    ]


@task(name="plan", **_IO, **_QUIET)
def plan_task(job: FileJob, execution: Execution) -> dict:
    return plan_in_worker(job, _slots(execution), execution.timeout_seconds)


@task(name="protect", **_IO, **_QUIET)
def protect_task(job: FileJob, execution: Execution) -> dict:
    return protect_in_worker(job, _slots(execution), execution.timeout_seconds)


@task(name="protect-part", **_IO, **_QUIET)
def protect_part_task(part: PartJob, execution: Execution) -> dict:
    return part_in_worker(part, _slots(execution), execution.timeout_seconds)


@task(name="merge", **_QUIET)  # not retried: a failed merge has removed its parts
def merge_task(job: FileJob, input_sha256: str, parts: list[dict], execution: Execution) -> dict:
    return merge_in_worker(job, input_sha256, parts, _slots(execution), execution.timeout_seconds)


@task(name="verify", **_IO, **_QUIET)
def verify_task(outcomes: list[FileOutcome]) -> dict:
    return check_held(outcomes)


@task(name="record", **_QUIET)
def record_task(ctx: RunContext, outcomes: list[FileOutcome], evidence_path: Path) -> RunRecord:
    return record_protect(ctx, outcomes, get_engine(ctx.policy, key_for(ctx.policy)), evidence_path)


@task(name="gate", **_QUIET)
def gate_task(record: RunRecord) -> None:
    gate(record)


def task_runner(execution: Execution):
    """Dask when an address is given (prefect-dask, the `dask` extra), else
    one thread per local worker process (threads only wait on the processes)."""
    if execution.dask_address:
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:
            raise InputError("--dask-address needs the dask extra: pip install 'ingestguard[dask]'") from None
        return DaskTaskRunner(address=execution.dask_address)
    return ThreadPoolTaskRunner(max_workers=execution.workers or default_workers())


@flow(name="protect-dataset", persist_result=False, validate_parameters=False)
def protect_dataset(request: ProtectRequest, execution: Execution | None = None) -> dict:
    """Protect a Parquet file, directory or glob; publish outputs only if all pass.

    The plan and protect tasks go to the runner `execution` asks for (local
    worker processes or a Dask cluster), chosen per run, so a deployment's
    form can pick it."""
    request = _parse(ProtectRequest, request)
    execution = _parse(Execution, execution)
    logger = get_run_logger()
    policy = load_policy(request.policy_path)
    key = key_for(policy)  # made here once, before workers look for it
    pairs = discover(request)
    ctx = new_run(policy, request.policy_path or "default", f"prefect:{flow_run.get_id()}")
    state = state_dir([FilePair(Path(src), Path(dst)) for src, dst in pairs])
    remove_stale_parts(state)  # a killed run's parts: this run makes its own
    jobs = [FileJob(src, dst, request.policy_path, str(state)) for src, dst in pairs]
    logger.info("run %s: %d input files", ctx.run_id, len(jobs))
    evidence_path = evidence_paths(
        Path(request.output_path), ctx.run_id, Path(request.evidence_dir) if request.evidence_dir else None
    )
    with task_runner(execution) as runner:
        args = [{"job": j, "execution": execution} for j in jobs]
        planned = [f.result(raise_on_failure=False) for f in [runner.submit(plan_task, a) for a in args]]
        cached = sum(1 for r in planned if isinstance(r, dict) and r["cached"])
        logger.info("run %s: %d of %d plans from the cache", ctx.run_id, cached, len(jobs))
        # Files whose plan failed are not protected; the others are, so the evidence
        # names exactly what could not be scanned and a rerun finds the rest done.
        share = _worker_share(runner, planned, execution)
        futures = [
            _submit_protect(runner, a, p, execution, share) for a, p in zip(args, planned, strict=True)
        ]
        results = [_result(f) for f in [_submit_merge(runner, f, execution) for f in futures]]
    done = [FileOutcome.from_dict(r["outcome"]) for r in results if isinstance(r, dict) and "outcome" in r]
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        return _stopped(ctx, done, jobs, results, errors[0], evidence_path, key)
    verify_task(done)
    record = record_task(ctx, done, evidence_path)
    reused = sum(1 for r in results if r["reused"])
    publish(record.evidence, record.evidence_path, record.report_path, reused)
    logger.info("run %s %s: evidence %s", ctx.run_id, record.evidence.status, record.evidence_path)
    gate_task(record)
    return {
        "run_id": ctx.run_id,
        "status": record.evidence.status,
        "evidence": str(record.evidence_path),
        "report": str(record.report_path),
        "ledger": str(ledger_path(policy, evidence_path)),
        "key": record.evidence.key,
        "files": len(done),
        "reused": reused,
        "rows": sum(o.rows for o in done),
    }


@dataclass
class _Parted:
    """A large file's part tasks, and the job and digest its merge needs."""

    job: FileJob
    input_sha256: str
    parts: list[PrefectFuture]


def _worker_share(runner: TaskRunner, planned: list, execution: Execution) -> float:
    """Rows of the run per worker slot (local processes, or the Dask cluster's
    threads); infinite with one slot, where parts would only add a merge."""
    if execution.dask_address:
        slots = sum(runner.client.nthreads().values())
    else:
        slots = execution.workers or default_workers()
    rows = sum(p["rows"] for p in planned if isinstance(p, dict))
    return rows / slots if slots > 1 else float("inf")


def _submit_protect(
    runner: TaskRunner, args: dict, planned: object, execution: Execution, share: float
) -> object:
    """One protect task for the file, or one per range of rows of a Parquet file
    with free text larger than a worker's share of the run (ingestguard.parts):
    smaller files already keep the workers busy side by side, and dividing them,
    or a file without free text, only adds merges. `--part-rows` divides every
    file larger than it. A failed plan is passed on as it is."""
    if not isinstance(planned, dict):
        return planned
    job = args["job"]
    size = execution.part_rows or planned["part_rows"]
    large = planned["rows"] > (execution.part_rows if execution.part_rows else share)
    divide = size is not None and planned["divisible"] and large and share != float("inf")
    ranges = row_ranges(planned["rows"], size) if divide else []
    if len(ranges) < 2:
        return runner.submit(protect_task, args)
    sha = planned["input_sha256"]
    get_run_logger().info("%s: %d rows in %d parts", job.source, planned["rows"], len(ranges))
    parts = [
        runner.submit(protect_part_task, {"part": PartJob(job, sha, start, stop), "execution": execution})
        for start, stop in ranges
    ]
    return _Parted(job, sha, parts)


def _submit_merge(runner: TaskRunner, submitted: object, execution: Execution) -> object:
    """The merge of a large file once its parts are done (other files' tasks go
    on meanwhile); if a part failed, its first error, and the others' parts go."""
    if not isinstance(submitted, _Parted):
        return submitted
    got = [f.result(raise_on_failure=False) for f in submitted.parts]
    failed = [g for g in got if isinstance(g, BaseException)]
    if failed:
        discard_parts([g for g in got if isinstance(g, dict)])
        return failed[0]
    args = {
        "job": submitted.job,
        "input_sha256": submitted.input_sha256,
        "parts": got,
        "execution": execution,
    }
    return runner.submit(merge_task, args)


def _result(submitted: object) -> object:
    """A task's result, or its error (a failed task, a failed plan or part)."""
    return submitted if isinstance(submitted, BaseException) else submitted.result(raise_on_failure=False)


@contextmanager
def heartbeats_only_to_a_real_server() -> Iterator[None]:
    """Without PREFECT_API_URL, Prefect runs the flow against a temporary server
    that lives and dies with this process, so flow-run heartbeats (which let a
    server mark a crashed run) tell it nothing; they cost about 1 s per run,
    the time Prefect takes to join the heartbeat thread. They stay on for a
    real server."""
    if PREFECT_API_URL.value():
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _stopped(ctx, done, jobs, results, error, evidence_path, key) -> NoReturn:
    """A task failed: the run is recorded as failed (the files it did not finish
    listed as not scanned) and fails closed with one line naming the first
    error. Outputs held for finished files stay hidden in the state folder,
    so the same command, once the cause is fixed, only does the rest."""
    unfinished = [
        j.source for j, r in zip(jobs, results, strict=True) if not (isinstance(r, dict) and "outcome" in r)
    ]
    if not isinstance(error, Exception):  # interrupted: nothing to vouch for
        raise error
    evidence = record_failed_run(ctx, done, get_engine(ctx.policy, key), evidence_path, unfinished, error)
    if evidence is not None:
        publish(evidence, evidence_path, None, 0)
    raise stopped(evidence, evidence_path, error) from None
