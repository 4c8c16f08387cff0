"""Smoke tests for the benchmark harness: its arithmetic and one tiny floor run. No timing assertions."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from benchmarks.harness import (
    CLI,
    FLOOR,
    LIBRARY,
    PRESIDIO_BATCH,
    PRESIDIO_CELL,
    SPACY_NER,
    extrapolate,
    finalize,
    ratios,
    run_contender,
    throughput,
)
from ingestguard.demo import synthetic_table


def test_throughput_exact():
    assert throughput(1000, 2_000_000, 4.0) == {"rows_per_s": 250.0, "mb_per_s": 0.5}


def test_throughput_zero_seconds():
    assert throughput(10, 10, 0.0) == {"rows_per_s": None, "mb_per_s": None}


def test_extrapolate_exact():
    assert extrapolate(3.0, 300, 200_000) == 2000.0
    assert extrapolate(1.5, 100, 100) == 1.5
    with pytest.raises(ValueError):
        extrapolate(1.0, 0, 10)


def test_ratios_exact():
    results = {
        FLOOR: {"wall_s": 2.0},
        LIBRARY: {"wall_s": 10.0},
        CLI: {"wall_s": 12.5},
        PRESIDIO_CELL: {"wall_s": 400.0},
        PRESIDIO_BATCH: {"wall_s": 25.0},
        SPACY_NER: {"wall_s": 5.0},
    }
    assert ratios(results) == {
        "ingestguard/floor": 5.0,
        "ingestguard_cli/ingestguard": 1.25,
        f"{PRESIDIO_CELL}/ingestguard": 40.0,
        f"{PRESIDIO_BATCH}/ingestguard": 2.5,
        f"{SPACY_NER}/ingestguard": 0.5,
    }


def test_ratios_missing_contenders_are_none():
    assert ratios({LIBRARY: {"wall_s": 4.0}}) == {
        "ingestguard/floor": None,
        "ingestguard_cli/ingestguard": None,
    }


def test_finalize_extrapolates_work_not_setup():
    raw = {"measured_s": 3.0, "measured_rows": 300, "setup_s": 2.0, "peak_rss_mb": 100.0}
    r = finalize(raw, 3000, 5_000_000)
    assert r["extrapolated"] is True
    assert r["wall_s"] == 32.0
    assert r["rows_per_s"] == 3000 / 32.0
    assert r["mb_per_s"] == 5.0 / 32.0
    full = finalize({"measured_s": 4.0, "measured_rows": 10, "peak_rss_mb": 1.0}, 10, 4_000_000)
    assert full["extrapolated"] is False
    assert full["wall_s"] == 4.0
    assert full["mb_per_s"] == 1.0


def test_floor_end_to_end(tmp_path):
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(synthetic_table(100, seed=3).drop_columns(["notes"]), src, row_group_size=40)
    raw = run_contender(FLOOR, src, dst, tmp_path, subset=100, text_subset=None, timeout=60)
    assert raw["measured_rows"] == 100
    assert raw["peak_rss_mb"] > 0
    a, b = pq.read_table(src), pq.read_table(dst)
    assert b.num_rows == 100
    assert a.schema.equals(b.schema)
    assert a.to_pylist() == b.to_pylist()
