"""Placeholders for prompts, and the values to put back into a model's answer.

`Guard.redact_text(text, context=ctx)` replaces each entity the policy does
not keep with a placeholder such as `<PERSON_1>` or `<EMAIL_ADDRESS_2>`
(numbered per entity type within the context, the same value of the same type
always getting the same placeholder, so the turns of one conversation stay
consistent) and records placeholder -> value in `ctx`;
`Guard.restore_text(answer, context=ctx)` puts the values back wherever the
model copied a placeholder, in one pass, leaving unknown placeholders as they
are. A placeholder-shaped string already in a prompt is never handed out for a
value: its number is reserved.

One context is one conversation. It is safe to share between threads (every
read and change holds its lock). `repr` shows counts only; the values are
reachable through `mapping()` and `restore()`, and never through a message.

At rest (`save` / `load`) the mapping is AES-SIV encrypted and authenticated
under `derive("context")` of the keyring's current version, with a random
nonce and the file's header (format, version, key id) as associated data. The
header records the version, so a file still opens after a rotation and no
longer opens once that version is destroyed. Files are written atomically with
mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from ingestguard.errors import IngestGuardError

if TYPE_CHECKING:
    from ingestguard.detectors.finding import Finding
    from ingestguard.policy import Policy

CONTEXT_PURPOSE = "context"
FORMAT = 1
KIND = "ingestguard-redaction-context"
CIPHER = "AES-SIV"
_NONCE_BYTES = 16

# Entity names are `^[A-Z][A-Z0-9_]*$`; numbers start at 1.
PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*)_([1-9][0-9]{0,8})>")


class ContextError(IngestGuardError):
    """A redaction context cannot be saved or loaded."""


class TamperedContextError(ContextError):
    """A saved redaction context was altered, truncated, or is not a context file."""


class ContextKeyError(ContextError):
    """The key version a saved context names is unknown, another keyring's, or destroyed."""


class _KeyVersion(Protocol):
    @property
    def version(self) -> int: ...

    @property
    def key_id(self) -> str: ...

    def derive(self, purpose: str) -> bytes: ...


class _Keys(Protocol):
    """The keyring as a context sees it (ingestguard.keyring.Keyring)."""

    def current(self) -> _KeyVersion: ...

    def version(self, n: int) -> _KeyVersion: ...


