"""Arrow IPC files: the protected parts of a large file, held until they are merged.

IPC keeps every batch as it was written (schema, types, batch boundaries), so
merging the parts of a file writes exactly the batches an undivided run would
write, and the merged output is byte-identical to it. Parts are staging files
(see staging.py): locked while their worker lives, removed when stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from ingestguard.errors import ScanError
from ingestguard.io.staging import StagedSink


class StagedArrow(StagedSink):
    """An Arrow IPC file writer behind a locked staging name."""

    format = "arrow"

    def __init__(self, destination: Path, schema: pa.Schema) -> None:
        super().__init__(destination)
        try:
            self._writer = pa.ipc.new_file(self.staging, schema)
        except OSError as exc:
            raise self._fail_open(exc) from None
        self._closed = False

    def _write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.close()

    def staged_rows(self) -> int:
        with pa.memory_map(str(self.staging)) as source:
            reader = pa.ipc.open_file(source)
            return sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))


def read_batches(path: Path, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The batches of a part, memory-mapped; a part of another schema (a
    different plan) or one that does not read is refused, not merged."""
    try:
        with pa.memory_map(str(path)) as source:
            reader = pa.ipc.open_file(source)
            if not reader.schema.equals(schema, check_metadata=True):
                raise ScanError(f"a held part {path.name} does not have the output's schema; run again")
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)
    except (pa.ArrowException, OSError):
        raise ScanError(f"a held part {path.name} could not be read; run again") from None
