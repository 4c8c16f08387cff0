"""Canary injection: every run measures its own recall.

Synthetic values of known entity types are planted into copies of real
free-text values of each batch, the run's own detector reads the copies, and a
canary counts as found when a finding of its entity type covers all of it.
The values come from ranges reserved for examples and tests, so none can be a
real person's: RFC 2606 example domains, the fictional 555-01xx phone numbers,
the Social Security Administration's publicised sample numbers, payment
networks' published test cards, the registry's example IBANs, RFC 5737/3849
documentation addresses, AWS's documented example key and placeholder names.
They are marked by provenance (the probe knows where it put them), never by a
tag in the text a detector could key on. Only the copies ever hold a canary:
the output does not, and the evidence gets counts only.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from ingestguard.reports.evidence import CanaryEntityEvidence, CanaryEvidence

if TYPE_CHECKING:
    from ingestguard.detectors.analyzer import Detector
    from ingestguard.pipeline import FileOutcome
    from ingestguard.policy import CanarySettings

# Placeholder names used in forms and examples (John Doe, Erika Mustermann, ...).
_FIRST = ("John", "Jane", "Richard", "Erika", "Max", "Mario", "Joe", "Juan", "Jan", "Mary")
_LAST = ("Doe", "Roe", "Mustermann", "Rossi", "Bloggs", "Public", "Perez", "Jansen", "Smith", "Major")
_DOMAINS = ("example.com", "example.org", "example.net")
_AREA_CODES = ("201", "212", "303", "312", "415", "503", "617", "702", "713", "919")
_SSNS = ("078-05-1120", "219-09-9999")  # SSA's publicised sample numbers
_CARDS = (
    "4111111111111111",
    "4012888888881881",
    "5555555555554444",
    "5105105105105100",
    "378282246310005",
    "371449635398431",
    "6011111111111117",
    "3530111333300000",
)
_IBANS = ("GB82WEST12345698765432", "DE89370400440532013000", "FR1420041010050500013M02606")
_IP_NETS = ("192.0.2", "198.51.100", "203.0.113")  # RFC 5737 TEST-NET-1/2/3


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _email(rng: random.Random) -> str:
    local = f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}{rng.randrange(100)}".lower()
    return f"{local}@{rng.choice(_DOMAINS)}"


def _phone(rng: random.Random) -> str:
    area, line = rng.choice(_AREA_CODES), f"01{rng.randrange(100):02d}"
    return rng.choice((f"({area}) 555-{line}", f"{area}-555-{line}", f"+1 {area} 555 {line}"))


def _ssn(rng: random.Random) -> str:
    ssn = rng.choice(_SSNS)
    return ssn if rng.random() < 0.5 else ssn.replace("-", " ")


def _grouped(value: str, sep: str) -> str:
    return sep.join(value[i : i + 4] for i in range(0, len(value), 4))


def _card(rng: random.Random) -> str:
    card = rng.choice(_CARDS)
    return rng.choice((card, _grouped(card, " "), _grouped(card, "-"))) if len(card) == 16 else card


def _iban(rng: random.Random) -> str:
    iban = rng.choice(_IBANS)
    return rng.choice((iban, _grouped(iban, " ")))


def _ip(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return f"2001:db8::{rng.randrange(1, 0xFFFF):x}"  # RFC 3849 documentation prefix
    return f"{rng.choice(_IP_NETS)}.{rng.randrange(1, 255)}"


def _aws_key(rng: random.Random) -> str:
    return "AKIAIOSFODNN7EXAMPLE"


CANARY_VALUES: dict[str, Callable[[random.Random], str]] = {
    "PERSON": _name,
    "EMAIL_ADDRESS": _email,
    "PHONE_NUMBER": _phone,
    "US_SSN": _ssn,
    "CREDIT_CARD": _card,
    "IBAN_CODE": _iban,
    "IP_ADDRESS": _ip,
    "AWS_ACCESS_KEY": _aws_key,
}
CANARY_ENTITIES = frozenset(CANARY_VALUES)

# Short, keyword-free carriers: no context word ("ssn", "email") lifts a score.
_CARRIERS = ("{v}", "{v}.", "see {v}", "({v})", "{v}, again.")
# How much of a host value is kept on each side of the place a canary goes.
_WINDOW = 160


@dataclass
class CanaryCounts:
    """Canaries planted and found per entity type; they add, so files and workers merge."""

    injected: Counter = field(default_factory=Counter)
    found: Counter = field(default_factory=Counter)

    def __add__(self, other: CanaryCounts) -> CanaryCounts:
        return CanaryCounts(self.injected + other.injected, self.found + other.found)

    def to_dict(self) -> dict[str, dict[str, int]]:
        return {e: {"injected": n, "found": self.found[e]} for e, n in sorted(self.injected.items())}

    @classmethod
    def from_dict(cls, data: dict[str, dict[str, int]]) -> CanaryCounts:
        return cls(
            Counter({e: c["injected"] for e, c in data.items()}),
            Counter({e: c["found"] for e, c in data.items()}),
        )


@dataclass(frozen=True)
class Planted:
    text: str
    entity: str
    start: int
    end: int


class CanaryProbe:
    """Plants canaries into copies of a batch's text values and tallies what the detector finds."""

    def __init__(self, settings: CanarySettings, detector: Detector) -> None:
        self.settings = settings
        self.detector = detector
        wanted = settings.entities or sorted(CANARY_ENTITIES)
        self.entities = [e for e in wanted if e in detector.entities]
        self.counts = CanaryCounts()
        self._probes = 0

    @classmethod
    def for_policy(cls, settings: CanarySettings, detector: Detector) -> CanaryProbe | None:
        """A probe when the policy turns injection on, else None."""
        return cls(settings, detector) if settings.enabled else None

    def probe(self, array: pa.Array) -> None:
        """Measure recall on copies of `array`'s values with canaries in them."""
        if not self.entities:
            return
        # Seeded per probe: a rerun of the same input measures the same canaries.
        rng = random.Random(f"{self.settings.seed}:{self._probes}")
        self._probes += 1
        hosts = _hosts(array, self.settings.per_batch, rng)
        planted = [
            plant(host, self.entities[(self._probes + i) % len(self.entities)], rng)
            for i, host in enumerate(hosts)
        ]
        findings = self.detector.analyze_batch([p.text for p in planted])
        for p, found in zip(planted, findings, strict=True):
            self.counts.injected[p.entity] += 1
            if any(f.entity_type == p.entity and f.start <= p.start and p.end <= f.end for f in found):
                self.counts.found[p.entity] += 1


