"""Contact details: phone numbers that a phone network would accept.

Presidio's PhoneRecognizer runs phonenumbers' matcher over the whole text
once per region, which is its most expensive recognizer. Here a regex finds
runs of 7 to 15 digits (with the usual separators), and phonenumbers only
validates those candidates, trying the policy's regions in turn (or none for
numbers in international form).
"""

from __future__ import annotations

import re

import phonenumbers
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from ingestguard.detectors.recognizers.spec import RecognizerSpec

MIN_DIGITS = 7
BARE_DIGITS_SCORE = 0.3
REGIONS = ("US", "GB", "CA", "DE", "FR", "IN", "IL", "BR")
# Not glued to a longer token by "-" or "." (UUIDs, versions, part numbers).
CANDIDATE = r"(?<![\w+])(?<!\w[-.])\+?\(?\d(?:[\s().\-/]{0,2}\d){6,14}(?!\w)(?![-.]\w)"
# Digit runs that are addresses and dates, not phone numbers.
_IPV4_SHAPE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DATE_SHAPE = re.compile(r"(?:19|20)\d{2}[-./]\d{1,2}[-./]\d{1,2}")
# RE2 superset of CANDIDATE, for column sweeps.
PREFILTER = r"\b\d(?:[\s().\-/]{0,2}\d){6,}"


class PhoneNumberRecognizer(PatternRecognizer):
    CONTEXT = [
        "phone",
        "telephone",
        "tel",
        "cell",
        "cellphone",
        "mobile",
        "call",
        "fax",
        "msisdn",
        "whatsapp",
    ]

    def __init__(self, regions: tuple[str, ...] = REGIONS) -> None:
        self.regions = regions
        super().__init__(
            supported_entity="PHONE_NUMBER",
            patterns=[Pattern("phone digits", CANDIDATE, 0.4)],
            context=self.CONTEXT,
            name="PhoneNumberRecognizer",
        )

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """A bare run of digits is as likely an order or account number: it needs
        a context word ("phone", "call", a column named `msisdn`) to count."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for r in results:
            if text[r.start : r.end].isdigit():
                r.score = BARE_DIGITS_SCORE
        return results

    def invalidate_result(self, pattern_text: str) -> bool:
        """Drop candidates no region's numbering plan accepts. A valid number keeps
        the pattern's modest score: many digit runs are valid somewhere, so an
        overlapping SSN, card or IP finding should win."""
        return not self._valid(pattern_text.strip())

    def _valid(self, text: str) -> bool:
        if (
            sum(ch.isdigit() for ch in text) < MIN_DIGITS
            or _IPV4_SHAPE.fullmatch(text)
            or _DATE_SHAPE.search(text)
        ):
            return False
        if "." in text and any(len(g) == 1 for g in re.split(r"\D+", text.strip("+("))[1:]):
            return False  # a version number such as 74.0.3729.131
        for region in (None,) if text.startswith("+") else self.regions:
            try:
                number = phonenumbers.parse(text, region)
            except phonenumbers.NumberParseException:
                continue
            # Written in international form, a number the plan could hold (such as
            # the fictional +1-555 range) is a phone number for a guard's purposes.
            if phonenumbers.is_valid_number(number) or (
                region is None and phonenumbers.is_possible_number(number)
            ):
                return True
        return False


SPECS: list[RecognizerSpec] = [RecognizerSpec("PHONE_NUMBER", PhoneNumberRecognizer, PREFILTER)]
