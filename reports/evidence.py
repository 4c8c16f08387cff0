"""The evidence document of a run: what was scanned, found and done.

Built only from counts, digests, plans and versions: no sampled value and no
key material can reach it, because none is passed in. The model doubles as
the published JSON Schema (`evidence.schema.json` beside this module, the shape
of every written document, which `json_schema()` gives).
"""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

import rfc8785
from pydantic import BaseModel, ConfigDict

from ingestguard.reports.controls import ControlEvidence, control_results

# 3 added the canary and k-anonymity self-checks and per-stage throughput;
# documents of version 2 still read (those fields are absent there).
SCHEMA_VERSION = "3"
SCHEMA_FILE = Path(__file__).with_name("evidence.schema.json")


class _Doc(BaseModel):
    # Fields with defaults are still always written, so the schema requires them.
    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class ColumnEvidence(_Doc):
    name: str
    type: str
    classification: str
    entity: str | None
    action: str
    sample_size: int
    match_share: float | None
    reasons: list[str]
    findings: dict[str, int]
    values_transformed: int


class StageEvidence(_Doc):
    """One stage's time, and the input rows and Arrow bytes it got through per second."""

    seconds: float
    rows: int
    bytes: int
    rows_per_second: float
    bytes_per_second: float


class FileEvidence(_Doc):
    input: str
    input_sha256: str | None
    rows: int
    output: str | None
    output_sha256: str | None
    output_rows: int
    columns: list[ColumnEvidence]
    residual: dict[str, dict[str, int]]
    # plan, protect, verify, write (plan and scan for a scan): where the time went.
    stages: dict[str, StageEvidence] = {}


class NotScanned(_Doc):
    """Something no detector read, and why: "not scanned" is never "scanned, nothing found"."""

    file: str
    column: str | None  # None: the whole file
    reason: str


class CanaryEntityEvidence(_Doc):
    injected: int
    found: int
    recall: float | None


class CanaryEvidence(_Doc):
    """Recall the run measured on synthetic values planted in copies of its free text
    (canary.py): counts per entity type, and the verdict against `min_recall`."""

    per_batch: int
    min_recall: float | None
    injected: int
    found: int
    recall: float | None
    entities: dict[str, CanaryEntityEvidence]
    status: Literal["passed", "failed"]
    failure: str | None


class KAnonymityEvidence(_Doc):
    """Re-identification risk of the output over the policy's quasi-identifiers
    (kanonymity.py): the smallest group and the share of rows in groups under k."""

    quasi_identifiers: list[str]
    k: int
    max_share_below_k: float
    rows: int
    groups: int
    smallest_group: int | None
    rows_below_k: int
    share_below_k: float
    status: Literal["passed", "failed"]
    failure: str | None


class LedgerPosition(_Doc):
    """Where the run's record sits in the hash-chained ledger."""

    path: str
    sequence: int
    previous_sha256: str


class Evidence(_Doc):
    schema_version: Literal["2", "3"] = SCHEMA_VERSION
    run_id: str
    mode: Literal["protect", "scan"]
    orchestrator: str
    started_at: datetime
    finished_at: datetime
    status: Literal["passed", "failed"]
    failure: str | None
    tool: dict[str, str | None]
    policy: dict[str, str]
    key: dict[str, str | bool] | None
    files: list[FileEvidence]
    not_scanned: list[NotScanned]
    totals: dict[str, int | dict[str, int]]
    verify: dict[str, str | dict[str, int]]
    canary: CanaryEvidence | None = None
    k_anonymity: KAnonymityEvidence | None = None
    ledger: LedgerPosition | None = None
    controls: list[ControlEvidence] = []
    evidence_sha256: str = ""

    def seal(self) -> Evidence:
        """Re-evaluate the controls from this document, then set `evidence_sha256`
        (sha256 of the RFC 8785 JSON of everything else).

        Controls are derived data: recomputing them on every seal keeps them true
        to whatever changed since (a ledger position, above all).
        """
        doc = self.model_copy(update={"controls": control_results(self)})
        body = doc.model_dump(mode="json", exclude={"evidence_sha256"})
        return doc.model_copy(update={"evidence_sha256": hashlib.sha256(rfc8785.dumps(body)).hexdigest()})

    def with_self_checks(
        self, canary: CanaryEvidence | None, k_anonymity: KAnonymityEvidence | None
    ) -> Evidence:
        """This document with the run's own measurements; a failed one fails the run."""
        failures = [self.failure] if self.failure else []
        failures += [check.failure for check in (canary, k_anonymity) if check and check.failure]
        update = {"canary": canary, "k_anonymity": k_anonymity, "failure": "; ".join(failures) or None}
        if failures:
            update["status"] = "failed"
        return self.model_copy(update=update).seal()

    def with_ledger(self, position: LedgerPosition) -> Evidence:
        """This document at its place in the ledger, controls re-evaluated and re-sealed."""
        return self.model_copy(update={"ledger": position}).seal()

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.partial")
        tmp.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, path: Path) -> Evidence:
        return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))


