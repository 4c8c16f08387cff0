"""The one executor: plan -> protect -> verify -> record.

The CLI, the library facade and the Prefect flow all call these functions.
Work per file is `protect_file`, which streams record batches from a source
through the column plans into a staged output and re-scans each protected
batch before it is written; `commit` moves staged outputs into place only
once every file of the run has passed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ingestguard.canary import CanaryProbe
from ingestguard.column_encryption import ColumnEncryption, passed_through
from ingestguard.detectors.analyzer import Detector, Finding, merge_overlaps
from ingestguard.detectors.columns import ColumnClass, ColumnPlan, flat_plans, is_text, plan_columns
from ingestguard.detectors.text import DistinctValues, count_entities, scan_text_column
from ingestguard.errors import InputError, PolicyError, ScanError
from ingestguard.io import (
    FilePair,
    Source,
    StagedSink,
    TableSource,
    commit_staged,
    discard_staged,
    file_sha256,
    open_sink,
    open_source,
)
from ingestguard.io.overlap import WriteBehind
from ingestguard.json_documents import OTHER, Documents
from ingestguard.kanonymity import check_columns
from ingestguard.keyring import Keyring
from ingestguard.keys import Key
from ingestguard.nested import as_text, map_leaves, relaxed, restore, text_leaves
from ingestguard.policy import Action, Policy
from ingestguard.throughput import StageClock
from ingestguard.transforms.actions import Transform, build_transforms
from ingestguard.transforms.columns import ColumnTransformer
from ingestguard.transforms.spans import replace_spans

# Paths, counts and timings only: never a value (tests/test_canary.py searches every record).
log = logging.getLogger("ingestguard")
Progress = Callable[[int], None]
# Shorter entity values ("Al", "NY") would match inside unrelated words.
MIN_KNOWN_VALUE = 4


class Engine:
    """Everything heavy a run needs, built once per process and reused."""

    def __init__(self, policy: Policy, key: Key | None) -> None:
        self.policy = policy
        self.key = key
        self.detector = Detector(policy, processes=ner_processes())
        self.patterns = Detector(policy, ner=False)
        # Tokens, FPE, fakes and generalization use the versioned keyring's current version.
        self.keyring = Keyring.open(policy) if policy.uses_keyring() else None
        self.transforms: dict[Action, Transform] = build_transforms(policy, key, self.keyring)

    def key_evidence(self) -> dict[str, str | bool] | None:
        """Ids of the keys this run used, never material."""
        out: dict[str, str | bool] = dict(self.key.to_evidence()) if self.key else {}
        if self.keyring is not None:
            current = self.keyring.current()
            out |= {"keyring_key_id": current.key_id, "keyring_version": str(current.version)}
            out |= {f"keyring_{k}": v for k, v in self.keyring.describe().items()}
        return out or None


# A worker process of a pool (ingestguard.workers) sets this to 1: its sibling
# workers already use the other cores.
MAX_NER_PROCESSES = 4


def ner_processes() -> int:
    """NER worker processes for large batches: one per core, at most MAX_NER_PROCESSES."""
    return max(1, min(MAX_NER_PROCESSES, len(os.sched_getaffinity(0))))


_engines: dict[tuple[str, str | None, str | None], Engine] = {}
_engines_lock = threading.Lock()


def get_engine(policy: Policy, key: Key | None) -> Engine:
    """The process's engine for this policy and key (models load once per process)."""
    # A rotated keyring makes a new engine: new tokens use the new version.
    version = None
    if policy.uses_keyring():
        with Keyring.open(policy) as ring:  # closed again: an HSM session is not left open
            version = ring.current().key_id
    cache_key = (policy.sha256(), key.key_id if key else None, version)
    with _engines_lock:
        if cache_key not in _engines:
            _engines[cache_key] = Engine(policy, key)
        return _engines[cache_key]


@dataclass
class ColumnCounters:
    """Per-column counts for one file; they add, so batches and workers merge."""

    findings: Counter = field(default_factory=Counter)
    values_transformed: int = 0

    def __add__(self, other: ColumnCounters) -> ColumnCounters:
        return ColumnCounters(
            self.findings + other.findings, self.values_transformed + other.values_transformed
        )


