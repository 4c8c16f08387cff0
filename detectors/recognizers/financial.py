"""Payment identifiers, each confirmed by its checksum or registry rules.

A regex alone flags every long digit run as a card and every capitalised
eight-letter word as a BIC; here python-stdnum's checks decide. Card numbers
are Luhn-checked; one with a known issuer prefix at a length that issuer uses
is a card as written, any other Luhn-valid 12 to 19 digits (test numbers,
private-label and new issuer ranges) only next to a card word; IBANs and VAT numbers carry a country prefix and a check, so they are
distinctive as written. A BIC has no check digit, so an all-letter eight- or
eleven-letter match (as in CUSTOMER or ENVIRONMENT) stays below the default
threshold unless its location or branch code holds a digit; bare nine-digit
routing numbers stay below it unless written 4-4-1 with dashes.
"""

from __future__ import annotations

import re

from stdnum import bic, iban, luhn
from stdnum.eu import vat
from stdnum.us import rtn

from ingestguard.detectors.recognizers.spec import RecognizerSpec
from ingestguard.detectors.recognizers.validated import ValidatedPatternRecognizer, digits

# Issuer prefixes (IIN ranges, inclusive) and the lengths each issuer uses.
_ISSUERS: list[tuple[int, int, frozenset[int]]] = [
    (4, 4, frozenset({13, 16, 19})),  # Visa
    (51, 55, frozenset({16})),  # Mastercard
    (2221, 2720, frozenset({16})),  # Mastercard 2-series
    (34, 34, frozenset({15})),  # American Express
    (37, 37, frozenset({15})),
    (300, 305, frozenset(range(14, 20))),  # Diners Club
    (36, 36, frozenset(range(14, 20))),
    (38, 39, frozenset(range(14, 20))),
    (6011, 6011, frozenset(range(16, 20))),  # Discover
    (644, 649, frozenset(range(16, 20))),
    (65, 65, frozenset(range(16, 20))),
    (3528, 3589, frozenset(range(16, 20))),  # JCB
    (62, 62, frozenset(range(16, 20))),  # UnionPay
    (2200, 2204, frozenset(range(16, 20))),  # Mir
    (50, 50, frozenset(range(13, 20))),  # Maestro
    (56, 58, frozenset(range(13, 20))),
    (639, 639, frozenset(range(13, 20))),
    (67, 67, frozenset(range(13, 20))),
]


def known_issuer(number: str) -> bool:
    for low, high, lengths in _ISSUERS:
        prefix = int(number[: len(str(low))])
        if low <= prefix <= high and len(number) in lengths:
            return True
    return False


class CheckedCreditCardRecognizer(ValidatedPatternRecognizer):
    ENTITY = "CREDIT_CARD"
    CONTEXT = (
        "card",
        "credit",
        "debit",
        "visa",
        "mastercard",
        "amex",
        "maestro",
        "jcb",
        "diners",
        "discover",
        "unionpay",
        "cc",
        "pan",
        "payment",
    )
    REGEX = r"[0-9](?:[ -]?[0-9]){11,18}"
    # A card followed by more digits ("4111111111111111 123 exp 12/27": its CVV)
    # makes the loose pattern's longest match fail Luhn; the card's own layouts
    # (run together, 4-4-4-4, Amex 4-6-5) still find it.
    EXTRA_REGEXES = (
        r"[0-9]{12,19}",
        r"[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{4}",
        r"[0-9]{4}([ -])[0-9]{6}\1[0-9]{5}",
    )

    def is_valid(self, candidate: str) -> bool:
        # One kind of separator, as printed on a card or typed into a form.
        return len(set(re.sub(r"[0-9]", "", candidate))) <= 1 and luhn.is_valid(digits(candidate))

    def is_distinctive(self, candidate: str) -> bool:
        """A known issuer at its length is a card as written; any other
        Luhn-valid run (one in ten random runs) needs a card word near it."""
        return known_issuer(digits(candidate))


class CheckedIbanRecognizer(ValidatedPatternRecognizer):
    """Country length and mod-97 check, plus the country's own BBAN check
    where stdnum knows one."""

    ENTITY = "IBAN_CODE"
    CONTEXT = ("iban", "bank", "account")
    # Printed in groups of four (the last one shorter) or run together.
    REGEX = r"[A-Z]{2}[0-9]{2}(?:([ -])[A-Z0-9]{4}(?:\1[A-Z0-9]{4}){1,6}(?:\1[A-Z0-9]{1,3})?|[A-Z0-9]{11,30})"
    # National layouts (NO 44 1850.05.14562, ES72 2013-0692-81-0201150993),
    # which in running text may run into the next word and fail the check.
    EXTRA_REGEXES = (r"[A-Z]{2} ?[0-9]{2}(?:[ .\-]?[A-Z0-9]){11,30}",)

    def is_valid(self, candidate: str) -> bool:
        return iban.is_valid(candidate.upper())


