"""Protect runs over in-memory data: tables, streams, datasets and texts.

Every adapter is one `StreamRun`: batches go through the pipeline's own
`protect_stream` (the batch protector and the per-batch residual re-scan), the
input and output are identified by their content digest (`digest.py`), and
`finish` builds the same evidence a file run builds, recorded in the ledger
when the guard has one. A stream is planned on its head (the first
`sampling.size` rows, or the first batch when batches are handed in one at a
time), so memory stays bounded by that head and one batch.

Evidence of a stream exists only once the stream was read to its end: until
then `PendingEvidence.result()` raises, so no caller can hold evidence for
data that was not yet verified. A batch that fails the re-scan (a `fail_on`
entity left in it) is never handed out: the stream raises PolicyViolation
instead and the failed run is recorded.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingestguard.convert import Converted, dataset_batches, to_arrow
from ingestguard.detectors.columns import ColumnClass, ColumnPlan
from ingestguard.digest import ContentHasher
from ingestguard.errors import InputError, PolicyViolation, StreamNotFinishedError
from ingestguard.io import TableSource, readable_schema
from ingestguard.pipeline import Engine, FileOutcome, describe_columns, plan, protect_stream, protect_table
from ingestguard.policy import Action
from ingestguard.reports.evidence import Evidence
from ingestguard.runs import RunContext, record_run, run_evidence
from ingestguard.throughput import StageClock

TEXTS_COLUMN = "text"


def record(evidence: Evidence, ledger: Path | None, kind: str) -> Evidence:
    """The evidence as written to the ledger (`<kind>.<run_id>.evidence.json`
    beside it), or as it is when the guard records to no ledger."""
    if ledger is None:
        return evidence
    return record_run(evidence, ledger, ledger.parent / f"{kind}.{evidence.run_id}.evidence.json")


def _verdict(evidence: Evidence, returned: str = "nothing was returned") -> Evidence:
    if evidence.status != "passed":
        raise PolicyViolation(f"{evidence.failure}; {returned}")
    return evidence


def protect_memory(data: object, engine: Engine, ctx: RunContext, ledger: Path | None) -> tuple[Any, Evidence]:
    """A DataFrame, Table or RecordBatch protected whole; the same type back."""
    converted = to_arrow(data)
    out, outcome = protect_table(converted.table, engine, f"<{converted.kind}>")
    result = converted.back(out)
    outcome.input_sha256 = _digest(converted)
    # The output's digest is of what the user gets back, read as the gate reads it.
    outcome.output_sha256 = _digest(to_arrow(result))
    evidence = record(run_evidence(ctx, "protect", [outcome], engine), ledger, converted.kind)
    return result, _verdict(evidence)


def _digest(converted: Converted) -> str:
    hasher = ContentHasher(converted.table.schema.names)
    hasher.update(converted.table)
    return hasher.hexdigest()


class PendingEvidence:
    """The evidence of a stream, complete once the stream has been read to its end."""

    def __init__(self) -> None:
        self._evidence: Evidence | None = None

    @property
    def done(self) -> bool:
        return self._evidence is not None

    def result(self) -> Evidence:
        """The run's evidence; raises StreamNotFinishedError while batches are left."""
        if self._evidence is None:
            raise StreamNotFinishedError(
                "the stream was not read to its end, so its data is not yet verified; "
                "consume every batch first"
            )
        return self._evidence

    def _set(self, evidence: Evidence) -> None:
        self._evidence = evidence


class _Feed:
    """A source whose batches are handed in one at a time, so a push (a
    `Dataset.map` call) and a pull (a reader) both run `protect_stream`'s loop."""

    def __init__(self, schema: pa.Schema, name: str) -> None:
        self.schema = schema
        self.name = name
        self.next: pa.RecordBatch | None = None

    def batches(self, columns: object = None) -> Iterator[pa.RecordBatch]:
        while True:
            batch, self.next = self.next, None
            yield batch