@dataclass
class FileOutcome:
    """What happened to one input: digests, counts and plans, never a value."""

    input: str
    input_sha256: str | None
    rows: int
    columns: list[dict]
    residual: dict[str, dict[str, int]]
    output: str | None = None
    output_sha256: str | None = None
    output_rows: int = 0
    staging: str | None = None
    # Canaries planted and found per entity type (canary.py).
    canary: dict[str, dict[str, int]] = field(default_factory=dict)
    # Seconds, rows and bytes per second per stage (throughput.py).
    stages: dict[str, dict[str, float | int]] = field(default_factory=dict)
    # The in-memory output of the library path, for checks over the output; not serialized.
    table: pa.Table | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {
            "input": self.input,
            "input_sha256": self.input_sha256,
            "rows": self.rows,
            "output": self.output,
            "output_sha256": self.output_sha256,
            "output_rows": self.output_rows,
            "columns": self.columns,
            "residual": self.residual,
            "staging": self.staging,
            "canary": self.canary,
            "stages": self.stages,
        }

    @classmethod
    def from_dict(cls, data: dict) -> FileOutcome:
        return cls(**data)


def plan(source: Source, engine: Engine) -> list[ColumnPlan]:
    if source.num_rows == 0:
        raise InputError(f"input has zero rows, nothing to protect: {source.name}")
    return plan_columns(source, engine.policy, engine.detector, engine.patterns)


def output_schema(schema: pa.Schema, plans: list[ColumnPlan]) -> pa.Schema:
    """The input's schema minus dropped columns; transformed columns may hold nulls
    (redact), and so may every field inside a nested column with a transformed leaf."""
    dropped = {p.name for p in plans if p.action == Action.DROP_COLUMN}
    changed = {p.name for p in plans if p.action != Action.KEEP}
    nested = {p.name for p in plans if any(leaf.action != Action.KEEP for leaf in p.leaves)}
    return pa.schema(
        [
            f.with_type(relaxed(f.type)).with_nullable(True)
            if f.name in nested
            else f.with_nullable(True)
            if f.name in changed
            else f
            for f in schema
            if f.name not in dropped
        ],
        metadata=schema.metadata,
    )


