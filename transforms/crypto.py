"""Keyed, deterministic pseudonyms.

HMAC-SHA256 under a subkey derived for this one purpose, over the entity type
and the value, so the same value gets the same pseudonym across files and runs
(joins keep working) and different entity types never share pseudonyms.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac

from ingestguard.keys import Key

PSEUDONYM_PURPOSE = "ingestguard/pseudonymize/v1"


class Pseudonymizer:
    def __init__(self, key: Key, hex_chars: int) -> None:
        self._prototype = hmac.HMAC(key.derive(PSEUDONYM_PURPOSE), hashes.SHA256())
        self._hex_chars = hex_chars

    def token(self, entity: str, value: str) -> str:
        """`EMAIL_ADDRESS_3f9a0c1be2d47a81c0e5`: typed, truncated to >= 80 bits."""
        return self.tokens(entity, [value])[0]

    def tokens(self, entity: str, values: list[str]) -> list[str]:
        """Pseudonyms for many values of one entity type: the hot loop, kept tight."""
        domain, label, width, prototype = (
            entity.encode() + b"\x00",
            f"{entity}_",
            self._hex_chars,
            self._prototype,
        )
        out = []
        for value in values:
            mac = prototype.copy()
            mac.update(domain + value.encode("utf-8", "surrogatepass"))
            out.append(label + mac.finalize().hex()[:width])
        return out
