"""The evidence ledger: one signed, hash-chained record per run, append-only.

Each line of `ledger.jsonl` is a DSSE envelope (canonical JSON, RFC 8785)
whose payload is an in-toto Statement v1: its subjects are the run's input
and output file digests, its predicate the record (sequence number, the
sha256 of the previous line, the kind of event, the run id and the digest of
the run's evidence document). The envelope is signed with the data owner's
Ed25519 key (securesystemslib's DSSE and signer, over `cryptography`).

What `verify` catches, and how: an edited byte (the signature or the
canonical form fails), a removed or swapped record (the sequence or the
previous-hash link breaks), a record re-signed with another key (the
signature fails against the auditor's public key), and records cut from the
end (with the evidence directory: a document the ledger does not hold).

Appends hold an exclusive lock on `ledger.jsonl.lock` from reading the last
record to the fsync of the new one, so two runs never take the same sequence.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import CryptoSigner, SSlibKey

from ingestguard.errors import LedgerError
from ingestguard.filelock import exclusive

LEDGER_NAME = "ledger.jsonl"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://ingestguard.dev/ledger-record/v1"
GENESIS = "0" * 64


@dataclass(frozen=True)
class Position:
    """Where the next record goes: its sequence number and the previous line's sha256."""

    path: Path
    sequence: int
    previous_sha256: str


@dataclass(frozen=True)
class Subject:
    """A file the record vouches for, by name and digest (in-toto subject)."""

    name: str
    sha256: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of `verify`: `ok`, how many records, and the first problem."""

    ok: bool
    records: int
    problem: str | None = None
    bad_sequence: int | None = None


def line_sha256(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


class Ledger:
    """Appends signed records to one ledger file."""

    def __init__(self, path: Path, signing_key: Ed25519PrivateKey) -> None:
        self.path = Path(path)
        self._signer = CryptoSigner(signing_key, SSlibKey.from_crypto(signing_key.public_key()))
        self._needs_newline = False

    @contextmanager
    def next_position(self) -> Iterator[Position]:
        """Lock the ledger and yield where the next record goes; the caller writes
        it with `append` before leaving the block."""
        with exclusive(self.path, LedgerError, "the ledger"):
            yield self._position()

    def append(
        self,
        position: Position,
        *,
        kind: str,
        run_id: str,
        subjects: Sequence[Subject],
        details: dict[str, Any],
    ) -> str:
        """Write one record at `position` (from `next_position`, still locked) and
        return its sha256. `details` holds counts, digests and ids only."""
        predicate = {
            "sequence": position.sequence,
            "previous_sha256": position.previous_sha256,
            "kind": kind,
            "run_id": run_id,
            "recorded_at": datetime.now(UTC).isoformat(),
            **details,
        }
        statement = {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": s.name, "digest": {"sha256": s.sha256}} for s in subjects],
            "predicateType": PREDICATE_TYPE,
            "predicate": predicate,
        }
        envelope = Envelope(rfc8785.dumps(statement), PAYLOAD_TYPE, {})
        envelope.sign(self._signer)
        line = rfc8785.dumps(envelope.to_dict())
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                # A last record written without its newline is ended first, so
                # the new record starts on a line of its own.
                os.write(fd, (b"\n" if self._needs_newline else b"") + line + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise LedgerError(
                f"cannot append to the ledger {self.path} ({exc.strerror}); check the path and its permissions"
            ) from None
        return line_sha256(line)

    def _position(self) -> Position:
        last, ends_with_newline = _tail(self.path)
        if last is None:
            return Position(self.path, 0, GENESIS)
        try:
            record = record_at(last, -1)
        except LedgerError:
            raise LedgerError(
                f"the last record of {self.path} is unreadable (a crash during an append?); check it with "
                "`ingestguard verify` and move the ledger aside before the next run"
            ) from None
        self._needs_newline = not ends_with_newline
        return Position(self.path, record["sequence"] + 1, line_sha256(last))


def record_event(
    path: Path,
    signing_key: Ed25519PrivateKey,
    *,
    kind: str,
    id_prefix: str,
    details: dict[str, Any],
    subjects: Sequence[Subject] = (),
) -> str:
    """Append one record of an event that is not a protect run (a detokenization,
    a re-keying) under a fresh id `<id_prefix>-<UTC time>-<random>`; returns the id."""
    run_id = f"{id_prefix}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
    ledger = Ledger(path, signing_key)
    with ledger.next_position() as position:
        ledger.append(position, kind=kind, run_id=run_id, subjects=subjects, details=details)
    return run_id


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every record's predicate (unverified), in order; for reports and packs."""
    return [record_at(line, i) for i, line in enumerate(read_lines(path))]


def document_sha256(document: dict[str, Any]) -> str:
    """The digest an evidence document is sealed with, recomputed from its body:
    sha256 of the RFC 8785 JSON of everything but `evidence_sha256`."""
    body = {k: v for k, v in document.items() if k != "evidence_sha256"}
    return hashlib.sha256(rfc8785.dumps(body)).hexdigest()