class BatchProtector:
    """Applies the column plans to batches and counts what it did."""

    def __init__(
        self, plans: list[ColumnPlan], schema: pa.Schema, engine: Engine, canary: CanaryProbe | None = None
    ) -> None:
        self.plans = plans
        self.engine = engine
        self.canary = canary  # measures recall on copies of every free text it scans
        self.schema = output_schema(schema, plans)
        self.counters = {p.name: ColumnCounters() for p in flat_plans(plans)}
        # shift_dates needs each row's subject, so it is applied per row, not per distinct value.
        self._shifted = {
            p.name
            for p in plans
            if p.column_class in (ColumnClass.ENTITY, ColumnClass.FORCED) and p.action == Action.SHIFT_DATES
        }
        self._subject = _subject_column(engine.policy, schema) if self._shifted else None
        self._column_transformers = {
            p.name: ColumnTransformer(engine.transforms[p.action], p.entity or "SENSITIVE")
            for p in flat_plans(plans)
            if p.column_class in (ColumnClass.ENTITY, ColumnClass.FORCED)
            and p.action not in (Action.KEEP, Action.DROP_COLUMN, Action.SHIFT_DATES)
        }
        # The last batch's output columns whose distinct values protecting them made,
        # by name, for the re-scan (residual_scan's `known`). Top-level columns only:
        # the re-scan reads a nested or JSON leaf back out of the rebuilt column.
        self.outputs: dict[str, DistinctValues] = {}

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        arrays = []
        self.outputs = {}
        for p, array in zip(self.plans, batch.columns, strict=True):
            if p.action == Action.DROP_COLUMN:
                continue
            if p.name in self._shifted:
                arrays.append(self._shift_dates(p, array, batch))
            elif p.column_class == ColumnClass.NESTED:
                arrays.append(self._nested(p, array))
            elif p.column_class == ColumnClass.JSON:
                arrays.append(self._leaf(p, array, p.name))
            elif p.name in self._column_transformers:
                arrays.append(self._whole_column(p, array, top_level=True))
            elif p.column_class == ColumnClass.FREE_TEXT:
                arrays.append(self._text(p, array, batch, self.engine.detector))
            elif p.column_class in (ColumnClass.CLEAN, ColumnClass.EMPTY):
                # A sample can miss rare values: sweep every value for patterns.
                arrays.append(self._text(p, array, None, self.engine.patterns, top_level=True))
            else:
                if p.column_class == ColumnClass.ENTITY:  # action keep: counted as scan counts it
                    self.counters[p.name].findings[p.entity] += len(array) - array.null_count
                arrays.append(array)
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)

    def _nested(self, p: ColumnPlan, array: pa.Array) -> pa.Array:
        """Each text leaf of a nested or binary column through its own plan."""
        leaf_plans = {leaf.name: leaf for leaf in p.leaves}
        out = map_leaves(array, p.name, lambda path, values: self._leaf(leaf_plans[path], values, p.name))
        target = self.schema.field(p.name).type
        return out if out.type == target else out.cast(target)

    def _leaf(self, p: ColumnPlan, values: pa.Array, column: str) -> pa.Array:
        """One leaf's flat values, protected like a column of their own; no row
        context (a leaf's values are not rows of the batch). Only a leaf the
        policy skips or fixes may hold bytes that are not UTF-8."""
        if p.column_class == ColumnClass.SKIPPED or (
            p.column_class == ColumnClass.FORCED and p.name not in self._column_transformers
        ):
            return values
        text = as_text(values, p.name, column)
        if p.column_class == ColumnClass.JSON:
            out = self._json(p, text, column)
        elif p.name in self._column_transformers:
            out = self._whole_column(p, text)
        elif p.column_class == ColumnClass.FREE_TEXT:
            out = self._text(p, text, None, self.engine.detector)
        elif p.column_class in (ColumnClass.CLEAN, ColumnClass.EMPTY):
            out = self._text(p, text, None, self.engine.patterns)
        else:
            if p.column_class == ColumnClass.ENTITY:  # action keep
                self.counters[p.name].findings[p.entity] += len(text) - text.null_count
            return values
        return values if out is text else restore(out, values.type)

    def _json(self, p: ColumnPlan, text: pa.Array, column: str) -> pa.Array:
        """JSON documents with the strings at each path protected through that
        path's plan (paths the sample did not show: scanned in full)."""
        plans = {leaf.name: leaf for leaf in p.leaves}
        other = plans[p.name + OTHER]
        docs = Documents(text.to_pylist(), p.name)
        out = docs.rebuild(lambda path, strings: self._leaf(plans.get(path, other), strings, column))
        return text if out == docs.texts else pa.array(out, pa.large_string()).cast(text.type)

    def _whole_column(self, p: ColumnPlan, array: pa.Array, top_level: bool = False) -> pa.Array:
        """`top_level`: the output is a column of the batch; its distinct values are kept in `outputs`."""
        present = len(array) - array.null_count
        counts = ColumnCounters(values_transformed=present)
        if p.entity:
            counts.findings[p.entity] = present
        self.counters[p.name] += counts
        if not is_text(array.type):  # forced redact on a non-text column
            return pa.nulls(len(array), array.type)
        transformer = self._column_transformers[p.name]
        replaced, indices, verified = transformer.distinct(array)
        if top_level:
            self.outputs[p.name] = DistinctValues(
                replaced, indices, repeats=transformer.repeats, verified=verified
            )
        return pc.take(replaced, indices).cast(array.type)

    def _shift_dates(self, p: ColumnPlan, array: pa.Array, batch: pa.RecordBatch) -> pa.Array:
        present = len(array) - array.null_count
        counts = ColumnCounters(values_transformed=present)
        if p.entity:
            counts.findings[p.entity] = present
        self.counters[p.name] += counts
        shift = self.engine.transforms[Action.SHIFT_DATES]
        subjects = batch.column(self._subject)
        return shift.apply_rows(array, subjects, p.entity or "DATE_TIME").cast(array.type)

    def _text(
        self,
        p: ColumnPlan,
        array: pa.Array,
        batch: pa.RecordBatch | None,
        detector: Detector,
        top_level: bool = False,
    ) -> pa.Array:
        """Detect-then-replace once per distinct text; with `batch`, also per row where
        the row's own entity values (its name, its email) occur in its text.
        `top_level`: the output is a column of the batch; when it passes through
        unchanged, its distinct values and this detector's findings are kept in `outputs`."""
        if self.canary and detector is self.engine.detector:
            self.canary.probe(array)
        scan = scan_text_column(array, detector)
        if batch is None and not scan.found_any():
            if top_level:
                self.outputs[p.name] = DistinctValues(scan.dictionary, scan.indices, scan.findings)
            return array
        policy, transforms = self.engine.policy, self.engine.transforms
        replaced = [
            replace_spans(value, found, policy, transforms) if found else value
            for value, found in zip(scan.values, scan.findings, strict=True)
        ]
        counts = ColumnCounters(Counter(scan.entity_counts()))
        changed = sum(
            int(rows) for rows, found in zip(scan.rows_per_value, scan.findings, strict=True) if found
        )
        out = pc.take(pa.array(replaced, pa.large_string()), scan.indices).to_pylist()
        codes = scan.indices.to_pylist()
        row_context = self._row_values_in_text(batch, scan.values, scan.findings, codes) if batch else []
        for row, extra in row_context:
            code = codes[row]
            found = merge_overlaps([*scan.findings[code], *extra])
            out[row] = replace_spans(scan.values[code], found, policy, transforms)
            counts.findings.update(f.entity_type for f in extra)
            changed += 0 if scan.findings[code] else 1
        counts.values_transformed = changed
        self.counters[p.name] += counts
        return pa.array(out, pa.large_string()).cast(scan.original_type)

    def _row_values_in_text(
        self,
        batch: pa.RecordBatch,
        texts: list[str],
        findings: list[Sequence[Finding]],
        codes: list[int | None],
    ) -> Iterator[tuple[int, list[Finding]]]:
        """Rows whose text contains a value of one of the row's entity columns,
        with findings for the occurrences the detector did not already cover."""
        columns = [
            (p.entity, batch.column(p.name).cast(pa.large_string()).to_pylist())
            for p in self.plans
            if p.column_class == ColumnClass.ENTITY and is_text(batch.schema.field(p.name).type)
        ]
        if not columns:
            return
        for row, code in enumerate(codes):
            if code is None:
                continue
            text, extra = texts[code], []
            for entity, values in columns:
                value = values[row]
                if value and len(value) >= MIN_KNOWN_VALUE and value in text:
                    start = text.find(value)
                    while start != -1:
                        end = start + len(value)
                        if not any(f.start <= start and end <= f.end for f in findings[code]):
                            extra.append(Finding(entity, start, end, 1.0, "RowContext"))
                        start = text.find(value, end)
            if extra:
                yield row, extra


