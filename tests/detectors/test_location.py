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
    ("Springfield, IL 62704", "US_ZIP_CODE", [(16, 21)]),
    ("order 62704 shipped", "US_ZIP_CODE", []),
    ("London SW1A 2AA", "UK_POSTCODE", [(7, 15)]),
    ("model SW1 a", "UK_POSTCODE", []),
    ("I was born on 03/29/1982 in Greenland", "DATE_OF_BIRTH", [(14, 24)]),
    ("DOB: 1982-03-29", "DATE_OF_BIRTH", [(5, 15)]),
    ("Her birthday is March 29, 1982", "DATE_OF_BIRTH", [(16, 30)]),
    ("shipped on 03/29/1982", "DATE_OF_BIRTH", []),
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
]


@pytest.mark.parametrize(("text", "parts"), AGES)
def test_ages(text: str, parts: list[str]) -> None:
    assert swept("AGE", text) == [span("AGE", text, part) for part in parts]
