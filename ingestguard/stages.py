"""The stages of an orchestrated run, one function each, for flows/ to call.

A job names files and settings only (paths, a policy file, the state folder):
it is what crosses to a worker process or a Dask worker, so it never holds a
value or a key. Each worker loads the policy and the key itself (the key from
INGESTGUARD_KEY, the policy's key_file or the key home: see keys.py) and keeps
its engine for the next job.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from ingestguard.completions import Completions, completion_key
from ingestguard.detectors.columns import ColumnPlan
from ingestguard.errors import IngestGuardError, InputError, ScanError
from ingestguard.io import FilePair, FileSource, file_sha256, open_source, remove_stale
from ingestguard.pipeline import Engine, FileOutcome, get_engine, plan, protect_file
from ingestguard.plan_cache import PlanCache, detector_version, plan_key
from ingestguard.policy import Policy
from ingestguard.runs import key_for
from ingestguard.workers import run


@dataclass(frozen=True)
class FileJob:
    """One input file of a run: where it is, where it goes, under which policy."""

    source: str
    destination: str
    policy_path: str | None
    state_dir: str

    @property
    def pair(self) -> FilePair:
        return FilePair(Path(self.source), Path(self.destination))


def load_policy(policy_path: str | None) -> Policy:
    return Policy.load(policy_path) if policy_path else Policy()


def _engine(job: FileJob) -> Engine:
    policy = load_policy(job.policy_path)
    return get_engine(policy, key_for(policy))


def _plans(
    source: FileSource, input_sha256: str, engine: Engine, state: Path
) -> tuple[list[ColumnPlan], bool]:
    key = plan_key(input_sha256, engine.policy.sha256(), detector_version(engine.detector.model_info()))
    cache = PlanCache(state / "plans")
    cached = cache.get(key)
    if cached is not None:
        return cached, True
    plans = plan(source, engine)
    cache.put(key, plans)
    return plans, False


def plan_file(job: FileJob) -> dict:
    """Classify the file's columns, or take the plan cached for the same bytes,
    policy and detectors. Returns counts and digests."""
    with _typed(job.source):
        engine = _engine(job)
        source = open_source(Path(job.source))
        sha = source.sha256()
        plans, cached = _plans(source, sha, engine, Path(job.state_dir))
        return {"input": job.source, "input_sha256": sha, "columns": len(plans), "cached": cached}


def protect_one(job: FileJob) -> dict:
    """Protect one file into a held output, or reuse one an earlier run of the
    same command finished. Returns {"outcome": FileOutcome dict, "reused": bool}."""
    with _typed(job.source):
        engine = _engine(job)
        pair, state = job.pair, Path(job.state_dir)
        sha = file_sha256(pair.source)
        completions = Completions(state)
        key = completion_key(
            sha,
            pair.destination,
            engine.policy.sha256(),
            engine.key_evidence(),
            detector_version(engine.detector.model_info()),
        )
        done = completions.find(key, pair)
        if done is not None:
            return {"outcome": done.to_dict(), "reused": True}
        source = open_source(pair.source)
        plans, _ = _plans(source, sha, engine, state)
        outcome = protect_file(pair, engine, plans=plans)
        if outcome.input_sha256 != sha:
            if outcome.staging:
                Path(outcome.staging).unlink(missing_ok=True)
            raise InputError(f"input changed while it was being protected: {pair.source}")
        return {"outcome": completions.keep(key, outcome).to_dict(), "reused": False}


def plan_in_worker(job: FileJob, workers: int, timeout: float | None) -> dict:
    return run(plan_file, (job,), workers, timeout, f"planning {job.source}")


def protect_in_worker(job: FileJob, workers: int, timeout: float | None) -> dict:
    """`protect_one` in a worker process that is killed past `timeout`; its
    staged output is then removed, so a stopped task leaves nothing behind."""
    stop = partial(discard_partials, Path(job.destination))
    return run(protect_one, (job,), workers, timeout, job.source, on_stop=stop)


def discard_partials(destination: Path) -> None:
    """Remove what a stopped worker staged for `destination`: its lock died
    with it, so io's stale-staging sweep takes it (live runs' files are locked)."""
    if destination.parent.is_dir():
        remove_stale(destination.parent)


def check_held(outcomes: list[FileOutcome]) -> dict:
    """The verify stage: every output about to be published is still the file
    that was re-scanned (digest and row count), so nothing changed it since."""
    for o in outcomes:
        path = Path(o.staging) if o.staging else Path(o.output or "")
        if not path.is_file() or file_sha256(path) != o.output_sha256:
            raise ScanError(f"the protected output of {o.input} changed or vanished before publishing; rerun")
        if o.output_rows != o.rows:
            raise ScanError(f"the protected output of {o.input} lost rows; nothing was published")
    return {"files": len(outcomes), "rows": sum(o.rows for o in outcomes)}


class _typed:
    """Errors leave a worker typed and value-free: a library message may quote a
    cell, so anything untyped is named by its type only."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is None or isinstance(exc, (IngestGuardError, OSError)) or not isinstance(exc, Exception):
            return False
        raise ScanError(
            f"internal error ({kind.__name__}) while protecting {self.source}; nothing was written"
        ) from None