def _subject_column(policy: Policy, schema: pa.Schema) -> str:
    """The column whose value in each row picks that row's date offset."""
    name = policy.shift_dates.subject_column
    if not name or name not in schema.names:
        raise PolicyError(
            f"shift_dates.subject_column '{name}' is not a column of the input; "
            "name the column that identifies each row's subject"
        )
    return name


def residual_scan(
    batch: pa.RecordBatch,
    patterns: Detector,
    encrypted: dict[str, str] | None = None,
    known: dict[str, DistinctValues] | None = None,
) -> dict[str, Counter]:
    """Re-scan every distinct string value of a protected batch with the pattern recognizers.

    `encrypted`: entity columns format-preservingly encrypted or date-shifted, with
    their entity type. Their values keep that entity's shape by design; only that
    entity is not counted there (any other one still is).
    `known`: the distinct values of some of the batch's columns, by name, as protecting
    them made them (`BatchProtector.outputs`); those columns are not encoded again,
    and where `patterns` already scanned the values unchanged, its findings count.
    Pseudonyms `patterns` found clean in an earlier batch of the column are not read again.
    """
    known = known or {}
    paths: list[str] = []
    leaves: list[DistinctValues] = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        for path, array in text_leaves(column, name):
            if array.null_count == len(array):
                continue
            try:
                array = as_text(array, path, name)
            except ScanError:
                continue  # bytes a protected column cannot hold: a skipped column, left as the policy says
            # Only a flat column is its own leaf (path == name); nested leaves are read here.
            values = known.get(name) if path == name else None
            paths.append(path)
            leaves.append(values or DistinctValues.of(array))
    found: dict[str, Counter] = {}
    for path, counts in zip(paths, count_entities(leaves, patterns), strict=True):
        if encrypted and path in encrypted:
            counts.pop(encrypted[path], None)
        if counts:
            found[path] = Counter(counts)
    return found


