"""OSCAL export: valid 1.2 assessment-results, one finding per control, right statuses.

Runs are real: a passing one from `Guard().protect(df)` and a failing one (an
SSN kept although `fail_on` lists it) from `protect_file`, which writes its
evidence before raising. Validation uses compliance-trestle's models, which
the runtime never imports.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingestguard import Guard, Policy, PolicyViolation
from ingestguard.cli import app
from ingestguard.demo import synthetic_table
from ingestguard.errors import ExportError
from ingestguard.reports import oscal
from ingestguard.reports.controls import CATALOG

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
CANARY_NAME = "Quillon Zarvendt"
CANARY_EMAIL = "canary.q7x9k2@example.org"
CANARY_SSN = "412-73-8654"
CANARIES = (CANARY_NAME, CANARY_EMAIL, CANARY_SSN, CANARY_SSN.replace("-", ""))
V1_STATUS = {"passed": "satisfied", "failed": "not-satisfied", "not_applicable": "not-applicable"}


def canary_table(rows: int = 40) -> pa.Table:
    """The demo customers with one row's name, email and SSN replaced by canaries."""
    table = synthetic_table(rows)
    for column, value in (("full_name", CANARY_NAME), ("email", CANARY_EMAIL), ("ssn", CANARY_SSN)):
        values = table.column(column).to_pylist()
        values[3] = value
        table = table.set_column(table.schema.get_field_index(column), column, pa.array(values))
    return table


def make_runs(root: Path) -> tuple[Path, Path]:
    """A passing and a failing run's evidence files under `root` (env must hold a key)."""
    table = canary_table()
    _, passed = Guard().protect(table.to_pandas())
    good = passed.write(root / "passing" / f"out.{passed.run_id}.evidence.json")
    src = root / "in.parquet"
    pq.write_table(table, src)
    keep_ssn = Policy(actions={"US_SSN": "keep"}, fail_on=["US_SSN"])
    with pytest.raises(PolicyViolation):
        Guard(keep_ssn).protect_file(src, root / "out.parquet", evidence_dir=root / "failing")
    [bad] = (root / "failing").glob("*.evidence.json")
    return good, bad


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("oscal")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INGESTGUARD_KEY", KEY)
        mp.setenv("INGESTGUARD_HOME", str(root / "home"))
        return make_runs(root)


@pytest.fixture(scope="module")
def exported(runs) -> dict:
    return oscal.assessment_results(oscal.read_all(runs))


def _findings(document: dict, run_id: str) -> dict[str, dict]:
    [result] = [r for r in document["assessment-results"]["results"] if run_id in r["title"]]
    return {f["target"]["target-id"]: f for f in result["findings"]}


def _status(finding: dict) -> str:
    return next(p["value"] for p in finding["props"] if p["name"] == "ingestguard-status")


def test_validates_with_trestle_oscal_1_2_models(exported: dict) -> None:
    models = pytest.importorskip(
        "trestle.oscal.assessment_results", reason="compliance-trestle (the test extra) is not installed"
    )
    import trestle.oscal

    model = models.AssessmentResults.model_validate(exported["assessment-results"])
    assert exported["assessment-results"]["metadata"]["oscal-version"] == trestle.oscal.OSCAL_VERSION
    assert trestle.oscal.OSCAL_VERSION.startswith("1.2.")
    assert len(model.results) == 2
    # the whole document form, as a user validates a file
    models.Model.model_validate(json.loads(oscal.to_json(exported)))


def test_one_finding_and_one_observation_per_catalog_control_per_run(exported: dict) -> None:
    for result in exported["assessment-results"]["results"]:
        assert [f["target"]["target-id"] for f in result["findings"]] == [c.id for c in CATALOG]
        assert len(result["observations"]) == len(CATALOG)
        selected = result["reviewed-controls"]["control-selections"][0]["include-controls"]
        assert [s["control-id"] for s in selected] == [c.id for c in CATALOG]


