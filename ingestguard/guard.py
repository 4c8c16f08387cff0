"""The library facade: `Guard` over the pipeline, for use inside ML code."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa

from ingestguard import adapters
from ingestguard.context import RedactionContext
from ingestguard.convert import is_dataset, to_arrow
from ingestguard.detectors.analyzer import Finding
from ingestguard.errors import InputError
from ingestguard.io import FilePair, TableSource, list_inputs, resolve_inputs
from ingestguard.pipeline import Engine, get_engine, scan_source
from ingestguard.policy import Action, Policy
from ingestguard.reports.evidence import Evidence
from ingestguard.runs import evidence_paths, key_for, new_run, protect_pairs, run_evidence, scan_paths
from ingestguard.transforms.spans import replace_spans


class Guard:
    """Scan and protect data with one policy; models and keys load on first use.

    `ledger`: where in-memory protect runs (DataFrames, tables, streams,
    datasets, texts) are recorded, each with its evidence document beside it,
    so the training gate can later vouch for their output; default: the
    policy's `ledger`. Without either they are not recorded (file runs always
    are: beside their evidence, as the CLI does).
    """

    def __init__(
        self, policy: Policy | None = None, policy_source: str | None = None, ledger: str | Path | None = None
    ) -> None:
        self.policy = policy if policy is not None else Policy()
        self.policy_source = policy_source or ("default" if policy is None else "library")
        self.ledger = Path(ledger) if ledger is not None else self.policy.ledger
        self._engine: Engine | None = None
        # Requests in threads share one guard: the key is loaded (or made) once.
        self._engine_lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        with self._engine_lock:
            if self._engine is None:
                self._engine = get_engine(self.policy, key_for(self.policy))
            return self._engine

    def analyze_text(self, text: str) -> list[Finding]:
        """Entities in one string: type, start, end, score (and which recognizer)."""
        return self.engine.detector.analyze(text)

    def redact_text(self, text: str, *, context: RedactionContext | None = None) -> str:
        """Protect one string the way a free-text cell is protected.

        With a `context` (one per conversation), each entity the policy does not
        `keep` becomes a placeholder such as `<PERSON_1>` instead, whatever its
        action, and `context` remembers the value so `restore_text` can put it back.
        """
        findings = self.analyze_text(text)
        if context is None:
            return replace_spans(text, findings, self.policy, self.engine.transforms)
        return context.redact(
            text, [f for f in findings if self.policy.action_for(f.entity_type) is not Action.KEEP]
        )

    def restore_text(self, text: str, *, context: RedactionContext) -> str:
        """A model's answer with the original value put back for every placeholder
        `context` made; placeholders it did not make are left as they are."""
        return context.restore(text)

    def scan(self, data: Any) -> Evidence:
        """Classify every column and count findings; changes nothing."""
        ctx = new_run(self.policy, self.policy_source, "library")
        if isinstance(data, (str, Path)):
            return scan_paths(list_inputs(data)[0], ctx)
        engine = get_engine(self.policy, None)
        return run_evidence(ctx, "scan", [scan_source(TableSource(to_arrow(data).table), engine)], engine)

    def protect(self, data: Any) -> tuple[Any, Any]:
        """A protected copy of in-memory data and its evidence.

        A pandas or Polars DataFrame, a pyarrow Table or RecordBatch comes back as
        its own type, with its evidence. A pyarrow RecordBatchReader comes back as
        a reader of protected batches (memory bounded by the planning sample and
        one batch) with a `PendingEvidence`, whose `result()` is the evidence once
        the reader was read to its end. Raises PolicyViolation, returning nothing
        (for a stream: no batch from the one holding it on), when a `fail_on`
        entity is left.
        """
        ctx = new_run(self.policy, self.policy_source, "library")
        if isinstance(data, pa.RecordBatchReader):
            return adapters.protect_reader(data, self.engine, ctx, self.ledger)
        if is_dataset(data):
            raise InputError("use Guard.protect_dataset for a Hugging Face Dataset")
        return adapters.protect_memory(data, self.engine, ctx, self.ledger)

    def protect_dataset(self, ds: Any) -> tuple[Any, Evidence]:
        """A protected copy of a Hugging Face `datasets.Dataset` (same columns,
        features where the types are unchanged, and row order) and its evidence."""
        ctx = new_run(self.policy, self.policy_source, "library")
        return adapters.protect_dataset(ds, self.engine, ctx, self.ledger)

    def batch_function(self) -> adapters.BatchFunction:
        """A function for your own `Dataset.map(fn, batched=True)`; call its
        `finish()` after the map for the evidence of every batch it protected."""
        return adapters.BatchFunction(self.engine, new_run(self.policy, self.policy_source, "library"), self.ledger)

    def iter_protected(self, texts: Iterable[str], batch_size: int = 1000) -> adapters.ProtectedTexts:
        """Protected strings in order, for any iterable (read `batch_size` at a
        time, never whole); `.evidence.result()` once the last one was read."""
        ctx = new_run(self.policy, self.policy_source, "library")
        return adapters.ProtectedTexts(texts, self.engine, ctx, self.ledger, batch_size)

    def detokenize(
        self,
        data: Any,
        columns: str | list[str],
        purpose: str,
        actor: str | None = None,
        ledger: str | Path | None = None,
    ) -> Any:
        """Reverse tokens (and FPE: `"ssn:US_SSN"`, `"card:CREDIT_CARD@2"`) in `columns`,
        only for the purposes and entity types the policy allows. The signed ledger
        record is written before anything is returned; nothing is returned without it."""
        from ingestguard.reidentify import parse_columns, reidentify_table

        requests = parse_columns(columns if isinstance(columns, str) else ",".join(columns))
        converted = to_arrow(data)
        done = reidentify_table(
            converted.table, requests, purpose, self.policy, actor, Path(ledger) if ledger else None
        )
        return converted.back(done.table)

    def detokenize_file(
        self,
        src: str | Path,
        dst: str | Path,
        columns: str,
        purpose: str,
        actor: str | None = None,
        ledger: str | Path | None = None,
    ) -> dict[str, object]:
        """`detokenize` on a Parquet file, written atomically to `dst` only after the
        ledger holds its record; returns the record (counts and ids, no value)."""
        import os

        import pyarrow.parquet as pq

        from ingestguard.reidentify import parse_columns, reidentify_table
        from ingestguard.reports.ledger import Subject

        src, dst = Path(src), Path(dst)
        if not src.is_file():
            raise InputError(f"input not found: {src}")
        table = pq.read_table(src)
        done = reidentify_table(
            table,
            parse_columns(columns),
            purpose,
            self.policy,
            actor,
            Path(ledger) if ledger else None,
            Subject(str(src), _digest(src)),
        )
        dst.parent.mkdir(parents=True, exist_ok=True)
        staging = dst.with_name(f".{dst.name}.partial")
        pq.write_table(done.table, staging)
        os.replace(staging, dst)
        return done.record

    def protect_file(
        self, src: str | Path, dst: str | Path, evidence_dir: str | Path | None = None
    ) -> Evidence:
        """Protect a Parquet file, directory or glob into `dst`; returns the evidence."""
        pairs: list[FilePair] = resolve_inputs(src, dst)
        ctx = new_run(self.policy, self.policy_source, "library")
        path = evidence_paths(Path(dst), ctx.run_id, Path(evidence_dir) if evidence_dir else None)
        return protect_pairs(pairs, ctx, path).evidence


def _digest(path: Path) -> str:
    import hashlib

    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()

