"""In-memory data to Arrow and back: pandas, Polars, Hugging Face datasets, Arrow.

The guard protects Arrow data only; this module turns what ML code holds into
Arrow and the protected Arrow back into the type the user gave. The training
gate uses the same conversion to digest data, so a DataFrame protected here
and handed to the gate unchanged is found under the same content digest.

pandas, Polars and datasets are never imported here: an object can only be
one of their types if its library is already loaded (`sys.modules`), which
keeps `import ingestguard` and the CLI free of them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from ingestguard.digest import ContentHasher
from ingestguard.errors import InputError

DATASET_BATCH_ROWS = 10_000


@dataclass(frozen=True)
class Converted:
    """`data` as an Arrow table, and how to give a protected table back as `data`'s type."""

    table: pa.Table
    kind: str  # "dataframe", "polars", "table", "record_batch": names the input in evidence
    back: Callable[[pa.Table], Any]


def _instance(data: object, module: str, name: str) -> bool:
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(data, getattr(loaded, name))


def is_dataset(data: object) -> bool:
    """A Hugging Face `datasets.Dataset`."""
    return _instance(data, "datasets", "Dataset")


def to_arrow(data: object) -> Converted:
    """Arrow for a pandas or Polars DataFrame, an Arrow table or record batch."""
    if isinstance(data, pa.Table):
        return Converted(data, "table", lambda out: out)
    if isinstance(data, pa.RecordBatch):
        return Converted(pa.Table.from_batches([data]), "record_batch", _one_batch)
    if _instance(data, "pandas", "DataFrame"):
        return _from_pandas(data)
    if _instance(data, "polars", "DataFrame"):
        # Polars hands over its buffers (no copy for most types); strings come
        # as string_view, which the sources read as large_string.
        polars = sys.modules["polars"]
        return Converted(data.to_arrow(), "polars", lambda out: polars.from_arrow(out, rechunk=False))
    raise InputError(
        "expected a pandas or Polars DataFrame, a pyarrow Table, RecordBatch or RecordBatchReader, "
        f"or a Hugging Face Dataset; got {type(data).__name__}"
    )


def _one_batch(out: pa.Table) -> pa.RecordBatch:
    # Never empty: a run refuses zero rows before anything is protected.
    return out.combine_chunks().to_batches()[0]


def _from_pandas(df: Any) -> Converted:
    """A DataFrame as Arrow. An object column Arrow cannot type (strings mixed
    with numbers, say) is scanned as text, each value rendered with `str`; in
    the frame given back, every value protection left unchanged is the user's
    own value again, in the column's own dtype."""
    if len({str(c) for c in df.columns}) != len(df.columns):
        raise InputError("the DataFrame has two columns with the same name; rename one")
    mixed = [name for name in df.columns if df[name].dtype == object and not _arrow_types(df[name])]
    if not mixed:
        return Converted(pa.Table.from_pandas(df), "dataframe", lambda out: out.to_pandas())
    rendered = {name: df[name].map(_render) for name in mixed}
    as_text = df.copy(deep=False)
    for name, text in rendered.items():
        as_text[name] = text
    table = pa.Table.from_pandas(as_text)

    def back(out: pa.Table) -> Any:
        frame = out.to_pandas()
        for name, text in rendered.items():
            if name in frame.columns:
                protected = frame[name]
                same = (protected == text) | (protected.isna() & text.isna())
                frame[name] = df[name].where(same, protected).astype(object)
        return frame

    return Converted(table, "dataframe", back)


def _arrow_types(column: Any) -> bool:
    try:
        pa.array(column, from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return False
    return True


def _render(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


def dataset_batches(ds: Any, rows: int = DATASET_BATCH_ROWS) -> Iterator[pa.Table]:
    """A Dataset's rows as Arrow tables, in the dataset's row order (an indices
    mapping from `shuffle` or `select` is followed, not the stored order)."""
    yield from ds.with_format("arrow").iter(batch_size=rows)


def digest_of(data: object) -> tuple[str, int]:
    """The content digest (`digest.py`) and row count of any supported in-memory data."""
    if is_dataset(data):
        hasher = ContentHasher(list(data.column_names))
        for table in dataset_batches(data):
            hasher.update(table)
        return hasher.hexdigest(), hasher.rows
    converted = to_arrow(data)
    hasher = ContentHasher(converted.table.schema.names)
    hasher.update(converted.table)
    return hasher.hexdigest(), hasher.rows
