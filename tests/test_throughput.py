"""Per-stage throughput in the evidence: where a run's time goes."""

from __future__ import annotations

import pytest

from ingestguard import Guard
from ingestguard.demo import write_demo
from ingestguard.throughput import StageClock

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="


def test_rates_are_input_rows_and_bytes_over_each_stage_seconds():
    clock = StageClock()
    clock.count(1_000, 64_000)
    clock.count(1_000, 64_000)
    clock.seconds = {"plan": 0.5, "protect": 2.0, "verify": 0.0}
    stages = clock.to_dict()
    assert stages["plan"] == {
        "seconds": 0.5,
        "rows": 2_000,
        "bytes": 128_000,
        "rows_per_second": 4_000.0,
        "bytes_per_second": 256_000.0,
    }
    assert stages["protect"]["rows_per_second"] == 1_000.0
    # A stage that took no measurable time (a cached plan) has no rate rather than infinity.
    assert stages["verify"]["rows_per_second"] == 0.0


def test_timing_adds_up_over_calls_and_survives_an_exception():
    clock = StageClock()
    for _ in range(2):
        with clock.timing("write"):
            pass
    with pytest.raises(ValueError), clock.timing("write"):
        raise ValueError("boom")
    assert list(clock.seconds) == ["write"] and clock.seconds["write"] > 0


def test_a_protect_run_records_each_stage_of_each_file(tmp_path, monkeypatch):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    src = write_demo(tmp_path / "in.parquet", rows=300)
    evidence = Guard().protect_file(src, tmp_path / "out.parquet", tmp_path / "evidence")
    [f] = evidence.files
    assert list(f.stages) == ["plan", "protect", "verify", "write"]
    for stage in f.stages.values():
        assert stage.rows == 300 and stage.bytes > 0 and stage.seconds > 0
        assert stage.rows_per_second == pytest.approx(300 / stage.seconds, rel=1e-3)


def test_the_markdown_report_shows_where_the_time_went(tmp_path, monkeypatch):
    from ingestguard.reports.render import to_markdown

    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    src = write_demo(tmp_path / "in.parquet", rows=50)
    evidence = Guard().protect_file(src, tmp_path / "out.parquet", tmp_path / "evidence")
    text = to_markdown(evidence)
    assert "| stage | seconds | rows/s | MB/s |" in text
    for stage in ("plan", "protect", "verify", "write"):
        assert f"| {stage} | {evidence.files[0].stages[stage].seconds:.3f} |" in text


def test_plans_made_elsewhere_are_not_timed_as_a_plan_stage(tmp_path, monkeypatch):
    """The flow's plan task and the plan cache hand protect_file its plans: a
    near-zero 'plan' there would claim an absurd rate."""
    from ingestguard.io import FilePair, open_source
    from ingestguard.pipeline import get_engine, plan, protect_file
    from ingestguard.policy import Policy
    from ingestguard.runs import key_for

    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    src = write_demo(tmp_path / "in.parquet", rows=40)
    engine = get_engine(Policy(), key_for(Policy()))
    plans = plan(open_source(src), engine)
    outcome = protect_file(FilePair(src, tmp_path / "out.parquet"), engine, plans=plans)
    assert list(outcome.stages) == ["protect", "verify", "write"]
