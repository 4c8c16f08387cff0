"""The CLI's contract: exit codes, one-line errors, nothing written on failure."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingestguard.cli import app
from ingestguard.demo import synthetic_table, write_demo

runner = CliRunner()
KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="


@pytest.fixture(autouse=True)
def _key(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _not_parquet(p: Path) -> Path:
    p.write_text("id,name\n1,Jane Doe\n")
    return p


def _empty(p: Path) -> Path:
    p.write_bytes(b"")
    return p


def _truncated(p: Path) -> Path:
    write_demo(p, rows=50)
    p.write_bytes(p.read_bytes()[:-200])
    return p


def _zero_rows(p: Path) -> Path:
    pq.write_table(synthetic_table(5).slice(0, 0), p)
    return p


def _not_utf8(p: Path) -> Path:
    pq.write_table(pa.table({"id": [1, 2], "blob": pa.array([b"a@b.com", b"\xff Jane Doe"], pa.binary())}), p)
    return p


def _unreadable_type(p: Path) -> Path:
    pq.write_table(pa.table({"id": [1, 2], "digest": pa.array([b"a@b.", b"Jane"], pa.binary(4))}), p)
    return p


BAD_INPUTS = {
    "missing": (lambda p: p, "input not found"),
    "not parquet": (_not_parquet, "not a readable Parquet file"),
    "empty file": (_empty, "empty file"),
    "truncated": (_truncated, "not a readable Parquet file"),
    "zero rows": (_zero_rows, "zero rows"),
    "binary column not UTF-8": (_not_utf8, "column 'blob' holds bytes that are not UTF-8 text"),
    "type it cannot read": (_unreadable_type, "column 'digest' has type fixed_size_binary[4]"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, case):
    make, message = BAD_INPUTS[case]
    src = make(tmp_path / "in.parquet")
    before = digest(src)
    out = tmp_path / "out"
    result = runner.invoke(app, ["protect", str(src), str(out) + "/", "--no-orchestrator"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr
    assert not out.exists() or list(out.rglob("*")) == []
    assert digest(src) == before
    assert "Jane Doe" not in result.stderr and "a@b.com" not in result.stderr


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("entities: [PERSON]\nsampling:\n  sizes: 10\n", "unknown key 'sampling.sizes'"),
        ("score_threshold: 1.5\n", "bad value for 'score_threshold'"),
        ("actions: {PERSON: shred}\n", "bad value for 'actions.PERSON'"),
        ("bogus: 1\n", "unknown key 'bogus'"),
        ("entities: [NOT_AN_ENTITY]\n", "unsupported entity NOT_AN_ENTITY"),
        ("- a\n- b\n", "must be a mapping"),
    ],
)
def test_bad_policy_exits_2_naming_the_key(tmp_path, policy, message):
    src = write_demo(tmp_path / "in.parquet", rows=20)
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(policy)
    for args in (
        ["protect", str(src), str(tmp_path / "out.parquet"), "--no-orchestrator"],
        ["scan", str(src)],
        ["policy", "show"],
    ):
        result = runner.invoke(app, [*args, "--policy", str(policy_file)])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.parquet").exists()


def test_all_null_column_passes_through_as_empty(tmp_path):
    table = synthetic_table(30).append_column("nickname", pa.nulls(30, pa.string()))
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    result = runner.invoke(
        app,
        [
            "protect",
            str(src),
            str(tmp_path / "out.parquet"),
            "--no-orchestrator",
            "--evidence-dir",
            str(tmp_path / "ev"),
        ],
    )
    assert result.exit_code == 0, result.output
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column("nickname").null_count == 30
    [ev] = (tmp_path / "ev").glob("*.evidence.json")
    cols = {c["name"]: c for c in json.loads(ev.read_text())["files"][0]["columns"]}
    assert cols["nickname"]["classification"] == "empty"


def test_fail_on_left_behind_exits_1_and_publishes_nothing(tmp_path):
    src = write_demo(tmp_path / "in.parquet", rows=40)
    policy = tmp_path / "keep_ssn.yaml"
    policy.write_text("actions: {US_SSN: keep}\nfail_on: [US_SSN]\n")
    result = runner.invoke(
        app,
        [
            "protect",
            str(src),
            str(tmp_path / "out") + "/",
            "--policy",
            str(policy),
            "--no-orchestrator",
            "--evidence-dir",
            str(tmp_path / "ev"),
        ],
    )
    assert result.exit_code == 1, result.output
    assert "US_SSN" in result.stderr and "no output was written" in result.stderr
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").rglob("*")) == []
    [ev] = (tmp_path / "ev").glob("*.evidence.json")
    doc = json.loads(ev.read_text())
    assert doc["status"] == "failed" and doc["verify"]["residual"]["US_SSN"] == 40
    ssns = pq.read_table(src, columns=["ssn"]).column("ssn").to_pylist()
    assert not any(s in ev.read_text() for s in ssns)


def test_scan_reports_and_fails_on_fail_on_entities(tmp_path):
    src = write_demo(tmp_path / "in.parquet", rows=40)
    result = runner.invoke(app, ["scan", str(src), "--format", "json"])
    assert result.exit_code == 1  # the default policy fails on SSNs, cards, IBANs and emails
    doc = json.loads(result.stdout)
    cols = {c["name"]: c for c in doc["files"][0]["columns"]}
    assert cols["ssn"]["entity"] == "US_SSN" and cols["ssn"]["findings"] == {"US_SSN": 40}
    assert not list(tmp_path.glob("*.evidence.json"))
    names = pq.read_table(src, columns=["full_name"]).column("full_name").to_pylist()
    assert not any(n in result.stdout for n in names)


def test_scan_clean_file_exits_0(tmp_path):
    src = tmp_path / "clean.parquet"
    pq.write_table(pa.table({"id": list(range(20)), "plan": ["free", "pro"] * 10}), src)
    result = runner.invoke(app, ["scan", str(src)])
    assert result.exit_code == 0, result.output
    assert "clean" in result.stdout


def test_report_renders_markdown(tmp_path):
    src = write_demo(tmp_path / "in.parquet", rows=30)
    runner.invoke(app, ["protect", str(src), str(tmp_path / "out.parquet"), "--no-orchestrator"])
    [ev] = tmp_path.glob("*.evidence.json")
    result = runner.invoke(app, ["report", str(ev)])
    assert result.exit_code == 0
    assert result.stdout.startswith("# ingestguard protect run ")
    assert "| full_name | string | entity | PERSON | pseudonymize |" in result.stdout
    bad = runner.invoke(app, ["report", str(src)])
    assert bad.exit_code == 2 and "not an ingestguard evidence file" in bad.stderr


def test_policy_show_and_schema(tmp_path):
    shown = runner.invoke(app, ["policy", "show"])
    assert shown.exit_code == 0 and "fail_on:" in shown.stdout and "US_SSN" in shown.stdout
    schema = json.loads(runner.invoke(app, ["policy", "schema"]).stdout)
    assert schema["additionalProperties"] is False and "fail_on" in schema["properties"]


def test_a_blocked_destination_publishes_nothing(tmp_path):
    write_demo(tmp_path / "in" / "a.parquet", rows=20, seed=1)
    write_demo(tmp_path / "in" / "b.parquet", rows=20, seed=2)
    (tmp_path / "out" / "b.parquet" / "x").mkdir(parents=True)
    result = runner.invoke(app, ["protect", str(tmp_path / "in"), str(tmp_path / "out"), "--no-orchestrator"])
    assert result.exit_code == 2 and "is a directory" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.parquet"]