class StreamRun:
    """One protect run over batches handed in one by one (`push`), then `finish`."""

    def __init__(self, engine: Engine, ctx: RunContext, kind: str, ledger: Path | None) -> None:
        self.engine, self.ctx, self.kind, self.ledger = engine, ctx, kind, ledger
        self.evidence = PendingEvidence()
        self._feed: _Feed | None = None
        self._plans: list[ColumnPlan] = []
        self._fail_on = set(engine.policy.fail_on)

    def start(self, head: pa.Table, plans: list[ColumnPlan] | None = None) -> None:
        """Plan the columns on `head` (the stream's first rows) unless `plans` are given."""
        head = head.cast(readable_schema(head.schema))
        self._clock = StageClock()
        with self._clock.timing("plan"):
            self._plans = plans if plans is not None else plan(TableSource(head, self.name), self.engine)
        self._feed = _Feed(head.schema, self.name)
        self._protector, self._stream, self._residual = protect_stream(
            self._feed, self._plans, self.engine, clock=self._clock
        )
        self._in = ContentHasher(head.schema.names)
        self._out = ContentHasher(self._protector.schema.names)

    @property
    def schema(self) -> pa.Schema:
        """The protected batches' schema."""
        return self._protector.schema

    @property
    def name(self) -> str:
        return f"<{self.kind}>"

    @property
    def started(self) -> bool:
        return self._feed is not None

    def push(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The protected batch, re-scanned; PolicyViolation (the run recorded as
        failed) instead when a `fail_on` entity is left in it."""
        assert self._feed is not None, "start the run first"
        if self.evidence.done:
            raise InputError("this run has finished; start a new one for more data")
        if not batch.schema.equals(self._feed.schema):
            try:
                batch = batch.cast(self._feed.schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError):
                raise InputError(
                    f"a batch of {self.name} has other columns or types than its first batch"
                ) from None
        self._in.update(batch)
        self._feed.next = batch
        out = next(self._stream)
        if self._fail_on & {e for counts in self._residual.values() for e in counts}:
            self.finish()  # records the failed run, then raises
        self._out.update(out)
        return out

    def finish(self) -> Evidence:
        """The run's evidence, recorded; raises PolicyViolation if the run failed."""
        if self.evidence.done:
            return self.evidence.result()
        assert self._feed is not None, "start the run first"
        outcome = FileOutcome(
            input=self.name,
            input_sha256=self._in.hexdigest(),
            rows=self._in.rows,
            columns=describe_columns(self._plans, self._protector.counters),
            residual={c: dict(sorted(v.items())) for c, v in self._residual.items()},
            output=self.name,
            output_sha256=self._out.hexdigest(),
            output_rows=self._out.rows,
            stages=self._clock.to_dict(),
        )
        evidence = record(run_evidence(self.ctx, "protect", [outcome], self.engine), self.ledger, self.kind)
        self.evidence._set(evidence)
        return _verdict(evidence, "the batch holding it was not returned, nor any after it")


def _head(batches: Iterator[pa.RecordBatch], rows: int) -> list[pa.RecordBatch]:
    """The first batches of a stream, holding at least `rows` rows when it has them."""
    head: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        head.append(batch)
        held += batch.num_rows
        if held >= rows:
            return head
    return head


def protect_reader(
    reader: pa.RecordBatchReader, engine: Engine, ctx: RunContext, ledger: Path | None
) -> tuple[pa.RecordBatchReader, PendingEvidence]:
    """A reader of protected batches, and the evidence it completes when read to its end."""
    run = StreamRun(engine, ctx, "stream", ledger)
    source = iter(reader)
    head = _head(source, engine.policy.sampling.size)
    run.start(pa.Table.from_batches(head, schema=reader.schema))

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in head:
            yield run.push(batch)
        for batch in source:
            yield run.push(batch)
        run.finish()

    return pa.RecordBatchReader.from_batches(run.schema, batches()), run.evidence


def protect_dataset(ds: Any, engine: Engine, ctx: RunContext, ledger: Path | None) -> tuple[Any, Evidence]:
    """A protected copy of a Hugging Face Dataset: same columns, features (where
    the types are unchanged) and row order, held in memory as one Arrow table."""
    import datasets

    if ds.num_rows == 0:
        raise InputError("the dataset has zero rows, nothing to protect")
    run = StreamRun(engine, ctx, "dataset", ledger)
    batches = (b for table in dataset_batches(ds) for b in table.to_batches())
    head = _head(batches, engine.policy.sampling.size)
    run.start(pa.Table.from_batches(head))
    out = [run.push(b) for b in head]
    out += [run.push(b) for b in batches]
    evidence = run.finish()
    table = pa.Table.from_batches(out, schema=run.schema).replace_schema_metadata(None)
    same = table.schema.equals(ds.features.arrow_schema)
    info = datasets.DatasetInfo(features=ds.features if same else None, description=ds.info.description)
    return datasets.Dataset(table, info=info, split=ds.split), evidence


class BatchFunction:
    """For `Dataset.map(fn, batched=True)`: protects each batch (a dict of lists,
    or a pyarrow Table under `with_format("arrow")`) and adds its counts to one
    run; `finish()` after the map gives (and records) the evidence.

    The first batch plans the columns for all. Run the map in this process
    (num_proc=None): counts made in worker processes would not reach `finish`.
    A `drop_column` column comes back as nulls, because `map` keeps a column
    the function does not return. `datasets` cannot hash this function (it
    holds the loaded models) and says so once: every map then really calls
    it, where a cache hit would leave the run without counts.
    """

    def __init__(self, engine: Engine, ctx: RunContext, ledger: Path | None) -> None:
        self._run = StreamRun(engine, ctx, "dataset_map", ledger)
        self._pid = os.getpid()
        self.evidence = self._run.evidence

    def __call__(self, batch: Any) -> Any:
        if os.getpid() != self._pid:
            raise InputError("the batch function runs in another process; call Dataset.map without num_proc")
        table = batch if isinstance(batch, pa.Table) else pa.Table.from_pydict(dict(batch))
        if not self._run.started:
            self._run.start(table)
        pieces = [self._run.push(b) for b in table.to_batches()] if table.num_rows else []
        out = pa.Table.from_batches(pieces, schema=self._run.schema)
        for position, name in enumerate(table.schema.names):
            if name not in out.schema.names:
                out = out.add_column(position, name, pa.nulls(out.num_rows, table.schema.field(name).type))
        return out if isinstance(batch, pa.Table) else out.to_pydict()

    def finish(self) -> Evidence:
        if not self._run.started:
            raise InputError("the batch function was never called, so there is nothing to vouch for")
        return self._run.finish()


class ProtectedTexts:
    """Protected strings in the order given, `batch_size` at a time through the
    Arrow path; each string is scanned as free text (the way `redact_text` does).
    `evidence.result()` once every string has been read."""

    def __init__(
        self, texts: Iterable[str], engine: Engine, ctx: RunContext, ledger: Path | None, batch_size: int
    ) -> None:
        if batch_size < 1:
            raise InputError("batch_size must be at least 1")
        self._run = StreamRun(engine, ctx, "texts", ledger)
        self.evidence = self._run.evidence
        self._iter = self._protect(iter(texts), batch_size)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return next(self._iter)

    def _protect(self, texts: Iterator[str], batch_size: int) -> Iterator[str]:
        self._run.start(_texts_table([]), [_free_text_plan()])
        count = 0
        while chunk := _take(texts, batch_size, count):
            count += len(chunk)
            out = self._run.push(_texts_table(chunk).to_batches()[0])
            yield from out.column(0).to_pylist()
        if count == 0:
            raise InputError("no text to protect: the iterable was empty")
        self._run.finish()


def _take(texts: Iterator[str], n: int, offset: int) -> list[str]:
    chunk = []
    for text in texts:
        if not isinstance(text, str):
            raise InputError(f"iter_protected takes strings; item {offset + len(chunk)} is a {type(text).__name__}")
        chunk.append(text)
        if len(chunk) == n:
            break
    return chunk


def _texts_table(texts: list[str]) -> pa.Table:
    return pa.table({TEXTS_COLUMN: pa.array(texts, pa.large_string())})


def _free_text_plan() -> ColumnPlan:
    return ColumnPlan(
        name=TEXTS_COLUMN,
        arrow_type="large_string",
        column_class=ColumnClass.FREE_TEXT,
        action=Action.KEEP,
        reasons=["iter_protected: every string is scanned in full as free text"],
    )

