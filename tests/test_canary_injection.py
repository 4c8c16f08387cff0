"""Canary injection: every canary value is one the detector must find, planting
keeps the host text, recall is measured honestly, and no canary reaches an output."""

from __future__ import annotations

import json
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingestguard.canary import CANARY_VALUES, CanaryCounts, CanaryProbe, canary_evidence, plant
from ingestguard.cli import app
from ingestguard.detectors.analyzer import Detector
from ingestguard.errors import PolicyError, PolicyViolation
from ingestguard.guard import Guard
from ingestguard.policy import CanarySettings, Policy
from ingestguard.reports.render import to_html, to_markdown

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
HOSTS = pa.array(
    [
        "The parcel arrived two days late and the box was torn.",
        "Réunion déplacée à jeudi, le café était fermé.",  # non-ASCII: offsets are characters
        "",
        None,
        "ok",
    ]
    * 20
)
PATTERN_ENTITIES = sorted(set(CANARY_VALUES) - {"PERSON"})


@pytest.fixture(autouse=True)
def _key(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("entity", sorted(CANARY_VALUES))
def test_plant_puts_the_value_at_its_span_and_keeps_the_host(entity):
    rng = random.Random(7)
    host = "Réunion déplacée à jeudi, le café était fermé."
    for _ in range(30):
        p = plant(host, entity, rng)
        value = p.text[p.start : p.end]
        assert value and value == value.strip() and p.entity == entity
        rest = (p.text[: p.start] + " " + p.text[p.end :]).split()
        assert set(host.split()) <= {w.strip("().,") for w in rest} | set(rest)
        assert p.start == 0 or p.text[p.start - 1] in " ("


def test_every_pattern_canary_is_found_by_the_pattern_recognizers(patterns):
    """Canary values must be ones the recognizers accept (validators included),
    or the measured recall would blame the detector for the canary's fault."""
    probe = CanaryProbe(CanarySettings(enabled=True, per_batch=200, entities=PATTERN_ENTITIES), patterns)
    for _ in range(3):
        probe.probe(HOSTS)
    counts = probe.counts.to_dict()
    assert sorted(counts) == PATTERN_ENTITIES
    for entity, c in counts.items():
        assert c["injected"] >= 60 and c["found"] == c["injected"], entity


def test_names_are_found_by_the_full_detector(detector):
    probe = CanaryProbe(CanarySettings(enabled=True, per_batch=30, entities=["PERSON"]), detector)
    probe.probe(HOSTS)
    c = probe.counts.to_dict()["PERSON"]
    assert c["injected"] == 30 and c["found"] >= 27  # placeholder names in plain carriers


def test_a_detector_that_misses_is_measured_as_missing():
    """Phones need a score of 0.99 here, which the phone recognizer never gives."""
    policy = Policy(entities=["PHONE_NUMBER", "EMAIL_ADDRESS"], thresholds={"PHONE_NUMBER": 0.99})
    probe = CanaryProbe(CanarySettings(enabled=True, per_batch=40), Detector(policy, ner=False))
    probe.probe(HOSTS)
    counts = probe.counts.to_dict()
    assert counts["PHONE_NUMBER"]["found"] == 0 and counts["PHONE_NUMBER"]["injected"] == 20
    assert counts["EMAIL_ADDRESS"] == {"injected": 20, "found": 20}


def test_only_entities_the_policy_looks_for_are_planted(patterns):
    policy = Policy(entities=["EMAIL_ADDRESS", "US_SSN"])
    probe = CanaryProbe(CanarySettings(enabled=True, per_batch=10), Detector(policy, ner=False))
    probe.probe(HOSTS)
    assert sorted(probe.counts.to_dict()) == ["EMAIL_ADDRESS", "US_SSN"]


def test_a_column_without_text_still_gets_canaries(patterns):
    probe = CanaryProbe(CanarySettings(enabled=True, per_batch=8, entities=["US_SSN"]), patterns)
    probe.probe(pa.array([None, None], pa.string()))
    probe.probe(pa.array([], pa.string()))
    assert probe.counts.to_dict() == {"US_SSN": {"injected": 16, "found": 16}}


def test_same_seed_same_canaries(patterns):
    def run(seed: int) -> list[str]:
        settings = CanarySettings(enabled=True, per_batch=12, seed=seed, entities=PATTERN_ENTITIES)
        probe = CanaryProbe(settings, patterns)
        seen: list[str] = []
        probe.detector = _Recording(patterns, seen)
        probe.probe(HOSTS)
        probe.probe(HOSTS)
        return seen

    assert run(1) == run(1) and run(1) != run(2)


class _Recording:
    """The real detector, noting which texts it was given."""

    def __init__(self, detector: Detector, seen: list[str]) -> None:
        self._detector, self._seen, self.entities = detector, seen, detector.entities

    def analyze_batch(self, texts):
        self._seen.extend(texts)
        return self._detector.analyze_batch(texts)


def test_evidence_block_and_min_recall_verdict():
    counts = CanaryCounts.from_dict(
        {"EMAIL_ADDRESS": {"injected": 10, "found": 10}, "PERSON": {"injected": 8, "found": 6}}
    )
    passed = canary_evidence(CanarySettings(enabled=True, min_recall=0.7), counts)
    assert passed.status == "passed" and passed.recall == pytest.approx(16 / 18, abs=1e-4)
    assert passed.entities["PERSON"].recall == 0.75 and passed.entities["EMAIL_ADDRESS"].recall == 1.0
    failed = canary_evidence(CanarySettings(enabled=True, min_recall=0.8), counts)
    assert failed.status == "failed" and failed.failure.startswith(
        "canary recall below min_recall 0.80: PERSON 0.75;"
    )
    assert canary_evidence(CanarySettings(enabled=False), counts) is None
    assert (counts + counts).to_dict()["PERSON"] == {"injected": 16, "found": 12}


def test_unknown_canary_entity_is_a_policy_error():
    with pytest.raises(PolicyError, match="no canary values for US_ITIN"):
        Policy.from_dict({"canary": {"enabled": True, "entities": ["US_ITIN"]}})


TABLE = pa.table(
    {
        "id": list(range(40)),
        # Hosts without digits: the card recognizer misses a card followed by a digit run
        # ("4111111111111111 123", a card and its CVV), which these canaries would measure.
        "note": [
            f"Parcel shipped; write to buyer.{chr(97 + i % 26)}{i // 26 * 'x'}@shop.example.com if late."
            for i in range(40)
        ],
    }
)
POLICY = {"entities": ["EMAIL_ADDRESS", "US_SSN", "CREDIT_CARD"]}


def test_protect_reports_recall_and_the_output_holds_no_canary():
    plain, _ = Guard(Policy.from_dict(POLICY)).protect(TABLE)
    out, evidence = Guard(Policy.from_dict({**POLICY, "canary": {"enabled": True, "per_batch": 30}})).protect(
        TABLE
    )
    assert out.equals(plain)  # canaries never touch the output
    block = evidence.canary
    assert block.injected == 30 and block.found == 30 and block.recall == 1.0
    assert sorted(block.entities) == ["CREDIT_CARD", "EMAIL_ADDRESS", "US_SSN"]
    text = "\n".join(out.column("note").to_pylist()) + evidence.model_dump_json()
    assert "example.org" not in text and "example.net" not in text and "078-05-1120" not in text
    assert plain.column("note")[0].as_py() != TABLE.column("note")[0].as_py()  # the real emails were replaced
    assert "| US_SSN | 10 | 10 | 1.0 |" in to_markdown(evidence)
    assert 'id="canary"' in to_html(evidence)


def test_recall_below_min_recall_fails_the_run():
    policy = Policy.from_dict(
        {
            "entities": ["EMAIL_ADDRESS", "PHONE_NUMBER"],
            "thresholds": {"PHONE_NUMBER": 0.99},
            "canary": {"enabled": True, "per_batch": 10, "min_recall": 0.9},
        }
    )
    with pytest.raises(PolicyViolation, match="canary recall below min_recall 0.90: PHONE_NUMBER 0.00"):
        Guard(policy).protect(TABLE)


def test_scan_reports_recall_too():
    evidence = Guard(Policy.from_dict({**POLICY, "canary": {"enabled": True, "per_batch": 9}})).scan(TABLE)
    assert evidence.canary.injected == 9 and evidence.canary.recall == 1.0


def test_nested_and_json_text_is_probed_leaf_by_leaf():
    """Free text inside a struct, a list and JSON documents: each text leaf gets its canaries."""
    notes = [f"Order left with the porter, call back later about item {chr(97 + i % 26)}" for i in range(50)]
    table = pa.table(
        {
            "c": pa.array([{"note": n, "email": f"a{i}@corp-mail.org"} for i, n in enumerate(notes)]),
            "tags": pa.array([[n] for n in notes]),
            "doc": [json.dumps({"text": n}) for n in notes],
        }
    )
    guard = Guard(Policy.from_dict({**POLICY, "canary": {"enabled": True, "per_batch": 10}}))
    out, evidence = guard.protect(table)
    free_text = [c.name for c in evidence.files[0].columns if c.classification == "free_text"]
    assert {"c.note", "tags[]", "doc$.text"} <= set(free_text)
    assert evidence.canary.injected == 30 and evidence.canary.found == 30  # three leaves, one batch
    assert guard.scan(table).canary.injected == 30
    assert out.column("tags").to_pylist() == table.column("tags").to_pylist()  # canaries stay out


def test_cli_run_below_min_recall_exits_1_writes_evidence_and_publishes_nothing(tmp_path):
    src = tmp_path / "in.parquet"
    pq.write_table(TABLE, src)
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        json.dumps(
            {
                "entities": ["EMAIL_ADDRESS", "PHONE_NUMBER"],
                "thresholds": {"PHONE_NUMBER": 0.99},
                "canary": {"enabled": True, "per_batch": 10, "min_recall": 0.9},
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out" / "o.parquet"
    args = ["protect", str(src), str(out), "-p", str(policy), "--evidence-dir", str(tmp_path / "ev")]
    result = CliRunner().invoke(app, [*args, "--no-orchestrator"])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "canary recall below min_recall 0.90: PHONE_NUMBER 0.00" in line
    assert not out.exists() and not list((tmp_path / "out").glob(".*.partial"))
    (doc,) = [json.loads(p.read_text()) for p in (tmp_path / "ev").glob("*.evidence.json")]
    assert doc["status"] == "failed" and doc["canary"]["entities"]["PHONE_NUMBER"] == {
        "injected": 5,
        "found": 0,
        "recall": 0.0,
    }
