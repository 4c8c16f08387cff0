"""The SOC 2 control catalog of the guard, and each run's control results.

The mapping follows `soc2-tsc.md` (criterion IDs as auditors write them, as in
the ciso-assistant `soc2-2017` library). It is the project's proposal of which
criteria each per-run control supports, not an auditor's opinion.

A run's results are computed from its evidence document alone (never from
live objects), so anyone holding the document can recompute them, and every
result points (RFC 6901 JSON Pointers) at the fields it was decided on.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

if TYPE_CHECKING:
    from ingestguard.reports.evidence import Evidence

Status = Literal["satisfied", "not-satisfied", "not-applicable"]
# An RFC 6901 JSON Pointer into the run's evidence document.
Pointer = Annotated[str, StringConstraints(pattern=r"^(/([^~/]|~[01])*)*$")]


@dataclass(frozen=True)
class Control:
    """One control of the catalog: what it promises, how a run tests it, what it supports."""

    id: str
    title: str
    test: str
    criteria: tuple[str, ...]

    def to_dict(self) -> dict[str, str | list[str]]:
        return {"id": self.id, "title": self.title, "test": self.test, "criteria": list(self.criteria)}


class ControlEvidence(BaseModel):
    """One control's outcome in one run, with the reason and where the document shows it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    status: Status
    criteria: list[str]
    reason: str
    pointers: list[Pointer]


SCAN_COVERAGE = Control(
    "IG-SCAN",
    "Every input scanned for sensitive data before use; what could not be scanned is recorded",
    "Every column of every file is either classified by the detectors or listed in "
    "/not_scanned with its reason; no whole file is listed there.",
    ("C1.1", "P3.1", "PI1.2", "CC2.1", "CC3.2"),
)
PROTECTION = Control(
    "IG-PROTECT",
    "Sensitive values redacted, masked, pseudonymized or tokenized before the data leaves",
    "The output of a protect run is re-scanned; no fail_on entity may remain (/verify/residual).",
    ("P4.1", "C1.1", "CC6.1", "CC6.7", "PI1.3", "PI1.4"),
)
KEY_CUSTODY = Control(
    "IG-KEYS",
    "Keys held by the data owner; only key identifiers recorded",
    "A keyed action records the key's id and source, never its material (/key).",
    ("CC6.1",),
)
REIDENTIFICATION = Control(
    "IG-REIDENTIFY",
    "Re-identification (detokenization) restricted and every use logged",
    "Each detokenization is its own ledger record naming the key version and columns; "
    "protect and scan runs re-identify nothing.",
    ("CC6.1", "CC6.3", "P4.1", "P6.2"),
)
DISPOSAL = Control(
    "IG-DISPOSAL",
    "Retention and disposal, including crypto-shredding of a key version",
    "Each destruction of a key version is its own ledger record; protect and scan runs dispose of nothing.",
    ("C1.2", "P4.2", "P4.3", "CC6.5"),
)
EVIDENCE = Control(
    "IG-EVIDENCE",
    "Run evidence complete, timestamped, tamper-evident and retained",
    "The document carries UTC start and end, its sha256 (RFC 8785) and its position in the "
    "hash-chained ledger (/ledger).",
    ("CC2.1", "PI1.3", "PI1.5", "CC4.1"),
)
VIOLATIONS = Control(
    "IG-FAIL",
    "Policy violations and residual leaks fail the run and are escalated",
    "A fail_on entity left in the output (protect) or found in the input (scan) fails the run, "
    "publishes nothing and is named in /failure.",
    ("CC7.2", "CC7.3", "CC4.2", "P6.3"),
)
VERSIONS = Control(
    "IG-VERSIONS",
    "Policy, detector and model versions pinned and recorded",
    "The policy's sha256 and the versions of the tool, Presidio, spaCy and the NER model are recorded.",
    ("CC8.1", "CC7.1"),
)
RECONCILIATION = Control(
    "IG-RECONCILE",
    "Row counts and digests of inputs and outputs reconciled",
    "Each output has as many rows as its input, and the sha256 of both is recorded.",
    ("PI1.2", "PI1.4", "PI1.5"),
)

