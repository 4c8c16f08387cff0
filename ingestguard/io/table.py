"""Arrow tables as sources, and the schema rules every source shares.

View-typed columns (string_view, binary_view) are read as their large_*
equivalents: most Arrow compute kernels (take, regex, dictionary encoding)
have no view kernels yet, and the output keeps the large_* type. The same
holds for dictionary columns with view values (dictionary<large_string>).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa

from ingestguard.errors import InputError
from ingestguard.io.paths import file_sha256

BATCH_ROWS = 65_536

_VIEW_TYPES = {pa.string_view(): pa.large_string(), pa.binary_view(): pa.large_binary()}


def _readable_type(dtype: pa.DataType) -> pa.DataType:
    """`dtype` with view types replaced at every depth (inside lists, structs,
    maps and dictionaries too: the nested walker takes and rebuilds leaves)."""
    if pa.types.is_dictionary(dtype) and dtype.value_type in _VIEW_TYPES:
        # Even the cast to a plain string fails for dictionary<string_view>.
        return pa.dictionary(dtype.index_type, _VIEW_TYPES[dtype.value_type], dtype.ordered)
    if pa.types.is_map(dtype):
        key, item = _readable_field(dtype.key_field), _readable_field(dtype.item_field)
        return pa.map_(key, item, dtype.keys_sorted)
    if pa.types.is_list(dtype):
        return pa.list_(_readable_field(dtype.value_field))
    if pa.types.is_large_list(dtype):
        return pa.large_list(_readable_field(dtype.value_field))
    if pa.types.is_fixed_size_list(dtype):
        return pa.list_(_readable_field(dtype.value_field), dtype.list_size)
    if pa.types.is_struct(dtype):
        return pa.struct([_readable_field(dtype.field(i)) for i in range(dtype.num_fields)])
    return _VIEW_TYPES.get(dtype, dtype)


def _readable_field(fld: pa.Field) -> pa.Field:
    return fld.with_type(_readable_type(fld.type))


def readable_schema(schema: pa.Schema) -> pa.Schema:
    """The schema with view types replaced by the large types the kernels take."""
    for i, fld in enumerate(schema):
        dtype = _readable_type(fld.type)
        if dtype != fld.type:
            schema = schema.set(i, fld.with_type(dtype))
    return schema


def readable(data: pa.RecordBatch | pa.Table) -> pa.RecordBatch | pa.Table:
    schema = readable_schema(data.schema)
    return data if schema.equals(data.schema) else data.cast(schema)


def check_columns(schema: pa.Schema, num_rows: int, name: str) -> None:
    """Refuse schemas the pipeline cannot account for, at open, with one line.

    Two columns of one name cannot be told apart in plans, evidence or output
    (pyarrow itself raises a KeyError on lookup); rows without columns leave
    nothing to scan, and their count would be lost on the way through batches.
    """
    repeated = [column for column, n in Counter(schema.names).items() if n > 1]
    if repeated:
        raise InputError(f"input has two columns named '{repeated[0]}'; rename one: {name}")
    if num_rows and not schema.names:
        raise InputError(f"input has rows but no columns, nothing to scan: {name}")


class TableSource:
    """An in-memory Arrow table seen as a stream of batches."""

    def __init__(self, table: pa.Table, name: str = "<table>") -> None:
        check_columns(table.schema, table.num_rows, name)
        self.table = readable(table)
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


class StreamedFile:
    """What a text-format source (JSON lines, CSV) shares: it has no row groups to
    seek, so rows are picked out of its stream; its digest is the file's."""

    path: Path
    schema: pa.Schema

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError

    def take(self, columns: Sequence[str], rows: Sequence[int]) -> pa.Table:
        return take_from_stream(
            self.batches(columns), pa.schema([self.schema.field(c) for c in columns]), rows
        )

    def sha256(self) -> str:
        return file_sha256(self.path)


def take_from_stream(batches: Iterator[pa.RecordBatch], schema: pa.Schema, rows: Sequence[int]) -> pa.Table:
    """Pick sorted row numbers out of a stream of batches, one batch in memory at a time."""
    pieces, start, it = [], 0, 0
    for batch in batches:
        wanted = []
        while it < len(rows) and rows[it] < start + batch.num_rows:
            wanted.append(rows[it] - start)
            it += 1
        if wanted:
            pieces.append(pa.Table.from_batches([batch.take(pa.array(wanted, pa.int64()))]))
        start += batch.num_rows
        if it == len(rows):
            break
    return pa.concat_tables(pieces) if pieces else schema.empty_table()
