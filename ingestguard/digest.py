"""One content digest of Arrow data, for inputs and outputs that are not files.

A file is identified by the sha256 of its bytes. In-memory data (a DataFrame,
an Arrow table or stream, a Hugging Face dataset) has no bytes of its own: the
same rows can sit in one chunk or a thousand, in `string` or `large_string`,
with or without pandas metadata. So the digest is taken over the content as
Python sees it:

    sha256("ingestguard-arrow-content-v1\\n"
           + for each column in order: repr(name) "\\n" sha256(values) "\\n")

where the values digest of a column is sha256 over `repr(value) + "\\n"` of
every value in row order (None for null; nested values as lists, dicts and
tuples). Each column keeps its own running hash, so batches can be fed as they
stream: however the data is chunked, the digest is the same. What it leaves
out on purpose: schema and field metadata, nullability, and the physical type
where the values read the same (int32 vs int64, string vs string_view). What
it keeps: column names and order, row order, and every value with its Python
type (1, 1.0 and "1" differ).

The evidence of in-memory runs records it where a file run records a file's
sha256, and the training gate (`gate.py`) looks data up by it.
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

VERSION = b"ingestguard-arrow-content-v1\n"


class ContentHasher:
    """The running content digest of a stream of batches with one schema."""

    def __init__(self, names: list[str]) -> None:
        self.names = list(names)
        self._columns = [hashlib.sha256() for _ in self.names]
        self.rows = 0

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        if batch.schema.names != self.names:
            raise ValueError("a batch's columns differ from the stream's first batch")
        # A table is read a batch at a time: the text of one batch is held at once, not a table's.
        for piece in batch.to_batches(max_chunksize=65_536) if isinstance(batch, pa.Table) else [batch]:
            for digest, column in zip(self._columns, piece.columns, strict=True):
                digest.update("".join(repr(v) + "\n" for v in column.to_pylist()).encode("utf-8"))
        self.rows += batch.num_rows

    def hexdigest(self) -> str:
        total = hashlib.sha256(VERSION)
        for name, column in zip(self.names, self._columns, strict=True):
            total.update(f"{name!r}\n{column.hexdigest()}\n".encode())
        return total.hexdigest()


def content_digest(data: pa.Table | pa.RecordBatch) -> str:
    """The content digest of a table or a batch (streams: `ContentHasher`)."""
    hasher = ContentHasher(data.schema.names)
    hasher.update(data)
    return hasher.hexdigest()
