"""Parquet files: read one row group at a time, written through a staging file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingestguard.errors import InputError
from ingestguard.io.overlap import read_ahead
from ingestguard.io.paths import check_input_file, file_sha256
from ingestguard.io.staging import StagedBatchWriter
from ingestguard.io.table import BATCH_ROWS, check_columns, readable, readable_schema


class ParquetSource:
    """A Parquet file, opened and validated up front, read row group by row group."""

    format = "parquet"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        check_input_file(path)
        try:
            # pre_buffer keeps every row group it has read until the file is closed:
            # memory would grow with the input instead of staying flat.
            self._file = pq.ParquetFile(path, pre_buffer=False)
            schema = self._file.schema_arrow
        except (pa.ArrowException, OSError):
            raise InputError(
                f"input is not a readable Parquet file (bad magic bytes or truncated footer): {path}"
            ) from None
        self.num_rows = self._file.metadata.num_rows
        check_columns(schema, self.num_rows, self.name)
        self.schema = readable_schema(schema)

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        return self.batches_between(0, self.num_rows, columns)

    def batches_between(
        self, start: int, stop: int, columns: Sequence[str] | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Rows start..stop in batches of BATCH_ROWS rows counted from `start`.

        Batch k always holds rows start + k * BATCH_ROWS onwards, whatever the
        row groups: so a part of a file that starts on a batch boundary is read
        in exactly the batches the whole file is, and protects to the same bytes.
        The next batch is read on a thread while the caller works on this one.
        """
        return read_ahead(self._read_between(start, stop, columns))

    def _read_between(self, start: int, stop: int, columns: Sequence[str] | None) -> Iterator[pa.RecordBatch]:
        meta = self._file.metadata
        groups, first_row, row = [], 0, 0
        for group in range(meta.num_row_groups):
            size = meta.row_group(group).num_rows
            if row + size > start and row < stop:
                if not groups:
                    first_row = row
                groups.append(group)
            row += size
        if not groups:
            return
        skip, wanted = start - first_row, stop - start
        wanted_columns = list(columns) if columns is not None else None
        try:
            raw = self._file.iter_batches(batch_size=BATCH_ROWS, row_groups=groups, columns=wanted_columns)
            for batch in rebatch(_window(raw, skip, wanted), BATCH_ROWS):
                yield readable(batch)
        except (pa.ArrowException, OSError):
            raise InputError(f"input is corrupt: a data page could not be decoded: {self.path}") from None

    def rows(self, start: int, stop: int) -> ParquetRows:
        """Rows start..stop of this file, seen as a source of their own."""
        return ParquetRows(self, start, stop)

    def take(self, columns: Sequence[str], rows: Sequence[int]) -> pa.Table:
        """Read only the row groups that hold `rows` (sorted), then pick those rows."""
        meta = self._file.metadata
        pieces, start, it = [], 0, 0
        try:
            for group in range(meta.num_row_groups):
                size = meta.row_group(group).num_rows
                wanted = []
                while it < len(rows) and rows[it] < start + size:
                    wanted.append(rows[it] - start)
                    it += 1
                if wanted:
                    table = readable(self._file.read_row_group(group, columns=list(columns)))
                    pieces.append(table.take(pa.array(wanted, pa.int64())))
                start += size
        except (pa.ArrowException, OSError):
            raise InputError(f"input is corrupt: a row group could not be decoded: {self.path}") from None
        if not pieces:
            return self.schema.empty_table().select(list(columns))
        return pa.concat_tables(pieces)

    def sha256(self) -> str:
        return file_sha256(self.path)


class ParquetRows:
    """A range of rows of a Parquet file: a part of a large file, protected by
    one task (ingestguard.parts). Reads like the file; its digest is the file's."""

    format = "parquet"

    def __init__(self, source: ParquetSource, start: int, stop: int) -> None:
        if not 0 <= start < stop <= source.num_rows:
            raise InputError(f"rows {start}..{stop} are not in {source.name} ({source.num_rows} rows)")
        self.source, self.start, self.stop = source, start, stop
        self.path, self.name, self.schema = source.path, source.name, source.schema
        self.num_rows = stop - start

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        return self.source.batches_between(self.start, self.stop, columns)

    def sha256(self) -> str:
        return self.source.sha256()


def _window(batches: Iterator[pa.RecordBatch], skip: int, wanted: int) -> Iterator[pa.RecordBatch]:
    """`wanted` rows of a stream of batches, after its first `skip` rows."""
    for batch in batches:
        if skip >= batch.num_rows:
            skip -= batch.num_rows
            continue
        batch = batch.slice(skip, wanted)
        skip, wanted = 0, wanted - batch.num_rows
        yield batch
        if not wanted:
            return


def rebatch(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """The same rows in batches of exactly `size` rows (the last one may be
    shorter); a batch already of that size passes through without a copy."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        while batch.num_rows:
            take = min(size - held, batch.num_rows)
            pending.append(batch.slice(0, take))
            held += take
            batch = batch.slice(take)
            if held == size:
                yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)
                pending, held = [], 0
    if held:
        yield pending[0] if len(pending) == 1 else pa.concat_batches(pending)


class StagedParquet(StagedBatchWriter):
    """A Parquet writer whose file only appears at the destination on commit."""

    format = "parquet"

    def __init__(
        self,
        destination: Path,
        schema: pa.Schema,
        encryption_properties: pq.FileEncryptionProperties | None = None,
    ) -> None:
        """`encryption_properties`: Parquet modular encryption of some columns
        (encrypt_column; see column_encryption.ColumnEncryption.properties)."""
        super().__init__(
            destination,
            lambda staging: pq.ParquetWriter(staging, schema, encryption_properties=encryption_properties),
        )

    def staged_rows(self) -> int:
        return ParquetSource(self.staging).num_rows
