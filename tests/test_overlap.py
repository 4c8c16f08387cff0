"""Reading ahead and writing behind: order kept, errors carried to the caller,
threads stopped when the caller stops, and a failed write leaves no output."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestguard.errors import InputError
from ingestguard.io.overlap import WriteBehind, read_ahead
from ingestguard.io.parquet import StagedParquet
from ingestguard.pipeline import write_batches
from ingestguard.throughput import StageClock


def _threads(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def test_read_ahead_keeps_order_and_ends():
    assert list(read_ahead(iter(range(50)), depth=2)) == list(range(50))
    assert not _threads("ingestguard-read-ahead")


def test_read_ahead_raises_the_producers_error_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise InputError("input is corrupt: a data page could not be decoded: x.parquet")

    got = []
    with pytest.raises(InputError, match="a data page could not be decoded"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_read_ahead_stops_and_closes_its_source_when_the_caller_stops():
    closed = threading.Event()

    def items():
        try:
            yield from range(1_000_000)
        finally:
            closed.set()

    reader = read_ahead(items())
    assert next(reader) == 0
    reader.close()
    assert closed.wait(5)
    assert not _threads("ingestguard-read-ahead")


def test_write_behind_writes_in_order_and_raises_a_failed_write():
    written: list[int] = []

    def write(batch):
        if batch == 3:
            raise OSError("disk full")
        written.append(batch)

    writer = WriteBehind(write)
    for i in range(3):
        writer.write(i)
    writer.finish()
    assert written == [0, 1, 2]

    writer = WriteBehind(write)
    with pytest.raises(OSError, match="disk full"):
        for i in range(10):
            writer.write(i)
        writer.finish()
    writer.stop()
    assert written == [0, 1, 2, 0, 1, 2]  # nothing after the failed write
    assert not _threads("ingestguard-write-behind")


def _batches(n: int):
    for i in range(n):
        yield pa.record_batch({"x": pa.array([i] * 10, pa.int64())})


def test_write_batches_writes_every_batch_and_times_the_write(tmp_path: Path):
    sink = StagedParquet(tmp_path / "out.parquet", pa.schema([("x", pa.int64())]))
    clock = StageClock()
    write_batches(_batches(5), sink, clock)
    assert pq.read_table(sink.staging).column("x").to_pylist() == [i for i in range(5) for _ in range(10)]
    assert clock.seconds["write"] > 0


def test_write_batches_removes_the_staged_output_when_protecting_fails(tmp_path: Path):
    sink = StagedParquet(tmp_path / "out.parquet", pa.schema([("x", pa.int64())]))

    def failing():
        yield from _batches(2)
        raise RuntimeError("protect failed")

    with pytest.raises(RuntimeError, match="protect failed"):
        write_batches(failing(), sink, StageClock())
    assert not sink.staging.exists()
    assert not (tmp_path / "out.parquet").exists()
    assert not _threads("ingestguard-write-behind")


def test_write_batches_raises_a_failed_write_and_stops_reading(tmp_path: Path):
    sink = StagedParquet(tmp_path / "out.parquet", pa.schema([("x", pa.int64())]))
    wrong = pa.record_batch({"y": pa.array(["a"])})  # not the sink's schema: the writer refuses it
    read = []

    def batches():
        for batch in [*_batches(1), wrong, *_batches(50)]:
            read.append(batch)
            yield batch

    with pytest.raises((InputError, pa.ArrowException, ValueError)):
        write_batches(batches(), sink, StageClock())
    assert not sink.staging.exists()
    assert len(read) < 52
