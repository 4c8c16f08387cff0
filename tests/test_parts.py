"""Large Parquet files protected in parts (ingestguard.parts): the parts are read
in the whole file's batches, and the merged output is byte-identical to an
undivided run, with the same counts; through the flow too, in worker processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestguard import parts
from ingestguard.completions import STATE_DIR
from ingestguard.demo import synthetic_table, write_demo
from ingestguard.io import BATCH_ROWS, FilePair, file_sha256
from ingestguard.io import parquet as parquet_io
from ingestguard.io.parquet import ParquetSource, rebatch
from ingestguard.pipeline import get_engine, plan, protect_file
from ingestguard.policy import Policy
from ingestguard.runs import key_for
from tests.test_e2e import KEY, run_cli
from tests.test_resume import session_workers, wait_until


def test_row_ranges_are_whole_batches_that_cover_the_file() -> None:
    n = 5 * BATCH_ROWS + 7
    ranges = parts.row_ranges(n, part_rows=2 * BATCH_ROWS)
    assert ranges == [(0, 2 * BATCH_ROWS), (2 * BATCH_ROWS, 4 * BATCH_ROWS), (4 * BATCH_ROWS, n)]
    # part_rows is rounded up to whole batches; a small file is one range
    assert parts.row_ranges(n, part_rows=BATCH_ROWS + 1) == ranges
    assert parts.row_ranges(1000, part_rows=BATCH_ROWS) == [(0, 1000)]


def test_a_huge_file_gets_at_most_max_parts(monkeypatch) -> None:
    monkeypatch.setattr(parts, "MAX_PARTS", 4)
    ranges = parts.row_ranges(10 * BATCH_ROWS, part_rows=1)
    assert len(ranges) == 4 and ranges[-1][1] == 10 * BATCH_ROWS
    assert all(start % BATCH_ROWS == 0 for start, _ in ranges)


def test_rebatch_gives_exact_batches_and_passes_full_ones_through() -> None:
    full = pa.record_batch({"a": list(range(4))})
    pieces = [pa.record_batch({"a": list(range(n))}) for n in (3, 2, 4, 1)]
    assert [b.num_rows for b in rebatch(iter(pieces), 4)] == [4, 4, 2]
    [same] = list(rebatch(iter([full]), 4))
    assert same.column(0).buffers()[1].address == full.column(0).buffers()[1].address


def test_a_range_of_rows_reads_in_the_whole_file_s_batches(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(parquet_io, "BATCH_ROWS", 100)
    table = pa.table({"n": list(range(1050)), "s": [f"v{i}" for i in range(1050)]})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=130)  # groups cut across batches
    source = ParquetSource(tmp_path / "t.parquet")
    whole = list(source.batches())
    assert [b.num_rows for b in whole] == [100] * 10 + [50]
    for start, stop in [(0, 200), (300, 700), (1000, 1050), (100, 1050)]:
        part = list(source.rows(start, stop).batches())
        assert sum(b.num_rows for b in part) == stop - start
        assert all(p.equals(w) for p, w in zip(part, whole[start // 100 :], strict=False))


@pytest.fixture
def small_batches(monkeypatch) -> None:
    """Batches of 300 rows, so a 1,200-row demo file has several parts."""
    monkeypatch.setattr(parquet_io, "BATCH_ROWS", 300)
    monkeypatch.setattr(parts, "BATCH_ROWS", 300)


def test_parts_merge_into_the_bytes_of_an_undivided_run(tmp_path: Path, small_batches) -> None:
    src = write_demo(tmp_path / "in.parquet", rows=1_200, seed=4, row_group_size=350)
    policy = Policy()
    engine = get_engine(policy, key_for(policy))
    plans = plan(ParquetSource(src), engine)
    whole = protect_file(FilePair(src, tmp_path / "whole.parquet"), engine, plans=plans)

    folder = tmp_path / "parts"
    ranges = parts.row_ranges(1_200, part_rows=500)
    assert ranges == [(0, 600), (600, 1_200)]
    done = [parts.protect_part(src, plans, engine, a, b, folder) for a, b in reversed(ranges)]
    merged = parts.merge_parts(
        FilePair(src, tmp_path / "merged.parquet"), plans, engine, done, file_sha256(src)
    )

    assert merged.output_sha256 == whole.output_sha256
    assert file_sha256(Path(merged.staging)) == file_sha256(Path(whole.staging))
    assert merged.columns == whole.columns
    assert sum(c["values_transformed"] for c in merged.columns) > 0
    assert merged.residual == whole.residual
    assert merged.rows == merged.output_rows == 1_200
    assert merged.stages["write"]["rows"] == 1_200
    assert list(folder.iterdir()) == []  # the parts are gone once merged


def test_free_text_makes_parts_of_one_batch(tmp_path: Path) -> None:
    src = write_demo(tmp_path / "in.parquet", rows=300, seed=2)
    engine = get_engine(Policy(), key_for(Policy()))
    plans = plan(ParquetSource(src), engine)
    assert parts.part_rows(plans) == BATCH_ROWS  # the demo's notes column is free text
    structured = [p for p in plans if p.column_class != "free_text"]
    assert parts.part_rows(structured) is None  # divided only when asked


def test_parts_that_miss_rows_are_not_merged(tmp_path: Path, small_batches) -> None:
    src = write_demo(tmp_path / "in.parquet", rows=1_200, seed=4)
    policy = Policy(entities=["EMAIL_ADDRESS", "US_SSN"])
    engine = get_engine(policy, key_for(policy))
    plans = plan(ParquetSource(src), engine)
    folder = tmp_path / "parts"
    done = [parts.protect_part(src, plans, engine, a, b, folder) for a, b in [(0, 300), (600, 1_200)]]
    with pytest.raises(Exception, match="do not cover its rows"):
        parts.merge_parts(FilePair(src, tmp_path / "out.parquet"), plans, engine, done, file_sha256(src))
    assert not (tmp_path / "out.parquet").exists()
    assert list(folder.iterdir()) == []


def large_text_file(path: Path) -> Path:
    """Over two batches of rows with few distinct notes (the NER runs per distinct
    text), in row groups that do not line up with batches."""
    table = pa.concat_tables([synthetic_table(200, seed=9)] * 700)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=30_000)
    return path


def test_a_killed_run_in_parts_publishes_nothing_and_its_rerun_the_undivided_bytes(
    tmp_path: Path,
    prefect_api: str,
) -> None:
    """Through the flow with two workers: SIGKILLed while parts are held, nothing is
    published; the same command again divides the file, and its output and
    evidence are those of an undivided run. Against the session's Prefect server,
    as test_resume's killed run is (starting a temporary one per run costs 8 s)."""
    src = large_text_file(tmp_path / "in" / "big.parquet")
    base = ["protect", str(src)]
    whole = run_cli([*base, str(tmp_path / "a.parquet"), "--no-orchestrator"], tmp_path)
    assert whole.returncode == 0, whole.stderr[-2000:]
    out = tmp_path / "out" / "big.parquet"
    ev = tmp_path / "ev"
    args = [*base, str(out), "--workers", "2", "--evidence-dir", str(ev)]

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "INGESTGUARD_KEY": KEY,
        "INGESTGUARD_HOME": str(tmp_path / "ig"),
        "PREFECT_API_URL": prefect_api,
    }
    exe = str(Path(sys.executable).with_name("ingestguard"))
    proc = subprocess.Popen(
        [exe, *args], env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    held = out.parent / STATE_DIR / "parts"
    try:
        assert wait_until(lambda: proc.poll() is not None or any(held.glob(".*.partial")))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        assert wait_until(lambda: not session_workers(proc.pid), limit=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert not out.exists() and not (ev / "ledger.jsonl").exists()

    # a file with free text is divided into parts of one batch by default
    parted = run_cli(args, tmp_path, {"PREFECT_API_URL": prefect_api})
    assert parted.returncode == 0, parted.stderr[-2000:]
    assert f"{src}: 140000 rows in 3 parts" in parted.stdout + parted.stderr
    assert file_sha256(out) == file_sha256(tmp_path / "a.parquet")
    [doc] = [json.loads(p.read_text()) for p in ev.glob("*.evidence.json")]
    [entry] = doc["files"]
    assert entry["rows"] == entry["output_rows"] == 140_000
    assert entry["output_sha256"] == file_sha256(out)
    assert entry["stages"]["protect"]["rows"] == 140_000
    assert sum(c["values_transformed"] for c in entry["columns"]) > 0
    assert not any(held.iterdir())  # the killed run's parts and this run's are gone
    assert not list(out.parent.glob(".*.partial"))


def test_a_dictionary_column_with_a_dictionary_per_row_group_merges_identically(
    tmp_path: Path, small_batches
) -> None:
    """Parts are Arrow IPC streams: the IPC file format would refuse a second dictionary."""
    chunks = [
        pa.array([f"user{(g * 37 + i) % 90}@example.com" for i in range(250)]).dictionary_encode()
        for g in range(5)
    ]
    codes = pa.chunked_array([pa.array([f"c{g}"] * 250).dictionary_encode() for g in range(5)])
    table = pa.table({"email": pa.chunked_array(chunks), "code": codes, "n": list(range(1_250))})
    src = tmp_path / "dict.parquet"
    pq.write_table(table, src, row_group_size=250)
    policy = Policy(entities=["EMAIL_ADDRESS"])
    engine = get_engine(policy, key_for(policy))
    plans = plan(ParquetSource(src), engine)
    whole = protect_file(FilePair(src, tmp_path / "whole.parquet"), engine, plans=plans)
    done = [
        parts.protect_part(src, plans, engine, a, b, tmp_path / "parts")
        for a, b in parts.row_ranges(1_250, part_rows=600)
    ]
    merged = parts.merge_parts(
        FilePair(src, tmp_path / "merged.parquet"), plans, engine, done, file_sha256(src)
    )
    assert merged.output_sha256 == whole.output_sha256
    assert merged.columns == whole.columns
    [email] = [c for c in merged.columns if c["name"] == "email"]
    assert email["values_transformed"] == 1_250
    assert not pq.read_table(Path(merged.staging)).column("email").to_pylist()[0].startswith("user")


def test_a_part_never_plans_for_itself(tmp_path: Path) -> None:
    """A part of a file whose cached plan is gone fails; it does not profile the file again."""
    from ingestguard.errors import ScanError
    from ingestguard.stages import FileJob, PartJob, protect_part_job

    src = write_demo(tmp_path / "in.parquet", rows=200, seed=1)
    job = FileJob(str(src), str(tmp_path / "out.parquet"), None, str(tmp_path / "state"))
    with pytest.raises(ScanError, match="plan of .* is gone"):
        protect_part_job(PartJob(job, file_sha256(src), 0, 100))
    assert not (tmp_path / "state" / "plans").exists()


def test_the_cli_help_gives_the_part_sizes_the_code_uses() -> None:
    from typer.testing import CliRunner

    from ingestguard.cli import app

    result = CliRunner().invoke(app, ["protect", "--help"], env={"COLUMNS": "300", "TERMINAL_WIDTH": "300"})
    assert result.exit_code == 0
    assert f"{BATCH_ROWS:,}" in result.output and "free text" in result.output
