"""`encrypt_column`: columns only key holders can read, with Parquet modular encryption.

The pipeline passes such a column through unchanged; the Parquet sink
encrypts its pages and metadata (AES-GCM, `pyarrow.parquet.encryption`) with
data keys Parquet generates per file. The keyring is the KMS: it wraps each
data key with AES-256-GCM under a key derived from one keyring version
(purpose "parquet-kek"), and the master key id stored in the file names that
version (`igr_<id>@v<n>`), so `read_encrypted` finds it after any number of
rotations and fails with `KeyDestroyedError` once it is destroyed.

The footer stays in plaintext (signed with the same master key), so readers
without keys still read every other column; asking for the encrypted one
without keys raises pyarrow's OSError ("Cannot decrypt ColumnMetadata").
Beware: without keys, touching that column's chunk metadata
(`ParquetFile.metadata.row_group(i).column(j)`) aborts the process in
pyarrow 26's C++ layer instead of raising; read schema and row counts only.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pe
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ingestguard.errors import InputError, KeyringError, KeyUnwrapError, PolicyError
from ingestguard.keyring import Keyring, KeyVersion

if TYPE_CHECKING:
    from ingestguard.detectors.columns import ColumnPlan
    from ingestguard.policy import Policy

KEK_PURPOSE = "parquet-kek"
ALGORITHM = "AES_GCM_V1"
_AAD = b"ingestguard/parquet-kek/v1\x00"
_NONCE = 12
_MASTER_ID = re.compile(r"^(igr_[0-9a-f]{16})@v([1-9][0-9]*)$")


def master_key_id(kv: KeyVersion) -> str:
    """The id a file stores for the key that wrapped its data keys: key id and version."""
    return f"{kv.key_id}@v{kv.version}"


def _parse_master_key_id(text: str) -> tuple[str, int]:
    match = _MASTER_ID.match(text or "")
    if not match:
        raise KeyringError(
            f"the file's data keys name master key {text!r}, not an ingestguard keyring version "
            "(igr_<id>@v<n>); it was not encrypted by ingestguard"
        )
    return match.group(1), int(match.group(2))


class KeyringKmsClient(pe.KmsClient):
    """Parquet's KMS client backed by the keyring: wraps and unwraps the data
    keys Parquet generates, under the keyring version the master key id names.
    Errors are the keyring's typed errors (pyarrow passes them through)."""

    def __init__(self, keyring: Keyring) -> None:
        super().__init__()
        self._keyring = keyring

    def _cipher(self, master_key_identifier: str) -> AESGCM:
        key_id, n = _parse_master_key_id(master_key_identifier)
        kv = self._keyring.version(n)  # KeyDestroyedError once destroyed
        if kv.key_id != key_id:
            raise KeyringError(
                f"the file was encrypted under {key_id} (version {n}), but version {n} of "
                f"{self._keyring.path} is {kv.key_id}; open the keyring that wrote it"
            )
        return AESGCM(kv.derive(KEK_PURPOSE)[:32])

    def wrap_key(self, key_bytes: bytes, master_key_identifier: str) -> str:
        nonce = os.urandom(_NONCE)
        aad = _AAD + master_key_identifier.encode()
        sealed = self._cipher(master_key_identifier).encrypt(nonce, bytes(key_bytes), aad)
        return base64.b64encode(nonce + sealed).decode("ascii")

    def unwrap_key(self, wrapped_key: str | bytes, master_key_identifier: str) -> bytes:
        cipher = self._cipher(master_key_identifier)
        try:
            raw = base64.b64decode(wrapped_key, validate=True)
            return cipher.decrypt(raw[:_NONCE], raw[_NONCE:], _AAD + master_key_identifier.encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise KeyUnwrapError(
                f"a Parquet data key in the file does not unwrap under {master_key_identifier} "
                "(an altered file, or another keyring with the same version number)"
            ) from None


def _factory(keyring: Keyring) -> pe.CryptoFactory:
    # A fresh factory per file: its key caches never outlive one read or write,
    # so a version destroyed in between is refused at once.
    return pe.CryptoFactory(lambda _config: KeyringKmsClient(keyring))


@dataclass(frozen=True)
class ColumnEncryption:
    """The columns a Parquet output encrypts, and the keyring version wrapping their keys."""

    columns: tuple[str, ...]
    key_id: str
    version: int

    @classmethod
    def for_plans(cls, plans: Iterable[ColumnPlan], keyring: Keyring | None) -> ColumnEncryption | None:
        """Settings for the columns whose action is encrypt_column (None: there are none),
        under the keyring's current version."""
        from ingestguard.policy import Action

        columns = tuple(p.name for p in plans if p.action == Action.ENCRYPT_COLUMN)
        if not columns:
            return None
        if keyring is None:
            raise KeyringError("encrypt_column needs the keyring; the engine was built without one")
        kv = keyring.current()
        return cls(columns, kv.key_id, kv.version)

    @property
    def master_key_id(self) -> str:
        return f"{self.key_id}@v{self.version}"

    def properties(self, keyring: Keyring) -> pq.FileEncryptionProperties:
        """What the sink's ParquetWriter takes: these columns encrypted, footer plaintext."""
        config = pe.EncryptionConfiguration(
            footer_key=self.master_key_id,
            column_keys={self.master_key_id: list(self.columns)},
            encryption_algorithm=ALGORITHM,
            plaintext_footer=True,
            double_wrapping=False,
        )
        return _factory(keyring).file_encryption_properties(pe.KmsConnectionConfig(), config)

    def reason(self) -> str:
        """The evidence's word for it: ids only, never material."""
        return (
            f"encrypted on disk: Parquet modular encryption ({ALGORITHM}, plaintext footer), "
            f"data keys wrapped under keyring key {self.key_id} version {self.version} "
            f"(master key id {self.master_key_id})"
        )

    def annotate(self, columns: list[dict]) -> list[dict]:
        """Add `reason()` to the evidence entries of the encrypted columns."""
        for entry in columns:
            if entry["name"] in self.columns:
                entry["reasons"] = [*entry["reasons"], self.reason()]
        return columns


def passed_through(plans: list[ColumnPlan], sealed: Iterable[str]) -> list[ColumnPlan]:
    """The plans the batch protector applies: encrypt_column columns become `keep`
    (their values go to the sink unchanged). Every encrypt_column column must be
    in `sealed`, the columns the sink encrypts: anywhere else (an in-memory
    table) it would leave plaintext behind, so it is refused."""
    from ingestguard.policy import Action

    sealed = set(sealed)
    wanted = {p.name for p in plans if p.action == Action.ENCRYPT_COLUMN}
    if wanted != sealed:
        name = sorted(wanted ^ sealed)[0]
        raise PolicyError(
            f"column '{name}': encrypt_column works only on Parquet outputs, whose writer encrypts it "
            "(protect a file, not an in-memory table), and only on columns whose action it is"
        )
    return [replace(p, action=Action.KEEP) if p.name in sealed else p for p in plans]


def read_encrypted(
    path: str | Path,
    policy: Policy | None = None,
    columns: list[str] | None = None,
    home: Path | None = None,
) -> pa.Table:
    """Read a protected Parquet file with its encrypted columns decrypted, for
    key holders: the policy's keyring must hold the version that wrote it.

    Raises KeyDestroyedError when that version was destroyed, KeyringError /
    KeyUnwrapError when this keyring did not write it, InputError when the
    file is missing or not readable Parquet.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input not found: {path}")
    with Keyring.open(policy, home=home, create=False) as keyring:
        decryption = _factory(keyring).file_decryption_properties(
            pe.KmsConnectionConfig(), pe.DecryptionConfiguration()
        )
        try:
            return pq.read_table(path, columns=columns, decryption_properties=decryption)
        except (pa.ArrowException, OSError):
            raise InputError(
                f"cannot read {path} with its encrypted columns (not Parquet, truncated, "
                "or not encrypted by ingestguard)"
            ) from None
