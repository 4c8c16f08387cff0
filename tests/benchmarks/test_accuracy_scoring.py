"""The pure scoring of `benchmarks.accuracy`: exact counts, no models."""

from __future__ import annotations

import pytest

from benchmarks.accuracy import Counts, add_counts, mapped_findings, overall, prf, score, score_corpus
from benchmarks.corpora import Case, Span, _fill, generated_corpus


def test_prf_exact_values() -> None:
    p, r, f = prf(8, 2, 4)
    assert p == pytest.approx(0.8)
    assert r == pytest.approx(8 / 12)
    # F2 = 5PR / (4P + R)
    assert f == pytest.approx(5 * 0.8 * (8 / 12) / (4 * 0.8 + 8 / 12))
    assert f == pytest.approx(0.6896551724)
    assert prf(1, 1, 1, beta=1) == pytest.approx((0.5, 0.5, 0.5))


def test_prf_zero_denominators_give_zero() -> None:
    assert prf(0, 0, 0) == (0.0, 0.0, 0.0)
    assert prf(0, 3, 0) == (0.0, 0.0, 0.0)
    assert prf(0, 0, 5) == (0.0, 0.0, 0.0)


def test_overlap_match_and_ignored_types() -> None:
    gold = [Span("EMAIL", 10, 30), Span("PERSON", 0, 8)]
    pred = [
        Span("EMAIL_ADDRESS", 12, 30),  # overlaps the gold email: tp
        Span("PERSON", 40, 45),  # overlaps nothing: fp
        Span("URL", 0, 8),  # type not in the mapping: ignored
    ]
    mapping = {"EMAIL_ADDRESS": "EMAIL", "PERSON": "PERSON"}
    got = score(gold, pred, mapping)
    assert got == {"EMAIL": Counts(1, 0, 0), "PERSON": Counts(0, 1, 1)}
    strict = score(gold, pred, mapping, strict=True)
    assert strict == {"EMAIL": Counts(0, 1, 1), "PERSON": Counts(0, 1, 1)}


def test_type_must_match_even_when_spans_overlap() -> None:
    gold = [Span("SSN", 0, 11)]
    pred = [Span("PHONE_NUMBER", 0, 11)]
    got = score(gold, pred, {"US_SSN": "SSN", "PHONE_NUMBER": "PHONE"})
    assert got == {"SSN": Counts(0, 0, 1), "PHONE": Counts(0, 1, 0)}


def test_touching_spans_do_not_overlap() -> None:
    assert score([Span("A", 0, 5)], [Span("A", 5, 9)], {"A": "A"}) == {"A": Counts(0, 1, 1)}


def test_multi_target_mapping_charges_fp_to_first() -> None:
    mapping = {"LOCATION": ("LOCATION", "ADDRESS")}
    gold = [Span("ADDRESS", 0, 20)]
    assert score(gold, [Span("LOCATION", 10, 20)], mapping) == {"ADDRESS": Counts(1, 0, 0)}
    assert score(gold, [Span("LOCATION", 30, 35)], mapping) == {
        "ADDRESS": Counts(0, 0, 1),
        "LOCATION": Counts(0, 1, 0),
    }


def test_one_prediction_can_cover_two_gold_spans_and_two_predictions_one_gold() -> None:
    mapping = {"PERSON": "PERSON"}
    gold = [Span("PERSON", 0, 5), Span("PERSON", 6, 10)]
    assert score(gold, [Span("PERSON", 0, 10)], mapping) == {"PERSON": Counts(2, 0, 0)}
    gold = [Span("PERSON", 0, 10)]
    assert score(gold, [Span("PERSON", 0, 5), Span("PERSON", 6, 10)], mapping) == {"PERSON": Counts(1, 0, 0)}


def test_negative_case_counts_every_mapped_prediction() -> None:
    mapping = {"US_SSN": "SSN"}
    pred = [Span("US_SSN", 0, 11), Span("US_DRIVER_LICENSE", 0, 11)]
    assert score([], pred, mapping) == {"SSN": Counts(0, 1, 0)}
    assert mapped_findings(pred, mapping) == 1


def test_corpus_totals_and_overall() -> None:
    cases = [
        Case("a", "x" * 20, [Span("A", 0, 5)]),
        Case("b", "x" * 20, [Span("B", 0, 5), Span("A", 10, 12)]),
    ]
    preds = [[Span("A", 1, 3)], [Span("B", 4, 6), Span("B", 15, 18)]]
    totals = score_corpus(cases, preds, {"A": "A", "B": "B"})
    assert totals == {"A": Counts(1, 0, 1), "B": Counts(1, 1, 0)}
    assert overall(totals) == Counts(2, 1, 1)
    assert overall(totals, ["B"]) == Counts(1, 1, 0)
    assert add_counts({"A": Counts(1, 1, 1)}, {"A": Counts(1, 0, 0), "C": Counts(0, 0, 2)}) == {
        "A": Counts(2, 1, 1),
        "C": Counts(0, 0, 2),
    }


def test_generated_spans_point_at_their_values() -> None:
    import random

    text, gold = _fill("Ship to {~CITY}, {~STATE} {US_ZIP_CODE} for {EMAIL_ADDRESS}.", random.Random(3))
    assert [g.entity for g in gold] == ["LOCATION", "LOCATION", "US_ZIP_CODE", "EMAIL_ADDRESS"]
    assert "@" in text[gold[3].start : gold[3].end]
    assert text[gold[2].start : gold[2].end].replace("-", "").isdigit()
    cases = generated_corpus(50, seed=1, entities=["PERSON", "EMAIL_ADDRESS"])
    assert cases == generated_corpus(50, seed=1, entities=["PERSON", "EMAIL_ADDRESS"])
    assert {g.entity for c in cases for g in c.gold} <= {"PERSON", "EMAIL_ADDRESS", "LOCATION"}