def protect_stream(
    source: Source,
    plans: list[ColumnPlan],
    engine: Engine,
    progress: Progress | None = None,
    sealed: Sequence[str] = (),
    canary: CanaryProbe | None = None,
    clock: StageClock | None = None,
) -> tuple[BatchProtector, Iterator[pa.RecordBatch], dict[str, Counter]]:
    """Protected batches, verified one by one; residual counts fill in as they stream.

    `sealed`: the encrypt_column columns, which the sink encrypts. They pass
    through unchanged and are left out of the re-scan (on disk they are ciphertext).
    `canary`: measures recall on copies of the free text (columns and leaves) scanned.
    `clock`: takes the protect and verify stages' times and the input's rows and bytes.
    """
    clock = clock if clock is not None else StageClock()
    check_columns(engine.policy.k_anonymity, source.schema, source.name)
    protector = BatchProtector(passed_through(plans, sealed), source.schema, engine, canary)
    residual: dict[str, Counter] = {}
    encrypted = {
        p.name: p.entity
        for p in flat_plans(plans)
        if p.action in (Action.FPE, Action.SHIFT_DATES) and p.column_class == ColumnClass.ENTITY and p.entity
    }

    def run() -> Iterator[pa.RecordBatch]:
        for batch in source.batches():
            clock.count(batch.num_rows, batch.nbytes)
            with clock.timing("protect"):
                out = protector(batch)
            scanned = out.drop_columns(list(sealed)) if sealed else out
            with clock.timing("verify"):
                found = residual_scan(scanned, engine.patterns, encrypted, protector.outputs)
            for column, counts in found.items():
                residual[column] = residual.get(column, Counter()) + counts
            if progress:
                progress(batch.num_rows)
            yield out

    return protector, run(), residual


def write_batches(batches: Iterator[pa.RecordBatch], sink: StagedSink, clock: StageClock) -> None:
    """Write and close `sink`, each batch written on a thread while the next is
    protected; on any error the reading stops and the staged output is removed.
    The write stage's time is the thread's time writing, plus the close."""
    writer: WriteBehind | None = None
    try:
        writer = WriteBehind(sink.write)
        for batch in batches:
            writer.write(batch)
        writer.finish()
        with clock.timing("write"):
            sink.close()
    except BaseException:
        try:  # the thread stops writing, and the reading stops, before the staged file goes
            if writer is not None:
                writer.stop()
            close = getattr(batches, "close", None)
            if close is not None:
                close()
        finally:
            sink.abort()
        raise
    finally:
        if writer is not None:
            clock.seconds["write"] = clock.seconds.get("write", 0.0) + writer.seconds


def describe_columns(plans: list[ColumnPlan], counters: dict[str, ColumnCounters] | None) -> list[dict]:
    """Evidence entries, from a protector's (or a file's merged) per-column
    counters; a nested column is reported leaf by leaf, named by path."""
    columns = []
    for p in flat_plans(plans):
        entry = p.to_evidence()
        counted = counters[p.name] if counters else ColumnCounters()
        entry["findings"] = dict(sorted(counted.findings.items()))
        entry["values_transformed"] = counted.values_transformed
        columns.append(entry)
    return columns


