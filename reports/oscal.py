"""OSCAL 1.2 assessment-results from run evidence, as plain dicts.

Why plain dicts: the only library with OSCAL models (compliance-trestle) pins
jinja2 and paramiko, so it lives in the test extra; the tests validate this
output with its `AssessmentResults` model, and users can do the same.

Shape: one `result` per run; in it one `observation` and one `finding` per
control of the catalog (plus any control the evidence reports that the
catalog no longer has). Observations cite the evidence file (name and sha256,
also in `back-matter`), the control's reason and its JSON Pointers into the
evidence. UUIDs are version 5, derived from the run id and control id, so
exporting the same evidence twice gives the same document.

Not applicable: OSCAL's objective status knows only `satisfied` and
`not-satisfied`. A control that does not apply to a run is not a deficiency,
so it is reported `satisfied` with reason `other` (not `pass`), target
`implementation-status` `not-applicable`, a `ingestguard-status` prop
`not-applicable`, and the reason in the finding's description and remarks.

The evidence is read as JSON rather than through the `Evidence` model, so
schema 1 and schema 2 documents both export (an audit reaches back in time).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ingestguard.errors import ExportError
from ingestguard.reports.controls import CATALOG

OSCAL_VERSION = "1.2.1"
NS = "urn:ingestguard:oscal"
UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, NS)
SATISFIED, NOT_SATISFIED, NOT_APPLICABLE = "satisfied", "not-satisfied", "not-applicable"
# Schema 1 wrote passed / failed / not_applicable; schema 2 writes the OSCAL words.
_STATUS = {
    "passed": SATISFIED,
    "failed": NOT_SATISFIED,
    "not_applicable": NOT_APPLICABLE,
    SATISFIED: SATISFIED,
    NOT_SATISFIED: NOT_SATISFIED,
    NOT_APPLICABLE: NOT_APPLICABLE,
}
_REASON = {SATISFIED: "pass", NOT_SATISFIED: "fail", NOT_APPLICABLE: "other"}


@dataclass(frozen=True)
class EvidenceFile:
    """An evidence document as found on disk: its name, bytes' sha256 and JSON."""

    path: Path
    sha256: str
    doc: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def run_id(self) -> str:
        return str(self.doc["run_id"])

    @property
    def started_at(self) -> datetime:
        return _aware(self.doc["started_at"], self.path)

    @property
    def finished_at(self) -> datetime:
        return _aware(self.doc["finished_at"], self.path)


@dataclass(frozen=True)
class ControlOutcome:
    """One control's result in one run, in the schema 2 vocabulary."""

    id: str
    title: str
    criteria: tuple[str, ...]
    status: str
    reason: str
    pointers: tuple[str, ...]