def verify(
    path: Path,
    public_key: Ed25519PublicKey,
    evidence: Sequence[dict[str, Any]] = (),
    is_slice: bool = False,
) -> Verdict:
    """Check every signature, every link and the sequence of the ledger at `path`;
    with `evidence` (evidence documents as dicts), each must be held by the ledger
    with the digest its body has now and at the position it names, which catches
    edited documents and records cut from the end. Names the first bad record.

    `is_slice`: the file is a contiguous part of a ledger (an audit pack's): its
    first record's sequence and link are taken as given, all else is checked."""
    key = SSlibKey.from_crypto(public_key)
    if not Path(path).is_file():
        return Verdict(False, 0, f"no ledger at {path}")
    lines = Path(path).read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last record
    first, previous = 0, GENESIS
    if is_slice and lines:
        try:
            start = record_at(lines[0], 0)
            first, previous = int(start["sequence"]), str(start["previous_sha256"])
        except (LedgerError, KeyError, TypeError, ValueError):
            return Verdict(False, 0, "record 0 of the slice: not a ledger record", 0)
    held: dict[str, tuple[str, int]] = {}
    count = 0
    for offset, line in enumerate(lines):
        index = first + offset
        problem = _check(line, index, previous, key)
        predicate = record_at(line, index) if problem is None else {}
        if problem is None and predicate["run_id"] in held:
            problem = f"run {predicate['run_id']} is recorded twice"
        if problem:
            return Verdict(False, count, f"record {index}: {problem}", index)
        held[predicate["run_id"]] = (str(predicate.get("evidence_sha256", "")), index)
        previous = line_sha256(line)
        count += 1
    for doc in evidence:
        problem = _check_document(doc, held)
        if problem:
            return Verdict(False, count, problem)
    return Verdict(True, count)


def _check_document(doc: dict[str, Any], held: dict[str, tuple[str, int]]) -> str | None:
    run_id = doc.get("run_id", "?")
    if run_id not in held:
        return f"evidence of run {run_id} is not in the ledger (records cut or lost)"
    digest, sequence = held[run_id]
    if doc.get("evidence_sha256") != digest or document_sha256(doc) != digest:
        return f"evidence of run {run_id} was edited: its digest differs from the one the ledger holds"
    position = doc.get("ledger") or {}
    if position.get("sequence") != sequence:
        return f"evidence of run {run_id} names another place in the ledger than its record"
    return None


# The exact shape of a record's envelope: anything more is an edit the
# signature does not cover.
_ENVELOPE_KEYS = {"payload", "payloadType", "signatures"}
_SIGNATURE_KEYS = {"keyid", "sig"}


def _check(line: bytes, index: int, previous: str, key: SSlibKey) -> str | None:
    try:
        data = json.loads(line)
        shaped = (
            isinstance(data, dict)
            and set(data) == _ENVELOPE_KEYS
            and isinstance(data["payload"], str)
            and isinstance(data["payloadType"], str)
            and isinstance(data["signatures"], list)
            and len(data["signatures"]) == 1
            and isinstance(data["signatures"][0], dict)
            and set(data["signatures"][0]) == _SIGNATURE_KEYS
        )
        if not shaped:
            return "not a ledger envelope (one payload, its type, one signature)"
        canonical = rfc8785.dumps(data) == line
        envelope = Envelope.from_dict(dict(data))  # from_dict consumes its argument
    except (ValueError, KeyError, TypeError, AttributeError):
        return "not a DSSE envelope"
    if not canonical:
        return "not in canonical form (edited)"
    try:
        envelope.verify([key], 1)
    except (VerificationError, ValueError, TypeError, AttributeError):
        return "signature does not verify with the given public key"
    if envelope.payload_type != PAYLOAD_TYPE:
        return "wrong payload type"
    try:
        statement = json.loads(envelope.payload)
        predicate = statement["predicate"]
        sequence, link, _run_id = predicate["sequence"], predicate["previous_sha256"], predicate["run_id"]
    except (ValueError, KeyError, TypeError):
        return "payload is not a ledger statement"
    if statement.get("predicateType") != PREDICATE_TYPE:
        return "payload is not a ledger statement"
    if sequence != index:
        return f"sequence {sequence} where {index} was expected (a record removed or moved)"
    if link != previous:
        return "previous-record hash does not match (a record removed, moved or edited)"
    return None


@dataclass(frozen=True)
class Statement:
    """One record as signed: its predicate, its subjects (name, sha256) and the
    signing key's id. Unverified: `verify` checks the signatures and links."""

    predicate: dict[str, Any]
    subjects: tuple[tuple[str, str], ...]
    key_id: str


def statement_at(line: bytes, index: int) -> Statement:
    """The statement of one record line; LedgerError when the line is unreadable."""
    try:
        envelope = json.loads(line)
        statement = json.loads(base64.b64decode(envelope["payload"]))
        return Statement(
            predicate=dict(statement["predicate"]),
            subjects=tuple((s["name"], s["digest"]["sha256"]) for s in statement["subject"]),
            key_id=str(envelope["signatures"][0]["keyid"]),
        )
    except (ValueError, KeyError, TypeError, IndexError):
        raise LedgerError(
            f"ledger record {index} is unreadable (a crash during an append, or an edit); "
            "check the ledger with `ingestguard verify`"
        ) from None


def record_at(line: bytes, index: int) -> dict[str, Any]:
    """The predicate of one record line (unverified: `verify` checks it)."""
    return statement_at(line, index).predicate


def read_lines(path: Path) -> list[bytes]:
    """The ledger's record lines as stored (blank lines left out), unverified."""
    with open(path, "rb") as fh:
        return [line for line in fh.read().split(b"\n") if line.strip()]


def _tail(path: Path, tail: int = 65_536) -> tuple[bytes | None, bool]:
    """The last record (read from the end, so appends stay cheap as the ledger
    grows), and whether the file ends with a newline."""
    if not path.is_file():
        return None, True
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - tail))
        chunk = fh.read()
    lines = [line for line in chunk.split(b"\n") if line.strip()]
    if size > tail and len(lines) < 2:  # one record longer than the tail: read it all
        lines = read_lines(path)
    return (lines[-1] if lines else None), chunk.endswith(b"\n") or size == 0