class RedactionContext:
    """Placeholder <-> original value for one conversation; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_value: dict[tuple[str, str], str] = {}  # (entity, value) -> placeholder
        self._by_placeholder: dict[str, str] = {}  # placeholder -> value
        self._last: Counter[str] = Counter()  # entity -> highest number given or reserved

    def __repr__(self) -> str:
        with self._lock:
            per_type = Counter(entity for entity, _ in self._by_value)
        counts = ", ".join(f"{k}={v}" for k, v in sorted(per_type.items()))
        return f"RedactionContext({sum(per_type.values())} placeholders{': ' + counts if counts else ''})"

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_placeholder)

    # -- placeholders -------------------------------------------------------

    def placeholder_for(self, entity: str, value: str) -> str:
        """The placeholder of `value` as an `entity`, made on first sight."""
        with self._lock:
            return self._placeholder(entity, value)

    def redact(self, text: str, findings: Iterable[Finding]) -> str:
        """`text` with each finding's span replaced by its placeholder.
        Findings must not overlap (the detector merges overlaps)."""
        spans = sorted(findings, key=lambda f: f.start)
        with self._lock:
            self._reserve_literals(text)
            pieces, cursor = [], 0
            for f in spans:
                if f.start < cursor:
                    raise ValueError("findings overlap; merge them first (detectors.finding.merge_overlaps)")
                pieces.append(text[cursor : f.start])
                pieces.append(self._placeholder(f.entity_type, text[f.start : f.end]))
                cursor = f.end
            pieces.append(text[cursor:])
        return "".join(pieces)

    def restore(self, text: str) -> str:
        """`text` with every placeholder of this context replaced by its value,
        in one pass (a restored value is never itself replaced); unknown ones stay."""
        with self._lock:
            known = self._by_placeholder
            return PLACEHOLDER.sub(lambda m: known.get(m.group(0), m.group(0)), text)

    def lookup(self, placeholder: str) -> str | None:
        """The value behind `placeholder`, or None when this context did not make it."""
        with self._lock:
            return self._by_placeholder.get(placeholder)

    def mapping(self) -> dict[str, str]:
        """A copy of placeholder -> value (holds the original values: handle as such)."""
        with self._lock:
            return dict(self._by_placeholder)

    def _placeholder(self, entity: str, value: str) -> str:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", entity):
            raise ValueError(f"entity type {entity!r} is not an upper-case entity name")
        found = self._by_value.get((entity, value))
        if found is None:
            self._last[entity] += 1
            found = f"<{entity}_{self._last[entity]}>"
            self._by_value[(entity, value)] = found
            self._by_placeholder[found] = value
        return found

    def _reserve_literals(self, text: str) -> None:
        """A placeholder-shaped string the prompt already holds is never given
        to a value, so restoring cannot turn the user's own text into one."""
        for m in PLACEHOLDER.finditer(text):
            if m.group(0) not in self._by_placeholder:
                entity, n = m.group(1), int(m.group(2))
                self._last[entity] = max(self._last[entity], n)

    # -- at rest -------------------------------------------------------------

    def save(self, path: str | Path, keyring: _Keys | None = None, *, policy: Policy | None = None) -> Path:
        """Write the context encrypted under the keyring's current version
        (`keyring`, else the keyring of `policy` / the default policy): atomic, 0600."""
        path = Path(path)
        with self._lock:
            body = {
                "entries": [[e, v, p] for (e, v), p in self._by_value.items()],
                "last": dict(self._last),
            }
        plaintext = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        with _keys(keyring, policy, create=True) as keys:
            kv = keys.current()
            header = {
                "format": FORMAT,
                "kind": KIND,
                "cipher": CIPHER,
                "key_version": kv.version,
                "key_id": kv.key_id,
            }
            nonce = os.urandom(_NONCE_BYTES)
            sealed = AESSIV(kv.derive(CONTEXT_PURPOSE)).encrypt(plaintext, [_canonical(header), nonce])
        doc = header | {"nonce": _b64(nonce), "ciphertext": _b64(sealed)}
        _write_atomic(path, (json.dumps(doc, indent=1) + "\n").encode())
        return path

    @classmethod
    def load(
        cls, path: str | Path, keyring: _Keys | None = None, *, policy: Policy | None = None
    ) -> RedactionContext:
        """Read a saved context with the key version named in its file.
        TamperedContextError: altered or not a context; ContextKeyError: its
        version is unknown, another keyring's, or destroyed."""
        path = Path(path)
        try:
            doc = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise ContextError(f"no redaction context at {path}") from None
        except OSError as exc:
            raise ContextError(f"cannot read the redaction context {path} ({exc.strerror})") from None
        except ValueError:
            raise TamperedContextError(
                f"{path} is not a redaction context file (not JSON); restore it"
            ) from None
        header = _header(doc, path)
        n = header["key_version"]
        try:
            nonce, sealed = _unb64(doc["nonce"]), _unb64(doc["ciphertext"])
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise TamperedContextError(f"{path} has no readable nonce or ciphertext; restore it") from None
        with _keys(keyring, policy, create=False) as keys:
            try:
                kv = keys.version(n)
                key = kv.derive(CONTEXT_PURPOSE)
            except (IngestGuardError, LookupError, ValueError) as exc:
                raise ContextKeyError(
                    f"the redaction context {path} was saved under key version {n}, which is not available "
                    f"({type(exc).__name__}): unknown, destroyed, or not unwrappable; it cannot be opened"
                ) from exc
        if kv.key_id != header["key_id"]:
            raise ContextKeyError(
                f"the redaction context {path} was saved under key {header['key_id']} (version {n}), "
                f"but version {n} of this keyring is {kv.key_id}; open it with the keyring it was saved with"
            )
        try:
            plaintext = AESSIV(key).decrypt(sealed, [_canonical(header), nonce])
        except (InvalidTag, ValueError):
            raise TamperedContextError(
                f"the redaction context {path} does not authenticate under key version {n}: "
                "it was altered or truncated; nothing was loaded"
            ) from None
        return cls._from_body(plaintext, path)

    @classmethod
    def _from_body(cls, plaintext: bytes, path: Path) -> RedactionContext:
        ctx = cls()
        try:
            body = json.loads(plaintext)
            for entity, value, placeholder in body["entries"]:
                m = PLACEHOLDER.fullmatch(placeholder)
                if not (isinstance(value, str) and m and m.group(1) == entity):
                    raise ValueError
                ctx._by_value[(entity, value)] = placeholder
                ctx._by_placeholder[placeholder] = value
                ctx._last[entity] = max(ctx._last[entity], int(m.group(2)))
            for entity, n in dict(body["last"]).items():
                ctx._last[str(entity)] = max(ctx._last[str(entity)], int(n))
        except (KeyError, TypeError, ValueError):
            # Authenticated yet malformed: written by something else with this key.
            raise TamperedContextError(
                f"the redaction context {path} holds no valid mapping; nothing was loaded"
            ) from None
        return ctx


# -- helpers -------------------------------------------------------------------


class _keys:
    """The given keyring, or the policy's opened (and closed) for one call."""

    def __init__(self, keyring: _Keys | None, policy: Policy | None, create: bool) -> None:
        self._given, self._policy, self._create = keyring, policy, create
        self._opened: Any = None

    def __enter__(self) -> _Keys:
        if self._given is not None:
            return self._given
        from ingestguard.keyring import Keyring

        self._opened = Keyring.open(self._policy, create=self._create)
        return self._opened

    def __exit__(self, *exc: object) -> None:
        if self._opened is not None:
            self._opened.close()


def _header(doc: Any, path: Path) -> dict[str, Any]:
    if not isinstance(doc, Mapping) or doc.get("kind") != KIND:
        raise TamperedContextError(f"{path} is not a redaction context file; restore it")
    if doc.get("format") != FORMAT or doc.get("cipher") != CIPHER:
        raise TamperedContextError(
            f"{path} is redaction context format {doc.get('format')!r} / {doc.get('cipher')!r}; "
            f"this version reads format {FORMAT} / {CIPHER}"
        )
    n, key_id = doc.get("key_version"), doc.get("key_id")
    if type(n) is not int or n < 1 or not isinstance(key_id, str):
        raise TamperedContextError(f"{path} names no valid key version; restore it")
    return {"format": FORMAT, "kind": KIND, "cipher": CIPHER, "key_version": n, "key_id": key_id}


def _canonical(header: Mapping[str, Any]) -> bytes:
    return json.dumps(dict(header), sort_keys=True, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise TypeError("not base64 text")
    return base64.b64decode(text, validate=True)


def _write_atomic(path: Path, data: bytes) -> None:
    """Temp file (0600, exclusive) in the same folder, fsync, rename, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise ContextError(f"cannot write the redaction context {path} ({exc.strerror})") from None
    finally:
        tmp.unlink(missing_ok=True)
