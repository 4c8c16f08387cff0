"""Sources and sinks. Every input becomes a stream of Arrow record batches.

Files are Parquet, JSON lines (`.jsonl`, `.json`) or CSV (`.csv`), chosen by
suffix (any other suffix is read as Parquet, as before there were formats).
Each is read as a stream of batches and written back in its own format
through a staging file beside the destination that is renamed into place only
after the whole run has passed, so a failed run never leaves a partial output.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingestguard.errors import InputError, PolicyError
from ingestguard.io.csvfile import CsvSource, StagedCsv
from ingestguard.io.jsonlines import JsonLinesSource, StagedJsonLines
from ingestguard.io.parquet import ParquetSource, StagedParquet
from ingestguard.io.paths import DIRECTORY_SUFFIXES, FilePair, file_sha256, list_inputs, resolve_inputs
from ingestguard.io.staging import StagedSink, commit_staged, discard_staged, remove_stale
from ingestguard.io.table import BATCH_ROWS, TableSource, readable_schema

__all__ = [
    "BATCH_ROWS",
    "DIRECTORY_SUFFIXES",
    "CsvSource",
    "FilePair",
    "FileSource",
    "JsonLinesSource",
    "ParquetSource",
    "Source",
    "StagedCsv",
    "StagedJsonLines",
    "StagedParquet",
    "StagedSink",
    "TableSource",
    "commit_staged",
    "discard_staged",
    "file_format",
    "file_sha256",
    "list_inputs",
    "open_sink",
    "open_source",
    "readable_schema",
    "remove_stale",
    "resolve_inputs",
]

FileSource = ParquetSource | JsonLinesSource | CsvSource
Source = TableSource | FileSource

_FORMATS = {".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv"}
_NAMES = {"parquet": "Parquet", "jsonl": "JSON lines", "csv": "CSV"}


def file_format(path: Path) -> str | None:
    """The format a suffix names (parquet, jsonl or csv); None for another suffix."""
    return _FORMATS.get(path.suffix.lower())


def open_source(path: Path) -> FileSource:
    """Open a file by its suffix; a suffix of no known format is read as Parquet."""
    fmt = file_format(path)
    if fmt == "jsonl":
        return JsonLinesSource(path)
    if fmt == "csv":
        return CsvSource(path)
    return ParquetSource(path)


def open_sink(
    destination: Path,
    schema: pa.Schema,
    source: FileSource,
    encryption_properties: pq.FileEncryptionProperties | None = None,
) -> StagedSink:
    """A staged writer of the source's format at `destination`.

    The output keeps the input's format: a destination whose suffix names
    another format is refused rather than written in the wrong one.
    `encryption_properties` (encrypt_column) exist only for Parquet.
    """
    wanted = file_format(destination)
    if wanted is not None and wanted != source.format:
        raise InputError(
            f"the output {destination} names {_NAMES[wanted]} but the input {source.name} is "
            f"{_NAMES[source.format]}; outputs keep their input's format, give it a {source.format} suffix"
        )
    if encryption_properties is not None and source.format != "parquet":
        raise PolicyError(
            f"encrypt_column needs Parquet modular encryption, which {_NAMES[source.format]} output "
            f"lacks ({source.name}); use another action for those columns or convert the input to Parquet"
        )
    if source.format == "jsonl":
        return StagedJsonLines(destination, source.path)
    if source.format == "csv":
        return StagedCsv(destination, schema)
    return StagedParquet(destination, schema, encryption_properties)
