"""Reversible actions over a versioned keyring: tokens (AES-SIV) and FF1 FPE.

Both are coded against `VersionedKeys`, the small part of the keyring they
need (`current()`, `version(n)`, each giving a `KeyVersionLike` with
`version`, `key_id` and `derive(purpose) -> 64 bytes`).

Tokens, `tok_EMAIL_ADDRESS_v2_<base64url>`: AES-SIV (RFC 5297) under
`derive("tokenize")` of the named version, with the token prefix (entity type
and version) as associated data. Deterministic, so the same value under the
same version gives the same token and joins keep working; authenticated, so a
changed character, another entity or version in the prefix, or a token made
under another key fails to decrypt (`TamperedTokenError`). The plaintext is
padded to a multiple of 16 bytes (0x80 then zeros, ISO/IEC 7816-4) before
encryption, so a token shows its entity type and a length class, nothing else.

FPE: FF1 (transforms/ff1.py) over the digits (radix 10) or the letters and
digits (radix 36, upper-cased) of a value; separators stay where they were and
the tweak is the entity type, so equal digits of two entity types encrypt
differently. For card numbers an option keeps the issuer prefix (first six
digits) and recomputes the Luhn check digit, so the output is a Luhn-valid
card number of the same issuer; decryption decrypts the middle digits and
recomputes the original check digit, so nothing is stored. Limitation: a
format-preserving ciphertext cannot carry its key version. Encryption uses
the keyring's current version (`FpeCipher.key_version`, for the evidence and
column metadata); decryption takes the version explicitly (default: current),
so data must be decrypted with the version recorded when it was protected.

Key versions are looked up in the keyring on every detokenize/decrypt call,
never cached across calls: once a version is destroyed, nothing it protected
can be reversed by this module, even in a long-running process.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from ingestguard.errors import (
    FpeDomainError,
    IngestGuardError,
    TamperedTokenError,
    TokenError,
    TokenKeyVersionError,
)
from ingestguard.transforms.ff1 import FF1

TOKENIZE_PURPOSE = "tokenize"
FPE_PURPOSE = "fpe"

_BLOCK = 16
# A token: its entity type, key version and body. `fullmatch` checks one token;
# `finditer` finds them whole or inside text (re-identification, re-keying).
TOKEN = re.compile(r"tok_([A-Z][A-Z0-9_]*)_v([0-9]{1,9})_([A-Za-z0-9_-]+)")
_AD_LABEL = b"ingestguard/token/v1"

DIGITS = "0123456789"
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DEFAULT_SEPARATORS = " -."
ISSUER_DIGITS = 6
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class KeyVersionLike(Protocol):
    """One version of the keyring's key (ingestguard.keyring.KeyVersion)."""

    @property
    def version(self) -> int: ...

    @property
    def key_id(self) -> str: ...

    def derive(self, purpose: str) -> bytes: ...


class VersionedKeys(Protocol):
    """The keyring as the reversible actions see it (ingestguard.keyring.Keyring)."""

    def current(self) -> KeyVersionLike: ...

    def version(self, n: int) -> KeyVersionLike: ...


def derive_version(keys: VersionedKeys, n: int, purpose: str) -> bytes:
    """The `purpose` subkey of version `n`, or a TokenKeyVersionError naming the
    version (the keyring's own error is its cause): unknown, destroyed, or not
    unwrappable. Nothing else than the version number reaches the message."""
    try:
        return keys.version(n).derive(purpose)
    except (IngestGuardError, LookupError, ValueError) as exc:
        raise TokenKeyVersionError(
            f"key version {n} is not available ({type(exc).__name__}): unknown to this keyring, "
            "destroyed, or not unwrappable; what it protected cannot be reversed with this keyring"
        ) from exc


# -- tokens ----------------------------------------------------------------


def _pad(data: bytes) -> bytes:
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % _BLOCK)


def _unpad(data: bytes) -> bytes:
    end = data.rstrip(b"\x00")
    if not end.endswith(b"\x80") or len(data) % _BLOCK:
        raise ValueError("bad padding")
    return end[:-1]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _associated(entity: str, version: int) -> list[bytes]:
    return [_AD_LABEL, entity.encode("ascii"), str(version).encode("ascii")]


