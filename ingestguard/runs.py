"""A run: many files, one verdict, one evidence document.

The in-process runner and the Prefect flow share these steps; the flow only
puts a task around `protect_file` per input file.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ingestguard.canary import run_canary
from ingestguard.errors import IngestGuardError, PolicyViolation, ScanError
from ingestguard.io import FilePair, open_source
from ingestguard.kanonymity import output_k_anonymity
from ingestguard.keys import Key, key_home, load_key, load_signing_key
from ingestguard.pipeline import (
    Engine,
    FileOutcome,
    Progress,
    abort,
    check_destinations,
    commit,
    get_engine,
    protect_file,
    scan_source,
)
from ingestguard.policy import Policy
from ingestguard.reports.evidence import Evidence, LedgerPosition, NotScanned, build_evidence
from ingestguard.reports.ledger import LEDGER_NAME, Ledger, Position, Subject
from ingestguard.reports.render import to_html, to_markdown


@dataclass(frozen=True)
class RunContext:
    run_id: str
    started_at: datetime
    policy: Policy
    policy_source: str
    orchestrator: str


@dataclass(frozen=True)
class RunRecord:
    """Where a finished run left its evidence, and the evidence itself."""

    evidence: Evidence
    evidence_path: Path | None
    report_path: Path | None


def new_run(policy: Policy, policy_source: str, orchestrator: str) -> RunContext:
    now = datetime.now(UTC)
    run_id = f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
    return RunContext(run_id, now, policy, policy_source, orchestrator)


def key_for(policy: Policy) -> Key | None:
    """The run's key, loaded (or generated) once before any file is touched."""
    return load_key(policy.key_file) if policy.uses_key() else None


def evidence_paths(output: Path, run_id: str, evidence_dir: Path | None) -> Path:
    """`<output>.<run_id>.evidence.json`, beside the output or in `evidence_dir`."""
    folder = evidence_dir if evidence_dir is not None else output.resolve().parent
    return folder / f"{output.name}.{run_id}.evidence.json"


def finish_protect(
    ctx: RunContext, outcomes: list[FileOutcome], engine: Engine, evidence_path: Path
) -> RunRecord:
    """Record the run (`record_protect`), then apply the gate."""
    record = record_protect(ctx, outcomes, engine, evidence_path)
    gate(record)
    return record


def gate(record: RunRecord) -> None:
    """A run whose evidence failed raises PolicyViolation, one line naming the
    failure and the evidence (its outputs were discarded when it was recorded)."""
    if record.evidence.status != "passed":
        raise PolicyViolation(f"{record.evidence.failure}; no output was written, see {record.evidence_path}")


def stopped(evidence: Evidence | None, evidence_path: Path, error: Exception) -> IngestGuardError:
    """The gate's error for a run stopped by a file it could not scan (an
    unreadable file, a timeout, a worker that died): fail closed, as a policy
    violation naming the first error. Untyped errors are named by type only."""
    if evidence is None:  # not even the failure could be recorded
        return (
            error
            if isinstance(error, IngestGuardError)
            else ScanError(f"internal error ({type(error).__name__})")
        )
    unscanned = sum(1 for n in evidence.not_scanned if n.column is None)
    reason = str(error) if isinstance(error, IngestGuardError) else f"internal error ({type(error).__name__})"
    return PolicyViolation(
        f"{unscanned} of {len(evidence.files) + unscanned} files could not be protected ({reason}); "
        f"nothing was published, see {evidence_path}"
    )


def record_protect(
    ctx: RunContext, outcomes: list[FileOutcome], engine: Engine, evidence_path: Path
) -> RunRecord:
    """Decide the verdict, record the run in the ledger, then publish or discard
    the outputs and write the report. A run the ledger cannot record publishes
    nothing: evidence that cannot be proven complete is no evidence."""
    evidence = run_evidence(ctx, "protect", outcomes, engine)
    if evidence.status == "passed":
        check_destinations(outcomes)  # a run recorded as passed must be able to publish
    try:
        evidence = record_run(evidence, ledger_path(ctx.policy, evidence_path), evidence_path)
    except BaseException:
        abort(outcomes)
        raise
    if evidence.status == "passed":
        commit(outcomes)
    else:
        abort(outcomes)
    stem = evidence_path.name.removesuffix(".evidence.json")
    report_path = evidence_path.with_name(stem + ".report.md")
    report_path.write_text(to_markdown(evidence), encoding="utf-8")
    evidence_path.with_name(stem + ".report.html").write_text(to_html(evidence), encoding="utf-8")
    return RunRecord(evidence, evidence_path, report_path)


def html_report_path(evidence_path: Path) -> Path:
    """The HTML report written beside an evidence document."""
    return evidence_path.with_name(evidence_path.name.removesuffix(".evidence.json") + ".report.html")


def column_rows(evidence: Evidence) -> list[dict[str, str | int]]:
    """One row per file and column: class, entity, action and counts (no value)."""
    return [
        {
            "file": f.input,
            "column": c.name,
            "class": c.classification,
            "entity": c.entity or "",
            "action": c.action,
            "findings": sum(c.findings.values()),
            "transformed": c.values_transformed,
            "residual": sum(f.residual.get(c.name, {}).values()),
        }
        for f in evidence.files
        for c in f.columns
    ]


def run_counts(evidence: Evidence) -> dict[str, int | str | dict[str, int]]:
    """The run's counts, for events and summaries."""
    return {
        "run_id": evidence.run_id,
        "status": evidence.status,
        "files": len(evidence.files),
        "rows": sum(f.rows for f in evidence.files),
        "values_transformed": sum(c.values_transformed for f in evidence.files for c in f.columns),
        "findings": dict(evidence.totals.get("findings", {})),
        "residual": dict(evidence.verify.get("residual", {})),
        "not_scanned_files": sum(1 for n in evidence.not_scanned if n.column is None),
    }


