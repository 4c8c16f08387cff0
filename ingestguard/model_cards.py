"""The data-protection section of a model card, from one run's signed record.

`model_card(run_id, ledger)` finds the run's record in a ledger that verifies,
reads the run's evidence document only if its digest is the one the record
holds, and writes Markdown: what was scanned (inputs by digest, rows,
columns), what was found and done (counts per entity and action), the
verdict, where the record sits in the ledger and which key signed it, and the
SOC 2 criteria the run's controls support. Counts and digests only: evidence
never holds a value, so neither does the card.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingestguard.errors import InputError, LedgerError

if TYPE_CHECKING:
    from ingestguard.reports.evidence import Evidence


def model_card(
    run_id: str,
    ledger: str | Path | None = None,
    evidence_dir: str | Path | None = None,
    public_key: str | Path | None = None,
    policy: Any = None,
) -> str:
    """Markdown for a model card about protect run `run_id`.

    `ledger`: default the policy's `ledger`. `evidence_dir`: where the run's
    evidence document is; default the ledger's folder (where runs put it unless
    the policy names a ledger elsewhere). `public_key`: default this machine's.
    """
    from ingestguard.gate import verified_entries
    from ingestguard.policy import Policy
    from ingestguard.reports.evidence import Evidence
    from ingestguard.reports.ledger import document_sha256

    if ledger is None:
        policy = Policy.load(policy) if isinstance(policy, (str, Path)) else policy or Policy()
        if policy.ledger is None:
            raise InputError("no ledger named; pass --ledger (library: ledger=) or set `ledger` in the policy")
        ledger = policy.ledger
    ledger = Path(ledger)
    entries = verified_entries(ledger, Path(public_key) if public_key else None)
    entry = next((e for e in entries if e.predicate.get("run_id") == run_id), None)
    if entry is None or entry.predicate.get("kind") != "protect":
        raise InputError(f"the ledger {ledger} holds no protect run {run_id}; check the run id and the ledger")
    folder = Path(evidence_dir) if evidence_dir is not None else ledger.parent
    path = folder / str(entry.predicate.get("evidence", ""))
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(f"the evidence of run {run_id} is not readable at {path}; pass --evidence-dir") from None
    if not isinstance(document, dict) or document_sha256(document) != entry.predicate.get("evidence_sha256"):
        raise LedgerError(f"the evidence document {path} is not the one the ledger holds (edited or replaced)")
    evidence = Evidence.model_validate(document)
    return _markdown(evidence, ledger, entry.sequence, entry.key_id)


def _markdown(ev: Evidence, ledger: Path, sequence: int, key_id: str) -> str:
    lines = [
        "## Training data protection (ingestguard)",
        "",
        f"Run `{ev.run_id}`: **{ev.mode} {ev.status}**"
        + (f" ({ev.failure})" if ev.failure else "")
        + f", {ev.started_at:%Y-%m-%d %H:%M} to {ev.finished_at:%H:%M} UTC, ingestguard "
        f"{ev.tool.get('ingestguard') or 'unknown'}, policy sha256 `{ev.policy.get('sha256', '')}`.",
        "",
        "### What was scanned",
        "",
        "| input | sha256 | rows | columns | output sha256 | output rows |",
        "|---|---|---:|---:|---|---:|",
    ]
    for f in ev.files:
        lines.append(
            f"| `{f.input}` | `{f.input_sha256 or 'none'}` | {f.rows} | {len(f.columns)} "
            f"| `{f.output_sha256 or 'none'}` | {f.output_rows} |"
        )
    done: Counter[tuple[str, str]] = Counter()
    for f in ev.files:
        for col in f.columns:
            for entity, count in col.findings.items():
                done[entity, "in free text, per span" if col.action == "per_span" else col.action] += count
    lines += ["", "### What was found and done", ""]
    if done:
        lines += ["| entity | action | values found |", "|---|---|---:|"]
        lines += [f"| {entity} | {action} | {n} |" for (entity, action), n in sorted(done.items())]
    else:
        lines.append("No sensitive value was found.")
    residual = ev.verify.get("residual") or {}
    lines += [
        "",
        f"Values transformed: {ev.totals.get('values_transformed', 0)}. Re-scan of the output: "
        f"{ev.verify.get('status', 'n/a')}"
        + (
            f" (residual findings: {', '.join(f'{k} {v}' for k, v in sorted(residual.items()))})"
            if isinstance(residual, dict) and residual
            else " (no residual finding)"
        )
        + f". Not scanned: {len(ev.not_scanned)} (each with its reason in the evidence).",
        "",
        "### Where it is recorded",
        "",
        f"Record {sequence} of `{ledger.name}`"
        + (f", chained to the previous record `{ev.ledger.previous_sha256[:16]}`" if ev.ledger else "")
        + f", signed with Ed25519 key id `{key_id}`; evidence document sha256 `{ev.evidence_sha256}`.",
        "",
        "### SOC 2 criteria supported",
        "",
        "| control | status | criteria |",
        "|---|---|---|",
    ]
    lines += [f"| {c.id} {c.title} | {c.status} | {', '.join(c.criteria)} |" for c in ev.controls]
    supported = sorted({k for c in ev.controls if c.status == "satisfied" for k in c.criteria})
    lines += ["", f"Criteria supported by this run's satisfied controls: {', '.join(supported) or 'none'}.", ""]
    return "\n".join(lines)