class Tokenizer:
    """Tokens under the keyring's current version; detokenizes any live version."""

    def __init__(self, keys: VersionedKeys) -> None:
        self._keys = keys
        current = keys.current()
        self.key_version: int = current.version
        self.key_id: str = current.key_id
        self._siv = AESSIV(current.derive(TOKENIZE_PURPOSE))

    def __repr__(self) -> str:
        return f"Tokenizer(key_id={self.key_id!r}, key_version={self.key_version})"

    def to_evidence(self) -> dict[str, str | int]:
        return {"action": "tokenize", "key_id": self.key_id, "key_version": self.key_version}

    def token(self, entity: str, value: str) -> str:
        return self.tokens(entity, [value])[0]

    def tokens(self, entity: str, values: Iterable[str]) -> list[str]:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", entity):
            raise TokenError(f"entity type {entity!r} cannot name a token; use upper case, digits and _")
        prefix = f"tok_{entity}_v{self.key_version}_"
        ad = _associated(entity, self.key_version)
        siv = self._siv
        return [prefix + _b64(siv.encrypt(_pad(v.encode("utf-8", "surrogatepass")), ad)) for v in values]

    def detokenize(self, token: str, entity: str | None = None) -> tuple[str, str]:
        """(entity type, value) of a token; `entity` also requires that type."""
        return detokenize_many(self._keys, [token], entity)[0]


def detokenize(keys: VersionedKeys, token: str, entity: str | None = None) -> tuple[str, str]:
    """(entity type, value) of one token; see `detokenize_many`."""
    return detokenize_many(keys, [token], entity)[0]


def detokenize_many(
    keys: VersionedKeys, tokens: Sequence[str], entity: str | None = None
) -> list[tuple[str, str]]:
    """(entity type, value) per token. Raises TamperedTokenError for a malformed,
    altered or foreign token (or one of another entity type than `entity`), and
    TokenKeyVersionError for a version the keyring does not have (any more).
    Messages name the token's position and version, never a value."""
    sivs: dict[int, AESSIV] = {}
    out = []
    for i, token in enumerate(tokens):
        match = TOKEN.fullmatch(token) if isinstance(token, str) else None
        if match is None:
            raise TamperedTokenError(f"token {i} is not a token of the form tok_<ENTITY>_v<N>_<base64url>")
        kind, version, body = match.group(1), int(match.group(2)), match.group(3)
        if entity is not None and kind != entity:
            raise TamperedTokenError(f"token {i} is a {kind} token where {entity} was expected")
        if version not in sivs:
            sivs[version] = AESSIV(derive_version(keys, version, TOKENIZE_PURPOSE))
        try:
            raw = _unb64(body)
            if _b64(raw) != body:  # non-canonical base64 (stray bits) is an altered token
                raise ValueError("non-canonical base64")
            plain = _unpad(sivs[version].decrypt(raw, _associated(kind, version)))
            value = plain.decode("utf-8", "surrogatepass")
        except (InvalidTag, ValueError, binascii.Error):
            raise TamperedTokenError(
                f"token {i} ({kind}, key version {version}) does not authenticate: it was altered "
                "or made under another key"
            ) from None
        out.append((kind, value))
    return out


# -- format-preserving encryption --------------------------------------------


