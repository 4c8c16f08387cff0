"""Re-identification: reversing tokens and FPE, only as the policy allows, and
only after the ledger holds the record of it.

Detokenization is a permission of its own: a purpose the policy names, entity
types the policy names, an actor (the OS user unless given). The signed,
fsynced ledger record (when, actor, purpose, columns, value counts, key
versions; never a value) is written before any plaintext leaves this module;
if it cannot be written, nothing is returned. A tampered or foreign token
stops the whole call with its column and row named (never its value), and
nothing is returned either.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ingestguard.errors import PolicyError, TamperedTokenError, TokenError
from ingestguard.keyring import Keyring
from ingestguard.keys import load_signing_key
from ingestguard.policy import Policy
from ingestguard.reports.ledger import Subject, record_event
from ingestguard.runs import event_ledger_path
from ingestguard.transforms.reversible import TOKEN, FpeCipher, detokenize_many


@dataclass(frozen=True)
class ColumnRequest:
    """A column to reverse: its tokens, or (with `fpe_entity`) its FPE values of
    that entity type under key version `fpe_version` (default: current)."""

    name: str
    fpe_entity: str | None = None
    fpe_version: int | None = None


@dataclass(frozen=True)
class Reidentified:
    table: pa.Table
    record: dict[str, object]


def parse_columns(spec: str) -> list[ColumnRequest]:
    """`email,notes,ssn:US_SSN,card:CREDIT_CARD@2` -> column requests (FPE after ':')."""
    out = []
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        name, _, fpe = part.partition(":")
        entity, _, version = fpe.partition("@")
        if version and not version.isdigit():
            raise PolicyError(f"--columns {part}: the key version after @ must be a number")
        out.append(ColumnRequest(name, entity or None, int(version) if version else None))
    if not out:
        raise PolicyError("--columns names no column; give e.g. --columns email,ssn:US_SSN")
    return out


def check_permission(policy: Policy, purpose: str, entities: Sequence[str]) -> None:
    """Refuse a purpose or entity type the policy does not allow (exit 2)."""
    allowed = policy.reidentification
    if purpose not in allowed.purposes:
        raise PolicyError(
            f"re-identification for purpose '{purpose}' is not allowed; the policy's "
            "reidentification.purposes must name it"
        )
    refused = sorted(set(entities) - set(allowed.entities))
    if refused:
        raise PolicyError(
            f"re-identification of {refused[0]} is not allowed; the policy's reidentification.entities must name it"
        )


def reidentify_table(
    table: pa.Table,
    columns: Sequence[ColumnRequest],
    purpose: str,
    policy: Policy,
    actor: str | None = None,
    ledger_file: Path | None = None,
    source: Subject | None = None,
) -> Reidentified:
    """The table with the requested columns reversed, after the ledger records it."""
    keyring = Keyring.open(policy, create=False)
    reversed_columns: dict[str, pa.Array] = {}
    counts: dict[str, int] = {}
    versions: set[int] = set()
    entities: set[str] = set()
    plans = []
    for request in columns:
        if request.name not in table.column_names:
            raise PolicyError(f"--columns names {request.name}, which the input does not have")
        column = table.column(request.name).combine_chunks()
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            raise PolicyError(f"column {request.name} is not text; only tokens and FPE text can be reversed")
        plans.append((request, column))
        if request.fpe_entity:
            entities.add(request.fpe_entity)
    # Every entity type must be allowed before anything is decrypted.
    for request, column in plans:
        if request.fpe_entity is None:
            entities |= {m.group(1) for m in _tokens(column)}
    check_permission(policy, purpose, sorted(entities))
    for request, column in plans:
        if request.fpe_entity:
            values, used, n = _reverse_fpe(keyring, request, column)
        else:
            values, used, n = _reverse_tokens(keyring, request.name, column)
        reversed_columns[request.name] = values
        counts[request.name] = n
        versions |= used
    record = {
        "actor": actor or getpass.getuser(),
        "purpose": purpose,
        "columns": [c.name for c in columns],
        "values_reversed": counts,
        "key_versions": sorted(versions),
        "entities": sorted(entities),
    }
    _record(record, policy, ledger_file, source)
    out = table
    for name, values in reversed_columns.items():
        out = out.set_column(out.column_names.index(name), name, values)
    return Reidentified(out, record)


def _tokens(column: pa.Array) -> list[re.Match[str]]:
    distinct = pc.unique(column.drop_null()).to_pylist()
    return [m for value in distinct for m in TOKEN.finditer(value)]


def _reverse_tokens(keyring: Keyring, name: str, column: pa.Array) -> tuple[pa.Array, set[int], int]:
    encoded = pc.dictionary_encode(column)
    distinct = encoded.dictionary.to_pylist()
    plain: list[str | None] = []
    versions: set[int] = set()
    reversed_count = 0
    for index, value in enumerate(distinct):
        if value is None:
            plain.append(None)
            continue
        found = list(TOKEN.finditer(value))
        try:
            pairs = detokenize_many(keyring, [m.group() for m in found])
        except TokenError as exc:
            row = _first_row(encoded.indices, index)
            kind = "altered or foreign" if isinstance(exc, TamperedTokenError) else "not reversible"
            raise type(exc)(
                f"column {name}, row {row}: a token is {kind} ({exc}); nothing was written"
            ) from None
        versions |= {int(m.group(2)) for m in found}
        pieces, at = [], 0
        for match, (_, text) in zip(found, pairs, strict=True):
            pieces += [value[at : match.start()], text]
            at = match.end()
        plain.append("".join(pieces) + value[at:])
        reversed_count += len(found)
    values = pa.array(plain, pa.large_string()).take(encoded.indices)
    return values.cast(column.type), versions, reversed_count


def _reverse_fpe(
    keyring: Keyring, request: ColumnRequest, column: pa.Array
) -> tuple[pa.Array, set[int], int]:
    cipher = FpeCipher(keyring)
    version = request.fpe_version if request.fpe_version is not None else cipher.key_version
    present = column.drop_null()
    distinct = pc.unique(present).to_pylist()
    try:
        mapping = dict(zip(distinct, cipher.decrypt_many(request.fpe_entity, distinct, version), strict=True))
    except TokenError as exc:
        raise type(exc)(f"column {request.name}: {exc}; nothing was written") from None
    values = pa.array([None if v is None else mapping[v] for v in column.to_pylist()], column.type)
    return values, {version}, len(present)


def _first_row(indices: pa.Array, index: int) -> int:
    return int(pc.index(indices, index).as_py())


def _record(
    record: dict[str, object], policy: Policy, ledger_file: Path | None, source: Subject | None
) -> None:
    record_event(
        event_ledger_path(policy, ledger_file),
        load_signing_key(),
        kind="detokenize",
        id_prefix="reid",
        details=record,
        subjects=[source] if source else [],
    )
