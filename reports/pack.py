"""The audit pack: one zip holding everything an auditor needs for a period.

Contents: the period's evidence documents (chosen by `started_at`), the
ledger slice that holds them, the ledger's public key, a controls-to-criteria
CSV, a per-control summary CSV, the period's OSCAL assessment results, and a
manifest with the sha256 of every other file, so an auditor can re-hash what
they received.

The ledger slice is contiguous: from the first to the last record that holds
a run of the period (or was recorded in it), with the lines copied byte for
byte, so every signature and every link inside it still checks.

A missing ledger does not stop the pack: evidence written before the ledger
existed is still evidence, and refusing would hide it. The manifest says
plainly that no ledger was found and that the documents are therefore not
chain-verified, and lists every evidence document the ledger does not hold.

Nothing here reads a data value: only evidence documents (counts, digests,
ids), ledger records (digests, ids) and the public key go in.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ingestguard.errors import ExportError
from ingestguard.reports import oscal
from ingestguard.reports.controls import CATALOG
from ingestguard.reports.ledger import LEDGER_NAME, document_sha256, read_lines, record_at

PACK_FORMAT = "ingestguard-audit-pack"
PACK_VERSION = 1


@dataclass(frozen=True)
class Period:
    """A half-open time window [since, until), both timezone-aware."""

    since: datetime
    until: datetime

    def holds(self, moment: datetime) -> bool:
        return self.since <= moment < self.until


@dataclass(frozen=True)
class LedgerSlice:
    """The contiguous run of ledger lines that covers the period, and what it lacks."""

    path: Path
    lines: list[bytes]
    first_sequence: int | None
    last_sequence: int | None
    total_records: int
    held: dict[str, str] = field(default_factory=dict)  # run_id -> evidence_sha256


@dataclass(frozen=True)
class PackResult:
    """What `build_pack` wrote, for the CLI to report."""

    path: Path
    runs: int
    files: list[str]
    ledger_records: int
    warnings: list[str]


def parse_period(since: str, until: str) -> Period:
    """`--since` and `--until` as ISO dates or datetimes; naive means UTC.

    A date alone as `--until` includes that whole day, which is what a person
    means by "until 2026-12-31".
    """
    start = _bound(since, "--since", end=False)
    stop = _bound(until, "--until", end=True)
    if stop <= start:
        raise ExportError(f"--until {until} is not after --since {since}; swap or widen the dates")
    return Period(start, stop)


def _bound(text: str, option: str, *, end: bool) -> datetime:
    try:
        if len(text) == 10:  # YYYY-MM-DD
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1) if end else day, time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ExportError(
            f"{option} {text!r} is not a date; write YYYY-MM-DD or an ISO 8601 datetime"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def select_evidence(evidence_dir: Path, period: Period) -> list[oscal.EvidenceFile]:
    """The `*.evidence.json` files in `evidence_dir` whose run started in the period."""
    if not evidence_dir.is_dir():
        raise ExportError(f"evidence directory not found: {evidence_dir}; pass --evidence-dir")
    found = [oscal.read_evidence_file(p) for p in sorted(evidence_dir.glob("*.evidence.json"))]
    chosen = sorted((e for e in found if period.holds(e.started_at)), key=lambda e: (e.started_at, e.run_id))
    if not chosen:
        raise ExportError(
            f"no evidence in {evidence_dir} started between {period.since.isoformat()} and "
            f"{period.until.isoformat()}; check --evidence-dir and the dates"
        )
    return chosen


def ledger_slice(path: Path, run_ids: set[str], period: Period) -> LedgerSlice | None:
    """The ledger lines from the first to the last record of the period; None if no ledger.

    A record belongs to the period if it holds one of the period's runs or was
    recorded in it (a detokenization or key disposal has no evidence file).
    """
    if not path.is_file():
        return None
    lines = read_lines(path)
    records = [record_at(line, i) for i, line in enumerate(lines)]
    inside = [
        i
        for i, r in enumerate(records)
        if r.get("run_id") in run_ids or _in_period(r.get("recorded_at"), period)
    ]
    if not inside:
        return LedgerSlice(path, [], None, None, len(lines))
    lo, hi = inside[0], inside[-1]
    held = {str(r.get("run_id")): str(r.get("evidence_sha256", "")) for r in records[lo : hi + 1]}
    return LedgerSlice(
        path, lines[lo : hi + 1], records[lo].get("sequence"), records[hi].get("sequence"), len(lines), held
    )


def _in_period(value: object, period: Period) -> bool:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return period.holds(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def controls_csv() -> str:
    """One row per (control, criterion) pair: the table auditors pivot on."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["control_id", "control_title", "criterion"])
    for control in CATALOG:
        for criterion in control.criteria:
            w.writerow([control.id, control.title, criterion])
    return buf.getvalue()


def summary_csv(evidence: Sequence[oscal.EvidenceFile]) -> str:
    """Per control over the period: how many runs, and how many of each status."""
    counts: dict[str, dict[str, int]] = {}
    meta: dict[str, tuple[str, tuple[str, ...]]] = {}
    for e in evidence:
        for o in oscal.control_outcomes(e):
            meta.setdefault(o.id, (o.title, o.criteria))
            row = counts.setdefault(o.id, {s: 0 for s in _STATUSES})
            row[o.status] += 1
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["control", "title", "criteria", "runs", "satisfied", "not_satisfied", "not_applicable"])
    for cid, row in counts.items():
        title, criteria = meta[cid]
        w.writerow([cid, title, " ".join(criteria), sum(row.values()), *(row[s] for s in _STATUSES)])
    return buf.getvalue()


