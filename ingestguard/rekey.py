"""Re-keying: move protected data to the keyring's newest version.

After `keys rotate`, old tokens still reverse with their (retired) version.
Re-keying rewrites them under the current version, so the old version can be
destroyed without losing the ability to reverse the data:

- every token in the token columns (whole cells and tokens inside free text,
  found as `reidentify` finds them) is detokenized with the version it names
  and tokenized again with the current one; tokens already current are
  checked (they must authenticate) and come out unchanged;
- FPE columns, named with the version they were encrypted with (FPE output
  cannot say it), are decrypted with that version and encrypted again with
  the current one, under the policy's `fpe` settings.

The data is streamed batch by batch into a staged file beside the output. A
token that does not authenticate, a version that is unknown or destroyed, or
an FPE value outside its domain stops the run with a typed error naming the
column and row (never a value), and nothing is written. Plaintext never
leaves this module, so no re-identification purpose is needed; the run still
appends a signed `rekey` record to the ledger (columns, counts, versions;
never a value) before the output is renamed into place: if the record cannot
be written, the output is not either.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ingestguard.detectors.columns import is_text
from ingestguard.errors import FpeDomainError, InputError, PolicyError, TokenError
from ingestguard.io import (
    ParquetSource,
    Source,
    StagedParquet,
    TableSource,
    commit_staged,
    discard_staged,
    file_sha256,
)
from ingestguard.keyring import Keyring
from ingestguard.keys import load_signing_key
from ingestguard.policy import Policy
from ingestguard.reports.ledger import Subject, record_event
from ingestguard.runs import event_ledger_path
from ingestguard.transforms.reversible import TOKEN, FpeCipher, Tokenizer, detokenize_many

_TEXT = pa.large_string()
_FPE_SPEC = re.compile(r"([^:@]+):([A-Z][A-Z0-9_]*)@([0-9]{1,9})")


@dataclass(frozen=True)
class FpeColumn:
    """An FPE column: its entity type and the key version it was encrypted with."""

    name: str
    entity: str
    version: int


def parse_columns(spec: str | Sequence[str] | None) -> list[str] | None:
    """`email,notes` -> ["email", "notes"]; None or empty: every string column."""
    if spec is None:
        return None
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    names = [p.strip() for p in parts if p.strip()]
    return names or None


def parse_fpe(spec: str | Sequence[str] | None) -> list[FpeColumn]:
    """`ssn:US_SSN@1,card:CREDIT_CARD@1` -> FPE columns; the old version is required."""
    if spec is None:
        return []
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    out = []
    for part in [p.strip() for p in parts if p.strip()]:
        match = _FPE_SPEC.fullmatch(part)
        if match is None:
            raise PolicyError(
                f"--fpe {part}: give COLUMN:ENTITY@VERSION, e.g. ssn:US_SSN@1 "
                "(the key version the column was encrypted with)"
            )
        out.append(FpeColumn(match.group(1), match.group(2), int(match.group(3))))
    return out


@dataclass
class RekeyCounters:
    """What a re-key did, per column; never a value."""

    tokens_moved: Counter = field(default_factory=Counter)
    tokens_current: Counter = field(default_factory=Counter)
    fpe_values: Counter = field(default_factory=Counter)
    from_versions: set[int] = field(default_factory=set)
    rows: int = 0


class Rekeyer:
    """Re-keys record batches of one input; errors name the column and the row."""

    def __init__(
        self,
        keyring: Keyring,
        policy: Policy,
        schema: pa.Schema,
        columns: Sequence[str] | None = None,
        fpe: Sequence[FpeColumn] = (),
    ) -> None:
        self.keyring = keyring
        self.tokenizer = Tokenizer(keyring)
        settings = policy.fpe
        self.cipher = FpeCipher(keyring, settings.alphanumeric, settings.luhn, settings.separators)
        self.fpe = {f.name: f for f in fpe}
        if len(self.fpe) != len(fpe):
            raise PolicyError("--fpe names a column twice")
        for name in self.fpe:
            _check_text(schema, name, "--fpe")
        if columns is None:
            self.columns = [f.name for f in schema if is_text(f.type) and f.name not in self.fpe]
        else:
            self.columns = list(dict.fromkeys(columns))
            for name in self.columns:
                _check_text(schema, name, "--columns")
                if name in self.fpe:
                    raise PolicyError(f"column {name} is named in both --columns and --fpe; name it once")
        self.counters = RekeyCounters()

    @property
    def to_version(self) -> int:
        return self.tokenizer.key_version

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        arrays = list(batch.columns)
        names = batch.schema.names
        for name in self.columns:
            i = names.index(name)
            arrays[i] = self._tokens(name, arrays[i])
        for name, spec in self.fpe.items():
            i = names.index(name)
            arrays[i] = self._fpe(spec, arrays[i])
        self.counters.rows += batch.num_rows
        return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)

    def _tokens(self, name: str, array: pa.Array) -> pa.Array:
        encoded = _encode(array)
        distinct = encoded.dictionary.to_pylist()
        found = [list(TOKEN.finditer(v)) if v is not None else [] for v in distinct]
        tokens = [m.group() for matches in found for m in matches]
        if not tokens:
            return array
        try:
            pairs = detokenize_many(self.keyring, tokens)
        except TokenError:
            # Find the first value that fails and report it by row.
            for index, matches in enumerate(found):
                try:
                    detokenize_many(self.keyring, [m.group() for m in matches])
                except TokenError as exc:
                    raise self._located(exc, name, encoded.indices, index) from None
            raise  # pragma: no cover (a failure must show up value by value)
        # One tokenize call per entity type, over all its values.
        by_entity: dict[str, list[int]] = {}
        for k, (entity, _) in enumerate(pairs):
            by_entity.setdefault(entity, []).append(k)
        fresh: list[str] = [""] * len(tokens)
        for entity, ks in by_entity.items():
            for k, token in zip(ks, self.tokenizer.tokens(entity, [pairs[k][1] for k in ks]), strict=True):
                fresh[k] = token
        current = self.to_version
        rows_per_value = Counter(encoded.indices.drop_null().to_pylist())
        out: list[str | None] = []
        k = 0
        for index, (value, matches) in enumerate(zip(distinct, found, strict=True)):
            if not matches:
                out.append(value)
                continue
            rows = rows_per_value[index]
            pieces, at = [], 0
            for match in matches:
                version = int(match.group(2))
                if version == current:
                    self.counters.tokens_current[name] += rows
                else:
                    self.counters.tokens_moved[name] += rows
                    self.counters.from_versions.add(version)
                pieces += [value[at : match.start()], fresh[k]]
                at = match.end()
                k += 1
            out.append("".join(pieces) + value[at:])
        return pc.take(pa.array(out, _TEXT), encoded.indices).cast(array.type)

    def _fpe(self, spec: FpeColumn, array: pa.Array) -> pa.Array:
        encoded = _encode(array)
        distinct = encoded.dictionary.to_pylist()
        present = [v for v in distinct if v is not None]
        try:
            plain = self.cipher.decrypt_many(spec.entity, present, spec.version)
            again = self.cipher.encrypt_many(spec.entity, plain)
        except (TokenError, FpeDomainError):
            for index, value in enumerate(distinct):
                if value is None:
                    continue
                try:
                    self.cipher.encrypt_many(
                        spec.entity, self.cipher.decrypt_many(spec.entity, [value], spec.version)
                    )
                except (TokenError, FpeDomainError) as exc:
                    raise self._located(exc, spec.name, encoded.indices, index) from None
            raise  # pragma: no cover
        mapping = dict(zip(present, again, strict=True))
        out = [None if v is None else mapping[v] for v in distinct]
        self.counters.fpe_values[spec.name] += len(array) - array.null_count
        if spec.version != self.to_version:
            self.counters.from_versions.add(spec.version)
        return pc.take(pa.array(out, _TEXT), encoded.indices).cast(array.type)

    def _located(self, exc: Exception, name: str, indices: pa.Array, index: int) -> Exception:
        row = self.counters.rows + int(pc.index(indices, index).as_py())
        return type(exc)(f"column {name}, row {row}: {exc}; nothing was written")

    def record(self) -> dict[str, Any]:
        """The ledger record's details: columns, counts and versions, never a value."""
        c = self.counters
        return {
            "columns": list(self.columns),
            "fpe_columns": [
                {"column": f.name, "entity": f.entity, "from_version": f.version} for f in self.fpe.values()
            ],
            "rows": c.rows,
            "tokens_rekeyed": dict(sorted(c.tokens_moved.items())),
            "tokens_already_current": dict(sorted(c.tokens_current.items())),
            "fpe_values_rekeyed": dict(sorted(c.fpe_values.items())),
            "from_versions": sorted(c.from_versions),
            "to_version": self.to_version,
            "to_key_id": self.tokenizer.key_id,
        }


