"""Arrow IPC streams: the protected parts of a large file, held until they are merged.

IPC keeps every batch as it was written (schema, types, batch boundaries), so
merging the parts of a file writes exactly the batches an undivided run would
write, and the merged output is byte-identical to it. The stream format, not
the file format: a dictionary column may carry a different dictionary in each
batch, which the file format refuses. Parts are staging files (see
staging.py): locked while their worker lives, removed when stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from ingestguard.errors import ScanError
from ingestguard.io.staging import StagedBatchWriter


class StagedArrow(StagedBatchWriter):
    """An Arrow IPC stream writer behind a locked staging name."""

    format = "arrow"

    def __init__(self, destination: Path, schema: pa.Schema) -> None:
        super().__init__(destination, lambda staging: pa.ipc.new_stream(staging, schema))

    def staged_rows(self) -> int:
        with pa.memory_map(str(self.staging)) as source:
            return sum(batch.num_rows for batch in pa.ipc.open_stream(source))


def read_batches(path: Path, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The batches of a part, memory-mapped; a part of another schema (a
    different plan) or one that does not read is refused, not merged."""
    try:
        with pa.memory_map(str(path)) as source:
            reader = pa.ipc.open_stream(source)
            if not reader.schema.equals(schema, check_metadata=True):
                raise ScanError(f"a held part {path.name} does not have the output's schema; run again")
            yield from reader
    except (pa.ArrowException, OSError):
        raise ScanError(f"a held part {path.name} could not be read; run again") from None