def protect_file(
    pair: FilePair, engine: Engine, progress: Progress | None = None, plans: list[ColumnPlan] | None = None
) -> FileOutcome:
    """Protect one file (Parquet, JSON lines or CSV) into a staged output of its format.
    `plans`: the file's column plans when already made (a plan cache)."""
    source = open_source(pair.source)
    input_sha = source.sha256()
    clock = StageClock()
    if plans is None:  # plans made elsewhere (the flow's plan stage, the plan cache) are not timed here
        with clock.timing("plan"):
            plans = plan(source, engine)
    sealed = ColumnEncryption.for_plans(plans, engine.keyring)
    canary = CanaryProbe.for_policy(engine.policy.canary, engine.detector)
    protector, batches, residual = protect_stream(
        source, plans, engine, progress, sealed.columns if sealed else (), canary, clock
    )
    sink = open_sink(
        pair.destination, protector.schema, source, sealed.properties(engine.keyring) if sealed else None
    )
    write_batches(batches, sink, clock)
    if file_sha256(pair.source) != input_sha:
        discard_staged(sink.staging)
        raise InputError(f"input changed while it was being protected: {pair.source}")
    columns = describe_columns(plans, protector.counters)
    log.debug(
        "protected %s: %d rows, %d values transformed, stages %s",
        pair.source,
        source.num_rows,
        sum(c.values_transformed for c in protector.counters.values()),
        {stage: round(seconds, 3) for stage, seconds in clock.seconds.items()},
    )
    return FileOutcome(
        input=str(pair.source),
        input_sha256=input_sha,
        rows=source.num_rows,
        columns=sealed.annotate(columns) if sealed else columns,
        residual={c: dict(sorted(v.items())) for c, v in residual.items()},
        output=str(pair.destination),
        output_sha256=file_sha256(sink.staging),
        output_rows=sink.staged_rows(),
        staging=str(sink.staging),
        canary=canary.counts.to_dict() if canary else {},
        stages=clock.to_dict(),
    )


def protect_table(table: pa.Table, engine: Engine, name: str = "<table>") -> tuple[pa.Table, FileOutcome]:
    """The in-memory path of the library: same stages, Arrow table in and out."""
    source = TableSource(table, name)
    clock = StageClock()
    with clock.timing("plan"):
        plans = plan(source, engine)
    canary = CanaryProbe.for_policy(engine.policy.canary, engine.detector)
    protector, batches, residual = protect_stream(source, plans, engine, canary=canary, clock=clock)
    out = pa.Table.from_batches(list(batches), schema=protector.schema)
    outcome = FileOutcome(
        input=name,
        input_sha256=None,
        rows=table.num_rows,
        columns=describe_columns(plans, protector.counters),
        residual={c: dict(sorted(v.items())) for c, v in residual.items()},
        output=name,
        output_rows=out.num_rows,
        canary=canary.counts.to_dict() if canary else {},
        stages=clock.to_dict(),
        table=out,
    )
    return out, outcome


def scan_source(source: Source, engine: Engine, progress: Progress | None = None) -> FileOutcome:
    """Plan, then scan free-text columns in full; nothing is written."""
    clock = StageClock()
    with clock.timing("plan"):
        plans = plan(source, engine)
    counters = {p.name: ColumnCounters() for p in flat_plans(plans)}
    text_columns = [p.name for p in plans if p.column_class == ColumnClass.FREE_TEXT]
    entity_columns = [p for p in plans if p.column_class == ColumnClass.ENTITY]
    nested_columns = [p for p in plans if p.column_class in (ColumnClass.NESTED, ColumnClass.JSON)]
    canary = CanaryProbe.for_policy(engine.policy.canary, engine.detector)
    read = [*text_columns, *(p.name for p in entity_columns), *(p.name for p in nested_columns)]
    for batch in source.batches(read):
        clock.count(batch.num_rows, batch.nbytes)
        with clock.timing("scan"):
            _scan_batch(batch, engine, counters, canary, text_columns, entity_columns, nested_columns)
        if progress:
            progress(batch.num_rows)
    columns = []
    for p in flat_plans(plans):
        entry = p.to_evidence()
        entry["findings"] = dict(sorted(counters[p.name].findings.items()))
        entry["values_transformed"] = 0
        columns.append(entry)
    return FileOutcome(
        input=source.name,
        input_sha256=source.sha256(),
        rows=source.num_rows,
        columns=columns,
        residual={},
        canary=canary.counts.to_dict() if canary else {},
        stages=clock.to_dict(),
    )


