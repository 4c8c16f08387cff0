"""National identifiers, each confirmed by its issuer's checksum or structure.

Presidio's own recognizers for these score bare regex matches and rely on
context words to lift them; the sweep applies no context, so here the
checksum (python-stdnum) decides instead. Many of these numbers are nine to
twelve bare digits, and about one random digit run in ten passes a mod-10 or
mod-11 check, so a checksum-valid bare run keeps a base score of 0.3 (below
the default threshold): only the written layout makes it a finding (SSN
078-05-1120, SIN 130-692-544, NHS 943 476 5919, BSN 1112.22.333, Aadhaar
2345 6789 0124, IdNr 36 574 261 809). Formats with letters in fixed places
or a mod-97 key (NIF, NIE, codice fiscale, PAN, NINO with its suffix, NIR)
are distinctive as written, bare or not.
"""

from __future__ import annotations

import re

from stdnum.ca import sin
from stdnum.de import idnr
from stdnum.es import dni, nie, nif
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.in_ import aadhaar, pan
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ein, itin

from ingestguard.detectors.recognizers.spec import RecognizerSpec
from ingestguard.detectors.recognizers.validated import ValidatedPatternRecognizer, digits, has_separator


class CheckedUsSsnRecognizer(ValidatedPatternRecognizer):
    """Area 000, 666 and 900-999, group 00 and serial 0000 are never issued.

    stdnum's rules, except its blacklist of publicised numbers (078-05-1120,
    the Woolworth wallet card, and two others): those are still SSNs a guard
    should mask when they turn up in data.
    """

    ENTITY = "US_SSN"
    CONTEXT = ("ssn", "social", "security", "ss#", "ssid")
    REGEX = r"[0-9]{3}([- ]?)[0-9]{2}\1[0-9]{4}"

    def is_valid(self, candidate: str) -> bool:
        number = digits(candidate)
        area, group, serial = number[:3], number[3:5], number[5:]
        return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"

    def is_distinctive(self, candidate: str) -> bool:
        return has_separator(candidate)


class CheckedUsItinRecognizer(ValidatedPatternRecognizer):
    ENTITY = "US_ITIN"
    CONTEXT = ("itin", "taxpayer", "tin")
    REGEX = r"9[0-9]{2}([- ]?)[0-9]{2}\1[0-9]{4}"

    def is_valid(self, candidate: str) -> bool:
        return itin.is_valid(digits(candidate))

    def is_distinctive(self, candidate: str) -> bool:
        return has_separator(candidate)


class UsEinRecognizer(ValidatedPatternRecognizer):
    """The two-digit prefix must be an IRS campus code (stdnum)."""

    ENTITY = "US_EIN"
    CONTEXT = ("ein", "employer", "fein", "tin")
    REGEX = r"[0-9]{2}-?[0-9]{7}"

    def is_valid(self, candidate: str) -> bool:
        return ein.is_valid(digits(candidate))

    def is_distinctive(self, candidate: str) -> bool:
        return "-" in candidate


class CheckedUkNinoRecognizer(ValidatedPatternRecognizer):
    """No checksum exists (stdnum has no module): the prefix letters HMRC never
    issues are excluded, and without its A-D suffix a match stays weak."""

    ENTITY = "UK_NINO"
    CONTEXT = ("nino", "national", "insurance", "ni")
    REGEX = r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]( ?)[0-9]{2}\1[0-9]{2}\1[0-9]{2}(?: ?[A-D])?"
    _NEVER_ISSUED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})

    def is_valid(self, candidate: str) -> bool:
        return candidate[:2].upper() not in self._NEVER_ISSUED

    def is_distinctive(self, candidate: str) -> bool:
        return candidate.rstrip()[-1].isalpha()


class UkNhsRecognizer(ValidatedPatternRecognizer):
    """Mod-11 check (stdnum). Only the NHS's own 3-3-4 layout with spaces is
    distinctive: 3-3-4 with dashes is how North American phone numbers are
    written, and one in eleven of those passes the check."""

    ENTITY = "UK_NHS"
    CONTEXT = ("nhs", "health", "patient")
    REGEX = r"[0-9]{3}([- ]?)[0-9]{3}\1[0-9]{4}"

    def is_valid(self, candidate: str) -> bool:
        return nhs.is_valid(digits(candidate))

    def is_distinctive(self, candidate: str) -> bool:
        return " " in candidate


