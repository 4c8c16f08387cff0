"""JSON lines files: one JSON object per line, read as Arrow record batches
and written back line for line.

Reading is two passes. The first, at open, reads the file in newline-aligned
chunks, infers each chunk's schema and unifies them (the streaming reader
fixes its schema on its first block and fails on a key first seen later), and
counts the records; it also checks UTF-8 and one object per line, and finds
the longest line, so the streaming reader's blocks can hold any one line. The
second pass streams batches with `pyarrow.json.open_json` under that explicit
schema.

Types: JSON has no timestamps, so a string pyarrow would read as a timestamp
stays a string (its text is what gets written back). Numbers are never
rewritten except to null.

Writing keeps every line of the input in place: the sink reads the input's
lines in step with the protected rows. A line whose values did not change is
copied byte for byte (blank lines too); a changed line is the input's object
with only the changed values replaced, in the line's own key order, a key the
line did not have left out, and a dropped column's key removed.

pyarrow's parse errors quote the offending line, so they are never passed on:
messages name the line number and the kind of problem only.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.json as pj

from ingestguard.errors import InputError
from ingestguard.io.paths import check_input_file, is_parquet
from ingestguard.io.staging import StagedSink
from ingestguard.io.table import StreamedFile, check_columns

CHUNK_BYTES = 8 << 20
MIN_BLOCK = 1 << 20
_BLANK = b" \t\r\n"


def _chunks(path: Path) -> Iterator[tuple[int, bytes]]:
    """(number of its first line, bytes) of newline-aligned chunks of about CHUNK_BYTES."""
    line = 1
    pending = b""
    with open(path, "rb") as fh:
        while data := fh.read(CHUNK_BYTES):
            buffer = pending + data
            cut = buffer.rfind(b"\n") + 1
            if cut == 0:
                pending = buffer
                continue
            yield line, buffer[:cut]
            line += buffer.count(b"\n", 0, cut)
            pending = buffer[cut:]
    if pending:
        yield line, pending


def _record_line(chunk: bytes, first_line: int, record: int) -> int:
    """The file line number of the chunk's `record`-th record (blank lines hold none)."""
    seen = -1
    for offset, line in enumerate(chunk.split(b"\n")):
        if line.strip(_BLANK):
            seen += 1
            if seen == record:
                return first_line + offset
    return first_line


def _parse_error(exc: Exception, chunk: bytes, first_line: int, path: Path) -> InputError:
    """One line naming the problem and the line, never quoting the line."""
    if isinstance(exc, UnicodeDecodeError):
        for offset, line in enumerate(chunk.split(b"\n")):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return InputError(f"line {first_line + offset} is not UTF-8 text; re-encode the file: {path}")
        return InputError(f"input is not UTF-8 text; re-encode the file: {path}")
    text = str(exc)
    row = re.search(r"in row (\d+)", text)
    where = f"line {_record_line(chunk, first_line, int(row.group(1)))}" if row else "a line"
    twice = re.search(r"Column\((/[^)]*)\) was specified twice", text)
    if twice:
        return InputError(
            f"input has two keys named '{twice.group(1).lstrip('/')}' in {where}; rename one: {path}"
        )
    changed = re.search(r"Column\(([^)]*)\) changed from (\w+) to (\w+)", text)
    if changed and changed.group(1).strip("/") == "":
        return InputError(f"{where} is not a JSON object; JSON lines hold one object per line: {path}")
    if changed:
        key, before, after = changed.groups()
        return InputError(
            f"key '{key.lstrip('/')}' holds a {before} in one line and a {after} in {where}; "
            f"give each key one JSON type: {path}"
        )
    return InputError(
        f"{where} is not valid JSON (one object per line expected; the parser's message is "
        f"withheld because it quotes the line): {path}"
    )


def _as_text(dtype: pa.DataType) -> pa.DataType:
    """The JSON-faithful type: timestamps inferred from strings are strings again."""
    if pa.types.is_timestamp(dtype) or pa.types.is_date(dtype):
        return pa.string()
    if pa.types.is_struct(dtype):
        return pa.struct(
            [dtype.field(i).with_type(_as_text(dtype.field(i).type)) for i in range(dtype.num_fields)]
        )
    if pa.types.is_list(dtype):
        return pa.list_(dtype.value_field.with_type(_as_text(dtype.value_type)))
    if pa.types.is_large_list(dtype):
        return pa.large_list(dtype.value_field.with_type(_as_text(dtype.value_type)))
    return dtype


def _unify(schemas: list[pa.Schema], path: Path) -> pa.Schema:
    try:
        schema = pa.unify_schemas(schemas, promote_options="permissive") if schemas else pa.schema([])
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        field = re.search(r"[Ff]ield (\S+) has incompatible types", str(exc))
        named = f"key '{field.group(1)}'" if field else "a key"
        raise InputError(
            f"{named} holds different JSON types in different lines; give each key one type: {path}"
        ) from None
    return pa.schema([f.with_type(_as_text(f.type)) for f in schema])


