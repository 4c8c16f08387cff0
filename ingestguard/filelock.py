"""One exclusive lock file beside a file that several processes update.

The ledger and the keyring each read their last state and write the next one
under this lock, so two runs (or two threads: each call opens its own file
description) never interleave. The lock file is made owner-only and never
opened through a symbolic link.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingestguard.errors import IngestGuardError


@contextmanager
def exclusive(path: Path, error: type[IngestGuardError], what: str) -> Iterator[None]:
    """Hold an exclusive lock on `<path>.lock`; a lock that cannot be taken
    raises `error` naming `what` and the reason."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise error(
            f"cannot lock {what} {path} ({exc.strerror}); check the path and its permissions"
        ) from None
    with os.fdopen(fd, "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