class CheckedCaSinRecognizer(ValidatedPatternRecognizer):
    """Luhn and issuing-province digit (stdnum; 0 and 8 are never issued)."""

    ENTITY = "CA_SIN"
    CONTEXT = ("sin", "social", "insurance")
    REGEX = r"[0-9]{3}([- ]?)[0-9]{3}\1[0-9]{3}"

    def is_valid(self, candidate: str) -> bool:
        return sin.is_valid(digits(candidate))

    def is_distinctive(self, candidate: str) -> bool:
        return has_separator(candidate)


class CheckedDeTaxIdRecognizer(ValidatedPatternRecognizer):
    """Steuer-IdNr: ISO 7064 check digit and the digit-repetition rule (stdnum)."""

    ENTITY = "DE_TAX_ID"
    CONTEXT = ("steuer", "steuerid", "steuernummer", "idnr", "identifikationsnummer", "tax")
    REGEX = r"[0-9]{2}( ?)[0-9]{3}\1[0-9]{3}\1[0-9]{3}"

    def is_valid(self, candidate: str) -> bool:
        return idnr.is_valid(digits(candidate))

    def is_distinctive(self, candidate: str) -> bool:
        return has_separator(candidate)


class FrNirRecognizer(ValidatedPatternRecognizer):
    """Sex digit, birth month, department (2A/2B for Corsica) and the mod-97
    key (stdnum): one random run in thousands passes, bare or spaced."""

    ENTITY = "FR_NIR"
    CONTEXT = ("nir", "insee", "securite", "sociale")
    REGEX = r"[1-478]( ?)[0-9]{2}\1[0-9]{2}\1(?:[0-9]{2}|2[AB])\1[0-9]{3}\1[0-9]{3}\1[0-9]{2}"

    def is_valid(self, candidate: str) -> bool:
        return nir.is_valid(candidate.replace(" ", "").upper())


class CheckedEsNifRecognizer(ValidatedPatternRecognizer):
    """Personal NIFs: the DNI (8 digits and a mod-23 letter) and the K, L and
    M forms. The X, Y and Z forms are ES_NIE; company CIFs are not personal."""

    ENTITY = "ES_NIF"
    CONTEXT = ("nif", "dni")
    REGEX = r"(?:[0-9]{8}|[KLM][0-9]{7})[ -]?[A-Z]"

    def is_valid(self, candidate: str) -> bool:
        number = re.sub(r"[ -]", "", candidate).upper()
        return dni.is_valid(number) if number[0].isdigit() else nif.is_valid(number)


class CheckedEsNieRecognizer(ValidatedPatternRecognizer):
    ENTITY = "ES_NIE"
    CONTEXT = ("nie", "extranjero")
    REGEX = r"[XYZ][ -]?[0-9]{7}[ -]?[A-Z]"

    def is_valid(self, candidate: str) -> bool:
        return nie.is_valid(re.sub(r"[ -]", "", candidate).upper())


class CheckedItFiscalCodeRecognizer(ValidatedPatternRecognizer):
    """16-character personal code, omocodia letters included; the check letter
    and the birth date are verified (stdnum)."""

    ENTITY = "IT_FISCAL_CODE"
    CONTEXT = ("codice", "fiscale", "cf")
    _OMO = "[0-9LMNPQRSTUV]"
    REGEX = rf"[A-Z]{{6}}{_OMO}{{2}}[ABCDEHLMPRST]{_OMO}{{2}}[A-Z]{_OMO}{{3}}[A-Z]"

    def is_valid(self, candidate: str) -> bool:
        return codicefiscale.is_valid(candidate.upper())