@dataclass(frozen=True)
class Rekeyed:
    table: pa.Table
    record: dict[str, Any]


def rekey_file(
    src: str | Path,
    dst: str | Path,
    policy: Policy | None = None,
    columns: str | Sequence[str] | None = None,
    fpe: str | Sequence[str] | None = None,
    ledger_file: str | Path | None = None,
) -> dict[str, Any]:
    """Re-key the Parquet file `src` into `dst` (atomically: a staged file renamed
    into place after the ledger holds the record). Returns the record."""
    policy = policy or Policy()
    src, dst = Path(src), Path(dst)
    source = ParquetSource(src)
    input_sha = source.sha256()
    with Keyring.open(policy, create=False) as keyring:
        rekeyer = Rekeyer(keyring, policy, source.schema, parse_columns(columns), parse_fpe(fpe))
        sink = StagedParquet(dst, source.schema)
        try:
            for batch in _batches(source, rekeyer):
                sink.write(batch)
            sink.close()
        except BaseException:
            sink.abort()
            raise
        try:
            if file_sha256(src) != input_sha:
                raise InputError(f"input changed while it was being re-keyed: {src}")
            record = rekeyer.record()
            subjects = [Subject(str(src), input_sha), Subject(str(dst), file_sha256(sink.staging))]
            _append(record, policy, ledger_file, subjects)
        except BaseException:
            discard_staged(sink.staging)
            raise
    commit_staged(sink.staging, dst)
    return record


