"""Street addresses, postal codes, dates of birth and ages.

Each needs a shape that plain numbers and dates do not have: a house number
followed by a street-type word, a ZIP code right after a state, a UK
postcode's fixed letter-digit pattern, or a date or number next to the words
that say it is a birth date or an age. A bare 5-digit number or a bare date
is never reported: datasets are full of them.
"""

from __future__ import annotations

import re
from datetime import date

from presidio_analyzer import Pattern, PatternRecognizer

from ingestguard.detectors.recognizers.spec import RecognizerSpec

_STREET_TYPES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|"
    "parkway|pkwy|highway|hwy|square|sq|circle|cir|trail|close|crescent"
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|"
    "NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC"
)
DATE = r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)?\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}|\d{1,2} [A-Za-z]{3,9} (?:19|20)\d{2}|[A-Za-z]{3,9} \d{1,2},? (?:19|20)\d{2})"
_BIRTH = r"(?:date of birth|birth ?date|birthday|born(?: on)?|d\.?o\.?b\.?)"


class StreetAddressRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="STREET_ADDRESS",
            patterns=[
                Pattern(
                    "house number, street, type (city, state ZIP)",
                    rf"\b\d{{1,6}}[A-Za-z]?(?: [A-Z][A-Za-z'\-]+){{1,4}} (?i:{_STREET_TYPES})\b\.?"
                    rf"(?:,? (?i:apt|suite|unit|#) ?\w+)?(?:,? [A-Z][A-Za-z\- ]+,? (?:{_US_STATES}) \d{{5}}(?:-\d{{4}})?)?",
                    0.7,
                ),
                Pattern("PO box", r"\b(?i:p\.? ?o\.? box) \d{1,6}\b", 0.6),
            ],
            global_regex_flags=0,  # street names are capitalized; case matters here
            name="StreetAddressRecognizer",
        )


class UsZipCodeRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="US_ZIP_CODE",
            patterns=[
                Pattern("state then ZIP", rf"(?<=\b(?:{_US_STATES}) )\d{{5}}(?:-\d{{4}})?\b", 0.6),
                # A bare ZIP only with a context word ("ZIP 94105", a `zip` column).
                Pattern("ZIP", r"(?<![\w.,-])\d{5}(?:-\d{4})?(?![\w.,-]\d|\w)", 0.3),
            ],
            context=["zip", "zipcode", "postal", "postcode"],
            global_regex_flags=0,
            name="UsZipCodeRecognizer",
        )


class CheckedUkPostcodeRecognizer(PatternRecognizer):
    def __init__(self) -> None:
        super().__init__(
            supported_entity="UK_POSTCODE",
            patterns=[
                Pattern(
                    "UK postcode",
                    r"\b(?:GIR 0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKMNPR-Y\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b",
                    0.6,
                )
            ],
            global_regex_flags=0,
            name="CheckedUkPostcodeRecognizer",
        )


