"""The `protect_dataset` flow: one task per input file, then one verdict.

Tasks take and return only paths, digests and counts, never a value; their
results are not persisted. Each task calls one library function.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from ingestguard.errors import IngestGuardError, ScanError
from ingestguard.io import FilePair, resolve_inputs
from ingestguard.pipeline import FileOutcome, abort, get_engine, protect_file
from ingestguard.policy import Policy
from ingestguard.runs import evidence_paths, finish_protect, key_for, ledger_path, new_run, record_failed_run


def _policy(policy_path: str | None) -> Policy:
    return Policy.load(policy_path) if policy_path else Policy()


@task(persist_result=False, cache_policy=NO_CACHE, retries=0)
def protect_file_task(source: str, destination: str, policy_path: str | None) -> dict:
    """Protect one file into a staged output; returns its outcome (counts and digests)."""
    policy = _policy(policy_path)
    key = key_for(policy)
    try:
        outcome = protect_file(FilePair(Path(source), Path(destination)), get_engine(policy, key))
    except IngestGuardError:
        raise
    except Exception as exc:
        # Prefect logs a failed task's exception; a library's message may quote a value.
        raise ScanError(
            f"internal error ({type(exc).__name__}) while protecting {source}; nothing was written"
        ) from None
    return outcome.to_dict()


@flow(name="protect-dataset", persist_result=False, validate_parameters=False)
def protect_dataset(
    input_path: str,
    output_path: str,
    policy_path: str | None = None,
    evidence_dir: str | None = None,
) -> dict:
    """Protect a Parquet file, directory or glob; publish outputs only if all pass."""
    logger = get_run_logger()
    policy = _policy(policy_path)
    pairs = resolve_inputs(input_path, output_path)
    key = key_for(policy)  # generated here once, before tasks run in parallel
    ctx = new_run(policy, policy_path or "default", f"prefect:{flow_run.get_id()}")
    logger.info("run %s: %d input files", ctx.run_id, len(pairs))
    futures = [protect_file_task.submit(str(p.source), str(p.destination), policy_path) for p in pairs]
    results = [f.result(raise_on_failure=False) for f in futures]
    done = [FileOutcome.from_dict(r) for r in results if isinstance(r, dict)]
    errors = [r for r in results if isinstance(r, BaseException)]
    path = evidence_paths(Path(output_path), ctx.run_id, Path(evidence_dir) if evidence_dir else None)
    if errors:
        abort(done)
        unfinished = [str(p.source) for p, r in zip(pairs, results, strict=True) if not isinstance(r, dict)]
        error = errors[0] if isinstance(errors[0], Exception) else RuntimeError("interrupted")
        record_failed_run(ctx, done, get_engine(policy, key), path, unfinished, error)
        raise errors[0]
    record = finish_protect(ctx, done, get_engine(policy, key), path)
    logger.info("run %s %s: evidence %s", ctx.run_id, record.evidence.status, record.evidence_path)
    return {
        "run_id": ctx.run_id,
        "status": record.evidence.status,
        "evidence": str(record.evidence_path),
        "report": str(record.report_path),
        "ledger": str(ledger_path(policy, path)),
        "key": record.evidence.key,
        "files": len(done),
        "rows": sum(o.rows for o in done),
    }
