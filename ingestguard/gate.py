"""The training gate: data is used only if the ledger vouches for it.

`require_protected(data_or_path)` passes only when the evidence ledger, whose
every signature, link and sequence number verifies, holds a passing protect
record whose outputs include this data's exact digest (a file's sha256; for
in-memory data the content digest of `digest.py`; for a directory, every
file's) under the sha256 of the current policy. Anything else raises
UnprotectedDataError, naming the problem and the fix: unprotected or changed
data, data protected under another policy, a ledger that does not verify.

The ledger is read once into memory, verified as read, and searched as read,
so a record appended or edited meanwhile cannot slip in unverified.
"""

from __future__ import annotations

import functools
import inspect
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ingestguard.errors import LedgerError, UnprotectedDataError
from ingestguard.reports.ledger import LEDGER_NAME, statement_at

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class LedgerEntry:
    """One verified ledger record: its predicate, subjects and signing key id."""

    sequence: int
    predicate: dict[str, Any]
    subjects: tuple[tuple[str, str], ...]  # (name, sha256)
    key_id: str


@dataclass(frozen=True)
class ProtectedItem:
    """One piece of data the gate let through, and the run that vouches for it."""

    name: str
    sha256: str
    run_id: str
    sequence: int


@dataclass(frozen=True)
class ProtectionProof:
    """What `require_protected` found, for a model card: the runs, digests, policy and ledger."""

    policy_sha256: str
    ledger: str
    items: tuple[ProtectedItem, ...]

    @property
    def run_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item.run_id for item in self.items))


def verified_entries(ledger: Path, public_key: Path | None = None) -> list[LedgerEntry]:
    """Every record of `ledger`, after the whole ledger verified (signatures,
    links, sequence) against `public_key` or this machine's signing key;
    LedgerError when it does not."""
    from ingestguard.verify import verify_ledger

    try:
        data = ledger.read_bytes()
    except OSError:
        raise LedgerError(
            f"no readable ledger at {ledger}; name the ledger the data was protected into"
        ) from None
    with tempfile.TemporaryDirectory(prefix="ingestguard-gate-") as folder:
        snapshot = Path(folder) / LEDGER_NAME
        snapshot.write_bytes(data)
        verdict = verify_ledger(snapshot, public_key=public_key)
    if not verdict.ok:
        raise LedgerError(f"the ledger {ledger} does not verify ({verdict.problem}); it vouches for nothing")
    entries = []
    for index, line in enumerate(line for line in data.split(b"\n") if line.strip()):
        statement = statement_at(line, index)
        entries.append(
            LedgerEntry(
                sequence=int(statement.predicate["sequence"]),
                predicate=statement.predicate,
                subjects=statement.subjects,
                key_id=statement.key_id,
            )
        )
    return entries


def require_protected(
    data_or_path: Any,
    policy: Any = None,
    *,
    ledger: str | Path | None = None,
    public_key: str | Path | None = None,
) -> ProtectionProof:
    """Raise UnprotectedDataError unless the ledger vouches for this exact data
    under `policy` (a Policy, a policy file, or None for the default policy).

    `data_or_path`: a file or directory path, or in-memory data (pandas or
    Polars DataFrame, pyarrow Table or RecordBatch, Hugging Face Dataset).
    `ledger`: default the policy's `ledger`, else for a path `ledger.jsonl`
    beside it (where `ingestguard protect` puts it without `--evidence-dir`).
    `public_key`: the ledger's public key; default this machine's signing key.
    """
    from ingestguard.policy import Policy

    if policy is None:
        policy = Policy()
    elif isinstance(policy, (str, Path)):
        policy = Policy.load(policy)
    digests = _digests(data_or_path)
    ledger_file = _ledger_for(data_or_path, policy, ledger)
    try:
        entries = verified_entries(ledger_file, Path(public_key) if public_key else None)
    except LedgerError as exc:
        raise UnprotectedDataError(str(exc)) from None
    current = policy.sha256()
    items = [_find(name, digest, entries, current, ledger_file) for name, digest in digests]
    return ProtectionProof(policy_sha256=current, ledger=str(ledger_file), items=tuple(items))


def guarded(
    argument: str | int = 0,
    policy: Any = None,
    *,
    ledger: str | Path | None = None,
    public_key: str | Path | None = None,
) -> Callable[[F], F]:
    """Decorate a training function so it runs only on protected data: the
    argument named (or at the position) `argument` goes through
    `require_protected` before every call."""

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)
        name = argument if isinstance(argument, str) else list(signature.parameters)[argument]
        if name not in signature.parameters:
            raise TypeError(f"{fn.__name__} has no parameter {name!r} to gate")

        @functools.wraps(fn)
        def gated(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            require_protected(bound.arguments[name], policy, ledger=ledger, public_key=public_key)
            return fn(*args, **kwargs)

        return gated  # type: ignore[return-value]

    return decorate


def _digests(data: Any) -> list[tuple[str, str]]:
    from ingestguard.io import file_sha256

    if isinstance(data, (str, Path)):
        path = Path(data)
        if path.is_file():
            return [(str(path), file_sha256(path))]
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if not files:
                raise UnprotectedDataError(f"the directory {path} holds no file to vouch for")
            return [(str(p), file_sha256(p)) for p in files]
        raise UnprotectedDataError(f"no file or directory at {path}")
    from ingestguard.convert import digest_of

    return [(f"<{type(data).__name__}>", digest_of(data)[0])]


def _ledger_for(data: Any, policy: Any, ledger: str | Path | None) -> Path:
    if ledger is not None:
        return Path(ledger)
    if policy.ledger is not None:
        return Path(policy.ledger)
    if isinstance(data, (str, Path)):
        return Path(data).resolve().parent / LEDGER_NAME
    raise UnprotectedDataError(
        "no ledger to check in-memory data against; pass ledger= (the one given to Guard) "
        "or set `ledger` in the policy"
    )


def _find(
    name: str, digest: str, entries: list[LedgerEntry], policy_sha256: str, ledger: Path
) -> ProtectedItem:
    outputs = [
        e
        for e in entries
        if e.predicate.get("kind") == "protect"
        and e.predicate.get("status") == "passed"
        and digest in e.predicate.get("output_sha256", ())
        and digest in {sha for _, sha in e.subjects}
    ]
    current = [e for e in outputs if e.predicate.get("policy_sha256") == policy_sha256]
    if current:
        last = current[-1]
        return ProtectedItem(name, digest, str(last.predicate["run_id"]), last.sequence)
    if outputs:
        other = outputs[-1].predicate.get("policy_sha256", "")
        raise UnprotectedDataError(
            f"{name} (sha256 {digest[:16]}) was protected under another policy ({other[:16]}), "
            f"not the current one ({policy_sha256[:16]}); protect it again under the current policy"
        )
    raise UnprotectedDataError(
        f"{name} (sha256 {digest[:16]}) has no passing protect record in {ledger}: it was never "
        "protected, or changed since; protect it (ingestguard protect / Guard.protect) into this ledger"
    )