class NlBsnRecognizer(ValidatedPatternRecognizer):
    """Eleven-proof (stdnum); the 4-2-3 dotted layout is the distinctive one."""

    ENTITY = "NL_BSN"
    CONTEXT = ("bsn", "burgerservicenummer", "sofinummer")
    REGEX = r"[0-9]{4}(\.?)[0-9]{2}\1[0-9]{3}"

    def is_valid(self, candidate: str) -> bool:
        return bsn.is_valid(digits(candidate))

    def is_distinctive(self, candidate: str) -> bool:
        return "." in candidate


class CheckedInAadhaarRecognizer(ValidatedPatternRecognizer):
    """Verhoeff check, no leading 0 or 1, no palindromes (stdnum)."""

    ENTITY = "IN_AADHAAR"
    CONTEXT = ("aadhaar", "aadhar", "uid", "uidai")
    REGEX = r"[2-9][0-9]{3}([ -]?)[0-9]{4}\1[0-9]{4}"

    def is_valid(self, candidate: str) -> bool:
        return aadhaar.is_valid(digits(candidate))

    def is_distinctive(self, candidate: str) -> bool:
        return has_separator(candidate)


class CheckedInPanRecognizer(ValidatedPatternRecognizer):
    """No checksum: the holder-type letter is checked (stdnum), and letters must
    be capitals, since lower-case words with digits are common in free text."""

    ENTITY = "IN_PAN"
    CONTEXT = ("pan", "permanent", "account")
    REGEX = r"(?-i:[A-Z]{3}[ABCFGHJLPTK][A-Z][0-9]{4}[A-Z])"

    def is_valid(self, candidate: str) -> bool:
        return pan.is_valid(candidate)


SPECS: list[RecognizerSpec] = [
    RecognizerSpec("US_SSN", CheckedUsSsnRecognizer, r"\b[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}\b"),
    RecognizerSpec("US_ITIN", CheckedUsItinRecognizer, r"\b9[0-9]{2}[- ]?[0-9]{2}[- ]?[0-9]{4}\b"),
    RecognizerSpec("US_EIN", UsEinRecognizer, r"\b[0-9]{2}-?[0-9]{7}\b"),
    RecognizerSpec("UK_NINO", CheckedUkNinoRecognizer, r"(?i)\b[a-z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2}"),
    RecognizerSpec("UK_NHS", UkNhsRecognizer, r"\b[0-9]{3}[- ]?[0-9]{3}[- ]?[0-9]{4}\b"),
    RecognizerSpec("CA_SIN", CheckedCaSinRecognizer, r"\b[0-9]{3}[- ]?[0-9]{3}[- ]?[0-9]{3}\b"),
    RecognizerSpec("DE_TAX_ID", CheckedDeTaxIdRecognizer, r"\b[0-9]{2} ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}\b"),
    RecognizerSpec(
        "FR_NIR",
        FrNirRecognizer,
        r"(?i)\b[1-478] ?[0-9]{2} ?[0-9]{2} ?[0-9][0-9ab] ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}\b",
    ),
    RecognizerSpec("ES_NIF", CheckedEsNifRecognizer, r"(?i)\b[0-9klm][0-9]{7}[ -]?[a-z]\b"),
    RecognizerSpec("ES_NIE", CheckedEsNieRecognizer, r"(?i)\b[xyz][ -]?[0-9]{7}[ -]?[a-z]\b"),
    RecognizerSpec(
        "IT_FISCAL_CODE",
        CheckedItFiscalCodeRecognizer,
        r"(?i)\b[a-z]{6}[0-9lmnpqrstuv]{2}[abcdehlmprst][0-9lmnpqrstuv]{2}[a-z][0-9lmnpqrstuv]{3}[a-z]\b",
    ),
    RecognizerSpec("NL_BSN", NlBsnRecognizer, r"\b[0-9]{4}\.?[0-9]{2}\.?[0-9]{3}\b"),
    RecognizerSpec("IN_AADHAAR", CheckedInAadhaarRecognizer, r"\b[2-9][0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}\b"),
    RecognizerSpec("IN_PAN", CheckedInPanRecognizer, r"\b[A-Z]{3}[ABCFGHJLPTK][A-Z][0-9]{4}[A-Z]\b"),
]
