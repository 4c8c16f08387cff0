"""Never a raw value: canaries seeded into every sensitive column and every
free-text cell are absent from everything the commands write and log.

protect, scan, report (Markdown and HTML), verify, export oscal, audit-pack and
controls run in this process through the CLI, with logging at DEBUG; every file
they produce (the zip's members too), their output and every log record are
searched for each canary.
"""

from __future__ import annotations

import base64
import json
import logging
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingestguard.cli import app

ROWS = 40
# Values the default policy protects, each unique to this test.
EMAILS = [f"canary.q{i:03d}x@canary-mail.example.com" for i in range(ROWS)]
SSNS = [f"536-{i % 90 + 10:02d}-{4300 + i:04d}" for i in range(ROWS)]
PHONES = [f"(212) 555-{7000 + i:04d}" for i in range(ROWS)]
NAMES = [f"Maria Kowalczyk{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(ROWS)]
NOTES = [
    f"Spoke with {NAMES[i]} about order {9000 + i}; reach {EMAILS[i]} or {PHONES[i]}, SSN {SSNS[i]}."
    for i in range(ROWS)
]
CANARIES = [*EMAILS, *SSNS, *PHONES, *NAMES]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("INGESTGUARD_KEY", raising=False)
    table = pa.table(
        {
            "customer": NAMES,
            "email": EMAILS,
            "ssn": SSNS,
            "phone": PHONES,
            "notes": NOTES,
            "plan": ["pro", "free"] * (ROWS // 2),
        }
    )
    (tmp_path / "in").mkdir()
    pq.write_table(table, tmp_path / "in" / "customers.parquet")
    return tmp_path


def _run(args: list[str], exit_code: int = 0) -> str:
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == exit_code, result.output
    return result.output


def _leaks(text: str) -> list[str]:
    return [c for c in CANARIES if c in text]


def _readable(name: str, data: bytes) -> str:
    """The file's text, with a ledger's base64 payloads decoded (a plain search
    of the envelopes could never find a value inside them)."""
    text = data.decode("utf-8", "replace")
    if name.endswith(".jsonl"):
        payloads = [
            base64.b64decode(json.loads(line)["payload"]) for line in data.splitlines() if line.strip()
        ]
        assert payloads, name
        text += "\n".join(p.decode("utf-8", "replace") for p in payloads)
    return text


def test_no_canary_in_any_file_output_or_log(workspace: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    src, ev = workspace / "in" / "customers.parquet", workspace / "ev"
    printed = [
        _run(
            [
                "protect",
                str(src),
                str(workspace / "out") + "/",
                "--evidence-dir",
                str(ev),
                "--no-orchestrator",
            ]
        ),
        _run(["scan", str(src), "--format", "json"], exit_code=1),  # fail_on entities in the input
    ]
    [evidence] = ev.glob("*.evidence.json")
    printed += [
        _run(["report", str(evidence), "--format", "md"]),
        _run(["report", str(evidence), "--format", "html", "--out", str(workspace / "report.html")]),
        _run(["verify", str(ev / "ledger.jsonl"), "--evidence", str(ev)]),
        _run(["export", "oscal", str(evidence), "--out", str(workspace / "oscal.json")]),
        _run(
            [
                "audit-pack",
                "--since",
                "2000-01-01",
                "--until",
                "2100-01-01",
                str(workspace / "pack.zip"),
                "--evidence-dir",
                str(ev),
            ]
        ),
        _run(["controls", "--format", "json"]),
    ]
    produced = [p for p in workspace.rglob("*") if p.is_file() and p != src]
    assert {p.suffix for p in produced} >= {".json", ".jsonl", ".md", ".html", ".zip", ".parquet"}
    for path in produced:
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            text = json.dumps(table.to_pylist(), default=str)
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as pack:
                assert any(name.endswith(".jsonl") for name in pack.namelist())
                text = "\n".join(_readable(name, pack.read(name)) for name in pack.namelist())
        else:
            text = _readable(path.name, path.read_bytes())
        assert _leaks(text) == [], path.name
    assert _leaks("\n".join(printed)) == []
    assert any(r.name == "ingestguard" for r in caplog.records), (
        "the run's own DEBUG records were not captured"
    )
    assert _leaks("\n".join(r.getMessage() for r in caplog.records)) == []


def test_no_value_or_key_material_from_the_key_and_reidentification_commands(
    workspace: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """tokenize/fpe protect, keys rotate/rekey/destroy/list and an allowed detokenize:
    no canary outside the re-identified file itself, and no key material anywhere."""
    caplog.set_level(logging.DEBUG)
    home = workspace / "home"
    policy = workspace / "policy.yaml"
    policy.write_text(
        "actions: {EMAIL_ADDRESS: tokenize, US_SSN: fpe}\n"
        "reidentification: {purposes: [fraud-investigation], entities: [EMAIL_ADDRESS, US_SSN]}\n"
        f"ledger: {workspace / 'ev' / 'ledger.jsonl'}\n"
    )
    src, ev = workspace / "in" / "customers.parquet", workspace / "ev"
    out, rekeyed, plain = (
        workspace / "out.parquet",
        workspace / "rekeyed.parquet",
        workspace / "plain.parquet",
    )
    printed = [
        _run(
            ["protect", str(src), str(out), "--evidence-dir", str(ev), "--no-orchestrator", "-p", str(policy)]
        ),
        _run(["keys", "rotate", "-p", str(policy)]),
        _run(
            [
                "keys",
                "rekey",
                str(out),
                str(rekeyed),
                "--columns",
                "email,notes",
                "--fpe",
                "ssn:US_SSN@1",
                "-p",
                str(policy),
            ]
        ),
        _run(["keys", "destroy", "1", "--yes", "-p", str(policy)]),
        _run(["keys", "list", "-p", str(policy)]),
        _run(
            [
                "detokenize",
                str(rekeyed),
                str(plain),
                "--columns",
                "email,notes,ssn:US_SSN@2",
                "--purpose",
                "fraud-investigation",
                "--actor",
                "auditor",
                "-p",
                str(policy),
            ]
        ),
        _run(["verify", str(ev / "ledger.jsonl"), "--evidence", str(ev)]),
    ]
    restored = pq.read_table(plain)
    assert restored.column("email").to_pylist() == EMAILS and restored.column("ssn").to_pylist() == SSNS
    secrets = [(home / name).read_bytes().strip() for name in ("kek", "key") if (home / name).exists()] + [
        line for line in (home / "signing_key.pem").read_bytes().splitlines() if b"-----" not in line
    ]
    assert secrets, "no key material found to search for"
    secret_texts = [s.decode("ascii", "replace") for s in secrets if len(s) >= 16]
    for path in workspace.rglob("*"):
        if not path.is_file() or path.parent == home or path == src:
            continue
        data = path.read_bytes()
        text = (
            _readable(path.name, data)
            if path.suffix != ".parquet"
            else json.dumps(pq.read_table(path).to_pylist(), default=str)
        )
        assert [s for s in secret_texts if s in text] == [], path.name
        if path != plain:
            assert _leaks(text) == [], path.name
    logs = "\n".join([*printed, *(r.getMessage() for r in caplog.records)])
    assert _leaks(logs) == [] and [s for s in secret_texts if s in logs] == []
