"""End to end through the CLI and a real Prefect server (the session's; the
CLI's own temporary server, as a user without PREFECT_API_URL runs it, is
tested end to end in test_no_network, whose fresh database costs 18 s a run).

2,000 rows x 10 columns of seeded sensitive data: nothing seeded may remain in
any output value, evidence, report or log line, and untouched columns must be
identical to the input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ingestguard.demo import write_demo
from tests.support.leaks import leaked, leaked_in_text

# Four row groups of demo rows with free-text notes: every column kind, at a cost the suite can carry.
ROWS = 2_000
SENSITIVE = ["full_name", "email", "phone", "ssn", "card_number"]
UNTOUCHED = ["customer_id", "plan", "signup_at", "amount"]
KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="


def run_cli(
    args: list[str], home: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        {"PREFECT_HOME": str(home / "prefect"), "INGESTGUARD_KEY": KEY, "INGESTGUARD_HOME": str(home / "ig")}
    )
    env.update(extra_env or {})
    exe = Path(sys.executable).with_name("ingestguard")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def flow_run(tmp_path_factory, prefect_api):
    base = tmp_path_factory.mktemp("e2e")
    src = write_demo(base / "in" / "customers.parquet", rows=ROWS, seed=11, row_group_size=ROWS // 4)
    args = ["protect", str(src), str(base / "out") + "/", "--evidence-dir", str(base / "ev")]
    proc = run_cli(args, base, {"PREFECT_API_URL": prefect_api})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return base, src, proc


def seeded_values(src: Path) -> set[str]:
    table = pq.read_table(src, columns=SENSITIVE)
    return {v for c in SENSITIVE for v in table.column(c).to_pylist() if v}


def test_no_seeded_value_left_in_any_output_value(flow_run):
    base, src, _ = flow_run
    out = pq.read_table(base / "out" / "customers.parquet")
    seeded = seeded_values(src)
    assert len(seeded) > 4 * ROWS * 0.9
    for name in out.column_names:
        if out.schema.field(name).type in ("string", "large_string"):
            assert leaked(seeded, out.column(name).to_pylist()) == set(), name


def test_untouched_columns_identical_and_rows_in_order(flow_run):
    base, src, _ = flow_run
    before, after = pq.read_table(src), pq.read_table(base / "out" / "customers.parquet")
    assert after.num_rows == before.num_rows == ROWS
    assert after.schema == before.schema
    for name in UNTOUCHED:
        assert after.column(name).equals(before.column(name)), name
    assert after.column("ssn").null_count == ROWS  # redacted by the default policy
    masked = after.column("card_number").to_pylist()
    cards = before.column("card_number").to_pylist()
    assert all(m == "*" * (len(c) - 4) + c[-4:] for m, c in zip(masked, cards, strict=True))
    assert pc.all(pc.starts_with(after.column("email"), "EMAIL_ADDRESS_")).as_py()


def test_evidence_names_every_column(flow_run):
    base, src, _ = flow_run
    [evidence_file] = (base / "ev").glob("*.evidence.json")
    ev = json.loads(evidence_file.read_text())
    assert ev["status"] == "passed" and ev["mode"] == "protect"
    assert ev["orchestrator"].startswith("prefect:")
    [f] = ev["files"]
    assert f["rows"] == f["output_rows"] == ROWS
    cols = {c["name"]: c for c in f["columns"]}
    assert list(cols) == pq.read_schema(src).names
    expected = {
        "full_name": ("entity", "PERSON", "pseudonymize"),
        "email": ("entity", "EMAIL_ADDRESS", "pseudonymize"),
        "phone": ("entity", "PHONE_NUMBER", "mask"),
        "ssn": ("entity", "US_SSN", "redact"),
        "card_number": ("entity", "CREDIT_CARD", "mask"),
        "notes": ("free_text", None, "per_span"),
        "plan": ("clean", None, "keep"),
        "customer_id": ("not_text", None, "keep"),
        "signup_at": ("not_text", None, "keep"),
        "amount": ("not_text", None, "keep"),
    }
    for name, (cls, entity, action) in expected.items():
        assert (cols[name]["classification"], cols[name]["entity"], cols[name]["action"]) == (
            cls,
            entity,
            action,
        )
    for name in SENSITIVE:
        assert cols[name]["values_transformed"] == ROWS
        assert cols[name]["findings"] == {cols[name]["entity"]: ROWS}
    assert cols["notes"]["findings"]["EMAIL_ADDRESS"] > 0 and cols["notes"]["findings"]["PERSON"] > 0
    statuses = {c["id"]: c["status"] for c in ev["controls"]}
    assert statuses["IG-PROTECT"] == statuses["IG-EVIDENCE"] == "satisfied"
    assert (
        f["output_sha256"]
        == __import__("hashlib").sha256((base / "out" / "customers.parquet").read_bytes()).hexdigest()
    )


def test_no_seeded_value_in_evidence_report_or_logs(flow_run):
    base, src, proc = flow_run
    seeded = seeded_values(src)
    texts = [p.read_text() for p in (base / "ev").iterdir()] + [proc.stdout, proc.stderr]
    for text in texts:
        assert leaked_in_text(seeded, text) == set()


def test_in_process_run_writes_the_same_bytes(flow_run):
    base, src, _ = flow_run
    proc = run_cli(
        [
            "protect",
            str(src),
            str(base / "inproc.parquet"),
            "--no-orchestrator",
            "--evidence-dir",
            str(base / "ev2"),
        ],
        base,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (base / "inproc.parquet").read_bytes() == (base / "out" / "customers.parquet").read_bytes()


def test_the_flow_run_is_recorded_in_a_ledger_that_verifies(flow_run):
    from ingestguard.keys import load_signing_key
    from ingestguard.reports.ledger import read_records, verify

    base, _, _ = flow_run
    [evidence_file] = (base / "ev").glob("*.evidence.json")
    ev = json.loads(evidence_file.read_text())
    ledger = base / "ev" / "ledger.jsonl"
    [record] = read_records(ledger)
    assert ev["ledger"] == {"path": "ledger.jsonl", "sequence": 0, "previous_sha256": "0" * 64}
    assert (record["run_id"], record["evidence_sha256"], record["status"]) == (
        ev["run_id"],
        ev["evidence_sha256"],
        "passed",
    )
    assert verify(ledger, load_signing_key(base / "ig" / "signing_key.pem").public_key(), [ev]).ok
