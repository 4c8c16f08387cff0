"""What a run shows in Prefect: a summary, a table of columns, a link to the
HTML report, and an event automations can hang on. Counts and names only:
everything here comes from the evidence, which holds no value."""

from __future__ import annotations

from pathlib import Path

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.events import emit_event

from ingestguard.reports.evidence import Evidence
from ingestguard.runs import column_rows, html_report_path, run_counts


def publish(evidence: Evidence, evidence_path: Path | None, report_path: Path | None, reused: int) -> None:
    """The run's artifacts and its `ingestguard.run.completed` or `.failed` event."""
    counts = run_counts(evidence)
    create_markdown_artifact(
        _summary(evidence, counts, evidence_path, reused),
        key="ingestguard-summary",
        description=f"ingestguard run {evidence.run_id}: {evidence.status}",
    )
    create_table_artifact(
        column_rows(evidence), key="ingestguard-columns", description="per-column counts and actions"
    )
    html = html_report_path(evidence_path) if evidence_path is not None else None
    if report_path is not None and html is not None and html.is_file():
        create_link_artifact(
            html.resolve().as_uri(), link_text=html.name, key="ingestguard-report", description="HTML report"
        )
    name = "completed" if evidence.status == "passed" else "failed"
    emit_event(
        event=f"ingestguard.run.{name}",
        resource={
            "prefect.resource.id": f"ingestguard.run.{evidence.run_id}",
            "prefect.resource.name": "ingestguard run",
        },
        payload={**counts, "reused_files": reused, "evidence": str(evidence_path) if evidence_path else None},
    )


def _summary(evidence: Evidence, counts: dict, evidence_path: Path | None, reused: int) -> str:
    lines = [
        f"# ingestguard run `{evidence.run_id}`: **{evidence.status}**",
        "",
        f"- files: {counts['files']} ({reused} reused from an earlier run of the same command)",
        f"- rows: {counts['rows']}",
        f"- values transformed: {counts['values_transformed']}",
        f"- evidence: `{evidence_path}`",
    ]
    if evidence.failure:
        lines.append(f"- failure: {evidence.failure}")
    if counts["not_scanned_files"]:
        lines.append(f"- files not scanned: {counts['not_scanned_files']}")
    lines += ["", "| entity | found | left in the output |", "| --- | ---: | ---: |"]
    residual = counts["residual"]
    for entity in sorted(set(counts["findings"]) | set(residual)):
        lines.append(f"| {entity} | {counts['findings'].get(entity, 0)} | {residual.get(entity, 0)} |")
    return "\n".join(lines) + "\n"