class DateOfBirthRecognizer(PatternRecognizer):
    """A date within a few words after a birth word; the date alone is the finding."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="DATE_OF_BIRTH",
            patterns=[
                Pattern("birth word then date", rf"(?<=\b{_BIRTH}\W{{1,3}}(?:\w+ ){{0,2}}){DATE}\b", 0.8)
            ],
            name="DateOfBirthRecognizer",
        )


_MONTHS = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"


class DateTimeRecognizer(PatternRecognizer):
    """Calendar dates in the usual written forms, checked to be real dates.

    Used instead of the NER model's DATE and TIME labels, which also tag
    "tomorrow", clock times and bare digit runs.
    """

    def __init__(self) -> None:
        super().__init__(
            supported_entity="DATE_TIME",
            patterns=[
                Pattern("ISO date", r"\b(?:19|20)\d{2}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?\b", 0.6),
                Pattern("numeric date", r"(?<![\d.])\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)?\d{2}(?![\d.])", 0.6),
                Pattern(
                    "month day year",
                    rf"\b(?:{_MONTHS})\.? \d{{1,2}}(?:st|nd|rd|th)?,? (?:19|20)\d{{2}}\b",
                    0.6,
                ),
                Pattern(
                    "day month year",
                    rf"\b\d{{1,2}}(?:st|nd|rd|th)? (?:{_MONTHS})\.?,? (?:19|20)\d{{2}}\b",
                    0.6,
                ),
            ],
            name="DateTimeRecognizer",
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        """Numeric forms must be a real day of a real month in some order (m/d or d/m)."""
        parts = re.split(r"[/.\-T :]", pattern_text)
        if not all(p.isdigit() for p in parts[:3]):
            return None  # month names: the regex already fixed the shape
        a, b, c = (int(p) for p in parts[:3])
        if len(parts[0]) == 4:
            return _is_date(a, b, c)
        year = c if c >= 100 else 2000 + c
        return _is_date(year, a, b) or _is_date(year, b, a)


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


# 0 to 130, not glued to a longer number, a decimal or a percentage.
_AGE = r"(?<![\d.,])(?:1[0-2][0-9]|130|[0-9]{1,2})(?![\d%]|[.,][0-9])"
_YEARS = r"(?:years?|yrs?)"
# After "I am N years" comes the end of the clause, not a span of time
# ("I am 5 years into it", "she is 40 years younger").
_CLAUSE_END = r"\s*(?:$|[.,;:!?)\n]|(?:old|of\s+age|and|but|now|today)\b)"
_SUBJECT = r"(?:i\s+am|i'?m|i\s+was|he\s+is|he'?s|he\s+was|she\s+is|she'?s|she\s+was|they\s+are|you\s+are|you'?re|who\s+is|who\s+was)"


class AgeRecognizer(PatternRecognizer):
    """An age is a small number with the words that make it one: "79 years
    old", "79-year-old", "aged 45", "age: 45", "at the age of 12", "I just
    turned 37", "she is 52 years of age". A number of years alone is usually
    a duration ("5 years of experience", "in 3 years"), so it is not enough."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity="AGE",
            patterns=[
                Pattern("N years old", rf"\b{_AGE}(?=[ -]{_YEARS}[ -]old\b|\s?y/?o\b)", 0.7),
                Pattern("N years of age", rf"\b{_AGE}(?=[ -]{_YEARS} of age\b)", 0.7),
                Pattern(
                    "aged N / age: N",
                    rf"(?<=\bage(?:d|\s*[:=]|\s+is|\s+of)?\s{{0,2}}){_AGE}\b(?!\s+{_YEARS}\s+ago)",
                    0.7,
                ),
                Pattern(
                    "turned N",
                    rf"(?<=\bturn(?:ed|s|ing)?\s+){_AGE}(?=\s*(?:$|[.,;:!?)]|{_YEARS}\b|(?:this|last|next|today|yesterday|tomorrow|soon|on|in|and)\b))",
                    0.7,
                ),
                Pattern(
                    "I am N years",
                    rf"(?<=\b{_SUBJECT}\s+(?:now\s+|just\s+|only\s+|almost\s+|nearly\s+|about\s+|over\s+)?){_AGE}(?=\s+{_YEARS}{_CLAUSE_END})",
                    0.7,
                ),
            ],
            name="AgeRecognizer",
        )


SPECS: list[RecognizerSpec] = [
    RecognizerSpec("STREET_ADDRESS", StreetAddressRecognizer, r"(?i)\d[a-z]? \w|p\.? ?o\.? box"),
    RecognizerSpec("US_ZIP_CODE", UsZipCodeRecognizer, r"\b\d{5}"),
    RecognizerSpec("UK_POSTCODE", CheckedUkPostcodeRecognizer, r"[A-Z]\d|GIR 0AA"),
    RecognizerSpec("DATE_OF_BIRTH", DateOfBirthRecognizer, r"(?i)birth|born|d\.?o\.?b"),
    RecognizerSpec("AGE", AgeRecognizer, r"(?i)age|years?|yrs?|turn|\dy/?o|\d y/?o"),
    RecognizerSpec(
        "DATE_TIME", DateTimeRecognizer, r"\d[/.\-]\d|(?i)(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    ),
]
