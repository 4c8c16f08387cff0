"""The library facade: `Guard` over the pipeline, for use inside ML code."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import pandas as pd
import pyarrow as pa

from ingestguard.context import RedactionContext
from ingestguard.detectors.analyzer import Finding
from ingestguard.errors import InputError, PolicyViolation
from ingestguard.io import FilePair, TableSource, list_inputs, resolve_inputs
from ingestguard.pipeline import Engine, get_engine, protect_table, scan_source
from ingestguard.policy import Action, Policy
from ingestguard.reports.evidence import Evidence
from ingestguard.runs import evidence_paths, key_for, new_run, protect_pairs, run_evidence, scan_paths
from ingestguard.transforms.spans import replace_spans

Data = TypeVar("Data", pd.DataFrame, pa.Table)


class Guard:
    """Scan and protect data with one policy; models and keys load on first use."""

    def __init__(self, policy: Policy | None = None, policy_source: str | None = None) -> None:
        self.policy = policy if policy is not None else Policy()
        self.policy_source = policy_source or ("default" if policy is None else "library")
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
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

    def scan(self, data: pd.DataFrame | pa.Table | str | Path) -> Evidence:
        """Classify every column and count findings; changes nothing."""
        ctx = new_run(self.policy, self.policy_source, "library")
        if isinstance(data, (str, Path)):
            return scan_paths(list_inputs(data)[0], ctx)
        engine = get_engine(self.policy, None)
        return run_evidence(ctx, "scan", [scan_source(TableSource(_to_table(data)), engine)], engine)

    def protect(self, data: Data) -> tuple[Data, Evidence]:
        """Protected copy of a DataFrame or Table (same type back) and its evidence.

        Raises PolicyViolation, returning nothing, when a `fail_on` entity is left.
        """
        ctx = new_run(self.policy, self.policy_source, "library")
        out, outcome = protect_table(_to_table(data), self.engine)
        evidence = run_evidence(ctx, "protect", [outcome], self.engine)
        if evidence.status != "passed":
            raise PolicyViolation(f"{evidence.failure}; nothing was returned")
        return (out.to_pandas() if isinstance(data, pd.DataFrame) else out), evidence

    def detokenize(
        self,
        data: Data,
        columns: str | list[str],
        purpose: str,
        actor: str | None = None,
        ledger: str | Path | None = None,
    ) -> Data:
        """Reverse tokens (and FPE: `"ssn:US_SSN"`, `"card:CREDIT_CARD@2"`) in `columns`,
        only for the purposes and entity types the policy allows. The signed ledger
        record is written before anything is returned; nothing is returned without it."""
        from ingestguard.reidentify import parse_columns, reidentify_table

        requests = parse_columns(columns if isinstance(columns, str) else ",".join(columns))
        done = reidentify_table(
            _to_table(data), requests, purpose, self.policy, actor, Path(ledger) if ledger else None
        )
        return done.table.to_pandas() if isinstance(data, pd.DataFrame) else done.table

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


def _to_table(data: pd.DataFrame | pa.Table) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pd.DataFrame):
        return pa.Table.from_pandas(data)
    raise InputError(f"expected a pandas DataFrame or pyarrow Table, got {type(data).__name__}")
