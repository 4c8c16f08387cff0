"""Keyed, deterministic fakes: a realistic value of the same type.

The fake for (entity, value) is drawn by Faker seeded with HMAC-SHA256 under
the keyring's `derive("synthesize")` subkey, so "Maria Lopez" becomes the same
fake name in every file and run under one key version and an unrelated one
under another. Faker only writes output values here; it never feeds detection.

Limits: fakes are not reversible and not unique (two values may get the same
fake: joins on a synthesized column can merge subjects); they are stable only
for one Faker release (its word lists and generators change between
releases, so pyproject pins its major version); an entity type without a
generator becomes `<ENTITY>`.
"""

from __future__ import annotations

import hmac
import random
import re
import threading
from collections.abc import Callable, Iterable
from hashlib import sha256
from typing import Any

from ingestguard.transforms.reversible import VersionedKeys

SYNTHESIZE_PURPOSE = "synthesize"
LOCALE = "en_US"


def _person(fake: Any, value: str, rng: random.Random) -> str:
    words = value.split()
    if len(words) == 1:
        return fake.first_name()
    return f"{fake.first_name()} {fake.last_name()}"


def _phone(fake: Any, value: str, rng: random.Random) -> str:
    """The input's layout with new digits: a separated leading country code
    (`+1 `, `+44-`) is kept, and the first new digit is 2-9 (no trunk or
    international prefix). A value of fewer than 7 digits gets a US layout."""
    if sum(ch.isdigit() for ch in value) < 7:
        value = "(###) ###-####"
    country = re.match(r"\+\d{1,3}(?=\D)", value)
    head = country.group(0) if country else ""
    out, first = [head], True
    for ch in value[len(head) :]:
        if ch.isdigit() or ch == "#":
            out.append(str(rng.randint(2, 9) if first else rng.randint(0, 9)))
            first = False
        else:
            out.append(ch)
    return "".join(out)


GENERATORS: dict[str, Callable[[Any, str, random.Random], str]] = {
    "PERSON": _person,
    "EMAIL_ADDRESS": lambda fake, value, rng: fake.safe_email(),
    "PHONE_NUMBER": _phone,
    "STREET_ADDRESS": lambda fake, value, rng: fake.street_address(),
    "LOCATION": lambda fake, value, rng: fake.city(),
    "US_SSN": lambda fake, value, rng: fake.ssn(),
    "CREDIT_CARD": lambda fake, value, rng: fake.credit_card_number(),
    "IBAN_CODE": lambda fake, value, rng: fake.iban(),
    "IP_ADDRESS": lambda fake, value, rng: fake.ipv4_private(),
    "US_ZIP_CODE": lambda fake, value, rng: fake.zipcode(),
    "POSTAL_CODE": lambda fake, value, rng: fake.postcode(),
    "DATE_OF_BIRTH": lambda fake, value, rng: fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
}


class Synthesizer:
    """Fakes under the keyring's current version; Faker loads on first use."""

    def __init__(self, keys: VersionedKeys) -> None:
        current = keys.current()
        self.key_version: int = current.version
        self.key_id: str = current.key_id
        self._mac = hmac.new(current.derive(SYNTHESIZE_PURPOSE), digestmod=sha256)
        self._faker: Any = None
        self._lock = threading.Lock()  # one seeded Faker: one value at a time

    def __repr__(self) -> str:
        return f"Synthesizer(key_id={self.key_id!r}, key_version={self.key_version})"

    def to_evidence(self) -> dict[str, str | int]:
        return {"action": "synthesize", "key_id": self.key_id, "key_version": self.key_version}

    def seed(self, entity: str, value: str) -> int:
        mac = self._mac.copy()
        mac.update(
            b"ingestguard/synthesize/v1\x00"
            + entity.encode()
            + b"\x00"
            + value.encode("utf-8", "surrogatepass")
        )
        return int.from_bytes(mac.digest(), "big")

    def fake(self, entity: str, value: str) -> str:
        return self.fakes(entity, [value])[0]

    def fakes(self, entity: str, values: Iterable[str]) -> list[str]:
        generate = GENERATORS.get(entity)
        if generate is None:
            return [f"<{entity}>" for _ in values]
        with self._lock:
            fake = self._load()
            out = []
            for value in values:
                seed = self.seed(entity, value)
                fake.seed_instance(seed)
                out.append(generate(fake, value, random.Random(seed)))
            return out

    def _load(self) -> Any:
        if self._faker is None:
            from faker import Faker  # heavy: loaded once, on first use

            self._faker = Faker(LOCALE)
        return self._faker