class JsonLinesSource(StreamedFile):
    """A JSON lines file, surveyed at open (checks, schema, rows), then streamed."""

    format = "jsonl"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        check_input_file(path)
        if is_parquet(path):
            raise InputError(f"input is a Parquet file, not JSON lines; give it a .parquet suffix: {path}")
        schemas, rows, longest = [], 0, 0
        for first_line, chunk in _chunks(path):
            lines = chunk.split(b"\n")
            longest = max(longest, *map(len, lines))
            try:
                # pyarrow keeps invalid UTF-8 inside strings without a word; check it here.
                chunk.decode("utf-8")
                table = pj.read_json(
                    io.BytesIO(chunk),
                    read_options=pj.ReadOptions(use_threads=False, block_size=len(chunk) + 1),
                )
            except (pa.ArrowException, UnicodeDecodeError) as exc:
                raise _parse_error(exc, chunk, first_line, path) from None
            if table.num_rows != sum(1 for line in lines if line.strip(_BLANK)):
                # The sink writes line for line: one record, one line.
                raise InputError(
                    f"a JSON value starting near line {first_line} spans several lines or shares one; "
                    f"JSON lines hold one object per line: {path}"
                )
            if table.num_columns:
                schemas.append(table.schema)
            rows += table.num_rows
        self.schema = _unify(schemas, path)
        self.num_rows = rows
        check_columns(self.schema, rows, self.name)
        self._block = max(MIN_BLOCK, longest + 2)

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        try:
            reader = pj.open_json(
                self.path,
                read_options=pj.ReadOptions(block_size=self._block),
                parse_options=pj.ParseOptions(explicit_schema=self.schema, unexpected_field_behavior="error"),
            )
            for batch in reader:
                if batch.schema != self.schema:
                    batch = batch.select(self.schema.names).cast(self.schema)
                yield batch.select(list(columns)) if columns is not None else batch
        except (pa.ArrowException, UnicodeDecodeError):
            raise InputError(
                f"input changed or is corrupt: it no longer reads as it did at open: {self.path}"
            ) from None


def _patch(original: Any, after: Any) -> Any:
    """`original` (a parsed input value) with the values that changed in `after`
    (the protected Arrow value as Python) put in, keeping its keys and their order."""
    if type(original) is type(after) and original == after:
        return original  # most values: one comparison in C instead of a walk
    if isinstance(original, dict) and isinstance(after, dict):
        out = {k: _patch(v, after[k]) for k, v in original.items() if k in after}
        out.update((k, v) for k, v in after.items() if k not in original and v is not None)
        return out
    if isinstance(original, list) and isinstance(after, list) and len(original) == len(after):
        return [_patch(o, a) for o, a in zip(original, after, strict=True)]
    if (
        isinstance(original, int | float)
        and not isinstance(original, bool)
        and isinstance(after, int | float)
    ):
        return original  # the input's own digits, not their float64 rendering
    return after


class StagedJsonLines(StagedSink):
    """Writes protected rows as the input's lines, changed only where values changed."""

    format = "jsonl"

    def __init__(self, destination: Path, template: Path) -> None:
        """`template`: the input file the rows were read from, read again in step."""
        super().__init__(destination)
        self._template_path = template
        try:
            self._out: IO[bytes] = open(self.staging, "wb")  # noqa: SIM115  (closed in _close)
            self._template: IO[bytes] = open(template, "rb")  # noqa: SIM115
        except OSError as exc:
            raise self._fail_open(exc) from None
        self._closed = False

    def _next_record(self) -> bytes:
        """The next record line of the input; blank lines before it are copied through."""
        for line in self._template:
            if line.strip(_BLANK):
                return line
            self._out.write(line)
        raise self._changed()

    def _changed(self) -> InputError:
        return InputError(f"input changed while it was being protected: {self._template_path}")

    def _write(self, batch: pa.RecordBatch) -> None:
        for after in batch.to_pylist():
            line = self._next_record()
            try:
                original = json.loads(line)
            except ValueError:
                raise self._changed() from None
            patched = _patch(original, after)
            if patched == original:
                self._out.write(line)
            else:
                body = line.rstrip(b"\r\n")
                ending = line[len(body) :]
                self._out.write(json.dumps(patched, ensure_ascii=False).encode() + ending)

    def _finish(self) -> None:
        """Copy the input's trailing blank lines; any record left means rows went missing."""
        for line in self._template:
            if line.strip(_BLANK):
                raise self._changed()
            self._out.write(line)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._template.close()
            self._out.close()

    def staged_rows(self) -> int:
        return JsonLinesSource(self.staging).num_rows
