"""The keyring of the reversible actions (tokens, FPE): numbered key versions
the data owner holds, rotation, and destruction (crypto-shredding).

`keyring.json` in the key home (`$INGESTGUARD_HOME` or `~/.ingestguard`,
mode 0600, written atomically under `keyring.json.lock`) lists the versions:
number, key id, created, status and, until it is destroyed, the version's
32-byte data key WRAPPED by a backend's key-encryption key (KEK). The file
never holds a raw data key; with the `envelope` or `pkcs11` backend it is
useless without the KEK the owner keeps elsewhere.

Usage (the transforms' side)::

    ring = Keyring.open(policy)          # builds the policy's backend
    kv = ring.current()                  # the newest active version: new tokens
    key = kv.derive("tokenize")          # 64 bytes, one subkey per purpose (AES-SIV)
    old = ring.version(2).derive("tokenize")   # to reverse a v2 token

Backends implement `KeyBackend` (name, wrap, unwrap, describe) and are
chosen by name from the explicit `BACKENDS` table. The wrap format is AES key
wrap (RFC 3394 / NIST SP 800-38F): made for wrapping keys, deterministic (no
nonce to get wrong), integrity-checked, and what HSMs do natively
(CKM_AES_KEY_WRAP), so every backend stores the same shape. It has no
associated data; instead each unwrapped key is checked against the key id
stored beside it, so a blob moved to another version is refused.

`INGESTGUARD_KEY` and `keys.load_key` stay the pseudonym key only: one-way
pseudonyms never depend on this keyring, and rotating or destroying a version
here never changes a pseudonym.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from ingestguard.errors import KeyDestroyedError, KeyringError, KeyUnwrapError
from ingestguard.filelock import exclusive
from ingestguard.keys import KEY_BYTES, decode_key, key_home

if TYPE_CHECKING:
    from ingestguard.policy import KeyringSettings, Policy

KEYRING_NAME = "keyring.json"
KEK_NAME = "kek"
ENV_KEK = "INGESTGUARD_KEK"
ENV_PKCS11_PIN = "INGESTGUARD_PKCS11_PIN"
SUBKEY_BYTES = 64  # AES-SIV with AES-256 takes a 512-bit key
FORMAT = 1

Status = Literal["active", "retired", "destroyed"]


# --- versions ---------------------------------------------------------------


@dataclass(frozen=True)
class KeyVersion:
    """One version of the keyring; `repr` and `versions()` never show material."""

    version: int
    key_id: str
    created: datetime
    status: Status
    _material: bytes = field(default=b"", repr=False, compare=False)

    def derive(self, purpose: str) -> bytes:
        """A separate 64-byte subkey per purpose (HKDF-SHA256), so tokenize, FPE
        and any later use never share a key."""
        if not purpose:
            raise KeyringError("derive needs a purpose, e.g. 'tokenize' or 'fpe'")
        if len(self._material) != KEY_BYTES:
            raise KeyDestroyedError(
                f"key version {self.version} ({self.key_id}) holds no material; "
                "get it from Keyring.version() or Keyring.current()"
            )
        info = b"ingestguard/keyring/v1/" + purpose.encode()
        return HKDF(hashes.SHA256(), SUBKEY_BYTES, salt=None, info=info).derive(self._material)

    def to_evidence(self) -> dict[str, str | int]:
        return {"key_id": self.key_id, "version": self.version, "status": self.status}


def key_id_of(data_key: bytes) -> str:
    """The public id of a data key: a one-way 64-bit digest, never the material."""
    digest = HKDF(hashes.SHA256(), 8, salt=None, info=b"ingestguard/keyring/key-id/v1").derive(data_key)
    return f"igr_{digest.hex()}"


def _kek_id(kek: bytes) -> str:
    digest = HKDF(hashes.SHA256(), 8, salt=None, info=b"ingestguard/keyring/kek-id/v1").derive(kek)
    return f"igkek_{digest.hex()}"


# --- backends ---------------------------------------------------------------


@runtime_checkable
class KeyBackend(Protocol):
    """Wraps and unwraps 32-byte data keys with a key-encryption key it holds.
    `describe()` holds ids only (never material, PINs or paths to secrets' contents)."""

    name: str

    def wrap(self, data_key: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes) -> bytes: ...

    def describe(self) -> dict[str, str]: ...


class _AesKwBackend:
    """AES-KW (RFC 3394) under a 32-byte KEK held in memory."""

    name = "aes-kw"

    def __init__(self, kek: bytes, source: str) -> None:
        self._kek = kek
        self._source = source
        self.kek_id = _kek_id(kek)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kek_id={self.kek_id!r}, source={self._source!r})"

    def wrap(self, data_key: bytes) -> bytes:
        return aes_key_wrap(self._kek, data_key)

    def unwrap(self, wrapped: bytes) -> bytes:
        try:
            return aes_key_unwrap(self._kek, wrapped)
        except (InvalidUnwrap, ValueError):
            raise KeyUnwrapError(
                f"a data key does not unwrap with KEK {self.kek_id} ({self._source}); "
                "supply the key-encryption key this keyring was made with"
            ) from None

    def describe(self) -> dict[str, str]:
        return {"backend": self.name, "kek_id": self.kek_id, "kek_source": self._source}