_STATUSES = (oscal.SATISFIED, oscal.NOT_SATISFIED, oscal.NOT_APPLICABLE)


def build_pack(
    out: Path,
    evidence_dir: Path,
    period: Period,
    *,
    ledger: Path | None = None,
    public_key: Callable[[], bytes | None] | None = None,
    now: datetime | None = None,
) -> PackResult:
    """Write the audit pack for `period` to `out` atomically (temp file, fsync, rename).

    `public_key` returns the PEM to include, or None when there is none; it is
    a callable so the caller decides where keys come from (a file the auditor
    was given, or this machine's signing key) without this module knowing.
    """
    evidence = select_evidence(evidence_dir, period)
    ledger_path = ledger if ledger is not None else evidence_dir / LEDGER_NAME
    chain = ledger_slice(ledger_path, {e.run_id for e in evidence}, period)
    pem = public_key() if public_key else None
    files: dict[str, bytes] = {}
    for e in evidence:
        files[f"evidence/{e.name}"] = e.path.read_bytes()
    if chain is not None and chain.lines:
        files["ledger/ledger.jsonl"] = b"".join(line + b"\n" for line in chain.lines)
    if pem:
        files["keys/ledger-signing-key.pub.pem"] = pem
    files["controls.csv"] = controls_csv().encode()
    files["control-summary.csv"] = summary_csv(evidence).encode()
    files["oscal/assessment-results.json"] = oscal.to_json(oscal.assessment_results(evidence)).encode()
    ledger_note, warnings = _ledger_manifest(ledger_path, chain, evidence)
    if not pem:
        warnings.append("no public key included: the ledger's signatures cannot be checked from the pack")
    manifest = {
        "format": PACK_FORMAT,
        "version": PACK_VERSION,
        "created_at": (now or datetime.now(UTC)).isoformat(),
        "period": {"since": period.since.isoformat(), "until": period.until.isoformat(), "by": "started_at"},
        "runs": [
            {
                "run_id": e.run_id,
                "started_at": e.started_at.isoformat(),
                "status": e.doc.get("status"),
                "file": f"evidence/{e.name}",
                "evidence_sha256": e.doc.get("evidence_sha256"),
            }
            for e in evidence
        ],
        "ledger": ledger_note,
        "public_key": "keys/ledger-signing-key.pub.pem" if pem else None,
        "warnings": warnings,
        "files": [
            {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in sorted(files.items())
        ],
    }
    files["manifest.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
    _write_zip(out, files)
    return PackResult(out, len(evidence), sorted(files), len(chain.lines) if chain else 0, warnings)


def _ledger_manifest(
    path: Path, chain: LedgerSlice | None, evidence: Sequence[oscal.EvidenceFile]
) -> tuple[dict[str, Any], list[str]]:
    if chain is None:
        note = {
            "status": "absent",
            "source": str(path),
            "reason": "no ledger was found; the evidence documents in this pack are not chain-verified",
        }
        return note, [f"no ledger at {path}: the pack's evidence is not chain-verified"]
    missing = [e.run_id for e in evidence if e.run_id not in chain.held]
    # The digest is recomputed from each document's body: an edited document
    # that kept its old seal differs too.
    differ = [
        e.run_id
        for e in evidence
        if e.run_id in chain.held
        and {e.doc.get("evidence_sha256"), document_sha256(e.doc)} != {chain.held[e.run_id]}
    ]
    note = {
        "status": "included" if chain.lines else "no records in the period",
        "source": str(path),
        "file": "ledger/ledger.jsonl" if chain.lines else None,
        "first_sequence": chain.first_sequence,
        "last_sequence": chain.last_sequence,
        "records_in_slice": len(chain.lines),
        "records_in_ledger": chain.total_records,
        "evidence_not_in_ledger": missing,
        "evidence_digest_differs": differ,
        "verify": "each line is a signed DSSE envelope copied byte for byte; the slice's links "
        "and signatures check with the public key from its first record on",
    }
    warnings = []
    if missing:
        warnings.append(f"{len(missing)} evidence document(s) not held by the ledger: {', '.join(missing)}")
    if differ:
        warnings.append(
            f"{len(differ)} evidence document(s) differ from the digest the ledger holds: {', '.join(differ)}"
        )
    return note, warnings


def _write_zip(out: Path, files: dict[str, bytes]) -> None:
    """Temp file beside `out`, fsync, rename: a reader never sees half a pack."""
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise ExportError(f"output directory not found: {parent}; create it or choose another OUT.zip")
    tmp = parent / f".{out.name}.{os.getpid()}.partial"
    try:
        with open(tmp, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for name, data in files.items():
                    zf.writestr(name, data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(out)
    except OSError as exc:
        raise ExportError(f"cannot write {out} ({exc.strerror}); choose a writable OUT.zip") from None
    finally:
        tmp.unlink(missing_ok=True)