def _scan_batch(
    batch: pa.RecordBatch,
    engine: Engine,
    counters: dict[str, ColumnCounters],
    canary: CanaryProbe | None,
    text_columns: list[str],
    entity_columns: list[ColumnPlan],
    nested_columns: list[ColumnPlan],
) -> None:
    """Scan mode's counts for one batch: entity columns by presence, free text
    and nested leaves by detection."""
    for p in nested_columns:
        _scan_nested(p, batch.column(p.name), engine, counters, canary)
    for p in entity_columns:
        present = batch.num_rows - batch.column(p.name).null_count
        counters[p.name].findings[p.entity] += present
    for name in text_columns:
        scan = scan_text_column(batch.column(name), engine.detector)
        counters[name].findings.update(scan.entity_counts())
        if canary:
            canary.probe(batch.column(name))


def _scan_nested(
    p: ColumnPlan,
    array: pa.Array,
    engine: Engine,
    counters: dict[str, ColumnCounters],
    canary: CanaryProbe | None = None,
) -> None:
    """Scan mode for one nested, binary or JSON column, leaf by leaf as protect reads it."""
    if p.column_class == ColumnClass.JSON:
        _scan_leaf(p, array, p.name, engine, counters, canary)
        return
    leaf_plans = {leaf.name: leaf for leaf in p.leaves}
    for path, values in text_leaves(array, p.name):
        _scan_leaf(leaf_plans[path], values, p.name, engine, counters, canary)


def _scan_leaf(
    p: ColumnPlan,
    values: pa.Array,
    column: str,
    engine: Engine,
    counters: dict[str, ColumnCounters],
    canary: CanaryProbe | None = None,
) -> None:
    """Entity leaves counted, free-text leaves scanned in full, binary leaves
    decoded, JSON documents read path by path."""
    if p.column_class in (ColumnClass.SKIPPED, ColumnClass.FORCED):
        return
    text = as_text(values, p.name, column)
    if p.column_class == ColumnClass.JSON:
        plans = {leaf.name: leaf for leaf in p.leaves}
        other = plans[p.name + OTHER]
        for path, strings in Documents(text.to_pylist(), p.name).leaves.items():
            leaf_values = pa.array(strings, pa.large_string())
            _scan_leaf(plans.get(path, other), leaf_values, column, engine, counters, canary)
    elif p.column_class == ColumnClass.ENTITY:
        counters[p.name].findings[p.entity] += len(text) - text.null_count
    elif p.column_class == ColumnClass.FREE_TEXT:
        counters[p.name].findings.update(scan_text_column(text, engine.detector).entity_counts())
        if canary:
            canary.probe(text)


def commit(outcomes: list[FileOutcome]) -> None:
    """Move every staged output into place; called only when the whole run passed.

    Every destination is checked first, so a blocked one stops the run before any
    output is published.
    """
    check_destinations(outcomes)
    for o in outcomes:
        if o.staging:
            commit_staged(Path(o.staging), Path(o.output))
            o.staging = None


def check_destinations(outcomes: list[FileOutcome]) -> None:
    """Fail (discarding every staged output) when a destination cannot take its
    output: checked before the run is recorded as passed, and again at commit."""
    blocked = [o.output for o in outcomes if o.staging and Path(o.output).is_dir()]
    if blocked:
        abort(outcomes)
        raise InputError(f"the output path {blocked[0]} is a directory; remove it or choose another output")


def abort(outcomes: list[FileOutcome]) -> None:
    for o in outcomes:
        if o.staging:
            discard_staged(Path(o.staging))
            o.staging = None
