"""Addresses, postal codes, birth dates and ages: found by shape and context, never bare."""

from __future__ import annotations

import pytest

from ingestguard.detectors.analyzer import Detector
from ingestguard.detectors.recognizers import PATTERN_RECOGNIZERS
from ingestguard.policy import Policy
from tests.support.recognizers import span, swept

CASES = [
    ("Ship to 1234 Oak Street, Springfield, IL 62704 today", "STREET_ADDRESS", [(8, 46)]),
    ("Send to P.O. Box 255", "STREET_ADDRESS", [(8, 20)]),
    ("office at 10 Downing Street, London", "STREET_ADDRESS", [(10, 27)]),
    ("4 Elm Rd, Apt 5", "STREET_ADDRESS", [(0, 15)]),
    ("The 3 Musketeers", "STREET_ADDRESS", []),
    ("order 12345 shipped 2024-01-05", "STREET_ADDRESS", []),
    # The kept tail of a masked phone is no house number (found by the idempotence property).
    ("call **********0147 BOULEVARD team", "STREET_ADDRESS", []),
    ("at 0147 BOULEVARD Haussmann", "STREET_ADDRESS", [(3, 27)]),
    ("Springfield, IL 62704", "US_ZIP_CODE", [(16, 21)]),
    ("order 62704 shipped", "US_ZIP_CODE", []),
    ("London SW1A 2AA", "UK_POSTCODE", [(7, 15)]),
    ("model SW1 a", "UK_POSTCODE", []),
    ("I was born on 03/29/1982 in Greenland", "DATE_OF_BIRTH", [(14, 24)]),
    ("DOB: 1982-03-29", "DATE_OF_BIRTH", [(5, 15)]),
    ("Her birthday is March 29, 1982", "DATE_OF_BIRTH", [(16, 30)]),
    ("shipped on 03/29/1982", "DATE_OF_BIRTH", []),
    ("Please tell me your date of birth. It's 4/24/1960", "DATE_OF_BIRTH", [(40, 49)]),
    ("patient aged 34 presented", "AGE", [(13, 15)]),
    ("he is 34 years old", "AGE", [(6, 8)]),
    ("34 boxes, 12 years of service", "AGE", []),
    ("on 1989-03-15 we met", "DATE_TIME", [(3, 13)]),
    ("due 31/12/2021", "DATE_TIME", [(4, 14)]),
    ("March 15, 1989", "DATE_TIME", [(0, 14)]),
    ("13/13/2020 is no date", "DATE_TIME", []),
    ("version 1.2.3, tomorrow at 12:30:45", "DATE_TIME", []),
]


@pytest.mark.parametrize(("text", "entity", "spans"), CASES)
def test_spans(text: str, entity: str, spans: list[tuple[int, int]]) -> None:
    recognizer = PATTERN_RECOGNIZERS[entity].build()
    found = [(r.start, r.end) for r in recognizer.analyze(text, [entity], None) if r.score >= 0.5]
    assert found == spans


def test_house_number_with_a_letter() -> None:
    detector = Detector(Policy(entities=["STREET_ADDRESS"]))
    text = "Please visit 221B Baker Street for pickup."
    assert [(f.entity_type, text[f.start : f.end]) for f in detector.analyze(text)] == [
        ("STREET_ADDRESS", "221B Baker Street")
    ]


def test_plural_context_word_lifts_zip_codes() -> None:
    detector = Detector(Policy(entities=["US_ZIP_CODE"]))
    text = "ZIPs 10001 and 30301"
    assert [(f.entity_type, text[f.start : f.end]) for f in detector.analyze(text)] == [
        ("US_ZIP_CODE", "10001"),
        ("US_ZIP_CODE", "30301"),
    ]
    assert detector.analyze("Rooms 10001 and 30301") == []


# -- ages -----------------------------------------------------------------------------------------