def json_schema() -> dict:
    """The JSON Schema of a written evidence document (what `SCHEMA_FILE` must hold)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **Evidence.model_json_schema(mode="serialization"),
    }


def tool_versions(nlp_model: dict[str, str]) -> dict[str, str | None]:
    def v(dist: str) -> str | None:
        try:
            return version(dist)
        except PackageNotFoundError:
            return None

    return {
        "ingestguard": v("ingestguard"),
        "presidio_analyzer": v("presidio-analyzer"),
        "presidio_anonymizer": v("presidio-anonymizer"),
        "spacy": v("spacy"),
        "nlp_model": nlp_model.get("name"),
        "nlp_model_version": nlp_model.get("version"),
        "names_model": nlp_model.get("names_model"),
        "names_model_version": nlp_model.get("names_model_version"),
        "names_model_sha256": nlp_model.get("names_model_sha256"),
        "onnxruntime": v("onnxruntime") if nlp_model.get("names_model") else None,
        "pyarrow": v("pyarrow"),
        "prefect": v("prefect"),
        "python": platform.python_version(),
    }


def build_evidence(
    *,
    run_id: str,
    mode: Literal["protect", "scan"],
    orchestrator: str,
    started_at: datetime,
    finished_at: datetime,
    files: list[dict],
    policy_sha256: str,
    policy_source: str,
    fail_on: list[str],
    key: dict | None,
    nlp_model: dict[str, str],
) -> Evidence:
    """Assemble counts and outcomes into the evidence document; `seal` adds the control results."""
    file_docs = [
        FileEvidence.model_validate({k: v for k, v in f.items() if k not in ("staging", "canary")})
        for f in files
    ]
    findings: dict[str, int] = {}
    residual: dict[str, int] = {}
    transformed = 0
    for f in file_docs:
        for col in f.columns:
            transformed += col.values_transformed
            for entity, n in col.findings.items():
                findings[entity] = findings.get(entity, 0) + n
        for counts in f.residual.values():
            for entity, n in counts.items():
                residual[entity] = residual.get(entity, 0) + n
    blocking = sorted(set(fail_on) & set(residual if mode == "protect" else findings))
    status = "failed" if blocking else "passed"
    failure = None
    if blocking:
        where = "left in the output" if mode == "protect" else "found in the input"
        failure = f"fail_on entities {', '.join(blocking)} {where}"
    return Evidence(
        run_id=run_id,
        mode=mode,
        orchestrator=orchestrator,
        started_at=started_at,
        finished_at=finished_at,
        status=status,
        failure=failure,
        tool=tool_versions(nlp_model),
        policy={"sha256": policy_sha256, "source": policy_source},
        key=key,
        files=file_docs,
        not_scanned=_unscanned_columns(file_docs),
        totals={
            "files": len(file_docs),
            "rows": sum(f.rows for f in file_docs),
            "values_transformed": transformed,
            "findings": dict(sorted(findings.items())),
        },
        verify={
            "method": "pattern recognizers over every distinct string value of the output"
            if mode == "protect"
            else "not applicable to a scan",
            "residual": dict(sorted(residual.items())),
            "status": "failed" if blocking and mode == "protect" else "passed",
        },
    ).seal()


def _unscanned_columns(files: list[FileEvidence]) -> list[NotScanned]:
    """The columns no detector read, each with why (from its plan's class)."""
    out = []
    for f in files:
        for col in f.columns:
            if col.classification == "skipped":
                reason = "excluded by the policy (skip): neither scanned nor protected"
            elif col.classification == "forced":
                reason = f"the policy fixes its action ({col.action}), so no detector read it"
            elif col.classification == "not_text":
                reason = f"type {col.type} holds no text" + (
                    f"; only {col.sample_size} sampled values were read as identifiers"
                    if col.sample_size
                    else ""
                )
            else:
                continue
            out.append(NotScanned(file=f.input, column=col.name, reason=reason))
    return out