def plant(host: str, entity: str, rng: random.Random) -> Planted:
    """`host` with one canary of `entity` put in at a word boundary (spaces around it)."""
    value = CANARY_VALUES[entity](rng)
    before, after = rng.choice(_CARRIERS).split("{v}")
    spaces = [i for i, ch in enumerate(host) if ch.isspace()] or [len(host)]
    at = rng.choice(spaces)
    left, right = host[:at].rstrip(), host[at:].lstrip()
    prefix = f"{left} {before}" if left else before
    text = prefix + value + after + (f" {right}" if right else "")
    return Planted(text, entity, len(prefix), len(prefix) + len(value))


def _hosts(array: pa.Array, n: int, rng: random.Random) -> list[str]:
    """`n` windows of the column's values (rows drawn with replacement) as Python
    strings, so a huge cell costs no more than a short one; empty strings when
    the column holds no text to borrow."""
    valid = np.flatnonzero(array.is_valid().to_numpy(zero_copy_only=False)) if len(array) else ()
    if not len(valid):
        return [""] * n
    out = []
    for _ in range(n):
        value = array[int(valid[rng.randrange(len(valid))])].as_py()
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="replace")
        if not isinstance(value, str):
            value = ""
        at = rng.randrange(len(value) + 1)
        out.append(value[max(0, at - _WINDOW) : at + _WINDOW])
    return out


def _recall(found: int, injected: int) -> float | None:
    return round(found / injected, 4) if injected else None


def canary_evidence(settings: CanarySettings, counts: CanaryCounts) -> CanaryEvidence | None:
    """The evidence block of a run's canaries, and its verdict: an entity type
    measured below `min_recall` fails the run. None when injection is off."""
    if not settings.enabled:
        return None
    entities = {
        e: CanaryEntityEvidence(injected=n, found=counts.found[e], recall=_recall(counts.found[e], n))
        for e, n in sorted(counts.injected.items())
    }
    low = [
        f"{e} {c.recall:.2f}"
        for e, c in entities.items()
        if settings.min_recall is not None and c.recall is not None and c.recall < settings.min_recall
    ]
    failure = (
        f"canary recall below min_recall {settings.min_recall:.2f}: {', '.join(low)}; "
        "the detector misses what it is meant to find, fix the policy or the recognizers"
        if low
        else None
    )
    injected, found = sum(counts.injected.values()), sum(counts.found.values())
    return CanaryEvidence(
        per_batch=settings.per_batch,
        min_recall=settings.min_recall,
        injected=injected,
        found=found,
        recall=_recall(found, injected),
        entities=entities,
        status="failed" if failure else "passed",
        failure=failure,
    )


def run_canary(settings: CanarySettings, outcomes: Iterable[FileOutcome]) -> CanaryEvidence | None:
    """The canary block of a whole run: every file's counts added up."""
    total = CanaryCounts()
    for outcome in outcomes:
        total += CanaryCounts.from_dict(outcome.canary)
    return canary_evidence(settings, total)
