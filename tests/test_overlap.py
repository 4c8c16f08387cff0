"""Reading ahead and writing behind: order kept, errors carried to the caller
unchanged, threads stopped when the caller stops, and a failed run leaves no
staged output (the writing thread is stopped before the file is removed)."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestguard.errors import InputError
from ingestguard.io import overlap
from ingestguard.io.overlap import WriteBehind, read_ahead
from ingestguard.io.parquet import ParquetSource, StagedParquet
from ingestguard.pipeline import write_batches
from ingestguard.throughput import StageClock

SCHEMA = pa.schema([("x", pa.int64())])


@pytest.fixture
def no_new_threads():
    """The test leaves no read-ahead or write-behind thread running."""
    before = set(threading.enumerate())
    yield
    left = [t for t in set(threading.enumerate()) - before if t.name.startswith("ingestguard-")]
    for thread in left:
        thread.join(5)
    assert not [t for t in left if t.is_alive()]


def _batches(n: int):
    for i in range(n):
        yield pa.record_batch({"x": pa.array([i] * 10, pa.int64())})


@pytest.mark.usefixtures("no_new_threads")
def test_read_ahead_keeps_order_and_ends():
    assert list(read_ahead(iter(range(50)), depth=2)) == list(range(50))


@pytest.mark.usefixtures("no_new_threads")
def test_read_ahead_raises_the_producers_error_unchanged_after_the_items_before_it():
    error = InputError("input is corrupt: a data page could not be decoded: x.parquet")

    def items():
        yield 1
        yield 2
        raise error

    got = []
    with pytest.raises(InputError) as raised:
        for item in read_ahead(items()):
            got.append(item)
    assert raised.value is error
    assert got == [1, 2]


@pytest.mark.usefixtures("no_new_threads")
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


@pytest.mark.usefixtures("no_new_threads")
def test_parquet_batches_read_ahead_equal_the_file(tmp_path: Path):
    path = tmp_path / "in.parquet"
    table = pa.table({"x": pa.array(range(200_000), pa.int64())})
    pq.write_table(table, path, row_group_size=30_000)
    source = ParquetSource(path)
    batches = list(source.batches())
    assert [b.num_rows for b in batches] == [65_536, 65_536, 65_536, 3_392]
    assert pa.Table.from_batches(batches).equals(table)
    part = list(source.rows(65_536, 131_072).batches())
    assert pa.Table.from_batches(part).equals(table.slice(65_536, 65_536))


@pytest.mark.usefixtures("no_new_threads")
def test_write_behind_writes_in_order_and_nothing_after_a_failed_write():
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
    assert written == [0, 1, 2, 0, 1, 2]


@pytest.mark.usefixtures("no_new_threads")
def test_write_batches_writes_every_batch_in_order(tmp_path: Path):
    sink = StagedParquet(tmp_path / "out.parquet", SCHEMA)
    write_batches(_batches(5), sink, StageClock())
    assert pq.read_table(sink.staging).column("x").to_pylist() == [i for i in range(5) for _ in range(10)]


class _Watched(StagedParquet):
    """A Parquet sink that records whether a write was still running when it was aborted,
    and can fail its n-th write with the disk full."""

    def __init__(self, destination: Path, fail_at: int | None = None) -> None:
        super().__init__(destination, SCHEMA)
        self.fail_at, self.writes, self.writing, self.aborted_while_writing = fail_at, 0, False, None

    def _write(self, batch: pa.RecordBatch) -> None:
        self.writing = True
        try:
            self.writes += 1
            if self.writes == self.fail_at:
                raise OSError(28, "No space left on device")
            super()._write(batch)
        finally:
            self.writing = False

    def abort(self) -> None:
        self.aborted_while_writing = self.writing
        super().abort()


@pytest.mark.usefixtures("no_new_threads")
def test_write_batches_removes_the_staged_output_when_protecting_fails(tmp_path: Path):
    sink = _Watched(tmp_path / "out.parquet")

    def failing():
        yield from _batches(3)
        raise RuntimeError("protect failed")

    with pytest.raises(RuntimeError, match="protect failed"):
        write_batches(failing(), sink, StageClock())
    assert sink.aborted_while_writing is False
    assert sink.writes == 3  # what was handed over was written before the abort, nothing after
    assert not sink.staging.exists()
    assert not (tmp_path / "out.parquet").exists()


@pytest.mark.usefixtures("no_new_threads")
def test_write_batches_raises_a_failed_write_as_its_one_line_error_and_stops_reading(tmp_path: Path):
    sink = _Watched(tmp_path / "out.parquet", fail_at=2)
    read = []

    def batches():
        for batch in _batches(50):
            read.append(batch)
            yield batch

    with pytest.raises(InputError, match="No space left on device.*free space.*nothing was published"):
        write_batches(batches(), sink, StageClock())
    assert not sink.staging.exists()
    # the reading stops within the queue's reach of the failed write, not at the end
    assert len(read) <= 5


@pytest.fixture
def no_io_threads():
    """This process as a worker of a pool that fills the machine's cores."""
    overlap.use_threads(False)
    yield
    overlap.use_threads(True)


@pytest.mark.usefixtures("no_io_threads")
def test_without_io_threads_reading_and_writing_are_in_line(tmp_path: Path):
    before = set(threading.enumerate())
    items = iter(range(5))
    assert read_ahead(items) is items
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"x": pa.array(range(70_000), pa.int64())}), path)
    assert sum(b.num_rows for b in ParquetSource(path).batches()) == 70_000

    sink = _Watched(tmp_path / "out.parquet", fail_at=3)
    written_in_line = []

    def batches():
        for batch in _batches(10):
            yield batch
            written_in_line.append(sink.writes)  # the batch handed over is already written

    with pytest.raises(InputError, match="No space left on device"):
        write_batches(batches(), sink, StageClock())
    assert written_in_line == [1, 2]
    assert not sink.staging.exists()
    assert set(threading.enumerate()) == before


def _io_threads_on() -> bool:
    return overlap._threads


def test_pool_workers_use_io_threads_only_while_a_core_is_left_for_them():
    from ingestguard import workers

    cores = workers.default_workers()
    try:
        assert workers.run(_io_threads_on, (), cores, 60, "a check") is False
        if cores > 1:
            assert workers.run(_io_threads_on, (), cores - 1, 60, "a check") is True
    finally:
        workers.shutdown()