CATALOG: tuple[Control, ...] = (
    SCAN_COVERAGE,
    PROTECTION,
    KEY_CUSTODY,
    REIDENTIFICATION,
    DISPOSAL,
    EVIDENCE,
    VIOLATIONS,
    VERSIONS,
    RECONCILIATION,
)

# Classes whose values a detector read (sampled, swept or scanned in full).
SCANNED_CLASSES = frozenset({"entity", "free_text", "clean", "empty"})
# Versions without which a run cannot be reproduced.
REQUIRED_VERSIONS = (
    "ingestguard",
    "presidio_analyzer",
    "presidio_anonymizer",
    "spacy",
    "nlp_model",
    "nlp_model_version",
)
# ... and, when the names model ran, its version and digest.
NAMES_MODEL_VERSIONS = ("names_model_version", "names_model_sha256")
SHA256 = re.compile(r"[0-9a-f]{64}")

Outcome = tuple[Status, str, list[str]]


def _n(count: int, noun: str) -> str:
    """`1 file`, `3 files`: reasons are read by auditors."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _scan_coverage(ev: Evidence) -> Outcome:
    if not ev.files:
        return "not-satisfied", "no input file was read", ["/files"]
    whole_files = [f"/not_scanned/{i}" for i, n in enumerate(ev.not_scanned) if n.column is None]
    if whole_files:
        return (
            "not-satisfied",
            f"{_n(len(whole_files), 'input file')} could not be scanned at all",
            whole_files,
        )
    listed = {(n.file, n.column) for n in ev.not_scanned}
    silent = [
        f"/files/{i}/columns/{j}"
        for i, f in enumerate(ev.files)
        for j, col in enumerate(f.columns)
        if col.classification not in SCANNED_CLASSES and (f.input, col.name) not in listed
    ]
    if silent:
        return (
            "not-satisfied",
            f"{_n(len(silent), 'column')} neither scanned nor listed as not scanned",
            silent,
        )
    total = sum(len(f.columns) for f in ev.files)
    return (
        "satisfied",
        f"{total - len(listed)} of {_n(total, 'column')} in {_n(len(ev.files), 'file')} scanned; "
        f"{len(listed)} not scanned, each with its reason",
        [*(f"/files/{i}/columns" for i in range(len(ev.files))), "/not_scanned"],
    )


def _protection(ev: Evidence) -> Outcome:
    if ev.mode != "protect":
        return "not-applicable", "a scan changes no data; protection is tested by protect runs", []
    pointers = ["/verify", *(f"/files/{i}/residual" for i in range(len(ev.files)))]
    if ev.status != "passed":
        return "not-satisfied", f"{ev.failure}; no output was published", ["/failure", *pointers]
    transformed = ev.totals["values_transformed"]
    residual = sum(ev.verify["residual"].values())
    return (
        "satisfied",
        f"{transformed} values transformed; the output re-scan left no fail_on entity "
        f"({residual} other residual findings)",
        ["/totals/values_transformed", *pointers],
    )


def _key_custody(ev: Evidence) -> Outcome:
    if ev.mode != "protect":
        return "not-applicable", "a scan uses no key", []
    if ev.key is None:
        return "not-applicable", "no action of this policy needs a key, so none was loaded", ["/key"]
    parts, pointers = [], []
    if "id" in ev.key:
        parts.append(f"key {ev.key['id']} from {ev.key['source']}")
        pointers += ["/key/id", "/key/source"]
    if "keyring_key_id" in ev.key:
        parts.append(
            f"keyring version {ev.key['keyring_version']} ({ev.key['keyring_key_id']}, "
            f"{ev.key.get('keyring_backend', 'unknown')} backend)"
        )
        pointers += ["/key/keyring_key_id", "/key/keyring_version"]
    return "satisfied", "; ".join(parts) + ": only its id and source recorded, no key material", pointers


def _reidentification(ev: Evidence) -> Outcome:
    return (
        "not-applicable",
        f"a {ev.mode} run re-identifies nothing; each detokenization is recorded by its own ledger record",
        ["/mode"],
    )


def _disposal(ev: Evidence) -> Outcome:
    return (
        "not-applicable",
        f"a {ev.mode} run disposes of no data or key version; each crypto-shredding is recorded "
        "by its own ledger record",
        ["/mode"],
    )


def _evidence(ev: Evidence) -> Outcome:
    stamped = ["/run_id", "/started_at", "/finished_at", "/evidence_sha256"]
    if ev.ledger is None:
        return (
            "not-satisfied",
            "the run wrote no ledger record, so nothing would show a later edit or deletion of this document",
            ["/ledger", *stamped],
        )
    return (
        "satisfied",
        f"record {ev.ledger.sequence} of {ev.ledger.path}, chained to the previous record "
        f"{ev.ledger.previous_sha256[:12]}; UTC start and end and this document's sha256 recorded",
        ["/ledger", *stamped],
    )


def _violations(ev: Evidence) -> Outcome:
    residual = "/verify/residual" if ev.mode == "protect" else "/totals/findings"
    if ev.status != "passed":
        return (
            "not-satisfied",
            f"{ev.failure}; the run failed and published nothing",
            ["/status", "/failure", residual],
        )
    return "satisfied", "no fail_on entity detected", ["/status", residual]


def _versions(ev: Evidence) -> Outcome:
    required = [*REQUIRED_VERSIONS, *(NAMES_MODEL_VERSIONS if ev.tool.get("names_model") else ())]
    missing = [name for name in required if not ev.tool.get(name)]
    if not SHA256.fullmatch(ev.policy.get("sha256", "")):
        missing.insert(0, "policy sha256")
    if missing:
        return "not-satisfied", f"not recorded: {', '.join(missing)}", ["/policy/sha256", "/tool"]
    return (
        "satisfied",
        f"policy sha256 and versions recorded (ingestguard {ev.tool['ingestguard']}, "
        f"{ev.tool['nlp_model']} {ev.tool['nlp_model_version']})",
        ["/policy/sha256", "/tool"],
    )


def _reconciliation(ev: Evidence) -> Outcome:
    if ev.mode != "protect":
        return "not-applicable", "a scan writes no output to reconcile", []
    rows = [i for i, f in enumerate(ev.files) if f.rows != f.output_rows]
    if rows:
        return (
            "not-satisfied",
            f"row counts differ between input and output in {_n(len(rows), 'file')}",
            [p for i in rows for p in (f"/files/{i}/rows", f"/files/{i}/output_rows")],
        )
    undigested = [i for i, f in enumerate(ev.files) if not (f.input_sha256 and f.output_sha256)]
    if undigested:
        return (
            "not-satisfied",
            f"row counts equal, but {_n(len(undigested), 'file')} in memory, without a file digest to reconcile",
            [p for i in undigested for p in (f"/files/{i}/input_sha256", f"/files/{i}/output_sha256")],
        )
    return (
        "satisfied",
        f"row counts equal in {_n(len(ev.files), 'file')}; sha256 of every input and output recorded",
        [
            f"/files/{i}/{k}"
            for i in range(len(ev.files))
            for k in ("rows", "output_rows", "input_sha256", "output_sha256")
        ],
    )


CHECKS: dict[str, Callable[[Evidence], Outcome]] = {
    SCAN_COVERAGE.id: _scan_coverage,
    PROTECTION.id: _protection,
    KEY_CUSTODY.id: _key_custody,
    REIDENTIFICATION.id: _reidentification,
    DISPOSAL.id: _disposal,
    EVIDENCE.id: _evidence,
    VIOLATIONS.id: _violations,
    VERSIONS.id: _versions,
    RECONCILIATION.id: _reconciliation,
}


def control_results(evidence: Evidence) -> list[ControlEvidence]:
    """Every catalog control's outcome for this document, in catalog order."""
    results = []
    for control in CATALOG:
        status, reason, pointers = CHECKS[control.id](evidence)
        results.append(
            ControlEvidence(
                id=control.id,
                title=control.title,
                status=status,
                criteria=list(control.criteria),
                reason=reason,
                pointers=pointers,
            )
        )
    return results


def catalog_csv() -> str:
    """The catalog as CSV (one row per control, criteria comma-separated), for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "title", "test", "criteria"])
    for control in CATALOG:
        writer.writerow([control.id, control.title, control.test, ", ".join(control.criteria)])
    return buffer.getvalue()
