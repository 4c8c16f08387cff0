"""The control catalog and real runs' control results: criteria auditors know,
outcomes that follow from the evidence, pointers that land inside it, a schema
file that matches the model, and the `controls` command in every format."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from typer.testing import CliRunner

from ingestguard import Guard, Policy
from ingestguard.cli import app
from ingestguard.demo import synthetic_table
from ingestguard.pipeline import protect_table
from ingestguard.reports.controls import CATALOG, CHECKS
from ingestguard.reports.evidence import SCHEMA_FILE, Evidence, LedgerPosition, json_schema
from ingestguard.runs import new_run, run_evidence

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="

# The 61 criteria of the 2017 TSC (soc2-tsc.md): 33 common, 3 availability,
# 2 confidentiality, 5 processing integrity, 18 privacy.
TSC_2017 = frozenset(
    [f"CC1.{i}" for i in range(1, 6)]
    + [f"CC2.{i}" for i in range(1, 4)]
    + [f"CC3.{i}" for i in range(1, 5)]
    + [f"CC4.{i}" for i in range(1, 3)]
    + [f"CC5.{i}" for i in range(1, 4)]
    + [f"CC6.{i}" for i in range(1, 9)]
    + [f"CC7.{i}" for i in range(1, 6)]
    + ["CC8.1", "CC9.1", "CC9.2"]
    + ["A1.1", "A1.2", "A1.3", "C1.1", "C1.2"]
    + [f"PI1.{i}" for i in range(1, 6)]
    + ["P1.1", "P2.1", "P3.1", "P3.2", "P4.1", "P4.2", "P4.3", "P5.1", "P5.2"]
    + [f"P6.{i}" for i in range(1, 8)]
    + ["P7.1", "P8.1"]
)
# The per-run mapping proposed in soc2-tsc.md, one row per control.
PROPOSED = {
    "IG-SCAN": ("C1.1", "P3.1", "PI1.2", "CC2.1", "CC3.2"),
    "IG-PROTECT": ("P4.1", "C1.1", "CC6.1", "CC6.7", "PI1.3", "PI1.4"),
    "IG-KEYS": ("CC6.1",),
    "IG-REIDENTIFY": ("CC6.1", "CC6.3", "P4.1", "P6.2"),
    "IG-DISPOSAL": ("C1.2", "P4.2", "P4.3", "CC6.5"),
    "IG-EVIDENCE": ("CC2.1", "PI1.3", "PI1.5", "CC4.1"),
    "IG-FAIL": ("CC7.2", "CC7.3", "CC4.2", "P6.3"),
    "IG-VERSIONS": ("CC8.1", "CC7.1"),
    "IG-RECONCILE": ("PI1.2", "PI1.4", "PI1.5"),
}
LEDGER = LedgerPosition(path="evidence/ledger.jsonl", sequence=7, previous_sha256="d" * 64)


@pytest.fixture(autouse=True)
def _key(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


def resolve(doc: object, pointer: str) -> object:
    """RFC 6901: the value `pointer` names in `doc`; KeyError or IndexError if none."""
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        doc = doc[int(token)] if isinstance(doc, list) else doc[token]
    return doc


def statuses(ev: Evidence) -> dict[str, str]:
    return {c.id: c.status for c in ev.controls}


def test_the_tsc_list_has_the_61_criteria_of_soc2_tsc_md():
    assert len(TSC_2017) == 61
    assert sum(c.startswith("CC") for c in TSC_2017) == 33
    assert sum(c.startswith("P") and not c.startswith("PI") for c in TSC_2017) == 18


def test_catalog_criteria_are_well_formed_known_and_as_proposed():
    assert [c.id for c in CATALOG] == list(PROPOSED)
    for control in CATALOG:
        assert control.criteria == PROPOSED[control.id]
        for criterion in control.criteria:
            assert re.fullmatch(r"(CC[1-9]|A1|C1|PI1|P[1-8])\.[1-9]", criterion), criterion
            assert criterion in TSC_2017, criterion
        assert control.title and "\n" not in control.title
        assert control.test and "\n" not in control.test
    assert set(CHECKS) == {c.id for c in CATALOG}


@pytest.fixture(scope="module")
def passing(tmp_path_factory) -> tuple[Evidence, set[str]]:
    """A real protect run of a DataFrame with one column skipped by policy, and the sensitive values."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INGESTGUARD_KEY", KEY)
        mp.setenv("INGESTGUARD_HOME", str(tmp_path_factory.mktemp("home")))
        table = synthetic_table(60, seed=3)
        _, evidence = Guard(Policy(columns={"plan": {"skip": True}})).protect(table.to_pandas())
    raw = {
        str(v)
        for name in ("full_name", "email", "phone", "ssn", "card_number")
        for v in table[name].to_pylist()
    }
    return evidence, raw