AGES: list[tuple[str, list[str]]] = [
    ("I just turned 37", ["37"]),
    ("she turns 40 next week", ["40"]),
    ("a 79 year old woman", ["79"]),
    ("the 79-year-old driver", ["79"]),
    ("patients aged 45 and over", ["45"]),
    ("Age: 45", ["45"]),
    ("Age 45, male", ["45"]),
    ("age=8", ["8"]),
    ("he is 45 yrs old", ["45"]),
    ("the 8 y/o boy", ["8"]),
    ("I am 37 years.", ["37"]),
    ("I'm 37 years and counting", ["37"]),
    ("my age is 37", ["37"]),
    ("he is 52 years of age", ["52"]),
    ("at the age of 12 she moved", ["12"]),
    ("aged 130", ["130"]),
    ("aged 0 at admission", ["0"]),
    ("Written when he was 21.", ["21"]),
    ("she was 64 and still running", ["64"]),
    # Not ages: durations, out of range, other numbers.
    ("37 years ago", []),
    ("5 years of experience", []),
    ("in 3 years", []),
    ("I am 5 years into my career", []),
    ("she is 40 years younger", []),
    ("aged 131", []),
    ("turned 90 degrees", []),
    ("see page 45", []),
    ("age 45%", []),
    ("Stone age 3.5", []),
    ("born in 1987, 12 years later", []),
    ("price 45 dollars, version 3.7", []),
    ("he was 5 minutes late", []),
    ("it was 21.", []),
]


@pytest.mark.parametrize(("text", "parts"), AGES)
def test_ages(text: str, parts: list[str]) -> None:
    assert swept("AGE", text) == [span("AGE", text, part) for part in parts]


# -- postal codes ---------------------------------------------------------------------------------

POSTAL_CODES: list[tuple[str, list[str]]] = [
    ("zip 94105", []),  # US_ZIP_CODE's
    ("ZIP: 94105-1234", []),
    ("my zip code is 2000", ["2000"]),
    ("Postal code: K1A 0B1", ["K1A 0B1"]),
    ("postcode 2000", ["2000"]),
    ("post code 8001 (Zürich)", ["8001"]),
    ("PLZ 10115", ["10115"]),
    ("code postal 75001", ["75001"]),
    ("postnummer 0162", ["0162"]),
    ("PSČ 533 41", ["533 41"]),
    ("CEP 01310-100", ["01310-100"]),
    ("PIN code 560001", ["560001"]),
    ("postal code 00-950", ["00-950"]),
    ("postal code: 1100-053", ["1100-053"]),
    ("zip 100-0001", ["100-0001"]),
    ("the postcode of the office is 3511 LX", ["3511 LX"]),
    # Distinctive shapes, no word needed.
    ("Ottawa K1A 0B1", ["K1A 0B1"]),
    ("M5V 2T6", ["M5V 2T6"]),
    ("2151 DK", ["2151 DK"]),
    ("2151DK Nieuw-Vennep", ["2151DK"]),
    # Where an address puts them.
    ("Kerkstraat 5, 2151 DK Nieuw-Vennep", ["2151 DK"]),
    ("Hauptstraße 12, 10115 Berlin", ["10115"]),
    ("Storgatan 14\n123 45 Stockholm", ["123 45"]),
    ("SYDNEY NSW 2000", ["2000"]),
    ("Melbourne, VIC, 3000", ["3000"]),
    # Numbers that are no postal codes.
    ("order 12345", []),
    ("in 2019", []),
    ("paid 1500 EUR", []),
    ("4096 MB RAM", []),
    ("in 1999 AD", []),
    ("version 10.12", []),
    ("2019 Report", []),
    ("In March, 2019 Apple released", []),
    ("ISBN 978-0-306-40615-7", []),
    ("room 123 45 people", []),
    ("code 12345", []),
    ("price 12,345.00", []),
]


@pytest.mark.parametrize(("text", "parts"), POSTAL_CODES)
def test_postal_codes(text: str, parts: list[str]) -> None:
    assert swept("POSTAL_CODE", text) == [span("POSTAL_CODE", text, part) for part in parts]


