"""The keys of the data owner: the one pseudonyms are derived from, and the
one the evidence ledger is signed with.

Pseudonym key order: `INGESTGUARD_KEY` (base64 of 32 bytes) in the
environment, else the key file named in the policy, else a local key file
that is generated on first use (readable only by its owner). The signing key
is an Ed25519 key in `signing_key.pem` beside the local key, generated on
first use the same way; only its public half leaves this module (for
auditors, `ingestguard keys export-public`). Only key ids ever reach evidence
or logs.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ingestguard.errors import KeyringError

KEY_BYTES = 32
ENV_KEY = "INGESTGUARD_KEY"
ENV_HOME = "INGESTGUARD_HOME"


@dataclass(frozen=True)
class Key:
    """Key material with its public identifier; `repr` never shows the material."""

    key_id: str
    source: str
    generated: bool = False
    material: bytes = field(default=b"", repr=False)

    def derive(self, purpose: str) -> bytes:
        """A separate subkey per purpose (HKDF-SHA256), so uses never share a key."""
        return HKDF(hashes.SHA256(), KEY_BYTES, salt=None, info=purpose.encode()).derive(self.material)

    def to_evidence(self) -> dict[str, str | bool]:
        return {"id": self.key_id, "source": self.source, "generated": self.generated}


def key_home() -> Path:
    home = os.environ.get(ENV_HOME)
    return Path(home) if home else Path.home() / ".ingestguard"


def default_key_path() -> Path:
    return key_home() / "key"


def signing_key_path() -> Path:
    return key_home() / "signing_key.pem"


def load_key(key_file: Path | None = None) -> Key:
    """Find the key: environment, then `key_file`, then the generated local key."""
    encoded = os.environ.get(ENV_KEY)
    if encoded:
        return _make_key(decode_key(encoded, ENV_KEY), source=f"env:{ENV_KEY}")
    if key_file is not None:
        return _read_key_file(Path(key_file), generated=False)
    path = default_key_path()
    if path.exists():
        return _read_key_file(path, generated=False)
    return _generate_key_file(path)


def _make_key(material: bytes, source: str, generated: bool = False) -> Key:
    digest = HKDF(hashes.SHA256(), 8, salt=None, info=b"ingestguard/key-id/v1").derive(material)
    return Key(key_id=f"igk_{digest.hex()}", source=source, generated=generated, material=material)


def decode_key(encoded: str, where: str) -> bytes:
    """32 key bytes from base64 text, or a KeyringError naming `where` and the fix."""
    try:
        material = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"{where} is not valid base64; generate one with `ingestguard keys new`") from None
    if len(material) != KEY_BYTES:
        raise KeyringError(f"{where} must decode to {KEY_BYTES} bytes, not {len(material)}")
    return material


def _read_key_file(path: Path, generated: bool) -> Key:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyringError(f"key file not found: {path}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyringError(f"key file {path} is accessible by other users; run `chmod 600 {path}`")
    try:
        text = path.read_text(encoding="ascii")
    except UnicodeDecodeError:
        raise KeyringError(
            f"key file {path} is not base64 text; generate one with `ingestguard key new`"
        ) from None
    material = decode_key(text, f"key file {path}")
    return _make_key(material, source=f"file:{path}", generated=generated)


def _generate_key_file(path: Path) -> Key:
    material = os.urandom(KEY_BYTES)
    if not _publish_new_file(path, (base64.b64encode(material).decode() + "\n").encode()):
        return _read_key_file(path, generated=False)  # another process or thread made it first
    return _make_key(material, source=f"file:{path}", generated=True)


def _publish_new_file(path: Path, data: bytes) -> bool:
    """Write `data` to a temporary file, then link it into place (mode 0600).

    A reader never sees a half-written key, and when another process or thread
    linked its key first, theirs is kept and this returns False.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    # O_EXCL and O_NOFOLLOW: never write a key through a link planted there.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def new_key_b64() -> str:
    """A fresh random key, base64-encoded, for `INGESTGUARD_KEY` or a key file."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def load_signing_key(path: Path | None = None, generate: bool = True) -> Ed25519PrivateKey:
    """The ledger's signing key: read it, or (with `generate`) make it on first use
    (mode 0600). A symlink or a key others can read is refused, not followed."""
    path = path or signing_key_path()
    if generate and not path.exists() and not path.is_symlink():
        _generate_signing_key(path)
    try:
        if path.is_symlink():
            raise KeyringError(f"signing key {path} is a symbolic link; put the key file itself there")
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(f"signing key {path} is accessible by other users; run `chmod 600 {path}`")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyringError(f"no signing key at {path}; the first protect run makes one") from None
    except OSError as exc:
        raise KeyringError(f"signing key {path} cannot be read ({exc.strerror}); check the file") from None
    except (ValueError, TypeError):
        raise KeyringError(
            f"signing key {path} is not an unencrypted PEM private key; move it away"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyringError(f"signing key {path} is not an Ed25519 key; move it away to generate one")
    return key


def signing_public_key_pem(path: Path | None = None) -> bytes:
    """The signing key's public half as PEM: what an auditor verifies the ledger
    with. Never makes a key: a new one would verify nothing already signed."""
    public = load_signing_key(path, generate=False).public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An auditor's copy of the public key (from `keys export-public`)."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except FileNotFoundError:
        raise KeyringError(f"public key file not found: {path}") from None
    except OSError as exc:
        raise KeyringError(f"public key file {path} cannot be read ({exc.strerror})") from None
    except ValueError:
        raise KeyringError(
            f"{path} is not a PEM public key; export one with `ingestguard keys export-public`"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyringError(f"{path} is not an Ed25519 public key")
    return key


def _generate_signing_key(path: Path) -> None:
    """A new Ed25519 key on first use; if another process made one first, theirs is kept."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _publish_new_file(path, pem)
