"""Re-identification risk of an output: k-anonymity over quasi-identifier columns.

Rows that agree on every quasi-identifier (zip, birth date, gender, ...) form
a group: whoever knows those facts about a person narrows them down to their
group, so a group of one re-identifies its row. k is the smallest group's size.
Counted over the output as it streams: Arrow groups each batch, and each
distinct combination is kept as an 8-byte digest with its row count, never as
values, so memory grows with the number of groups, not with rows or value length.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from ingestguard.errors import IngestGuardError, PolicyError
from ingestguard.io import CsvSource, JsonLinesSource, ParquetSource, file_format
from ingestguard.reports.evidence import KAnonymityEvidence

if TYPE_CHECKING:
    from ingestguard.pipeline import FileOutcome
    from ingestguard.policy import KAnonymitySettings

# A staged output has its input's format (io.open_sink), whatever its name.
_STAGED_READERS = {"jsonl": JsonLinesSource, "csv": CsvSource}
# Encrypted columns are ciphertext to whoever holds the output without the keys.
_UNREADABLE_ACTIONS = ("drop_column", "encrypt_column")


class GroupSizes:
    """Rows per combination of quasi-identifier values; sizes add across batches and files."""

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self.sizes: Counter[int] = Counter()

    def add(self, data: pa.RecordBatch | pa.Table) -> None:
        """Count `data`'s rows per group; of `columns`, those `data` lacks are left out."""
        present = [c for c in self.columns if c in data.schema.names]
        if not data.num_rows:
            return
        if not present:  # nothing left to tell rows apart: one group
            self.sizes[_digest(())] += data.num_rows
            return
        table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
        groups = table.select(present).group_by(present, use_threads=False).aggregate([([], "count_all")])
        counts = groups.column("count_all").to_pylist()
        keys = groups.select(present).to_pylist()
        for row, n in zip(keys, counts, strict=True):
            self.sizes[_digest(tuple(row[c] for c in present))] += n

    def __add__(self, other: GroupSizes) -> GroupSizes:
        out = GroupSizes(self.columns)
        out.sizes = self.sizes + other.sizes
        return out

    def summary(self, settings: KAnonymitySettings) -> KAnonymityEvidence:
        """k, the share of rows in groups under `settings.k`, and the verdict on it."""
        rows = sum(self.sizes.values())
        below = sum(n for n in self.sizes.values() if n < settings.k)
        share = below / rows if rows else 0.0
        failure = None
        if share > settings.max_share_below_k:
            failure = (
                f"k-anonymity over {', '.join(self.columns)}: {share:.2%} of output rows are in groups "
                f"smaller than k={settings.k} (allowed {settings.max_share_below_k:.2%}); "
                "generalize or drop quasi-identifiers"
            )
        return KAnonymityEvidence(
            quasi_identifiers=self.columns,
            k=settings.k,
            max_share_below_k=settings.max_share_below_k,
            rows=rows,
            groups=len(self.sizes),
            smallest_group=min(self.sizes.values()) if self.sizes else None,
            rows_below_k=below,
            share_below_k=round(share, 6),
            status="failed" if failure else "passed",
            failure=failure,
        )


def _digest(values: tuple) -> int:
    # 64 bits: two of ten million groups merge by chance with probability ~3e-6.
    return int.from_bytes(hashlib.blake2b(repr(values).encode(), digest_size=8).digest(), "big")


def check_columns(settings: KAnonymitySettings, schema: pa.Schema, source: str) -> None:
    """Fail before any work when a quasi-identifier the policy names is not a column of the input."""
    for column in settings.quasi_identifiers:
        if column not in schema.names:
            raise PolicyError(
                f"k_anonymity.quasi_identifiers names '{column}', which is not a column of {source}; "
                "fix the column name in the policy"
            )


def output_k_anonymity(
    settings: KAnonymitySettings, outcomes: Iterable[FileOutcome]
) -> KAnonymityEvidence | None:
    """k-anonymity of a run's whole output (every file's rows in one count), read
    from the staged files or in-memory tables about to be published; None when
    the policy names no quasi-identifiers."""
    if not settings.quasi_identifiers:
        return None
    sizes = GroupSizes(settings.quasi_identifiers)
    for outcome in outcomes:
        unreadable = {c["name"] for c in outcome.columns if c.get("action") in _UNREADABLE_ACTIONS}
        columns = [c for c in settings.quasi_identifiers if c not in unreadable]
        if outcome.table is not None:
            sizes.add(outcome.table.select([c for c in columns if c in outcome.table.schema.names]))
        elif outcome.staging:
            try:
                staged = _open_staged(outcome)
                for batch in staged.batches([c for c in columns if c in staged.schema.names]):
                    sizes.add(batch)
            except IngestGuardError:
                return _unmeasured(sizes, settings, f"the staged output of {outcome.input} is unreadable")
        else:
            return _unmeasured(sizes, settings, f"no staged output for {outcome.input}")
    return sizes.summary(settings)


def _open_staged(outcome: FileOutcome) -> ParquetSource | JsonLinesSource | CsvSource:
    reader = _STAGED_READERS.get(file_format(Path(outcome.input)) or "parquet", ParquetSource)
    return reader(Path(outcome.staging))


def _unmeasured(sizes: GroupSizes, settings: KAnonymitySettings, why: str) -> KAnonymityEvidence:
    """Fail closed: a risk that could not be measured is not a risk measured as low."""
    return sizes.summary(settings).model_copy(
        update={"status": "failed", "failure": f"k-anonymity not measured: {why}"}
    )
