"""Sources and sinks. Every input becomes a stream of Arrow record batches.

Parquet is read one row group at a time and written through a temporary file
beside the destination that is renamed into place only after the whole run
has passed, so a failed run never leaves a partial output.

View-typed columns (string_view, binary_view) are read as their large_*
equivalents: most Arrow compute kernels (take, regex, dictionary encoding)
have no view kernels yet, and the output keeps the large_* type. The same
holds for dictionary columns with view values (dictionary<large_string>).
"""

from __future__ import annotations

import glob
import hashlib
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingestguard.errors import InputError

BATCH_ROWS = 65_536
_GLOB_CHARS = set("*?[")


_VIEW_TYPES = {pa.string_view(): pa.large_string(), pa.binary_view(): pa.large_binary()}


def _readable_type(dtype: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(dtype) and dtype.value_type in _VIEW_TYPES:
        # Even the cast to a plain string fails for dictionary<string_view>.
        return pa.dictionary(dtype.index_type, _VIEW_TYPES[dtype.value_type], dtype.ordered)
    return _VIEW_TYPES.get(dtype, dtype)


def readable_schema(schema: pa.Schema) -> pa.Schema:
    """The schema with view types replaced by the large types the kernels take."""
    for i, fld in enumerate(schema):
        dtype = _readable_type(fld.type)
        if dtype != fld.type:
            schema = schema.set(i, fld.with_type(dtype))
    return schema


def _readable(data: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
    schema = readable_schema(data.schema)
    return data if schema.equals(data.schema) else data.cast(schema)


class TableSource:
    """An in-memory Arrow table seen as a stream of batches."""

    def __init__(self, table: pa.Table, name: str = "<table>") -> None:
        self.table = _readable(table)
        self.name = name
        self.schema = self.table.schema
        self.num_rows = table.num_rows

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        table = self.table.select(list(columns)) if columns is not None else self.table
        yield from table.to_batches(max_chunksize=BATCH_ROWS)

    def take(self, columns: Sequence[str], rows: Sequence[int]) -> pa.Table:
        return self.table.select(list(columns)).take(pa.array(rows, pa.int64()))

    def sha256(self) -> str | None:
        return None


class ParquetSource:
    """A Parquet file, opened and validated up front, read row group by row group."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        if not path.is_file():
            raise InputError(f"input not found: {path}")
        if path.stat().st_size == 0:
            raise InputError(f"input is an empty file (0 bytes): {path}")
        try:
            # pre_buffer keeps every row group it has read until the file is closed:
            # memory would grow with the input instead of staying flat.
            self._file = pq.ParquetFile(path, pre_buffer=False)
        except (pa.ArrowException, OSError):
            raise InputError(
                f"input is not a readable Parquet file (bad magic bytes or truncated footer): {path}"
            ) from None
        self.schema = readable_schema(self._file.schema_arrow)
        self.num_rows = self._file.metadata.num_rows

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self._file.iter_batches(
                batch_size=BATCH_ROWS, columns=list(columns) if columns is not None else None
            ):
                yield _readable(batch)
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
                    table = _readable(self._file.read_row_group(group, columns=list(columns)))
                    pieces.append(table.take(pa.array(wanted, pa.int64())))
                start += size
        except (pa.ArrowException, OSError):
            raise InputError(f"input is corrupt: a row group could not be decoded: {self.path}") from None
        if not pieces:
            return self.schema.empty_table().select(list(columns))
        return pa.concat_tables(pieces)

    def sha256(self) -> str:
        return file_sha256(self.path)


Source = TableSource | ParquetSource


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class FilePair:
    """One input file and where its protected copy goes."""

    source: Path
    destination: Path


def list_inputs(input_path: str | Path) -> tuple[list[Path], Path]:
    """The Parquet files a file, directory or glob names, and the folder they are relative to."""
    text = str(input_path)
    if _GLOB_CHARS & set(text) and not Path(text).exists():
        files = sorted(Path(m) for m in glob.glob(text, recursive=True) if Path(m).is_file())
        if not files:
            raise InputError(f"no files match the pattern: {text}")
        return files, Path(_glob_root(text))
    source = Path(text)
    if source.is_dir():
        files = sorted(p for p in source.rglob("*.parquet") if p.is_file())
        if not files:
            raise InputError(f"no .parquet files found under directory: {source}")
        return files, source
    if not source.exists():
        raise InputError(f"input not found: {source}")
    return [source], source.parent


def resolve_inputs(input_path: str | Path, output_path: str | Path) -> list[FilePair]:
    """Expand a file, directory or glob into (input, output) pairs.

    A directory or glob output mirrors the input tree under `output_path`; a
    single file goes into `output_path` when that is a directory or ends in "/".
    The output may never be, or lie inside, the input: protecting in place
    would destroy the original on the first bug.
    """
    files, base = list_inputs(input_path)
    output = Path(output_path)
    single = len(files) == 1 and files[0] == Path(str(input_path))
    if single and not (output.is_dir() or str(output_path).endswith(("/", os.sep))):
        pairs = [FilePair(files[0], output)]
    elif single:
        pairs = [FilePair(files[0], output / files[0].name)]
    else:
        if Path(str(input_path)).is_dir() and _inside(output, base):
            raise InputError("the output directory lies inside the input directory; choose another")
        pairs = [FilePair(f, output / f.relative_to(base)) for f in files]
    for pair in pairs:
        if pair.destination.resolve() == pair.source.resolve():
            raise InputError(f"the output would overwrite the input {pair.source}; choose another output")
    return pairs


def _glob_root(pattern: str) -> str:
    parts = Path(pattern).parts
    fixed = []
    for part in parts:
        if _GLOB_CHARS & set(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."


def _inside(child: Path, parent: Path) -> bool:
    return child.resolve().is_relative_to(parent.resolve())


class StagedParquet:
    """A Parquet writer whose file only appears at the destination on commit."""

    def __init__(
        self,
        destination: Path,
        schema: pa.Schema,
        encryption_properties: pq.FileEncryptionProperties | None = None,
    ) -> None:
        """`encryption_properties`: Parquet modular encryption of some columns
        (encrypt_column; see column_encryption.ColumnEncryption.properties)."""
        self.destination = destination
        destination.parent.mkdir(parents=True, exist_ok=True)
        self.staging = destination.with_name(f".{destination.name}.{uuid.uuid4().hex[:12]}.partial")
        self._writer = pq.ParquetWriter(self.staging, schema, encryption_properties=encryption_properties)
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def close(self) -> None:
        self._writer.close()

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            self.staging.unlink(missing_ok=True)


def commit_staged(staging: Path, destination: Path) -> None:
    """Move a finished staging file into place (atomic on one filesystem)."""
    os.replace(staging, destination)


def discard_staged(staging: Path) -> None:
    staging.unlink(missing_ok=True)
