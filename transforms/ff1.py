"""FF1 format-preserving encryption (NIST SP 800-38G), on `cryptography`'s AES.

`FF1(key, radix).encrypt(numerals, tweak)` maps a string of numerals in
`[0, radix)` to another string of the same length and radix, reversibly under
the key and tweak. The PRF is AES-CBC-MAC with a zero IV, as the standard
defines it; the extra blocks of S are AES (ECB) of R xor [j]^16.

Domain rule: SP 800-38G Rev. 1 (and its 2025 second public draft) requires
radix**minlen >= 1,000,000; inputs whose domain is smaller are refused with
`FpeDomainError`, never padded. This module knows nothing of keyrings or
entity types: `transforms/reversible.py` builds the policy action on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ingestguard.errors import FpeDomainError

MIN_DOMAIN = 1_000_000
MAX_LEN = 2**32 - 1
ROUNDS = 10
_ZERO_IV = bytes(16)


def _num(numerals: Sequence[int], radix: int) -> int:
    x = 0
    for d in numerals:
        x = x * radix + d
    return x


def _str(x: int, radix: int, length: int) -> list[int]:
    out = [0] * length
    for i in range(length - 1, -1, -1):
        x, out[i] = divmod(x, radix)
    return out


def min_length(radix: int) -> int:
    """The shortest input whose domain radix**len reaches MIN_DOMAIN."""
    n, domain = 1, radix
    while domain < MIN_DOMAIN:
        n, domain = n + 1, domain * radix
    return n


class FF1:
    """FF1 under one AES key (16, 24 or 32 bytes) and one radix (2..65536)."""

    def __init__(self, key: bytes, radix: int) -> None:
        if len(key) not in (16, 24, 32):
            raise ValueError("FF1 needs an AES key of 16, 24 or 32 bytes")
        if not 2 <= radix <= 2**16:
            raise ValueError("FF1 radix must be in [2, 65536]")
        self._aes = algorithms.AES(key)
        self._ecb = Cipher(self._aes, modes.ECB())
        self.radix = radix
        self.min_len = min_length(radix)

    def __repr__(self) -> str:
        return f"FF1(radix={self.radix})"

    def encrypt(self, numerals: Sequence[int], tweak: bytes = b"") -> list[int]:
        return self._crypt(numerals, tweak, encrypt=True)

    def decrypt(self, numerals: Sequence[int], tweak: bytes = b"") -> list[int]:
        return self._crypt(numerals, tweak, encrypt=False)

    def _check(self, numerals: Sequence[int]) -> None:
        n = len(numerals)
        if n < self.min_len:
            raise FpeDomainError(
                f"FF1 needs radix**length >= {MIN_DOMAIN:,} (NIST SP 800-38G): radix {self.radix} "
                f"needs at least {self.min_len} characters, got {n}"
            )
        if n > MAX_LEN:
            raise FpeDomainError("FF1 input is longer than 2**32 - 1 numerals")
        if any(not 0 <= d < self.radix for d in numerals):
            raise FpeDomainError(f"FF1 input has a numeral outside radix {self.radix}")

    def _crypt(self, numerals: Sequence[int], tweak: bytes, encrypt: bool) -> list[int]:
        self._check(numerals)
        radix, n, t = self.radix, len(numerals), len(tweak)
        u = n // 2
        v = n - u
        a, b = list(numerals[:u]), list(numerals[u:])
        # b = ceil(ceil(v * log2(radix)) / 8), exactly: ceil(log2(N)) == (N - 1).bit_length().
        b_len = ((radix**v - 1).bit_length() + 7) // 8
        d = 4 * ((b_len + 3) // 4) + 4
        p = (
            bytes([1, 2, 1])
            + radix.to_bytes(3, "big")
            + bytes([10, u % 256])
            + n.to_bytes(4, "big")
            + t.to_bytes(4, "big")
        )
        pad = bytes((-t - b_len - 1) % 16)
        extra_blocks = (d + 15) // 16 - 1
        mod_u, mod_v = radix**u, radix**v
        rounds = range(ROUNDS) if encrypt else range(ROUNDS - 1, -1, -1)
        for i in rounds:
            # Encrypting, the round function reads B; decrypting, it reads A.
            source = b if encrypt else a
            q = tweak + pad + bytes([i]) + _num(source, radix).to_bytes(b_len, "big")
            y = self._round_value(p + q, d, extra_blocks)
            m, modulus = (u, mod_u) if i % 2 == 0 else (v, mod_v)
            if encrypt:
                c = (_num(a, radix) + y) % modulus
                a, b = b, _str(c, radix, m)
            else:
                c = (_num(b, radix) - y) % modulus
                b, a = a, _str(c, radix, m)
        return a + b

    def _round_value(self, message: bytes, d: int, extra_blocks: int) -> int:
        cbc = Cipher(self._aes, modes.CBC(_ZERO_IV)).encryptor()
        r = (cbc.update(message) + cbc.finalize())[-16:]
        s = r
        if extra_blocks:
            ecb = self._ecb.encryptor()
            r_int = int.from_bytes(r, "big")
            s += ecb.update(b"".join((r_int ^ j).to_bytes(16, "big") for j in range(1, extra_blocks + 1)))
        return int.from_bytes(s[:d], "big")
