"""Evidence rendered for people: Markdown for terminals and tickets, HTML for a privacy officer.

Both renderings read only the evidence document, which holds counts, digests,
plans and versions and never a value, so neither can show a raw value.
The HTML is one self-contained file (inline CSS and SVG, no script, no font,
no network) so it can be mailed, archived and opened offline years later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from ingestguard.reports.evidence import Evidence


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    def cell(v: object) -> str:
        return "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return lines


def key_summary(key: dict[str, str | bool]) -> str:
    """The run's key ids in one line: the pseudonym key and the keyring version, never material."""
    parts = []
    if "id" in key:
        parts.append(f"pseudonym key `{key['id']}` ({key['source']})")
    if "keyring_key_id" in key:
        backend = key.get("keyring_backend", "")
        parts.append(
            f"keyring version {key['keyring_version']} `{key['keyring_key_id']}` ({backend} backend)"
        )
    return "; ".join(parts)


def to_markdown(ev: Evidence) -> str:
    verdict = "PASSED" if ev.status == "passed" else "FAILED"
    lines = [
        f"# ingestguard {ev.mode} run {ev.run_id}: {verdict}",
        "",
        f"- Started {ev.started_at.isoformat()}, finished {ev.finished_at.isoformat()} (UTC)",
        f"- Orchestrator: {ev.orchestrator}",
        f"- Policy sha256: `{ev.policy['sha256']}` ({ev.policy['source']})",
        f"- Keys: {key_summary(ev.key)}" if ev.key else "- Key: none needed",
        "- Tools: " + ", ".join(f"{k} {v}" for k, v in ev.tool.items() if v),
        f"- Files: {ev.totals['files']}, rows: {ev.totals['rows']}, "
        f"values transformed: {ev.totals['values_transformed']}",
    ]
    if ev.ledger:
        lines.append(
            f"- Ledger: record {ev.ledger.sequence} of {ev.ledger.path}, "
            f"previous record sha256 `{ev.ledger.previous_sha256}`"
        )
    if ev.failure:
        lines.append(f"- **Failure:** {ev.failure}")
    findings = ev.totals["findings"]
    if findings:
        lines += ["", "## Findings by entity", ""]
        lines += _table(["entity", "count"], [[k, v] for k, v in findings.items()])
    if ev.not_scanned:
        lines += ["", "## Not scanned", ""]
        lines += _table(
            ["file", "column", "reason"],
            [[x.file, x.column or "(whole file)", x.reason] for x in ev.not_scanned],
        )
    lines += _self_checks(ev)
    lines += ["", "## Controls", ""]
    lines += _table(
        ["control", "status", "SOC 2 criteria", "reason", "pointers"],
        [[x.id, x.status, ", ".join(x.criteria), x.reason, ", ".join(x.pointers)] for x in ev.controls],
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
        if f.stages:
            lines += ["", "Where the time went:", ""]
            lines += _table(
                ["stage", "seconds", "rows/s", "MB/s"],
                [
                    [name, f"{s.seconds:.3f}", f"{s.rows_per_second:,.0f}", f"{s.bytes_per_second / 1e6:.1f}"]
                    for name, s in f.stages.items()
                ],
            )
    lines += ["", f"Evidence sha256 (RFC 8785): `{ev.evidence_sha256}`", ""]
    return "\n".join(lines)


def _self_checks(ev: Evidence) -> list[str]:
    """The run's own measurements: canary recall and the output's k-anonymity."""
    lines = []
    if ev.canary:
        c = ev.canary
        lines += ["", "## Canary recall", "", f"- {c.found} of {c.injected} canaries found: {c.status}"]
        lines += _table(
            ["entity", "injected", "found", "recall"],
            [[e, x.injected, x.found, x.recall] for e, x in c.entities.items()],
        )
    if ev.k_anonymity:
        k = ev.k_anonymity
        lines += [
            "",
            "## Re-identification risk",
            "",
            f"- quasi-identifiers {', '.join(k.quasi_identifiers)}: smallest group {k.smallest_group}, "
            f"{k.rows_below_k} of {k.rows} rows ({k.share_below_k:.2%}) in groups under k={k.k} "
            f"(allowed {k.max_share_below_k:.2%}): {k.status}",
        ]
    return lines


# The heat map: geometry is computed here, the template only draws it.
CELL_W, CELL_H, HEAD_H, CHAR_W, PAD = 64, 30, 120, 7.2, 12
LIGHT, DARK = (222, 235, 247), (8, 81, 156)
EMPTY = "#f4f5f7"
MAX_LABEL = 36


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    w: float
    h: float
    fill: str
    ink: str
    count: int
    column: str
    entity: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    full: str


@dataclass(frozen=True)
class HeatMap:
    width: float
    height: float
    rows: list[Label]
    cols: list[Label]
    cells: list[Cell]
    peak: int


def _shade(count: int, peak: int) -> str:
    """Log scale, so 3 findings of a rare entity stay visible beside 2,000 of a common one."""
    t = math.log1p(count) / math.log1p(peak)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(LIGHT, DARK, strict=True))


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def heat_map(ev: Evidence) -> HeatMap | None:
    """Findings by column (rows) and entity type (columns); None when nothing was found."""
    many = len(ev.files) > 1
    rows = [
        (f"{f.input}: {col.name}" if many else col.name, col.findings)
        for f in ev.files
        for col in f.columns
        if any(col.findings.values())
    ]
    if not rows:
        return None
    entities = sorted({e for _, found in rows for e, n in found.items() if n})
    peak = max(n for _, found in rows for n in found.values())
    left = PAD + CHAR_W * max(len(_short(name)) for name, _ in rows)
    cells = []
    for i, (name, found) in enumerate(rows):
        for j, entity in enumerate(entities):
            n = found.get(entity, 0)
            fill = _shade(n, peak) if n else EMPTY
            dark = n and math.log1p(n) / math.log1p(peak) > 0.5
            x, y = left + j * CELL_W, HEAD_H + i * CELL_H
            ink = "#ffffff" if dark else "#1b2430"
            cells.append(Cell(x, y, CELL_W - 2, CELL_H - 2, fill, ink, n, name, entity))
    # Entity labels lean right at 40 degrees; leave room for the last one.
    lean = CHAR_W * len(_short(entities[-1])) * math.cos(math.radians(40))
    return HeatMap(
        width=left + len(entities) * CELL_W + max(PAD, lean - CELL_W / 2 + PAD),
        height=HEAD_H + len(rows) * CELL_H + PAD,
        rows=[
            Label(left - 8, HEAD_H + i * CELL_H + CELL_H / 2, _short(n), n) for i, (n, _) in enumerate(rows)
        ],
        cols=[
            Label(left + j * CELL_W + CELL_W / 2, HEAD_H - 8, _short(e), e) for j, e in enumerate(entities)
        ],
        cells=cells,
        peak=peak,
    )


@cache
def _environment() -> Environment:
    """Templates ship inside the package (package data), so a wheel renders without the checkout."""
    return Environment(
        loader=PackageLoader("ingestguard.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def to_html(ev: Evidence) -> str:
    """One self-contained HTML page: verdict first, then the chart, actions, re-scan, controls, provenance."""
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            ev=ev,
            chart=heat_map(ev),
            residual_total=sum(n for f in ev.files for found in f.residual.values() for n in found.values()),
            seconds=(ev.finished_at - ev.started_at).total_seconds(),
            key_summary=key_summary(ev.key) if ev.key else "",
        )
    )