def rekey_table(
    table: pa.Table,
    policy: Policy | None = None,
    columns: str | Sequence[str] | None = None,
    fpe: str | Sequence[str] | None = None,
    ledger_file: str | Path | None = None,
) -> Rekeyed:
    """`rekey_file` for an in-memory Arrow table; the ledger record is written
    before the re-keyed table is returned."""
    policy = policy or Policy()
    source = TableSource(table)
    with Keyring.open(policy, create=False) as keyring:
        rekeyer = Rekeyer(keyring, policy, source.schema, parse_columns(columns), parse_fpe(fpe))
        out = pa.Table.from_batches(list(_batches(source, rekeyer)), schema=source.schema)
        record = rekeyer.record()
        _append(record, policy, ledger_file, [])
    return Rekeyed(out, record)


def _batches(source: Source, rekeyer: Rekeyer) -> Iterator[pa.RecordBatch]:
    for batch in source.batches():
        yield rekeyer(batch)


def _append(
    record: dict[str, Any], policy: Policy, ledger_file: str | Path | None, subjects: list[Subject]
) -> None:
    record_event(
        event_ledger_path(policy, ledger_file),
        load_signing_key(),
        kind="rekey",
        id_prefix="rekey",
        details=record,
        subjects=subjects,
    )


def _check_text(schema: pa.Schema, name: str, option: str) -> None:
    if name not in schema.names:
        raise PolicyError(f"{option} names {name}, which the input does not have")
    if not is_text(schema.field(name).type):
        raise PolicyError(f"column {name} is not text; only tokens and FPE text can be re-keyed")


def _encode(array: pa.Array) -> pa.DictionaryArray:
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    return pc.dictionary_encode(array.cast(_TEXT))