class LocalBackend(_AesKwBackend):
    """The embedded default: a KEK file `kek` beside `keyring.json` (0600,
    generated on first use). Protects against a copied keyring.json alone,
    not against someone who can read the whole key home."""

    name = "local"

    def __init__(self, path: Path) -> None:
        super().__init__(_load_or_make_kek(path), f"file:{path}")


class EnvelopeBackend(_AesKwBackend):
    """A KEK the data owner supplies: `INGESTGUARD_KEK` (base64 of 32 bytes),
    else the policy's `keyring.kek_file`. Without it the keyring cannot be opened."""

    name = "envelope"

    def __init__(self, kek_file: Path | None = None) -> None:
        encoded = os.environ.get(ENV_KEK)
        if encoded:
            kek, source = decode_key(encoded, ENV_KEK), f"env:{ENV_KEK}"
        elif kek_file is not None:
            kek, source = _read_kek_file(Path(kek_file)), f"file:{kek_file}"
        else:
            raise KeyringError(
                f"the envelope keyring needs its key-encryption key: set {ENV_KEK} (base64 of 32 bytes, "
                "`ingestguard keys new` makes one) or keyring.kek_file in the policy"
            )
        super().__init__(kek, source)


def _local(settings: KeyringSettings, home: Path) -> KeyBackend:
    return LocalBackend(home / KEK_NAME)


def _envelope(settings: KeyringSettings, home: Path) -> KeyBackend:
    return EnvelopeBackend(settings.kek_file)


def _pkcs11(settings: KeyringSettings, home: Path) -> KeyBackend:
    """Imported only when chosen: python-pkcs11 and an HSM are optional. The
    PIN comes from INGESTGUARD_PKCS11_PIN (read by keyring_pkcs11), never the policy."""
    try:
        from ingestguard.keyring_pkcs11 import from_settings
    except ImportError as exc:
        raise KeyringError(
            f"the pkcs11 keyring backend is not available ({exc.name or 'import failed'}); "
            "install python-pkcs11 or choose keyring.backend: local or envelope"
        ) from None
    return from_settings(settings.pkcs11_module, settings.pkcs11_token, settings.pkcs11_key_label)


# The backends by the policy's `keyring.backend`: factory(settings, key_home).
BACKENDS: dict[str, Callable[[KeyringSettings, Path], KeyBackend]] = {
    "envelope": _envelope,
    "local": _local,
    "pkcs11": _pkcs11,
}


def _read_kek_file(path: Path) -> bytes:
    try:
        if path.is_symlink():
            raise KeyringError(f"key-encryption key {path} is a symbolic link; put the file itself there")
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(
                f"key-encryption key {path} is accessible by other users; run `chmod 600 {path}`"
            )
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise KeyringError(f"key-encryption key file not found: {path}") from None
    except (OSError, UnicodeDecodeError):
        raise KeyringError(
            f"key-encryption key {path} cannot be read as base64 text; check the file"
        ) from None
    return decode_key(text, f"key-encryption key {path}")


