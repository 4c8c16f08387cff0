"""Staging files: an output is written beside its destination under a hidden
name, `.<name>.<12 hex>.partial`, and renamed into place only when the whole
run has passed, so a failed or killed run never leaves a partial output.

Each staging file is locked (flock) by the process that writes it, from the
moment it gets its name until it is committed or discarded (by that process,
or by another one: a worker drops the locks of files published elsewhere the
next time it stages one). The lock dies with
its process, so the next run writing to the same folder can tell a file left
by a killed run (lock free) from one a live run is still writing or holding
for commit (locked), and removes only the former. A new file is created under
a `.claim` name, locked, then renamed: it is never visible as `.partial`
without its lock.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from ingestguard.errors import InputError


class BatchWriter(Protocol):
    def write_batch(self, batch: pa.RecordBatch) -> None: ...

    def close(self) -> None: ...


STAGING_NAME = re.compile(r"^\..+\.[0-9a-f]{12}\.partial$")

# Staging path -> the descriptor holding its lock, released at commit or discard.
_locks: dict[str, int] = {}
_locks_guard = threading.Lock()


def write_error(destination: Path, exc: BaseException) -> InputError:
    """One line for a failed write; pyarrow's own text is not passed on."""
    code = getattr(exc, "errno", None)
    reason = os.strerror(code) if code else "the write failed"
    if code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        fix = "free space (or raise the size limit) and run again"
    else:
        fix = "choose a writable output"
    return InputError(f"cannot write the output {destination} ({reason}); {fix}; nothing was published")


def new_staging(destination: Path) -> Path:
    """A new, locked, empty staging file beside `destination`.

    Stale staging files of killed runs in that folder are removed first.
    """
    folder = destination.parent
    _drop_published()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale(folder)
        staging = folder / f".{destination.name}.{uuid.uuid4().hex[:12]}.partial"
        claim = staging.with_name(staging.name + ".claim")
        fd = os.open(claim, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    except OSError as exc:
        raise write_error(destination, exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(claim, staging)
    except OSError as exc:
        os.close(fd)
        claim.unlink(missing_ok=True)
        raise write_error(destination, exc) from None
    with _locks_guard:
        _locks[str(staging)] = fd
    return staging


def remove_stale(folder: Path, prefix: str = "") -> list[Path]:
    """Remove staging files in `folder` (whose names start with `prefix`) that no
    live process holds and that are older than this call; returns what was removed."""
    now = time.time()
    removed = []
    for entry in os.scandir(folder):
        if not entry.name.startswith(prefix) or not STAGING_NAME.match(entry.name):
            continue
        if not entry.is_file(follow_symlinks=False):
            continue
        if entry.stat(follow_symlinks=False).st_mtime >= now:
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)  # held by a live run
            continue
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
    return removed


def _drop_published() -> None:
    """Close the locks of staging files another process has since committed or
    discarded: a worker process stages an output, the run's main process
    publishes it, and the worker would otherwise keep one descriptor per file."""
    with _locks_guard:
        for path, fd in list(_locks.items()):
            try:
                held, named = os.fstat(fd), os.stat(path, follow_symlinks=False)
                if (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino):
                    continue
            except FileNotFoundError:
                pass
            os.close(_locks.pop(path))


def sync_staged(staging: Path) -> None:
    """Flush a finished staging file to disk before it can be renamed into place."""
    with _locks_guard:
        fd = _locks.get(str(staging))
    if fd is not None:
        os.fsync(fd)


def _release(staging: Path) -> None:
    with _locks_guard:
        fd = _locks.pop(str(staging), None)
    if fd is not None:
        os.close(fd)


def commit_staged(staging: Path, destination: Path) -> None:
    """Move a finished staging file into place (atomic on one filesystem)."""
    os.replace(staging, destination)
    _release(staging)


def discard_staged(staging: Path) -> None:
    try:
        staging.unlink(missing_ok=True)
    finally:
        _release(staging)


class StagedSink:
    """The shared part of every staged writer: the staging file, one-line
    write errors, and removal of the staging file on abort.

    A subclass opens its writer in `__init__` (after this one) and implements
    `_write`, `_close` and `staged_rows` (and `_finish` when it has checks).
    """

    format = ""

    def __init__(self, destination: Path) -> None:
        self.destination = destination
        self.staging = new_staging(destination)
        self.rows = 0

    def _fail_open(self, exc: OSError) -> InputError:
        """The writer could not be opened: drop the staging file, say why in one line."""
        discard_staged(self.staging)
        return write_error(self.destination, exc)

    def write(self, batch: pa.RecordBatch) -> None:
        try:
            self._write(batch)
        except OSError as exc:
            raise write_error(self.destination, exc) from None
        self.rows += batch.num_rows

    def close(self) -> None:
        try:
            self._finish()
            self._close()
            sync_staged(self.staging)
        except OSError as exc:
            raise write_error(self.destination, exc) from None

    def abort(self) -> None:
        try:
            self._close()
        except (OSError, pa.ArrowException):
            pass  # the write already failed; the staging file goes either way
        finally:
            discard_staged(self.staging)

    def _write(self, batch: pa.RecordBatch) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        """Checks and trailing output before a successful close."""

    def _close(self) -> None:
        raise NotImplementedError

    def staged_rows(self) -> int:
        """Rows in the staged file, read back from disk in its format."""
        raise NotImplementedError


class StagedBatchWriter(StagedSink):
    """A staged sink around one of Arrow's batch writers (Parquet, IPC, CSV):
    `open_writer` opens it on the staging path; it is closed once."""

    def __init__(self, destination: Path, open_writer: Callable[[Path], BatchWriter]) -> None:
        super().__init__(destination)
        try:
            self._writer = open_writer(self.staging)
        except OSError as exc:
            raise self._fail_open(exc) from None
        self._closed = False

    def _write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.close()