def read_evidence_file(path: Path) -> EvidenceFile:
    """Read and minimally check an evidence file; typed error if it is not one."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExportError(f"evidence file not found: {path}; pass a *.evidence.json a run wrote") from None
    except OSError as exc:
        raise ExportError(
            f"cannot read evidence file {path} ({exc.strerror}); check its permissions"
        ) from None
    try:
        doc = json.loads(data)
        ok = isinstance(doc, dict) and all(
            k in doc for k in ("run_id", "started_at", "finished_at", "controls")
        )
    except ValueError:
        ok = False
    if not ok:
        raise ExportError(f"not an ingestguard evidence file: {path}; pass a *.evidence.json a run wrote")
    found = EvidenceFile(path, hashlib.sha256(data).hexdigest(), doc)
    _ = (found.started_at, found.finished_at)  # a bad timestamp fails here, not mid-export
    return found


def control_outcomes(evidence: EvidenceFile) -> list[ControlOutcome]:
    """Every catalog control's outcome in this run, then any extra control the run reported.

    A catalog control the evidence does not report (a scan run of schema 1
    reports no protection controls) is not applicable, and says why.
    """
    reported = {c.get("id"): (i, c) for i, c in enumerate(evidence.doc.get("controls") or [])}
    out: list[ControlOutcome] = []
    for control in CATALOG:
        if control.id in reported:
            out.append(_outcome(evidence, *reported.pop(control.id), control.title, control.criteria))
        else:
            mode = evidence.doc.get("mode", "unknown")
            out.append(
                ControlOutcome(
                    control.id,
                    control.title,
                    control.criteria,
                    NOT_APPLICABLE,
                    f"the run's evidence (mode {mode}) does not report this control",
                    ("/controls",),
                )
            )
    for cid in sorted(k for k in reported if k):
        index, entry = reported[cid]
        out.append(
            _outcome(evidence, index, entry, entry.get("title", cid), tuple(entry.get("criteria", ())))
        )
    return out


def _outcome(
    evidence: EvidenceFile, index: int, entry: dict, title: str, criteria: Sequence[str]
) -> ControlOutcome:
    status = _STATUS.get(entry.get("status", ""))
    if status is None:
        raise ExportError(
            f"{evidence.path}: control {entry.get('id')} has unknown status {entry.get('status')!r}; "
            "upgrade ingestguard to export this evidence"
        )
    reason = entry.get("reason") or entry.get("detail") or "no reason recorded"
    pointers = (f"/controls/{index}", *[p for p in entry.get("pointers") or [] if isinstance(p, str)])
    return ControlOutcome(entry["id"], title, tuple(criteria), status, reason, pointers)


def assessment_results(evidence: Sequence[EvidenceFile]) -> dict[str, Any]:
    """The `{"assessment-results": ...}` document for one run or a period of runs."""
    if not evidence:
        raise ExportError("no evidence to export; pass at least one *.evidence.json")
    runs = sorted(evidence, key=lambda e: (e.started_at, e.run_id))
    ids = [e.run_id for e in runs]
    if len(set(ids)) != len(ids):
        raise ExportError("the same run's evidence was given twice; pass each evidence file once")
    plan = _uuid("assessment-plan", "control-catalog")
    first, last = runs[0].started_at, max(e.finished_at for e in runs)
    title = (
        f"ingestguard assessment results: run {ids[0]}"
        if len(runs) == 1
        else f"ingestguard assessment results: {len(runs)} runs, {_iso(first)} to {_iso(last)}"
    )
    return {
        "assessment-results": {
            "uuid": _uuid("assessment-results", *ids),
            "metadata": {
                "title": title,
                # The newest evidence time, not the export time: the same
                # evidence always exports to the same bytes.
                "last-modified": _iso(last),
                "version": _tool_version(),
                "oscal-version": OSCAL_VERSION,
                "props": [_prop("generator", f"ingestguard {_tool_version()}")],
                "remarks": "Generated from ingestguard run evidence; the control catalog and its "
                "SOC 2 criteria mapping are the project's proposal, not an auditor's opinion.",
            },
            "import-ap": {
                "href": f"#{plan}",
                "remarks": "No OSCAL assessment plan is published: the plan is ingestguard's control "
                "catalog, every control tested on every run; see the back-matter resource.",
            },
            "results": [_result(e) for e in runs],
            "back-matter": {"resources": [_plan_resource(plan), *[_evidence_resource(e) for e in runs]]},
        }
    }


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _result(e: EvidenceFile) -> dict[str, Any]:
    doc = e.doc
    outcomes = control_outcomes(e)
    observations = [_observation(e, o) for o in outcomes]
    findings = [_finding(e, o, obs["uuid"]) for o, obs in zip(outcomes, observations, strict=True)]
    description = f"ingestguard {doc.get('mode', 'unknown')} run {e.run_id}: {doc.get('status', 'unknown')}."
    if doc.get("failure"):
        description += f" {doc['failure']}."
    not_scanned = doc.get("not_scanned")
    if not_scanned:
        description += f" {len(not_scanned)} item(s) could not be scanned (evidence /not_scanned)."
    props = [
        _prop("run-id", e.run_id),
        _prop("run-mode", doc.get("mode")),
        _prop("run-status", doc.get("status")),
        _prop("evidence-schema-version", doc.get("schema_version")),
        _prop("evidence-file", e.name),
        _prop("evidence-file-sha256", e.sha256),
        _prop("evidence-sha256", doc.get("evidence_sha256")),
    ]
    ledger = doc.get("ledger")
    if isinstance(ledger, dict) and ledger.get("sequence") is not None:
        props.append(_prop("ledger-sequence", str(ledger["sequence"])))
    return {
        "uuid": _uuid("result", e.run_id),
        "title": f"ingestguard run {e.run_id}",
        "description": description,
        "start": _iso(e.started_at),
        "end": _iso(e.finished_at),
        "props": [p for p in props if p],
        "reviewed-controls": {
            "control-selections": [{"include-controls": [{"control-id": o.id} for o in outcomes]}]
        },
        "observations": observations,
        "findings": findings,
    }


def _observation(e: EvidenceFile, o: ControlOutcome) -> dict[str, Any]:
    cited = [
        {
            "href": f"#{_uuid('evidence', e.run_id)}",
            "description": f"Evidence document {e.name} of run {e.run_id}, sha256 {e.sha256}.",
            "props": [_prop("sha256", e.sha256)],
        }
    ]
    cited += [
        {
            "href": f"{quote(e.name)}#{quote(p)}",
            "description": f"JSON Pointer {p or '(whole document)'} in {e.name}.",
        }
        for p in o.pointers
    ]
    return {
        "uuid": _uuid("observation", e.run_id, o.id),
        "title": f"{o.id} in run {e.run_id}",
        "description": o.reason,
        "props": [_prop("ingestguard-status", o.status)],
        "methods": ["TEST"],
        "types": ["control-objective"],
        "relevant-evidence": cited,
        "collected": _iso(e.finished_at),
    }


def _finding(e: EvidenceFile, o: ControlOutcome, observation: str) -> dict[str, Any]:
    criteria = ", ".join(o.criteria) or "none recorded"
    if o.status == NOT_APPLICABLE:
        verdict = f"Not applicable to this run (reported as satisfied, reason other): {o.reason}."
    else:
        verdict = f"{o.status.capitalize()}: {o.reason}."
    target: dict[str, Any] = {
        "type": "objective-id",
        "target-id": o.id,
        "title": o.title,
        "status": {
            "state": NOT_SATISFIED if o.status == NOT_SATISFIED else SATISFIED,
            "reason": _REASON[o.status],
        },
    }
    if o.status == NOT_APPLICABLE:
        target["status"]["remarks"] = f"not applicable: {o.reason}"
        target["implementation-status"] = {"state": "not-applicable", "remarks": o.reason}
    return {
        "uuid": _uuid("finding", e.run_id, o.id),
        "title": f"{o.id}: {o.title}",
        "description": f"{verdict} Supports SOC 2 criteria {criteria}.",
        "props": [
            _prop("ingestguard-status", o.status),
            *[_prop("soc2-criterion", c) for c in o.criteria],
        ],
        "target": target,
        "related-observations": [{"observation-uuid": observation}],
    }


def _plan_resource(plan: str) -> dict[str, Any]:
    rows = "; ".join(f"{c.id} ({' '.join(c.criteria)})" for c in CATALOG)
    return {
        "uuid": plan,
        "title": "ingestguard control catalog (the assessment plan)",
        "description": "Every control below is tested by ingestguard on every run and reported in "
        f"the run's evidence, with the SOC 2 criteria it supports: {rows}.",
    }


def _evidence_resource(e: EvidenceFile) -> dict[str, Any]:
    return {
        "uuid": _uuid("evidence", e.run_id),
        "title": f"Evidence of run {e.run_id}",
        "props": [
            p
            for p in (_prop("run-id", e.run_id), _prop("evidence-sha256", e.doc.get("evidence_sha256")))
            if p
        ],
        "rlinks": [
            {
                "href": quote(e.name),
                "media-type": "application/json",
                "hashes": [{"algorithm": "SHA-256", "value": e.sha256}],
            }
        ],
    }


def _uuid(*parts: str) -> str:
    """Version 5 (name-based): the same run and control always get the same id."""
    return str(uuid.uuid5(UUID_NAMESPACE, "/".join(parts)))


def _prop(name: str, value: object) -> dict[str, str] | None:
    """An ingestguard-namespaced prop; None for a missing value (OSCAL forbids empty ones)."""
    text = " ".join(str(value).split()) if value is not None else ""
    return {"name": name, "ns": NS, "value": text} if text else None


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _aware(value: object, path: Path) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ExportError(f"{path}: timestamp {value!r} is not ISO 8601; pass evidence a run wrote") from None
    if moment.tzinfo is None:
        raise ExportError(f"{path}: timestamp {value!r} has no timezone; pass evidence a run wrote")
    return moment


def _tool_version() -> str:
    try:
        return version("ingestguard")
    except PackageNotFoundError:
        return "unknown"


def read_all(paths: Iterable[Path]) -> list[EvidenceFile]:
    """Every given evidence file, read and checked."""
    return [read_evidence_file(Path(p)) for p in paths]