@pytest.mark.parametrize("which", [0, 1], ids=["passing", "failing"])
def test_statuses_follow_the_evidence(runs, exported: dict, which: int) -> None:
    doc = json.loads(runs[which].read_text())
    findings = _findings(exported, doc["run_id"])
    reported = {c["id"]: V1_STATUS.get(c["status"], c["status"]) for c in doc["controls"]}
    for control in CATALOG:
        finding = findings[control.id]
        expected = reported.get(control.id, "not-applicable")
        assert _status(finding) == expected
        state = finding["target"]["status"]
        if expected == "not-satisfied":
            assert (state["state"], state["reason"]) == ("not-satisfied", "fail")
        elif expected == "satisfied":
            assert (state["state"], state["reason"]) == ("satisfied", "pass")
        else:  # not a deficiency, but never claimed as a pass; the finding says why
            assert (state["state"], state["reason"]) == ("satisfied", "other")
            assert finding["target"]["implementation-status"]["state"] == "not-applicable"
            assert finding["description"].startswith("Not applicable to this run")
        assert [p["value"] for p in finding["props"] if p["name"] == "soc2-criterion"] == list(
            control.criteria
        )


def test_passing_and_failing_runs_differ_where_they_should(runs, exported: dict) -> None:
    good = _findings(exported, json.loads(runs[0].read_text())["run_id"])
    bad = _findings(exported, json.loads(runs[1].read_text())["run_id"])
    assert _status(good["IG-PROTECT"]) == _status(good["IG-FAIL"]) == "satisfied"
    assert _status(bad["IG-FAIL"]) == "not-satisfied"
    assert _status(bad["IG-PROTECT"]) == "not-satisfied"


def test_observations_cite_the_evidence_file_digest_reason_and_pointers(runs, exported: dict) -> None:
    path = runs[1]
    doc = json.loads(path.read_text())
    [result] = [r for r in exported["assessment-results"]["results"] if doc["run_id"] in r["title"]]
    by_id = {o["uuid"]: o for o in result["observations"]}
    sha = oscal.read_evidence_file(path).sha256
    for finding in result["findings"]:
        observation = by_id[finding["related-observations"][0]["observation-uuid"]]
        hrefs = [e["href"] for e in observation["relevant-evidence"]]
        assert any(sha in e["description"] for e in observation["relevant-evidence"])
        assert any(h.startswith(f"{path.name}#/controls") for h in hrefs)
        assert observation["description"]  # the reason
    resources = exported["assessment-results"]["back-matter"]["resources"]
    hashes = [h["value"] for r in resources for link in r.get("rlinks", []) for h in link["hashes"]]
    assert sha in hashes
    plan = exported["assessment-results"]["import-ap"]["href"]
    assert plan.lstrip("#") in {r["uuid"] for r in resources}


def test_uuids_are_v5_deterministic_and_times_timezone_aware(runs, exported: dict) -> None:
    text = oscal.to_json(exported)
    assert oscal.to_json(oscal.assessment_results(oscal.read_all(reversed(runs)))) == text

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                yield k, v
                yield from walk(v)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v)

    pairs = list(walk(exported))
    ids = [v for k, v in pairs if k == "uuid" or k.endswith("-uuid")]
    assert ids and all(uuid.UUID(v).version == 5 for v in ids)
    assert len({v for k, v in pairs if k == "uuid"}) == len([1 for k, _ in pairs if k == "uuid"])
    times = [v for k, v in pairs if k in ("start", "end", "collected", "last-modified")]
    assert times and all(datetime.fromisoformat(t).tzinfo is not None for t in times)


def test_cli_export_writes_the_same_document_and_no_canary(runs, exported: dict, tmp_path) -> None:
    target = tmp_path / "ar.json"
    result = CliRunner().invoke(app, ["export", "oscal", *map(str, runs), "--out", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert json.loads(text) == exported
    assert not [c for c in CANARIES if c in text]
    assert not [c for c in CANARIES if any(c in p.read_text() for p in runs)]


def test_not_an_evidence_file_is_a_typed_one_line_error(tmp_path) -> None:
    bogus = tmp_path / "x.evidence.json"
    bogus.write_text('{"hello": 1}')
    with pytest.raises(ExportError, match="not an ingestguard evidence file"):
        oscal.read_evidence_file(bogus)
    result = CliRunner().invoke(app, ["export", "oscal", str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and "evidence file not found" in result.output


def test_runtime_never_imports_trestle() -> None:
    code = (
        "import sys, ingestguard.reports.oscal, ingestguard.reports.pack, ingestguard.commands_export;"
        "sys.exit(any(m.split('.')[0] == 'trestle' for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
