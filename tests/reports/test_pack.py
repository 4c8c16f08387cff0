"""Audit pack: the period's evidence and ledger slice, CSVs, key, OSCAL, and a
manifest whose digests hold when re-hashed; never a raw value."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingestguard.cli import app
from ingestguard.errors import ExportError
from ingestguard.reports import pack
from ingestguard.reports.controls import CATALOG
from ingestguard.reports.evidence import Evidence
from tests.reports.test_oscal import CANARIES, KEY, make_runs

# run name -> (started_at, passing?): October is outside the November period.
RUNS = {
    "oct": (datetime(2026, 10, 30, 23, 0, tzinfo=UTC), True),
    "nov-a": (datetime(2026, 11, 1, 0, 0, tzinfo=UTC), True),
    "nov-b": (datetime(2026, 11, 30, 23, 59, tzinfo=UTC), False),
    "dec": (datetime(2026, 12, 1, 0, 0, tzinfo=UTC), True),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """An evidence directory with four runs on known dates and a signed ledger of them."""
    root = tmp_path_factory.mktemp("pack")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INGESTGUARD_KEY", KEY)
        mp.setenv("INGESTGUARD_HOME", str(root / "home"))
        good, bad = make_runs(root / "runs")
        evidence_dir = root / "evidence"
        docs = {}
        for name, (start, passing) in RUNS.items():
            base = Evidence.read(good if passing else bad)
            doc = base.model_copy(
                update={"run_id": f"{name}-{base.run_id}", "started_at": start, "finished_at": start}
            ).seal()
            docs[name] = doc
            doc.write(evidence_dir / f"out.{doc.run_id}.evidence.json")
        ledger_mod = pytest.importorskip("ingestguard.reports.ledger", reason="the ledger is not built yet")
        from ingestguard.keys import load_signing_key

        ledger = ledger_mod.Ledger(evidence_dir / "ledger.jsonl", load_signing_key())
        for doc in docs.values():
            with ledger.next_position() as position:
                ledger.append(
                    position,
                    kind="protect",
                    run_id=doc.run_id,
                    subjects=[ledger_mod.Subject("out.parquet", "0" * 64)],
                    details={"evidence_sha256": doc.evidence_sha256},
                )
        yield root, evidence_dir, docs


@pytest.fixture
def env(world, monkeypatch):
    root = world[0]
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(root / "home"))


def _pack(world, tmp_path, *extra: str) -> tuple[zipfile.ZipFile, dict]:
    _, evidence_dir, _ = world
    out = tmp_path / "audit.zip"
    args = ["audit-pack", "--since", "2026-11-01", "--until", "2026-11-30", str(out)]
    result = CliRunner().invoke(app, [*args, "--evidence-dir", str(evidence_dir), *extra])
    assert result.exit_code == 0, result.output
    zf = zipfile.ZipFile(out)
    return zf, json.loads(zf.read("manifest.json"))


def test_pack_holds_the_period_and_every_digest_rehashes(world, env, tmp_path) -> None:
    zf, manifest = _pack(world, tmp_path)
    _, _, docs = world
    names = set(zf.namelist())
    listed = {f["path"]: f for f in manifest["files"]}
    assert names == {*listed, "manifest.json"}
    for path, entry in listed.items():
        data = zf.read(path)
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (entry["sha256"], entry["bytes"])
    assert [r["run_id"] for r in manifest["runs"]] == [docs["nov-a"].run_id, docs["nov-b"].run_id]
    assert {n for n in names if n.startswith("evidence/")} == {
        f"evidence/out.{docs[k].run_id}.evidence.json" for k in ("nov-a", "nov-b")
    }
    assert {"controls.csv", "control-summary.csv", "oscal/assessment-results.json"} <= names
    assert zf.read("keys/ledger-signing-key.pub.pem").startswith(b"-----BEGIN PUBLIC KEY-----")
    assert not manifest["ledger"]["evidence_not_in_ledger"]
    assert not manifest["ledger"]["evidence_digest_differs"]
    assert manifest["warnings"] == []
    assert not list(tmp_path.glob(".*partial"))


def test_ledger_slice_is_the_period_records_copied_byte_for_byte(world, env, tmp_path) -> None:
    zf, manifest = _pack(world, tmp_path)
    _, evidence_dir, _ = world
    lines = (evidence_dir / "ledger.jsonl").read_bytes().splitlines(keepends=True)
    assert zf.read("ledger/ledger.jsonl") == b"".join(lines[1:3])  # nov-a and nov-b only
    note = manifest["ledger"]
    assert (note["first_sequence"], note["last_sequence"], note["records_in_ledger"]) == (1, 2, 4)


def test_controls_and_summary_csvs(world, env, tmp_path) -> None:
    zf, _ = _pack(world, tmp_path)
    pairs = list(csv.DictReader(io.StringIO(zf.read("controls.csv").decode())))
    assert [(r["control_id"], r["criterion"]) for r in pairs] == [
        (c.id, k) for c in CATALOG for k in c.criteria
    ]
    rows = {r["control"]: r for r in csv.DictReader(io.StringIO(zf.read("control-summary.csv").decode()))}
    assert list(rows) == [c.id for c in CATALOG]
    for control in CATALOG:
        row = rows[control.id]
        assert row["criteria"] == " ".join(control.criteria)
        counts = [int(row[k]) for k in ("satisfied", "not_satisfied", "not_applicable")]
        assert int(row["runs"]) == sum(counts) == 2
    # one passing and one failing run: the violation control is satisfied once, not once
    assert (rows["IG-FAIL"]["satisfied"], rows["IG-FAIL"]["not_satisfied"]) == ("1", "1")


def test_a_datetime_period_is_half_open(world) -> None:
    _, evidence_dir, docs = world
    period = pack.parse_period("2026-11-30T23:59:00Z", "2026-12-01T00:00:00Z")
    assert [e.run_id for e in pack.select_evidence(evidence_dir, period)] == [docs["nov-b"].run_id]


def test_no_ledger_is_stated_in_the_manifest_not_a_failure(world, env, tmp_path) -> None:
    _, evidence_dir, _ = world
    zf, manifest = _pack(world, tmp_path, "--ledger", str(tmp_path / "none.jsonl"))
    assert manifest["ledger"]["status"] == "absent"
    assert "not chain-verified" in manifest["ledger"]["reason"]
    assert any("no ledger" in w for w in manifest["warnings"])
    assert not [n for n in zf.namelist() if n.startswith("ledger/")]


def test_no_raw_value_in_any_file_of_the_pack(world, env, tmp_path) -> None:
    zf, _ = _pack(world, tmp_path)
    for name in zf.namelist():
        text = zf.read(name).decode("utf-8")
        assert not [c for c in CANARIES if c in text], name
    assert not [c for c in CANARIES if c.encode() in (tmp_path / "audit.zip").read_bytes()]


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2026-13-01", "2026-12-01", "is not a date"),
        ("2026-12-02", "2026-12-01", "is not after"),
        ("2020-01-01", "2020-01-31", "no evidence in"),
    ],
)
def test_bad_periods_are_typed_errors_and_write_nothing(world, tmp_path, since, until, message) -> None:
    _, evidence_dir, _ = world
    out = tmp_path / "audit.zip"
    with pytest.raises(ExportError, match=message):
        pack.build_pack(out, evidence_dir, pack.parse_period(since, until))
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_is_a_typed_error(world) -> None:
    _, evidence_dir, _ = world
    with pytest.raises(ExportError, match="output directory not found"):
        pack.build_pack(
            Path("/nonexistent/dir/a.zip"), evidence_dir, pack.parse_period("2026-11-01", "2026-11-30")
        )
