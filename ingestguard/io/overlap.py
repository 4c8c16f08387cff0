"""Reading ahead and writing behind on a thread of their own.

Protecting a batch is Python and holds the GIL; reading and writing Parquet
is Arrow's C++, which releases it. Run on a second thread, the read of the
next batch and the write of the last one overlap the protection of the
batch in hand, so a run's wall time comes closer to its protect stage alone.
On each side at most `depth` + 2 batches are alive at once (one being read or
written, `depth` waiting, one in the caller's hands), so memory stays flat
with input size. Errors raised on the thread are raised again, unchanged, in
the caller.

Only a source that is read when asked may be read ahead: a feed that is
pushed a batch just before it is asked for one (`adapters`) may not.

The threads help only where a core is free for them. A worker of a pool that
already fills the machine's cores reads and writes in line instead
(`use_threads`): there the threads would only contend with the other workers
(8 files x 1M structured rows, 2 workers on 2 cores: 8.1 s with them, 7.3 s
without; 1 worker: 8.4 s with them, 11.1 s without).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from time import perf_counter
from typing import TypeVar

import pyarrow as pa

T = TypeVar("T")
_END = object()
_POLL_SECONDS = 0.1
_threads = True


def use_threads(on: bool) -> None:
    """Whether this process reads ahead and writes behind (see the module docstring)."""
    global _threads
    _threads = on


class _Failure:
    """An exception raised on the thread, carried to the caller."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """`items`, produced on a thread up to `depth` ahead of the caller (or
    `items` itself where this process uses no I/O threads).

    When the caller stops early (an error, a closed generator), the thread
    stops at its next item and `items` is closed on it.
    """
    return _read_ahead(items, depth) if _threads else items


def _read_ahead(items: Iterator[T], depth: int) -> Iterator[T]:
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    break
            else:
                offer(_END)
        except BaseException as exc:  # carried to the caller, raised there
            offer(_Failure(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="ingestguard-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = waiting.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


class WriteBehind:
    """Hands batches to `sink.write` on a thread; `finish` waits for the last one.

    A write that failed on the thread is raised by the next `write` or by
    `finish`; after a failure nothing more is written. `seconds` is the time
    spent writing (the write stage's own time, which on the thread overlaps
    the others). Where this process uses no I/O threads, `write` writes in line.
    """

    def __init__(self, write: Callable[[pa.RecordBatch], None], depth: int = 1) -> None:
        self._write = write
        self._waiting: queue.Queue = queue.Queue(maxsize=depth)
        self._failure: BaseException | None = None
        self.seconds = 0.0
        self._thread: threading.Thread | None = None
        if _threads:
            self._thread = threading.Thread(target=self._drain, name="ingestguard-write-behind", daemon=True)
            self._thread.start()

    def _timed_write(self, batch: pa.RecordBatch) -> None:
        start = perf_counter()
        try:
            self._write(batch)
        finally:
            self.seconds += perf_counter() - start

    def _drain(self) -> None:
        while True:
            batch = self._waiting.get()
            if batch is _END:
                return
            if self._failure is not None:
                continue  # keep taking batches so the caller never blocks; write nothing more
            try:
                self._timed_write(batch)
            except BaseException as exc:  # carried to the caller, raised there
                self._failure = exc

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def write(self, batch: pa.RecordBatch) -> None:
        self._raise_failure()
        if self._thread is None:
            self._timed_write(batch)
        else:
            self._waiting.put(batch)

    def finish(self) -> None:
        """Wait until every batch handed over is written; raise a write's error."""
        self.stop()
        self._raise_failure()

    def stop(self) -> None:
        """Wait for the thread to end without raising (the run failed elsewhere)."""
        if self._thread is not None and self._thread.is_alive():
            self._waiting.put(_END)
            self._thread.join()
