"""Driver's licence and passport numbers: found right after the words that
name the document, never as bare alphanumerics."""

from __future__ import annotations

import pytest

from tests.support.recognizers import span, swept

VALID: list[tuple[str, str, str]] = [
    ("DRIVER_LICENSE", "My driver's license is F3452345.", "F3452345"),
    ("DRIVER_LICENSE", "drivers licence no. AB12 3456 on file", "AB12 3456"),
    ("DRIVER_LICENSE", "Driving Licence: MORGA753116SM9IJ", "MORGA753116SM9IJ"),
    ("DRIVER_LICENSE", "DL# 123456789", "123456789"),
    ("DRIVER_LICENSE", "DL: X1234-5678 please", "X1234-5678"),
    ("DRIVER_LICENSE", "license number 0012-3456", "0012-3456"),
    ("DRIVER_LICENSE", "Licence No. W9876543", "W9876543"),
    ("DRIVER_LICENSE", "Führerschein B072RRE2I55", "B072RRE2I55"),
    ("DRIVER_LICENSE", "her driver’s license number is S530-4127-8890", "S530-4127-8890"),
    ("PASSPORT", "passport no 533380006", "533380006"),
    ("PASSPORT", "Passport #: X12345678", "X12345678"),
    ("PASSPORT", "Her passport number is C03005988 in the file", "C03005988"),
    ("PASSPORT", "PASSPORT: 99 1234567", "99 1234567"),
    ("PASSPORT", "Reisepass C01X00T47 gültig", "C01X00T47"),
]


@pytest.mark.parametrize(("entity", "text", "part"), VALID)
def test_numbers_after_their_words_are_found(entity: str, text: str, part: str) -> None:
    assert swept(entity, text) == [span(entity, text, part)]


INVALID: list[tuple[str, str]] = [
    ("DRIVER_LICENSE", "part F3452345 shipped"),  # bare alphanumeric
    ("DRIVER_LICENSE", "driver's license expires 2025"),  # a year, and a word between
    ("DRIVER_LICENSE", "driver's license 2025"),  # four characters
    ("DRIVER_LICENSE", "license plate 7ABC123"),  # not a licence number word
    ("DRIVER_LICENSE", "my dl 12345678"),  # DL only in capitals
    ("DRIVER_LICENSE", "DL 2020-01-05"),  # a date
    ("DRIVER_LICENSE", "driver's license ABCDEFG"),  # no digits
    ("DRIVER_LICENSE", "order 12345678 for the driver"),
    ("PASSPORT", "passport photo 12345678X"),  # a word between that is no filler
    ("PASSPORT", "my passport expires 20250101"),
    ("PASSPORT", "passport, then 12345678"),
    ("PASSPORT", "passport 12/05/2020"),
    ("PASSPORT", "invoice 533380006"),
]


@pytest.mark.parametrize(("entity", "text"), INVALID)
def test_look_alikes_are_not_found(entity: str, text: str) -> None:
    assert swept(entity, text) == []
