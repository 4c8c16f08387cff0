"""CSV files: a header row, then records; read as Arrow batches, written with
pyarrow's CSVWriter in the same column order under the same header.

Every column is read as a string. Type inference would turn `007` into 7 and a
ZIP code or an account number into a number, changing the data the guard is
meant to pass through unchanged (and numbers would escape the text scan).
Empty fields stay empty strings, since CSV has no null. Quoted values may hold
line breaks. The writer quotes every string value (CSVWriter's "needed" style),
so a protected file has the input's records but not necessarily its bytes.

pyarrow's parse errors quote the offending record, so they are never passed on.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.csv as pcsv

from ingestguard.errors import InputError
from ingestguard.io.paths import check_input_file, is_parquet
from ingestguard.io.staging import StagedBatchWriter
from ingestguard.io.table import StreamedFile, check_columns

MIN_BLOCK = 1 << 20


def _survey(path: Path) -> int:
    """The longest line, after checking what pyarrow lets pass: UTF-8 throughout,
    and no quoted value left open at the end (pyarrow reads one to the end of
    the file). Quotes pair up in well-formed CSV, doubled ones included."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    longest, current, quotes = 0, 0, 0
    with open(path, "rb") as fh:
        while data := fh.read(1 << 20):
            try:
                decoder.decode(data)
            except UnicodeDecodeError:
                raise InputError(f"input is not UTF-8 text; re-encode the file: {path}") from None
            quotes += data.count(b'"')
            parts = data.split(b"\n")
            current += len(parts[0])
            if len(parts) > 1:
                longest = max(longest, current, *map(len, parts[1:-1]))
                current = len(parts[-1])
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError(
            f"input is not UTF-8 text (it ends inside a character); re-encode the file: {path}"
        ) from None
    if quotes % 2:
        raise InputError(
            f"input has an unclosed quoted value (an odd number of quote characters: a truncated file?): {path}"
        )
    return max(longest, current)


def _parse_error(exc: Exception, path: Path) -> InputError:
    text = str(exc)
    if "invalid UTF8" in text or isinstance(exc, UnicodeDecodeError):
        return InputError(f"input is not UTF-8 text; re-encode the file: {path}")
    if "Empty CSV file" in text:
        return InputError(f"input has no header row: {path}")
    if "Expected" in text and "columns, got" in text:
        return InputError(
            f"a record has a different number of fields than the header (a truncated file or "
            f"an unclosed quote?); the parser's message is withheld because it quotes the record: {path}"
        )
    return InputError(
        f"input is not readable CSV; the parser's message is withheld because it quotes the data: {path}"
    )


class CsvSource(StreamedFile):
    """A CSV file with a header row, checked and counted at open, then streamed."""

    format = "csv"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        size = check_input_file(path)
        if is_parquet(path):
            raise InputError(f"input is a Parquet file, not CSV; give it a .parquet suffix: {path}")
        # A record must fit in one block; records with line breaks may be longer
        # than the longest line, so the block doubles until one holds them.
        self._block = max(MIN_BLOCK, 2 * _survey(path) + 2)
        while True:
            try:
                self.schema = self._header()
                self.num_rows = sum(batch.num_rows for batch in self._reader())
                break
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                if "straddl" in str(exc) and self._block <= 2 * size:
                    self._block *= 2
                    continue
                raise _parse_error(exc, path) from None
        check_columns(self.schema, self.num_rows, self.name)

    def _header(self) -> pa.Schema:
        names = pcsv.open_csv(
            self.path,
            read_options=pcsv.ReadOptions(block_size=self._block),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
        ).schema.names
        check_columns(pa.schema([(n, pa.null()) for n in names]), 0, self.name)
        return pa.schema([(n, pa.string()) for n in names])

    def _reader(self, columns: Sequence[str] | None = None) -> pcsv.CSVStreamingReader:
        return pcsv.open_csv(
            self.path,
            read_options=pcsv.ReadOptions(block_size=self._block),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=self.schema,
                strings_can_be_null=False,
                include_columns=list(columns) if columns is not None else None,
            ),
        )

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._reader(columns)
        except (pa.ArrowException, UnicodeDecodeError):
            raise InputError(
                f"input changed or is corrupt: it no longer reads as it did at open: {self.path}"
            ) from None


class StagedCsv(StagedBatchWriter):
    """A CSV writer (header, then records, in the given column order) into a staging
    file. The file is opened here: Arrow's CSV writer does not close a file it
    opened by path."""

    format = "csv"

    def __init__(self, destination: Path, schema: pa.Schema) -> None:
        self._out: IO[bytes] | None = None
        super().__init__(destination, lambda staging: pcsv.CSVWriter(self._open(staging), schema))

    def _open(self, staging: Path) -> IO[bytes]:
        self._out = open(staging, "wb")  # noqa: SIM115  (closed in _close)
        return self._out

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            if self._out is not None:
                self._out.close()

    def staged_rows(self) -> int:
        return CsvSource(self.staging).num_rows