def test_passing_protect_run_controls(passing):
    ev, _ = passing
    assert ev.status == "passed" and ev.schema_version == "3"
    assert statuses(ev) == {
        "IG-SCAN": "satisfied",
        "IG-PROTECT": "satisfied",
        "IG-KEYS": "satisfied",
        "IG-REIDENTIFY": "not-applicable",
        "IG-DISPOSAL": "not-applicable",
        "IG-EVIDENCE": "not-satisfied",
        "IG-FAIL": "satisfied",
        "IG-VERSIONS": "satisfied",
        "IG-RECONCILE": "satisfied",
    }
    reasons = {c.id: c.reason for c in ev.controls}
    assert reasons["IG-SCAN"] == "6 of 10 columns in 1 file scanned; 4 not scanned, each with its reason"
    assert reasons["IG-KEYS"].startswith("key igk_") and "no key material" in reasons["IG-KEYS"]
    assert reasons["IG-EVIDENCE"].startswith("the run wrote no ledger record")
    # In-memory data is named by its Arrow content digest (ingestguard/digest.py).
    assert reasons["IG-RECONCILE"] == "row counts equal in 1 file; sha256 of every input and output recorded"
    assert "re-identifies nothing" in reasons["IG-REIDENTIFY"]
    assert "disposes of no data or key version" in reasons["IG-DISPOSAL"]


def test_not_scanned_names_each_unread_column_and_why(passing):
    ev, _ = passing
    assert [(n.file, n.column, n.reason) for n in ev.not_scanned] == [
        ("<dataframe>", "customer_id", "type int64 holds no text"),
        ("<dataframe>", "plan", "excluded by the policy (skip): neither scanned nor protected"),
        ("<dataframe>", "signup_at", "type timestamp[us, tz=UTC] holds no text"),
        ("<dataframe>", "amount", "type double holds no text"),
    ]


def test_every_pointer_resolves_inside_the_document(passing):
    ev, _ = passing
    doc = ev.with_ledger(LEDGER).model_dump(mode="json")
    for control in doc["controls"]:
        for pointer in control["pointers"]:
            resolve(doc, pointer)
    protect = next(c for c in doc["controls"] if c["id"] == "IG-PROTECT")
    assert protect["pointers"] == ["/totals/values_transformed", "/verify", "/files/0/residual"]


def test_ledger_position_satisfies_evidence_integrity_and_reseals(passing):
    ev, _ = passing
    placed = ev.with_ledger(LEDGER)
    assert statuses(placed)["IG-EVIDENCE"] == "satisfied"
    assert placed.evidence_sha256 != ev.evidence_sha256
    assert placed == ev.model_copy(update={"ledger": LEDGER}).seal()
    assert placed.seal() == placed  # sealing is idempotent: controls are derived data


def test_real_evidence_validates_against_the_committed_schema(passing):
    jsonschema = pytest.importorskip("jsonschema")
    ev, _ = passing
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(ev.model_dump(mode="json"))
    validator.validate(ev.with_ledger(LEDGER).model_dump(mode="json"))
    bad = ev.model_dump(mode="json")
    bad["controls"][0]["status"] = "passed"
    assert not validator.is_valid(bad)


def test_schema_file_is_up_to_date():
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == json_schema(), (
        'regenerate: python -c "import json; from ingestguard.reports.evidence import SCHEMA_FILE, json_schema; '
        "SCHEMA_FILE.write_text(json.dumps(json_schema(), indent=2) + '\\n')\""
    )


def test_no_raw_sensitive_value_reaches_the_evidence(passing):
    ev, raw = passing
    text = ev.with_ledger(LEDGER).model_dump_json()
    assert [v for v in raw if v in text] == []


def test_failing_run_leaves_fail_and_protect_not_satisfied():
    policy = Policy(actions={"US_SSN": "keep"}, fail_on=["US_SSN"])
    guard = Guard(policy)
    _, outcome = protect_table(synthetic_table(20, seed=4), guard.engine)
    ev = run_evidence(new_run(policy, "library", "library"), "protect", [outcome], guard.engine)
    assert ev.status == "failed"
    controls = {c.id: c for c in ev.controls}
    assert controls["IG-FAIL"].status == controls["IG-PROTECT"].status == "not-satisfied"
    assert controls["IG-FAIL"].reason == (
        "fail_on entities US_SSN left in the output; the run failed and published nothing"
    )
    assert controls["IG-FAIL"].pointers == ["/status", "/failure", "/verify/residual"]
    doc = ev.model_dump(mode="json")
    assert resolve(doc, "/verify/residual")["US_SSN"] == 20
    assert resolve(doc, "/failure") == "fail_on entities US_SSN left in the output"


runner = CliRunner()


def test_controls_command_json_is_the_catalog():
    result = runner.invoke(app, ["controls", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [
        {"id": c.id, "title": c.title, "test": c.test, "criteria": list(c.criteria)} for c in CATALOG
    ]


def test_controls_command_csv_has_one_row_per_control():
    result = runner.invoke(app, ["controls", "-f", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["id"], r["criteria"]) for r in rows] == [(c.id, ", ".join(c.criteria)) for c in CATALOG]
    assert rows[4]["title"] == "Retention and disposal, including crypto-shredding of a key version"


def test_controls_command_table_lists_each_control_with_its_criteria():
    result = runner.invoke(app, ["controls"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    for control in CATALOG:
        [line] = [x for x in lines if f" {control.id} " in x]
        assert ", ".join(control.criteria) in line and control.title in line