def _load_or_make_kek(path: Path) -> bytes:
    """Read the local KEK, or make it: a temp file linked into place, so no
    process ever reads half a key, and if another linked first, theirs is kept."""
    if path.exists() or path.is_symlink():
        return _read_kek_file(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(base64.b64encode(os.urandom(KEY_BYTES)).decode() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
        _fsync_dir(path.parent)
    except FileExistsError:
        pass  # another process made it first
    finally:
        tmp.unlink(missing_ok=True)
    return _read_kek_file(path)


# --- the keyring ------------------------------------------------------------


class Keyring:
    """Versions of data keys in `keyring.json`, wrapped by one backend.

    Reads see the file as of the last change on disk (it is re-read when it
    changes, so a version another process destroyed is refused here too);
    `rotate` and `destroy` re-read it under the lock before writing."""

    def __init__(self, path: Path, backend: KeyBackend, create: bool = True) -> None:
        self.path = Path(path)
        self.backend = backend
        self._state: dict[str, Any] = {}
        self._stamp: tuple[int, int, int] | None = None
        self._keys: dict[int, bytes] = {}  # unwrapped data keys, by version
        if create and not self.path.exists():
            with self._locked():
                if not self.path.exists():
                    self._write(self._new_state())
        self._reload()
        self._check_backend()
        newest = [v for v in self._state["versions"] if v["status"] != "destroyed"]
        if newest:  # fail at open, not at first use, when the KEK is wrong
            self._material(newest[-1])

    @classmethod
    def open(cls, policy: Policy | None = None, home: Path | None = None, create: bool = True) -> Keyring:
        """The keyring of `policy` (default: the default policy) in the key home,
        with the policy's backend; made with version 1 on first use."""
        from ingestguard.policy import KeyringSettings

        settings = policy.keyring if policy is not None else KeyringSettings()
        home = Path(home) if home is not None else key_home()
        if not create and not (home / KEYRING_NAME).exists():
            raise KeyringError(f"no keyring at {home / KEYRING_NAME}; `ingestguard keys rotate` makes one")
        try:
            factory = BACKENDS[settings.backend]
        except KeyError:
            raise KeyringError(
                f"unknown keyring backend {settings.backend!r}; use one of {sorted(BACKENDS)}"
            ) from None
        backend = factory(settings, home)
        try:
            return cls(home / KEYRING_NAME, backend, create=create)
        except BaseException:
            close = getattr(backend, "close", None)
            if callable(close):
                close()
            raise

    def __repr__(self) -> str:
        return f"Keyring(path={str(self.path)!r}, backend={self.backend.name!r})"

    def close(self) -> None:
        """Forget the unwrapped keys and close the backend (an HSM session), if it closes."""
        self._keys.clear()
        close = getattr(self.backend, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Keyring:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # reading

    def current(self) -> KeyVersion:
        """The newest active version: new tokens use it."""
        self._refresh()
        active = [v for v in self._state["versions"] if v["status"] == "active"]
        if not active:
            raise KeyringError(
                f"the keyring {self.path} has no active version; run `ingestguard keys rotate`"
            )
        return self._key_version(active[-1])

    def version(self, n: int) -> KeyVersion:
        """Version `n`, to reverse what it protected. Destroyed: KeyDestroyedError;
        unknown: KeyringError."""
        self._refresh()
        entry = self._entry(n)
        if entry["status"] == "destroyed":
            raise KeyDestroyedError(
                f"key version {n} ({entry['key_id']}) was destroyed on {entry.get('destroyed', '?')}; "
                "what it protected cannot be reversed; protect the source data again with the current version"
            )
        return self._key_version(entry)

    def versions(self) -> list[dict[str, Any]]:
        """Every version for listing: id, version, created, status (never material)."""
        self._refresh()
        return [
            {
                "version": v["version"],
                "key_id": v["key_id"],
                "created": v["created"],
                "status": v["status"],
                **({"destroyed": v["destroyed"]} if v.get("destroyed") else {}),
            }
            for v in self._state["versions"]
        ]

    def describe(self) -> dict[str, str]:
        """The backend's ids (for evidence and the ledger)."""
        return dict(self.backend.describe())

    # changing

    def rotate(self) -> KeyVersion:
        """A new version that `current()` returns from now on; the older active
        ones become retired and stay usable for reversing."""
        with self._locked():
            self._reload()
            state = self._state
            for v in state["versions"]:
                if v["status"] == "active":
                    v["status"] = "retired"
            entry = self._new_entry(max((v["version"] for v in state["versions"]), default=0) + 1)
            state["versions"].append(entry)
            self._write(state)
            self._reload()
        return self._key_version(self._entry(entry["version"]))

    def destroy(self, n: int) -> KeyVersion:
        """Crypto-shred version `n`: its wrapped data key is removed from
        keyring.json durably (temp file, fsync, rename, fsync of the folder) and
        scrubbed from the old file's blocks. The current version is refused:
        rotate first, so the keyring always keeps an active version. Returns
        the destroyed version (no material); destroying it again is a KeyDestroyedError."""
        with self._locked():
            self._reload()
            entry = self._entry(n)
            if entry["status"] == "destroyed":
                raise KeyDestroyedError(f"key version {n} ({entry['key_id']}) is already destroyed")
            active = [v for v in self._state["versions"] if v["status"] == "active"]
            if entry["status"] == "active" and active[-1]["version"] == n:
                raise KeyringError(
                    f"key version {n} is the current key; run `ingestguard keys rotate` first, then destroy {n}"
                )
            wrapped = entry.pop("wrapped")
            entry["status"] = "destroyed"
            entry["destroyed"] = _now()
            self._write(self._state, scrub=wrapped)
            self._keys.pop(n, None)
            self._reload()
        return self._key_version(self._entry(n))

    # internals

    def _key_version(self, entry: dict[str, Any]) -> KeyVersion:
        material = b"" if entry["status"] == "destroyed" else self._material(entry)
        return KeyVersion(
            version=entry["version"],
            key_id=entry["key_id"],
            created=datetime.fromisoformat(entry["created"]),
            status=entry["status"],
            _material=material,
        )

    def _material(self, entry: dict[str, Any]) -> bytes:
        n = entry["version"]
        if n not in self._keys:
            try:
                wrapped = base64.b64decode(entry["wrapped"], validate=True)
            except (KeyError, binascii.Error, ValueError, TypeError):
                raise KeyUnwrapError(
                    f"key version {n} in {self.path} has no readable wrapped key (an edit?); restore the file"
                ) from None
            data_key = self.backend.unwrap(wrapped)
            if len(data_key) != KEY_BYTES or key_id_of(data_key) != entry["key_id"]:
                raise KeyUnwrapError(
                    f"key version {n} in {self.path} does not unwrap to its key id {entry['key_id']} "
                    "(an edited or mixed-up keyring); restore the file"
                )
            self._keys[n] = data_key
        return self._keys[n]

    def _entry(self, n: int) -> dict[str, Any]:
        for v in self._state["versions"]:
            if v["version"] == n:
                return v
        known = [v["version"] for v in self._state["versions"]]
        raise KeyringError(
            f"no key version {n} in {self.path} (it has {_ranges(known)}); "
            "check the version, or the policy's keyring and INGESTGUARD_HOME"
        )

    def _new_entry(self, n: int) -> dict[str, Any]:
        data_key = os.urandom(KEY_BYTES)
        return {
            "version": n,
            "key_id": key_id_of(data_key),
            "created": _now(),
            "status": "active",
            "wrapped": base64.b64encode(self.backend.wrap(data_key)).decode(),
        }

    def _new_state(self) -> dict[str, Any]:
        return {"format": FORMAT, "backend": self.backend.describe(), "versions": [self._new_entry(1)]}

    def _check_backend(self) -> None:
        stored = self._state.get("backend") or {}
        mine = self.backend.describe()
        if stored.get("backend") != mine.get("backend"):
            raise KeyringError(
                f"{self.path} was made with the {stored.get('backend')!r} backend, not {mine.get('backend')!r}; "
                "set keyring.backend in the policy to match"
            )

    def _refresh(self) -> None:
        if _stamp(self.path) != self._stamp:
            self._reload()

    def _reload(self) -> None:
        path = self.path
        try:
            stamp = _stamp(path)
            if path.is_symlink():
                raise KeyringError(f"{path} is a symbolic link; put the keyring file itself there")
            if os.stat(path).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyringError(f"{path} is accessible by other users; run `chmod 600 {path}`")
            state = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyringError(f"no keyring at {path}; `ingestguard keys rotate` makes one") from None
        except (OSError, UnicodeDecodeError, ValueError):
            raise KeyringError(f"{path} is not a readable keyring; restore it from its backup") from None
        if not _well_formed(state):
            raise KeyringError(f"{path} is not an ingestguard keyring (format {FORMAT}); restore it")
        self._state, self._stamp = state, stamp
        # A version destroyed elsewhere is forgotten here as well.
        for v in state["versions"]:
            if v["status"] == "destroyed":
                self._keys.pop(v["version"], None)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with exclusive(self.path, KeyringError, "the keyring"):
            yield

    def _write(self, state: dict[str, Any], scrub: str | None = None) -> None:
        """Temp file (0600, O_EXCL|O_NOFOLLOW), fsync, rename, fsync the folder.
        With `scrub`, the replaced file's copy of that text is overwritten in
        place after the rename (best effort: copy-on-write filesystems, SSD
        wear levelling and backups may still hold old blocks)."""
        path = self.path
        data = (json.dumps(state, indent=2) + "\n").encode()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        old_fd = None
        try:
            if scrub is not None:
                old_fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
            _fsync_dir(path.parent)
            if old_fd is not None:
                _scrub(old_fd, scrub.encode())
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise KeyringError(
                f"cannot write the keyring {path} ({exc.strerror}); check the folder"
            ) from None
        finally:
            if old_fd is not None:
                os.close(old_fd)


def _scrub(fd: int, secret: bytes) -> None:
    """Overwrite every copy of `secret` in the (already replaced) file at `fd`."""
    size = os.fstat(fd).st_size
    content = os.pread(fd, size, 0)
    for match in re.finditer(re.escape(secret), content):
        os.pwrite(fd, b"0" * len(secret), match.start())
    os.fsync(fd)


def _well_formed(state: Any) -> bool:
    if not (
        isinstance(state, dict) and state.get("format") == FORMAT and isinstance(state.get("versions"), list)
    ):
        return False
    for v in state["versions"]:
        if not (
            isinstance(v, dict)
            and isinstance(v.get("version"), int)
            and isinstance(v.get("key_id"), str)
            and isinstance(v.get("created"), str)
            and v.get("status") in ("active", "retired", "destroyed")
        ):
            return False
    return True


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _ranges(versions: list[int]) -> str:
    if not versions:
        return "no versions"
    return f"versions {min(versions)}-{max(versions)}" if len(versions) > 1 else f"version {versions[0]}"


# --- disposal, recorded -------------------------------------------------------


def destroy_recorded(ring: Keyring, n: int, ledger_file: Path) -> tuple[dict[str, Any], bool]:
    """Destroy version `n`, then append its `key_disposal` record to the ledger.

    The order keeps the record truthful: the ledger is locked and its last
    record read first (a broken ledger stops us before anything is destroyed),
    the material is removed durably, and only then is the disposal recorded,
    so the ledger never claims a disposal that did not happen. If that append
    fails, the error says the version IS destroyed and how to record it: rerun
    for an already destroyed version appends the missing record (and refuses
    when the ledger already holds one). Returns the version's listing entry and
    whether it was destroyed now (False: an earlier disposal was recorded now)."""
    import secrets

    from ingestguard.errors import LedgerError
    from ingestguard.keys import load_signing_key
    from ingestguard.reports.ledger import Ledger, read_records

    ledger = Ledger(ledger_file, load_signing_key())
    with ledger.next_position() as position:
        try:
            ring.destroy(n)
            fresh = True
        except KeyDestroyedError:
            key_id = next(v["key_id"] for v in ring.versions() if v["version"] == n)
            held = ledger_file.is_file() and any(
                r.get("kind") == "key_disposal" and r.get("key_id") == key_id
                for r in read_records(ledger_file)
            )
            if held:
                raise KeyDestroyedError(
                    f"key version {n} ({key_id}) is already destroyed and its disposal is in {ledger_file}"
                ) from None
            fresh = False
        entry = next(v for v in ring.versions() if v["version"] == n)
        now = datetime.now(UTC)
        try:
            ledger.append(
                position,
                kind="key_disposal",
                run_id=f"keys-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}",
                subjects=[],
                details={
                    "key_id": entry["key_id"],
                    "version": n,
                    "backend": ring.backend.name,
                    "destroyed": entry.get("destroyed", ""),
                },
            )
        except LedgerError as exc:
            raise LedgerError(
                f"key version {n} ({entry['key_id']}) IS destroyed, but its disposal was not recorded: {exc}; "
                f"then rerun `ingestguard keys destroy {n} --yes` to record it"
            ) from None
    return entry, fresh
