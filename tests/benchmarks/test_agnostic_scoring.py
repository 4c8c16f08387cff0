"""Type-agnostic scoring of `benchmarks.accuracy`: exact counts on hand cases, no models."""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks.accuracy import (
    Agnostic,
    agnostic_tables,
    caught,
    covered,
    score_agnostic,
    score_agnostic_corpus,
)
from benchmarks.corpora import Case, Span

NAME = Span("PERSON", 0, 10)  # a 10-character gold span


def test_two_adjacent_findings_of_other_types_cover_half_of_one_gold_span() -> None:
    pred = [Span("LOCATION", 0, 3), Span("PHONE_NUMBER", 3, 5)]
    assert covered(NAME, pred) == 5
    assert caught(NAME, pred)
    got = score_agnostic([NAME], pred)
    assert got == Agnostic(Counter(PERSON=1), Counter(PERSON=1), predicted=2, overlapping=2)


def test_less_than_half_is_not_caught_but_the_finding_is_no_false_positive() -> None:
    pred = [Span("PERSON", 0, 4)]
    assert not caught(NAME, pred)
    assert score_agnostic([NAME], pred) == Agnostic(Counter(PERSON=1), Counter(), predicted=1, overlapping=1)


def test_overlapping_findings_count_their_characters_once() -> None:
    pred = [Span("A", 0, 3), Span("B", 1, 4)]
    assert covered(NAME, pred) == 4
    assert not caught(NAME, pred)
    assert caught(NAME, [*pred, Span("C", 9, 12)])  # 0-4 and 9-10: 5 of 10


def test_finding_overlapping_no_gold_span_is_a_false_positive_and_touching_is_no_overlap() -> None:
    pred = [Span("EMAIL_ADDRESS", 20, 25), Span("PERSON", 10, 12)]
    got = score_agnostic([NAME], pred)
    assert got == Agnostic(Counter(PERSON=1), Counter(), predicted=2, overlapping=0)
    assert got.prf() == (0.0, 0.0, 0.0)


def test_one_finding_over_two_gold_spans_catches_both() -> None:
    gold = [Span("first_name", 0, 5), Span("last_name", 6, 12)]
    got = score_agnostic(gold, [Span("PERSON", 0, 12)], {"first_name": "PERSON", "last_name": "PERSON"})
    assert got == Agnostic(Counter(PERSON=2), Counter(PERSON=2), predicted=1, overlapping=1)


def test_scope_drops_other_families_and_findings_that_touch_only_them() -> None:
    gold = [NAME, Span("organization", 20, 30)]
    pred = [Span("PERSON", 0, 10), Span("ORGANIZATION", 20, 30), Span("URL", 40, 45)]
    families = {"organization": "ORGANIZATION"}
    everything = score_agnostic(gold, pred, families)
    assert everything == Agnostic(
        Counter(PERSON=1, ORGANIZATION=1), Counter(PERSON=1, ORGANIZATION=1), predicted=3, overlapping=2
    )
    pii = score_agnostic(gold, pred, families, scope=["PERSON"])
    assert pii == Agnostic(Counter(PERSON=1), Counter(PERSON=1), predicted=2, overlapping=1)


def test_corpus_totals_precision_recall_f2() -> None:
    cases = [
        Case("a", "x" * 40, [Span("PERSON", 0, 10), Span("phone", 20, 30)]),
        Case("b", "x" * 40, [Span("PERSON", 0, 4)]),
        Case("c", "x" * 40, []),  # a negative: every finding is a false positive
    ]
    preds = [
        [Span("PERSON", 0, 6), Span("X", 25, 27)],  # name caught, phone covered 2/10: missed
        [Span("LOCATION", 0, 2)],  # 2 of 4: caught
        [Span("PERSON", 0, 3), Span("PERSON", 5, 8)],
    ]
    got = score_agnostic_corpus(cases, preds, {"phone": "PHONE_NUMBER"})
    assert got == Agnostic(Counter(PERSON=2, PHONE_NUMBER=1), Counter(PERSON=2), predicted=5, overlapping=3)
    p, r, f = got.prf()
    assert (p, r) == (pytest.approx(3 / 5), pytest.approx(2 / 3))
    assert f == pytest.approx(5 * p * r / (4 * p + r))
    assert got.recall("PERSON") == 1.0
    assert got.recall("PHONE_NUMBER") == 0.0
    assert got + Agnostic() == got


def test_tables_print_the_counts() -> None:
    a = Agnostic(Counter(PERSON=4, AGE=1), Counter(PERSON=3), predicted=4, overlapping=3)
    b = Agnostic(Counter(PERSON=4, AGE=1), Counter(PERSON=2, AGE=1), predicted=3, overlapping=3)
    text = agnostic_tables({"ours": a, "theirs": b}, None, "PII")
    assert "| PERSON | 4 | 0.750 | 0.500 |" in text
    assert "| AGE | 1 | 0.000 | 1.000 |" in text
    assert "| **all families** | 5 | 4 | 0.750 | 0.600 | 0.625 | 3 | 1.000 | 0.600 | 0.652 |" in text
    assert "PII" not in text
