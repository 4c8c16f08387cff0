"""Large Parquet files in parts: one protect task per range of rows, then a merge.

Why: the unit of orchestrated work is a task, and one task runs on one core.
A large file cut into ranges of rows is protected by several workers at once
(each part read, protected and re-scanned on its own), then one merge writes
the parts' batches, in order, into the file's staged output.

Why the output stays byte-identical to an undivided run: a part starts on a
batch boundary and is read in the same batches as the whole file
(ParquetSource.batches_between); each batch protects to the same values
whatever came before it (transforms are keyed, caches only save work); parts
are held as Arrow IPC, which keeps batches exactly; and the merge writes them
through the same Parquet writer. Only the canary draws differ (each part seeds
its own), so canary counts are a measurement of the same size, not the same
draws.

Divided by default: Parquet files with free text, in parts of one batch (NER
costs about a thousand times more per row than encoding, so the parts carry
nearly all the work). Files without free text are divided only when asked
(`--part-rows`): one such task already keeps most of two cores busy (Arrow's
read and write run on their own threads beside the protect stage), and the
merge, the whole file's Parquet encoding on one thread, costs about as much
as protecting it. Measured (benchmarks/RESULTS.md): 4,000,000 structured rows
with 2 local workers took 5.1 s in parts and 4.1 s whole.

Never divided: files that are not Parquet (JSON lines and CSV have no row
groups to seek) and files with encrypt_column columns (their plaintext would
sit in the parts until the merge encrypts it).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ingestguard.canary import CanaryCounts, CanaryProbe
from ingestguard.column_encryption import ColumnEncryption
from ingestguard.detectors.columns import ColumnClass, ColumnPlan, flat_plans
from ingestguard.errors import InputError, ScanError
from ingestguard.io import (
    BATCH_ROWS,
    FilePair,
    FileSource,
    discard_staged,
    file_sha256,
    open_sink,
    open_source,
)
from ingestguard.io.arrowfile import StagedArrow, read_batches
from ingestguard.io.parquet import ParquetSource
from ingestguard.pipeline import (
    ColumnCounters,
    Engine,
    FileOutcome,
    describe_columns,
    log,
    output_schema,
    protect_stream,
    write_batches,
)
from ingestguard.throughput import StageClock

# A run should have at most a few hundred tasks: huge files get larger parts.
MAX_PARTS = 256


def row_ranges(num_rows: int, part_rows: int) -> list[tuple[int, int]]:
    """Ranges of rows, each a whole number of batches (but the last), of at
    least `part_rows` rows (rounded up to a batch) and at most MAX_PARTS of them."""
    batches = math.ceil(num_rows / BATCH_ROWS)
    per_part = max(math.ceil(part_rows / BATCH_ROWS), math.ceil(batches / MAX_PARTS), 1) * BATCH_ROWS
    return [(start, min(start + per_part, num_rows)) for start in range(0, num_rows, per_part)]


def part_rows(plans: list[ColumnPlan]) -> int | None:
    """Rows per part for a file of these plans by default: one batch where free
    text is detected (minutes of work per batch); None (not divided unless
    asked) for other files, where the merge would cost what the parts save."""
    text = any(p.column_class == ColumnClass.FREE_TEXT for p in flat_plans(plans))
    return BATCH_ROWS if text else None


def divisible(source: FileSource, plans: list[ColumnPlan], engine: Engine) -> bool:
    """Whether a file may be protected in parts (see the module docstring)."""
    return source.format == "parquet" and ColumnEncryption.for_plans(plans, engine.keyring) is None


@dataclass
class PartOutcome:
    """What one part's task did: its held batches and its counts, never a value."""

    start: int
    stop: int
    staging: str
    counters: dict[str, dict] = field(default_factory=dict)
    residual: dict[str, dict[str, int]] = field(default_factory=dict)
    canary: dict[str, dict[str, int]] = field(default_factory=dict)
    clock: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PartOutcome:
        return cls(**data)


def protect_part(
    path: Path, plans: list[ColumnPlan], engine: Engine, start: int, stop: int, folder: Path
) -> PartOutcome:
    """Protect and re-scan rows start..stop of a Parquet file into a held part in `folder`."""
    source = ParquetSource(path)
    clock = StageClock()
    canary = CanaryProbe.for_policy(engine.policy.canary, engine.detector)
    protector, batches, residual = protect_stream(
        source.rows(start, stop), plans, engine, canary=canary, clock=clock
    )
    sink = StagedArrow(folder / f"{path.name}.{start}.arrow", protector.schema)
    write_batches(batches, sink, clock)
    return PartOutcome(
        start=start,
        stop=stop,
        staging=str(sink.staging),
        counters={
            name: {"findings": dict(c.findings), "values_transformed": c.values_transformed}
            for name, c in protector.counters.items()
        },
        residual={column: dict(counts) for column, counts in residual.items()},
        canary=canary.counts.to_dict() if canary else {},
        clock=asdict(clock),
    )


def merge_parts(
    pair: FilePair, plans: list[ColumnPlan], engine: Engine, parts: list[PartOutcome], input_sha256: str
) -> FileOutcome:
    """Write the parts' batches, in order, into the file's staged output; the
    parts are removed either way. Parts that do not cover the file exactly, or
    an input whose digest is no longer the planned one, fail the merge."""
    try:
        source = open_source(pair.source)
        parts = sorted(parts, key=lambda p: p.start)
        starts = [p.start for p in parts]
        stops = [0] + [p.stop for p in parts]
        if not parts or starts != stops[:-1] or stops[-1] != source.num_rows:
            raise ScanError(f"the protected parts of {pair.source} do not cover its rows; run again")
        schema = output_schema(source.schema, plans)
        clock = sum((StageClock(**p.clock) for p in parts), StageClock())
        sink = open_sink(pair.destination, schema, source)
        try:
            for part in parts:
                for batch in read_batches(Path(part.staging), schema):
                    with clock.timing("write"):
                        sink.write(batch)
            with clock.timing("write"):
                sink.close()
        except BaseException:
            sink.abort()
            raise
    finally:
        for part in parts:
            discard_staged(Path(part.staging))
    if file_sha256(pair.source) != input_sha256:
        discard_staged(sink.staging)
        raise InputError(f"input changed while it was being protected: {pair.source}")
    counters = _sum_counters(plans, parts)
    residual: dict[str, Counter] = {}
    for part in parts:
        for column, counts in part.residual.items():
            residual[column] = residual.get(column, Counter()) + Counter(counts)
    canary = sum((CanaryCounts.from_dict(p.canary) for p in parts), CanaryCounts())
    log.debug("merged %d parts of %s: %d rows", len(parts), pair.source, source.num_rows)
    return FileOutcome(
        input=str(pair.source),
        input_sha256=input_sha256,
        rows=source.num_rows,
        columns=describe_columns(plans, counters),
        residual={c: dict(sorted(v.items())) for c, v in residual.items()},
        output=str(pair.destination),
        output_sha256=file_sha256(sink.staging),
        output_rows=sink.staged_rows(),
        staging=str(sink.staging),
        canary=canary.to_dict(),
        stages=clock.to_dict(),
    )


def _sum_counters(plans: list[ColumnPlan], parts: list[PartOutcome]) -> dict[str, ColumnCounters]:
    """Per-column counts of the whole file: the parts' counts, added."""
    counters = {p.name: ColumnCounters() for p in flat_plans(plans)}
    for part in parts:
        for name, c in part.counters.items():
            counters[name] += ColumnCounters(Counter(c["findings"]), c["values_transformed"])
    return counters
