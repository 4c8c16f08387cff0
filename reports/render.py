"""Evidence rendered for people: Markdown for terminals, reviews and tickets."""

from __future__ import annotations

from ingestguard.reports.evidence import Evidence


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    def cell(v: object) -> str:
        return "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def to_markdown(ev: Evidence) -> str:
    verdict = "PASSED" if ev.status == "passed" else "FAILED"
    lines = [
        f"# ingestguard {ev.mode} run {ev.run_id}: {verdict}",
        "",
        f"- Started {ev.started_at.isoformat()}, finished {ev.finished_at.isoformat()} (UTC)",
        f"- Orchestrator: {ev.orchestrator}",
        f"- Policy sha256: `{ev.policy['sha256']}` ({ev.policy['source']})",
        f"- Key: `{ev.key['id']}` ({ev.key['source']})" if ev.key else "- Key: none needed",
        "- Tools: " + ", ".join(f"{k} {v}" for k, v in ev.tool.items() if v),
        f"- Files: {ev.totals['files']}, rows: {ev.totals['rows']}, "
        f"values transformed: {ev.totals['values_transformed']}",
    ]
    if ev.failure:
        lines.append(f"- **Failure:** {ev.failure}")
    findings = ev.totals["findings"]
    if findings:
        lines += ["", "## Findings by entity", ""]
        lines += _table(["entity", "count"], [[k, v] for k, v in findings.items()])
    lines += ["", "## Controls", ""]
    lines += _table(
        ["control", "status", "SOC 2 criteria", "detail"],
        [[x.id, x.status, ", ".join(x.criteria), x.detail] for x in ev.controls],
    )
    for f in ev.files:
        lines += ["", f"## {f.input}", "", f"- rows {f.rows}, input sha256 `{f.input_sha256}`"]
        if ev.mode == "protect":
            lines.append(f"- output {f.output}, rows {f.output_rows}, sha256 `{f.output_sha256}`")
        lines.append("")
        lines += _table(
            ["column", "type", "class", "entity", "action", "sample", "share", "findings", "transformed"],
            [
                [
                    col.name,
                    col.type,
                    col.classification,
                    col.entity,
                    col.action,
                    col.sample_size,
                    col.match_share,
                    ", ".join(f"{k}: {v}" for k, v in col.findings.items()),
                    col.values_transformed,
                ]
                for col in f.columns
            ],
        )
        if f.residual:
            lines += ["", "Residual findings in the output:", ""]
            lines += _table(
                ["column", "entity", "count"],
                [[c, e, n] for c, found in f.residual.items() for e, n in found.items()],
            )
    lines += ["", f"Evidence sha256 (RFC 8785): `{ev.evidence_sha256}`", ""]
    return "\n".join(lines)