class SwiftBicRecognizer(ValidatedPatternRecognizer):
    """Capitals only, a real country code in fifth and sixth place (stdnum);
    distinctive with a digit in the location or branch code, or the XXX
    branch of a head office."""

    ENTITY = "SWIFT_BIC"
    CONTEXT = ("swift", "bic", "bank")
    BASE_SCORE = 0.4
    REGEX = r"(?-i:[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)"

    def is_valid(self, candidate: str) -> bool:
        return bic.is_valid(candidate)

    def is_distinctive(self, candidate: str) -> bool:
        return any(ch.isdigit() for ch in candidate[6:]) or candidate[8:] == "XXX"


def _digit_run(low: int, high: int | None = None) -> str:
    """`low` to `high` digits, optionally separated by single spaces, dots, dashes or slashes."""
    repeat = f"{low - 1}" if high is None else f"{low - 1},{high - 1}"
    return rf"[0-9](?:[ .\-/]?[0-9]){{{repeat}}}"


_VAT_BODIES: dict[str, str] = {
    "AT": r"U ?" + _digit_run(8),
    "BE": r"(?:\([01]\) ?)?" + _digit_run(9, 10),
    "BG": _digit_run(9, 10),
    "CY": _digit_run(8) + r"[ -]?[A-Z]",
    "CZ": _digit_run(8, 10),
    "DE": _digit_run(9),
    "DK": _digit_run(8),
    "EE": _digit_run(9),
    "EL": _digit_run(8, 9),
    "GR": _digit_run(8, 9),
    "ES": r"[0-9A-Z][ -]?" + _digit_run(7) + r"[ -]?[0-9A-Z]",
    "FI": _digit_run(8),
    "FR": r"[0-9A-HJ-NP-Z][ .\-]?[0-9A-HJ-NP-Z][ .\-]?" + _digit_run(9),
    "HR": _digit_run(11),
    "HU": _digit_run(8),
    "IE": _digit_run(7) + r" ?[A-W][A-IW]?|[0-9][A-Z+*][0-9]{5}[A-W]",
    "IT": _digit_run(11),
    "LT": _digit_run(12) + "|" + _digit_run(9),
    "LU": _digit_run(8),
    "LV": _digit_run(11),
    "MT": _digit_run(8),
    "NL": _digit_run(7, 9) + r"[ .\-]?B[ .\-]?[0-9]{2}",
    "PL": _digit_run(10),
    "PT": _digit_run(9),
    "RO": _digit_run(13) + "|" + _digit_run(2, 10),
    "SE": _digit_run(12),
    "SI": _digit_run(8),
    "SK": _digit_run(10),
    "EU": _digit_run(9),
    "XI": _digit_run(12) + "|" + _digit_run(9) + r"|(?:GD|HA)[0-9]{3}",
}


class EuVatRecognizer(ValidatedPatternRecognizer):
    """Each member state's own layout after its prefix (EL for Greece, XI for
    Northern Ireland), then that state's check digits (stdnum)."""

    ENTITY = "EU_VAT"
    CONTEXT = ("vat", "btw", "ust", "tva", "iva", "mwst")
    REGEX = "(?:" + "|".join(rf"{cc}[ .:\-]{{0,3}}(?:{body})" for cc, body in _VAT_BODIES.items()) + ")"

    def is_valid(self, candidate: str) -> bool:
        return vat.is_valid(re.sub(r"[ .:\-/()]", "", candidate).upper())


class CheckedAbaRoutingRecognizer(ValidatedPatternRecognizer):
    """3-7-1 weighted check (stdnum) and a Federal Reserve prefix: 00-12 banks,
    21-32 thrifts, 61-72 electronic, 80 traveller's cheques."""

    ENTITY = "ABA_ROUTING_NUMBER"
    CONTEXT = ("aba", "routing", "rtn", "transit")
    REGEX = r"[0-9]{4}(-?)[0-9]{4}\1[0-9]"

    def is_valid(self, candidate: str) -> bool:
        number = digits(candidate)
        prefix = int(number[:2])
        return (prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80) and rtn.is_valid(
            number
        )

    def is_distinctive(self, candidate: str) -> bool:
        return "-" in candidate


_VAT_PREFIXES = "|".join(_VAT_BODIES)
SPECS: list[RecognizerSpec] = [
    RecognizerSpec("CREDIT_CARD", CheckedCreditCardRecognizer, r"\b[0-9](?:[ -]?[0-9]){11,18}\b"),
    RecognizerSpec("IBAN_CODE", CheckedIbanRecognizer, r"(?i)\b[a-z]{2} ?[0-9]{2}"),
    RecognizerSpec("SWIFT_BIC", SwiftBicRecognizer, r"\b[A-Z]{6}[A-Z0-9]{2}"),
    RecognizerSpec(
        "EU_VAT",
        EuVatRecognizer,
        rf"(?i)\b(?:{_VAT_PREFIXES})[ .:\-]{{0,3}}[(a-z0-9]{{0,2}}[ .\-)]{{0,2}}[0-9]",
    ),
    RecognizerSpec("ABA_ROUTING_NUMBER", CheckedAbaRoutingRecognizer, r"\b[0-9]{4}-?[0-9]{4}-?[0-9]\b"),
]