@pytest.mark.parametrize(
    ("value", "column"), [("2151", "postal_code"), ("123 45", "postcode"), ("2019", "year")]
)
def test_bare_postal_codes_count_in_a_postal_code_column(value: str, column: str) -> None:
    expected = [("POSTAL_CODE", 0, len(value))] if column.startswith("post") else []
    assert swept("POSTAL_CODE", value, column) == expected


# -- street addresses -----------------------------------------------------------------------------

ADDRESSES: list[tuple[str, str | None]] = [
    # US blocks and lines, any case.
    (
        "I live at 742 Evergreen Terrace\nSpringfield, OR 97403 now",
        "742 Evergreen Terrace\nSpringfield, OR 97403",
    ),
    ("8263 Christopher Stravenue Apt. 371\nNorth Samanthamouth, NV 71520.", None),
    ("074 Amanda Pine\nLake Jennifer, KS 09213", None),
    ("350 5th Avenue, New York, NY 10118", None),
    ("4831 SMITH ROAD", None),
    ("meet at 12 main street", "12 main street"),
    ("address: 5218 Taylor Spur", "5218 Taylor Spur"),
    ("HQ: 100 King Street West, Toronto, ON M5H 1J9", "100 King Street West, Toronto, ON M5H 1J9"),
    # Number after the street name, type first, French.
    ("Hauptstraße 12\n10115 Berlin", None),
    ("Kerkstraat 5A", None),
    ("Kerkstraat 5\n2151 DK Nieuw-Vennep", None),
    ("Rue de Rivoli 10", None),
    ("office at 10 rue de Rivoli", "10 rue de Rivoli"),
    ("10, rue de Rivoli\n75001 Paris", None),
    ("Storgatan 14, 123 45 Stockholm", None),
    ("Nám. Míru 1034/7\n533 41 Lázně Bohdaneč", None),
    ("Karl Johans gate 22, 0162 Oslo", None),
    ("Nørrebrogade 23\n2200 København N", None),
    ("Via Roma, 12\n00184 Roma", None),
    ("ul. Marszałkowska 10/12\n00-950 Warszawa", None),
    # UK and Australian flats and units.
    ("Flat 3, 14 Baker Street", None),
    ("Flat 3\n14 Baker Street\nLondon\nNW1 6XE", None),
    ("Flat 3\nJones Mews\nNew Jamesmouth\nB1 2AB", None),
    ("Unit 4/12 Smith St\nSYDNEY NSW 2000", None),
    # Military.
    ("Unit 9570 Box 6839", None),
    ("PSC 1234, Box 5678, APO AE 09123", None),
    ("USNS Smith\nFPO AP 96543", None),
    ("Unit 9570 Box 6839 DPO AA 34054", None),
]


@pytest.mark.parametrize(("text", "part"), ADDRESSES)
def test_street_addresses(text: str, part: str | None) -> None:
    """`part` None: the whole text is the address."""
    expected = part if part is not None else text.rstrip(".")
    assert swept("STREET_ADDRESS", text) == [span("STREET_ADDRESS", text, expected)]


NOT_ADDRESSES = [
    "The 3 Musketeers",
    "order 12345 shipped 2024-01-05",
    "I walked 10 blocks down main street",
    "drove 20 miles down the highway",
    "Top 5 Hidden Lakes",
    "5218 Taylor Spur",  # a rare street type, with no address word or town
    "In 2019 Apple released",
    "we sold 3 units on Park Avenue",
    "Windows 10 Pro",
    "chapter 12, verse 3",
    "paid $5 Main Street",
    "10 place settings for dinner",
    "boarding at Departure Gate 22",
    "Spring 12 collection",
]


@pytest.mark.parametrize("text", NOT_ADDRESSES)
def test_look_alikes_are_not_addresses(text: str) -> None:
    assert swept("STREET_ADDRESS", text) == []
