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
from ingestguard.io import FilePair, FileSource, discard_staged, file_sha256, open_source, remove_stale
from ingestguard.parts import PartOutcome, divisible, merge_parts, part_rows, protect_part
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


def _plan_cache(state: Path, input_sha256: str, engine: Engine) -> tuple[PlanCache, str]:
    """The run's plan cache and the key of these bytes under this policy and these detectors."""
    key = plan_key(input_sha256, engine.policy.sha256(), detector_version(engine.detector.model_info()))
    return PlanCache(state / "plans"), key


def _plans(
    source: FileSource, input_sha256: str, engine: Engine, state: Path
) -> tuple[list[ColumnPlan], bool]:
    cache, key = _plan_cache(state, input_sha256, engine)
    cached = cache.get(key)
    if cached is not None:
        return cached, True
    plans = plan(source, engine)
    cache.put(key, plans)
    return plans, False


def plan_file(job: FileJob) -> dict:
    """Classify the file's columns, or take the plan cached for the same bytes,
    policy and detectors. Returns counts and digests, and whether the file may
    be protected in parts (a large Parquet file no earlier run completed)."""
    with _typed(job.source):
        engine = _engine(job)
        source = open_source(Path(job.source))
        sha = source.sha256()
        plans, cached = _plans(source, sha, engine, Path(job.state_dir))
        completions, key = _completions(job, engine, sha)
        divides = divisible(source, plans, engine) and completions.find(key, job.pair) is None
        return {
            "input": job.source,
            "input_sha256": sha,
            "columns": len(plans),
            "cached": cached,
            "rows": source.num_rows,
            "divisible": divides,
            "part_rows": part_rows(plans),
        }


def _completions(job: FileJob, engine: Engine, input_sha256: str) -> tuple[Completions, str]:
    """The run's completion records and this file's key among them."""
    key = completion_key(
        input_sha256,
        job.pair.destination,
        engine.policy.sha256(),
        engine.key_evidence(),
        detector_version(engine.detector.model_info()),
    )
    return Completions(Path(job.state_dir)), key


def protect_one(job: FileJob) -> dict:
    """Protect one file into a held output, or reuse one an earlier run of the
    same command finished. Returns {"outcome": FileOutcome dict, "reused": bool}."""
    with _typed(job.source):
        engine = _engine(job)
        pair, state = job.pair, Path(job.state_dir)
        sha = file_sha256(pair.source)
        completions, key = _completions(job, engine, sha)
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


@dataclass(frozen=True)
class PartJob:
    """Rows start..stop of a large file (ingestguard.parts), planned with the
    input digest `input_sha256`: paths, numbers and a digest only."""

    file: FileJob
    input_sha256: str
    start: int
    stop: int

    @property
    def folder(self) -> Path:
        return Path(self.file.state_dir) / "parts"


def _planned(job: FileJob, input_sha256: str, engine: Engine) -> list[ColumnPlan]:
    """The plan the plan stage cached for these bytes. Parts and merges never
    plan themselves: the file may have changed since (the merge's digest check
    then fails the run), and a plan of other bytes must not be cached under
    the planned digest."""
    cache, key = _plan_cache(Path(job.state_dir), input_sha256, engine)
    plans = cache.get(key)
    if plans is None:
        raise ScanError(f"the column plan of {job.source} is gone from the state folder; run again")
    return plans


def protect_part_job(part: PartJob) -> dict:
    """One part of a large file into a held Arrow part; returns its PartOutcome dict."""
    job = part.file
    with _typed(job.source):
        engine = _engine(job)
        plans = _planned(job, part.input_sha256, engine)
        return protect_part(job.pair.source, plans, engine, part.start, part.stop, part.folder).to_dict()


def merge_job(job: FileJob, input_sha256: str, parts: list[dict]) -> dict:
    """Merge a file's parts into its held output and record its completion.
    Returns {"outcome": FileOutcome dict, "reused": False}, as protect_one does."""
    with _typed(job.source):
        engine = _engine(job)
        plans = _planned(job, input_sha256, engine)
        outcome = merge_parts(
            job.pair, plans, engine, [PartOutcome.from_dict(p) for p in parts], input_sha256
        )
        completions, key = _completions(job, engine, input_sha256)
        return {"outcome": completions.keep(key, outcome).to_dict(), "reused": False}


def discard_parts(parts: list[dict]) -> None:
    """Remove the held parts of a file that will not be merged (another part failed)."""
    for p in parts:
        discard_staged(Path(p["staging"]))


def part_in_worker(part: PartJob, workers: int, timeout: float | None) -> dict:
    """`protect_part_job` in a worker process that is killed past `timeout`; the
    part it was writing (its lock died with it) is then removed."""
    stop = partial(remove_stale_parts, Path(part.file.state_dir), part.file.pair.source.name)
    what = f"rows {part.start}..{part.stop} of {part.file.source}"
    return run(protect_part_job, (part,), workers, timeout, what, on_stop=stop)


def merge_in_worker(
    job: FileJob, input_sha256: str, parts: list[dict], workers: int, timeout: float | None
) -> dict:
    """`merge_job` in a worker process; if it is killed, what it staged and the
    parts it was merging are removed."""

    def stop() -> None:
        discard_partials(Path(job.destination))
        discard_parts(parts)

    return run(merge_job, (job, input_sha256, parts), workers, timeout, job.source, on_stop=stop)


def remove_stale_parts(state: Path, name: str = "") -> None:
    """Remove parts no live worker holds (a killed run's, a stopped task's):
    of the input file called `name` only, or of every file."""
    folder = state / "parts"
    if folder.is_dir():
        remove_stale(folder, prefix=f".{name}." if name else "")


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
