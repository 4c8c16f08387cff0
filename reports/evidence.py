"""The evidence document of a run: what was scanned, found and done.

Built only from counts, digests, plans and versions: no sampled value and no
key material can reach it, because none is passed in. The model doubles as
the published JSON Schema (`ingestguard evidence-schema`).
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

from ingestguard.reports import controls as c

SCHEMA_VERSION = "1"


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class FileEvidence(_Doc):
    input: str
    input_sha256: str | None
    rows: int
    output: str | None
    output_sha256: str | None
    output_rows: int
    columns: list[ColumnEvidence]
    residual: dict[str, dict[str, int]]


class ControlEvidence(_Doc):
    id: str
    title: str
    status: Literal["passed", "failed", "not_applicable"]
    criteria: list[str]
    detail: str


class Evidence(_Doc):
    schema_version: str = SCHEMA_VERSION
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
    totals: dict[str, int | dict[str, int]]
    verify: dict[str, str | dict[str, int]]
    controls: list[ControlEvidence]
    evidence_sha256: str = ""

    def seal(self) -> Evidence:
        """Set `evidence_sha256`: sha256 of the RFC 8785 JSON of everything else."""
        body = self.model_dump(mode="json", exclude={"evidence_sha256"})
        return self.model_copy(update={"evidence_sha256": hashlib.sha256(rfc8785.dumps(body)).hexdigest()})

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.partial")
        tmp.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, path: Path) -> Evidence:
        return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))


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
    """Assemble counts and outcomes into the evidence document and its control results."""
    file_docs = [FileEvidence.model_validate({k: v for k, v in f.items() if k != "staging"}) for f in files]
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
    controls = _control_results(mode, file_docs, residual, blocking, key)
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
        controls=controls,
    ).seal()


def _control_results(
    mode: str, files: list[FileEvidence], residual: dict[str, int], blocking: list[str], key: dict | None
) -> list[ControlEvidence]:
    columns = [col for f in files for col in f.columns]
    skipped = [col.name for col in columns if col.classification == "skipped"]
    out = [
        c.result(
            c.SCAN_COVERAGE,
            "passed",
            f"{len(columns)} columns in {len(files)} files classified; {len(skipped)} excluded by policy",
        )
    ]
    if mode == "protect":
        sensitive = [col for col in columns if col.classification in ("entity", "free_text", "forced")]
        out.append(
            c.result(
                c.PROTECTION,
                "failed" if blocking else "passed",
                f"{sum(col.values_transformed for col in columns)} values transformed "
                f"in {len(sensitive)} sensitive columns",
            )
        )
        out.append(
            c.result(
                c.KEY_CUSTODY,
                "passed" if key else "not_applicable",
                f"key id {key['id']} recorded, no key material"
                if key
                else "no action of this policy needs a key",
            )
        )
        rows_ok = all(f.rows == f.output_rows for f in files)
        out.append(
            c.result(
                c.RECONCILIATION,
                "passed" if rows_ok else "failed",
                "input and output row counts equal; sha256 of every input and output recorded"
                if rows_ok
                else "row counts differ between input and output",
            )
        )
    detail = (
        f"fail_on entities {', '.join(blocking)} detected; the run failed and no output was published"
        if blocking
        else f"no fail_on entity detected (residual findings: {sum(residual.values())})"
    )
    out.append(c.result(c.VIOLATIONS, "failed" if blocking else "passed", detail))
    out.append(c.result(c.VERSIONS, "passed", "policy sha256, library and model versions recorded"))
    out.append(c.result(c.EVIDENCE, "passed", "UTC start and end, run id and a sha256 of this document"))
    return [ControlEvidence.model_validate(x) for x in out]
