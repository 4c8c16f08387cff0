"""Context words lift weak candidates: near the value, or in the column's name."""

from __future__ import annotations

import pytest

from ingestguard.detectors.analyzer import Detector
from ingestguard.detectors.columns import ColumnClass, classify_column
from ingestguard.policy import Policy


@pytest.fixture(scope="module")
def patterns() -> Detector:
    return Detector(Policy(), ner=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ZIP 94105", [("US_ZIP_CODE", 4, 9)]),
        ("ref 94105", []),
        ("call 2128675309 tomorrow", [("PHONE_NUMBER", 5, 15)]),
        ("invoice 2128675309", []),
        ("call (212) 867-5309", [("PHONE_NUMBER", 5, 19)]),
    ],
)
def test_context_near_the_value(patterns: Detector, text: str, expected: list[tuple[str, int, int]]) -> None:
    assert [(f.entity_type, f.start, f.end) for f in patterns.analyze(text)] == expected


def test_context_from_the_column_name(patterns: Detector) -> None:
    numbers = [f"212{n:07d}" for n in (8675309, 5550147, 9876543, 2345678, 7654321)] * 10
    assert patterns.analyze_batch(numbers[:1]) == [()]
    plan = classify_column("msisdn", "string", numbers, Policy(), patterns, patterns)
    assert (plan.column_class, plan.entity) == (ColumnClass.ENTITY, "PHONE_NUMBER")
    other = classify_column("invoice_ref", "string", numbers, Policy(), patterns, patterns)
    assert other.column_class is ColumnClass.CLEAN


def test_field_labels_are_not_organisations() -> None:
    detector = Detector(Policy(entities=["ORGANIZATION", "US_SSN"]))
    found = [
        (f.entity_type, f.start, f.end) for f in detector.analyze("SSN 536-22-1983 on file at Acme Corp.")
    ]
    assert ("ORGANIZATION", 0, 3) not in found
    assert ("US_SSN", 4, 15) in found
