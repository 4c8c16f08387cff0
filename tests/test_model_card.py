"""`ingestguard model-card RUN_ID` and `ingestguard.model_card`: Markdown from one signed run."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow as pa
import pytest
from typer.testing import CliRunner

import ingestguard
from ingestguard import Guard
from ingestguard.cli import app
from ingestguard.errors import InputError, LedgerError, UnprotectedDataError
from ingestguard.reports.controls import CATALOG

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
EMAILS = [f"member{i}.card@example.org" for i in range(40)]


@pytest.fixture(autouse=True)
def _home(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


@pytest.fixture
def run(tmp_path):
    ledger = tmp_path / "evidence" / "ledger.jsonl"
    table = pa.table({"id": list(range(40)), "email": EMAILS, "plan": ["basic", "pro"] * 20})
    out, evidence = Guard(ledger=ledger).protect(table)
    return ledger, out, evidence


def test_model_card_says_what_was_scanned_found_done_and_where_it_is_recorded(run):
    ledger, out, evidence = run
    card = ingestguard.model_card(evidence.run_id, ledger)
    line = json.loads(ledger.read_text().splitlines()[0])
    assert card.startswith("## Training data protection (ingestguard)\n")
    assert f"Run `{evidence.run_id}`: **protect passed**" in card
    f = evidence.files[0]
    assert f"| `<table>` | `{f.input_sha256}` | 40 | 3 | `{f.output_sha256}` | 40 |" in card
    assert "| EMAIL_ADDRESS | pseudonymize | 40 |" in card
    assert "Record 0 of `ledger.jsonl`" in card
    assert f"signed with Ed25519 key id `{line['signatures'][0]['keyid']}`" in card
    assert f"evidence document sha256 `{evidence.evidence_sha256}`" in card
    for control in CATALOG:
        assert f"| {control.id} {control.title} |" in card
    assert "Criteria supported by this run's satisfied controls: " in card and "C1.1" in card
    assert not [e for e in EMAILS if e in card]


def test_the_gate_gives_the_run_id_the_card_takes(run):
    ledger, out, evidence = run
    proof = ingestguard.require_protected(out, ledger=ledger)
    assert f"Run `{proof.run_ids[0]}`" in ingestguard.model_card(proof.run_ids[0], ledger)


def test_an_edited_evidence_document_is_refused(run):
    ledger, _, evidence = run
    path = ledger.parent / f"table.{evidence.run_id}.evidence.json"
    doc = json.loads(path.read_text())
    doc["files"][0]["rows"] = 41
    path.write_text(json.dumps(doc))
    with pytest.raises(LedgerError, match="not the one the ledger holds"):
        ingestguard.model_card(evidence.run_id, ledger)


def test_an_unknown_run_and_a_missing_ledger_are_named(run, tmp_path):
    ledger, _, _ = run
    with pytest.raises(InputError, match="no protect run 20990101T000000Z-00000000"):
        ingestguard.model_card("20990101T000000Z-00000000", ledger)
    with pytest.raises(InputError, match="no ledger named"):
        ingestguard.model_card("x")
    with pytest.raises(UnprotectedDataError):  # the gate says the same of a ledger it cannot read
        ingestguard.require_protected(pa.table({"a": [1]}), ledger=tmp_path / "nowhere.jsonl")


def test_cli_prints_the_card_and_exits_2_on_an_unknown_run(run):
    ledger, _, evidence = run
    result = CliRunner().invoke(app, ["model-card", evidence.run_id, "--ledger", str(ledger)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ingestguard.model_card(evidence.run_id, ledger)
    result = CliRunner().invoke(app, ["model-card", "nope", "--ledger", str(ledger)])
    assert result.exit_code == 2


def test_the_library_name_stays_the_function_once_the_module_is_loaded():
    # In a fresh process: the CLI command imports the module before anyone asks
    # for `ingestguard.model_card`, which must still be the function then.
    code = "import ingestguard.model_cards, ingestguard; assert callable(ingestguard.model_card)"
    subprocess.run([sys.executable, "-c", code], check=True)