def ledger_path(policy: Policy, evidence_path: Path) -> Path:
    """The policy's ledger, else `ledger.jsonl` beside the run's evidence."""
    return policy.ledger if policy.ledger is not None else evidence_path.parent / LEDGER_NAME


def event_ledger_path(policy: Policy, override: str | Path | None = None) -> Path:
    """Where events outside a protect run (detokenize, rekey, key disposal) are
    recorded: `--ledger`, else the policy's ledger, else the key home's."""
    return Path(override) if override else policy.ledger or key_home() / LEDGER_NAME


def record_run(evidence: Evidence, ledger_file: Path, evidence_path: Path) -> Evidence:
    """Write the evidence at its place in the ledger and append the run's signed
    record, both under the ledger's lock; returns the evidence as written."""
    ledger = Ledger(ledger_file, load_signing_key())
    # The document is staged and renamed into place only once its record is
    # written: no evidence file ever claims a place the ledger does not hold.
    staged = evidence_path.with_name(f".{evidence_path.name}.staged")
    with ledger.next_position() as position:
        evidence = evidence.with_ledger(
            LedgerPosition(
                path=ledger_file.name, sequence=position.sequence, previous_sha256=position.previous_sha256
            )
        )
        evidence.write(staged)
        try:
            _append_record(ledger, position, evidence, evidence_path)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        staged.replace(evidence_path)
    return evidence


def _append_record(ledger: Ledger, position: Position, evidence: Evidence, evidence_path: Path) -> None:
    subjects = [
        Subject(name, digest)
        for f in evidence.files
        for name, digest in ((f.input, f.input_sha256), (f.output, f.output_sha256))
        if name and digest
    ]
    ledger.append(
        position,
        kind="protect",
        run_id=evidence.run_id,
        subjects=subjects,
        details={
            "status": evidence.status,
            "evidence": evidence_path.name,
            "evidence_sha256": evidence.evidence_sha256,
            "policy_sha256": evidence.policy.get("sha256", ""),
            # Which subjects are outputs: the training gate (gate.py) vouches only for those.
            "output_sha256": sorted({f.output_sha256 for f in evidence.files if f.output_sha256}),
        },
    )


def protect_pairs(
    pairs: list[FilePair],
    ctx: RunContext,
    evidence_path: Path,
    progress: Progress | None = None,
) -> RunRecord:
    """The whole run in this process, file after file."""
    key = key_for(ctx.policy)
    engine = get_engine(ctx.policy, key)
    outcomes: list[FileOutcome] = []
    try:
        for pair in pairs:
            outcomes.append(protect_file(pair, engine, progress))
    except Exception as exc:
        abort(outcomes)
        unfinished = [str(p.source) for p in pairs[len(outcomes) :]]
        record_failed_run(ctx, outcomes, engine, evidence_path, unfinished, exc)
        raise
    except BaseException:  # interrupted: nothing to vouch for, nothing recorded
        abort(outcomes)
        raise
    return finish_protect(ctx, outcomes, engine, evidence_path)


def record_failed_run(
    ctx: RunContext,
    outcomes: list[FileOutcome],
    engine: Engine,
    evidence_path: Path,
    unfinished: list[str],
    error: Exception,
) -> Evidence | None:
    """A run that stopped on an error is still a protect run: its evidence says
    so (failed, the files it did not finish as not scanned) and the ledger holds
    it. Typed errors carry no data value by design; others are named by type only.
    Returns None when even that cannot be recorded (the caller raises `error`)."""
    reason = str(error) if isinstance(error, IngestGuardError) else f"internal error ({type(error).__name__})"
    evidence = run_evidence(ctx, "protect", outcomes, engine)
    not_scanned = [
        *evidence.not_scanned,
        *(NotScanned(file=f, column=None, reason=reason) for f in unfinished),
    ]
    evidence = evidence.model_copy(
        update={"status": "failed", "failure": f"the run stopped: {reason}", "not_scanned": not_scanned}
    ).seal()
    try:
        return record_run(evidence, ledger_path(ctx.policy, evidence_path), evidence_path)
    except IngestGuardError:
        return None


def scan_paths(paths: list[Path], ctx: RunContext, progress: Progress | None = None) -> Evidence:
    """Scan only: plans and findings for each file; writes nothing."""
    engine = get_engine(ctx.policy, None)
    outcomes = [scan_source(open_source(p), engine, progress) for p in paths]
    return run_evidence(ctx, "scan", outcomes, engine)


def run_evidence(
    ctx: RunContext, mode: Literal["protect", "scan"], outcomes: list[FileOutcome], engine: Engine
) -> Evidence:
    """The run's evidence from its outcomes; the verdict follows from them."""
    evidence = build_evidence(
        run_id=ctx.run_id,
        mode=mode,
        orchestrator=ctx.orchestrator,
        started_at=ctx.started_at,
        finished_at=datetime.now(UTC),
        files=[o.to_dict() for o in outcomes],
        policy_sha256=ctx.policy.sha256(),
        policy_source=ctx.policy_source,
        fail_on=ctx.policy.fail_on,
        key=engine.key_evidence() if mode == "protect" else None,
        nlp_model=engine.detector.model_info(),
    )
    k_anonymity = output_k_anonymity(ctx.policy.k_anonymity, outcomes) if mode == "protect" else None
    return evidence.with_self_checks(run_canary(ctx.policy.canary, outcomes), k_anonymity)
