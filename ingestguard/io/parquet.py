"""Parquet files: read one row group at a time, written through a staging file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingestguard.errors import InputError
from ingestguard.io.paths import check_input_file, file_sha256
from ingestguard.io.staging import StagedSink
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
        try:
            for batch in self._file.iter_batches(
                batch_size=BATCH_ROWS, columns=list(columns) if columns is not None else None
            ):
                yield readable(batch)
        except (pa.ArrowException, OSError):
            raise InputError(f"input is corrupt: a data page could not be decoded: {self.path}") from None

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


class StagedParquet(StagedSink):
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
        super().__init__(destination)
        try:
            self._writer = pq.ParquetWriter(self.staging, schema, encryption_properties=encryption_properties)
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
        return ParquetSource(self.staging).num_rows
