"""Identity-document numbers of any issuer: driver's licences and passports.

Their formats vary by country and state (letters and digits, 5 to 20
characters), so no shape alone tells a licence number from a part number or
an order reference. They are found only right after the words that name the
document ("driver's license F3452345", "passport no. 533380006"), with at
most a few filler words between ("number", "no.", "#", "is"), and the number
must hold at least four digits. A bare alphanumeric is never reported.
"""

from __future__ import annotations

import re

from presidio_analyzer import Pattern, PatternRecognizer

from ingestguard.detectors.recognizers.spec import RecognizerSpec

SCORE = 0.85
# Between the document's name and its number: "number", "no.", "#", "is", ":".
_FILLER = r"(?:[ \t]*(?:[:#=\-]|(?i:number|num|nr|no|id|is|was|reads|of)\b\.?)){0,4}[ \t]*"
# Letters and digits in up to four groups split by a space or dash ("X123 4567",
# "S530-4127-8890"); each group holds a digit, so a following word is never
# taken in.
_NUMBER = r"(?=[A-Za-z]{0,20}[0-9])[A-Za-z0-9]{1,20}(?:[ \-](?=[A-Za-z]{0,20}[0-9])[A-Za-z0-9]{1,19}){0,3}(?![\w\-])"
_DRIVER_WORDS = (
    r"(?i:driver['’]?s?['’]?|driving)[ \-](?i:licen[cs]e)|(?i:licen[cs]e)[ \t]+(?i:number|no\b\.?|#)"
    r"|\bD\.?L\b\.?|(?i:f(?:ü|ue)hrerschein(?:nummer)?|permis de conduire|rijbewijs(?:nummer)?)"
)
_PASSPORT_WORDS = r"(?i:passport|reisepass|passeport|paspoort|pasaporte|passaporto)"


def _document_number(words: str) -> str:
    return rf"(?<=(?:{words}){_FILLER})(?<![\w\-]){_NUMBER}"


_DATE = re.compile(r"(?:19|20)\d{2}[ \-]\d{1,2}[ \-]\d{1,2}|\d{1,2}[ \-]\d{1,2}[ \-](?:19|20)?\d{2}")


class _DocumentNumberRecognizer(PatternRecognizer):
    """Shared check: 5 to 20 characters, at least four of them digits, and not
    a date that follows the word ("DL 2020-01-05")."""

    def validate_result(self, pattern_text: str) -> bool | None:
        body = re.sub(r"[ \-]", "", pattern_text)
        if not 5 <= len(body) <= 20 or sum(ch.isdigit() for ch in body) < 4 or _DATE.fullmatch(pattern_text):
            return False
        return None


class DriverLicenseRecognizer(_DocumentNumberRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="DRIVER_LICENSE",
            patterns=[Pattern("licence word then number", _document_number(_DRIVER_WORDS), SCORE)],
            global_regex_flags=0,  # "DL" only in capitals; the words carry their own (?i:)
            name="DriverLicenseRecognizer",
        )


class PassportRecognizer(_DocumentNumberRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="PASSPORT",
            patterns=[Pattern("passport word then number", _document_number(_PASSPORT_WORDS), SCORE)],
            global_regex_flags=0,
            name="PassportRecognizer",
        )


SPECS: list[RecognizerSpec] = [
    RecognizerSpec(
        "DRIVER_LICENSE",
        DriverLicenseRecognizer,
        r"(?i)licen[cs]e|d\.?l\b|f(?:ü|ue)hrerschein|permis de conduire|rijbewijs",
    ),
    RecognizerSpec(
        "PASSPORT", PassportRecognizer, r"(?i)passport|reisepass|passeport|paspoort|pasaporte|passaporto"
    ),
]