def luhn_check_digit(payload: str) -> str:
    """The check digit that makes `payload + digit` pass the Luhn test."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these sit at odd positions from the right once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str(-total % 10)


def luhn_valid(digits: str) -> bool:
    return len(digits) >= 2 and digits.isdigit() and luhn_check_digit(digits[:-1]) == digits[-1]


class FpeCipher:
    """FF1 under the keyring: `encrypt(entity, value)`, `decrypt(entity, value, version)`.

    `alphanumeric` names the entity types encrypted over [0-9A-Z] (radix 36,
    case-insensitive: the output and decrypted values are upper case); the
    others are encrypted over their digits (radix 10). `luhn` names the entity
    types (card numbers) whose issuer prefix is kept and whose check digit is
    recomputed. Separators must be among `separators`; any other character
    outside the alphabet is refused (FpeDomainError), as is a value with fewer
    than radix**len >= 1,000,000 encryptable characters.
    """

    def __init__(
        self,
        keys: VersionedKeys,
        alphanumeric: Iterable[str] = (),
        luhn: Iterable[str] = ("CREDIT_CARD",),
        separators: str = DEFAULT_SEPARATORS,
    ) -> None:
        self._keys = keys
        current = keys.current()
        self.key_version: int = current.version
        self.key_id: str = current.key_id
        self._ciphers = {current.version: self._make(current.derive(FPE_PURPOSE))}
        self.alphanumeric = frozenset(alphanumeric)
        self.luhn = frozenset(luhn)
        self.separators = separators

    def __repr__(self) -> str:
        return f"FpeCipher(key_id={self.key_id!r}, key_version={self.key_version})"

    def to_evidence(self) -> dict[str, str | int]:
        """What the output's metadata must keep: FPE output does not name its version."""
        return {"action": "fpe", "key_id": self.key_id, "key_version": self.key_version}

    @staticmethod
    def _make(subkey: bytes) -> dict[int, FF1]:
        key = subkey[:32]  # AES-256 from the first half of the 64-byte subkey
        return {10: FF1(key, 10), 36: FF1(key, 36)}

    def encrypt(self, entity: str, value: str) -> str:
        return self._crypt(self._ciphers[self.key_version], entity, value, encrypt=True)

    def encrypt_many(self, entity: str, values: Iterable[str]) -> list[str]:
        ciphers = self._ciphers[self.key_version]
        return [self._crypt(ciphers, entity, v, encrypt=True) for v in values]

    def decrypt(self, entity: str, value: str, version: int | None = None) -> str:
        return self.decrypt_many(entity, [value], version)[0]

    def decrypt_many(self, entity: str, values: Iterable[str], version: int | None = None) -> list[str]:
        """Looks the version up in the keyring on every call (a destroyed version
        raises TokenKeyVersionError); default: the version this cipher encrypts with."""
        n = self.key_version if version is None else version
        ciphers = self._make(derive_version(self._keys, n, FPE_PURPOSE))
        return [self._crypt(ciphers, entity, v, encrypt=False) for v in values]

    def _crypt(self, ciphers: dict[int, FF1], entity: str, value: str, encrypt: bool) -> str:
        alphabet = ALPHANUMERIC if entity in self.alphanumeric else DIGITS
        text = value.translate(_ASCII_UPPER) if alphabet is ALPHANUMERIC else value
        positions, chars = [], []
        for i, ch in enumerate(text):
            if ch in alphabet:
                positions.append(i)
                chars.append(ch)
            elif ch not in self.separators:
                raise FpeDomainError(
                    f"{entity} value has a character at position {i} that is neither in the FPE "
                    f"alphabet ({'letters and digits' if alphabet is ALPHANUMERIC else 'digits'}) "
                    "nor a separator"
                )
        index = {c: k for k, c in enumerate(alphabet)}
        numerals = [index[c] for c in chars]
        tweak = entity.encode("utf-8")
        cipher = ciphers[len(alphabet)]
        if entity in self.luhn and alphabet is DIGITS:
            numerals = self._luhn(cipher, entity, numerals, tweak, encrypt)
        else:
            self._check_length(cipher, entity, len(numerals))
            numerals = (cipher.encrypt if encrypt else cipher.decrypt)(numerals, tweak)
        out = list(text)
        for i, d in zip(positions, numerals, strict=True):
            out[i] = alphabet[d]
        return "".join(out)

    @staticmethod
    def _check_length(cipher: FF1, entity: str, n: int) -> None:
        if n < cipher.min_len:
            raise FpeDomainError(
                f"{entity} value has {n} encryptable characters; FF1 needs radix**length >= 1,000,000 "
                f"(NIST SP 800-38G Rev. 1), i.e. at least {cipher.min_len} in radix {cipher.radix}: "
                "use another action for values this short"
            )

    def _luhn(self, cipher: FF1, entity: str, numerals: list[int], tweak: bytes, encrypt: bool) -> list[int]:
        digits = "".join(map(str, numerals))
        if encrypt and not luhn_valid(digits):
            raise FpeDomainError(
                f"{entity} value fails the Luhn check; the issuer-and-Luhn option encrypts valid card numbers only"
            )
        prefix, middle = numerals[:ISSUER_DIGITS], numerals[ISSUER_DIGITS:-1]
        self._check_length(cipher, entity, len(middle))
        # The kept issuer prefix joins the tweak: cards of two issuers with the
        # same middle digits encrypt differently.
        tweak = tweak + b"\x00" + bytes(prefix)
        middle = (cipher.encrypt if encrypt else cipher.decrypt)(middle, tweak)
        payload = "".join(map(str, prefix + middle))
        return [*prefix, *middle, int(luhn_check_digit(payload))]
