"""National-ID recognizers: checksum-valid numbers in their written layout are
found with exact spans; checksum failures, never-issued ranges, bare digit
runs and look-alikes (phone numbers, order numbers, ISBNs, timestamps) are not."""

from __future__ import annotations

import pytest

from ingestguard.detectors.recognizers import PATTERN_RECOGNIZERS
from tests.support.recognizers import found as _found
from tests.support.recognizers import span as _span

VALID: list[tuple[str, str, str]] = [
    ("US_SSN", "SSN 078-05-1120 on file", "078-05-1120"),
    ("US_SSN", "ssn: 219 09 9998.", "219 09 9998"),
    ("US_ITIN", "ITIN 912-70-1234 issued", "912-70-1234"),
    ("US_EIN", "EIN 04-2103594 (employer)", "04-2103594"),
    ("UK_NINO", "NI number AB 12 34 56 C given", "AB 12 34 56 C"),
    ("UK_NINO", "nino=JG103759A;", "JG103759A"),
    ("UK_NHS", "NHS number 943 476 5919 recorded", "943 476 5919"),
    ("CA_SIN", "SIN 130-692-544 on the form", "130-692-544"),
    ("CA_SIN", "SIN 130 692 544", "130 692 544"),
    ("DE_TAX_ID", "Steuer-IdNr 36 574 261 809 bitte", "36 574 261 809"),
    ("FR_NIR", "NIR 1 85 05 78 006 084 91 ici", "1 85 05 78 006 084 91"),
    ("FR_NIR", "nir=185057800608491", "185057800608491"),
    ("ES_NIF", "DNI 12345678Z del titular", "12345678Z"),
    ("ES_NIF", "NIF 12345678-Z", "12345678-Z"),
    ("ES_NIE", "NIE X1234567L expedido", "X1234567L"),
    ("ES_NIE", "NIE Y-1234567-X", "Y-1234567-X"),
    ("IT_FISCAL_CODE", "CF RSSMRA45C12F205C del cliente", "RSSMRA45C12F205C"),
    ("IT_FISCAL_CODE", "codice MRTNTN23M02D969P.", "MRTNTN23M02D969P"),
    ("NL_BSN", "BSN 1112.22.333 van de klant", "1112.22.333"),
    ("IN_AADHAAR", "Aadhaar 2345 6789 0124 linked", "2345 6789 0124"),
    ("IN_AADHAAR", "aadhaar 2345-6789-0124", "2345-6789-0124"),
    ("IN_PAN", "PAN ABCPD1234F filed", "ABCPD1234F"),
]


@pytest.mark.parametrize(("entity", "text", "part"), VALID)
def test_valid_numbers_are_found_with_exact_spans(entity: str, text: str, part: str) -> None:
    assert _found(entity, text) == [_span(entity, text, part)]


INVALID: list[tuple[str, str]] = [
    ("US_SSN", "SSN 666-12-3456"),  # area 666 never issued
    ("US_SSN", "SSN 000-12-3456"),
    ("US_SSN", "SSN 912-70-1234"),  # 9xx is ITIN territory
    ("US_SSN", "SSN 123-00-4567"),  # group 00
    ("US_SSN", "SSN 123-45-0000"),  # serial 0000
    ("US_SSN", "order 123456789 shipped"),  # bare digits
    ("US_SSN", "call 078-05-11200"),  # longer run
    ("US_SSN", "ref 2023-078-05-1120"),
    ("US_SSN", "ISBN 0-306-40615-2"),
    ("US_ITIN", "ITIN 912-40-1234"),  # group outside ITIN ranges
    ("US_ITIN", "invoice 912701234"),  # bare digits
    ("US_EIN", "EIN 07-1234567"),  # 07 is no IRS campus
    ("US_EIN", "order 042103594"),  # bare digits
    ("UK_NINO", "ref GB 12 34 56 A"),  # prefix never issued
    ("UK_NINO", "ref DA123456A"),  # D never a first letter
    ("UK_NINO", "ref QQ123456B"),  # Q never a first letter (HMRC sample)
    ("UK_NINO", "code AB123456"),  # no suffix
    ("UK_NINO", "code AB123456E"),  # suffix outside A-D
    ("UK_NHS", "NHS 943 476 5918"),  # mod-11 failure
    ("UK_NHS", "call 206-555-0198"),  # phone layout, checksum-valid by chance
    ("UK_NHS", "id 9434765919"),  # bare digits
    ("CA_SIN", "SIN 130-692-545"),  # Luhn failure
    ("CA_SIN", "SIN 046 454 286"),  # 0 is never issued
    ("CA_SIN", "order 130692544"),  # bare digits
    ("DE_TAX_ID", "IdNr 36 574 261 808"),  # check digit
    ("DE_TAX_ID", "tel 49 301 234 567"),
    ("FR_NIR", "NIR 1 85 05 78 006 084 92"),  # key
    ("FR_NIR", "ts 202310051234567"),  # timestamp-like 15 digits
    ("ES_NIF", "DNI 12345678A"),  # wrong letter
    ("ES_NIF", "NIE X1234567L"),  # an NIE is not a DNI
    ("ES_NIE", "NIE X1234567A"),
    ("IT_FISCAL_CODE", "CF RSSMRA45C12F205D"),  # check letter
    ("IT_FISCAL_CODE", "word ABCDEFGHIJKLMNOP"),
    ("NL_BSN", "BSN 1112.22.334"),  # eleven-proof failure
    ("NL_BSN", "order 111222333"),  # bare digits
    ("NL_BSN", "v1112.22.333.4"),
    ("IN_AADHAAR", "Aadhaar 2345 6789 0125"),  # Verhoeff failure
    ("IN_AADHAAR", "Aadhaar 1234 5678 9012"),  # leading 1
    ("IN_AADHAAR", "id 234567890124"),  # bare digits
    ("IN_PAN", "PAN ABCDE1234F"),  # D is no holder type
    ("IN_PAN", "pan abcpd1234f"),  # lower case
    ("IN_PAN", "ts 2023-10-05T12:34:56Z"),
]


@pytest.mark.parametrize(("entity", "text"), INVALID)
def test_invalid_numbers_and_look_alikes_are_not_found(entity: str, text: str) -> None:
    assert _found(entity, text) == []


@pytest.mark.parametrize(
    ("entity", "bare"),
    [("US_SSN", "078051120"), ("CA_SIN", "130692544"), ("NL_BSN", "111222333"), ("UK_NHS", "9434765919")],
)
def test_bare_checksum_valid_digits_stay_below_the_threshold(entity: str, bare: str) -> None:
    results = PATTERN_RECOGNIZERS[entity].build().analyze(bare, [entity], None)
    assert [r.score for r in results] == [0.3]
