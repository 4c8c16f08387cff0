"""The pattern sweep's shared state and caches, and the phone recognizer's
skipping of candidates that cannot change the findings."""

from __future__ import annotations

import pyarrow as pa

from ingestguard.detectors.analyzer import Detector
from ingestguard.detectors.recognizers import PATTERN_RECOGNIZERS
from ingestguard.detectors.recognizers.contact import PhoneNumberRecognizer
from ingestguard.detectors.sweep import BoundedCache, PatternSweep
from ingestguard.policy import Policy

FIVE = ["EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "CREDIT_CARD", "IP_ADDRESS"]


def _spans(found: dict) -> dict[int, list[tuple[str, int, int, float]]]:
    return {row: sorted((f.entity_type, f.start, f.end, f.score) for f in fs) for row, fs in found.items()}


def test_protect_and_rescan_detectors_share_one_state() -> None:
    policy = Policy(entities=FIVE)
    protect, verify = Detector(policy), Detector(policy, ner=False)
    assert protect.sweep._state is verify.sweep._state
    other = Detector(Policy(entities=["PHONE_NUMBER"]), ner=False)
    assert other.sweep._state is not verify.sweep._state


def test_a_value_analyzed_once_is_not_analyzed_again() -> None:
    """The re-scan of an unchanged value is a cache lookup: the recognizers do not run."""
    specs = [PATTERN_RECOGNIZERS[e] for e in ("PHONE_NUMBER", "US_SSN")]
    thresholds = {"PHONE_NUMBER": 0.4, "US_SSN": 0.5}
    sweep = PatternSweep(specs, thresholds)
    values = pa.array(["call 212-867-5309 now", "SSN 078-05-1120", "order 4821734", None], pa.large_string())
    first = _spans(sweep.find(values))
    assert first == {
        0: [("PHONE_NUMBER", 5, 17, 0.4)],
        1: [("US_SSN", 4, 15, 1.0)],
    }
    calls: list[str] = []
    for runner in sweep._state.runners:
        inner = runner.spans
        runner.spans = lambda text, keep, inner=inner: calls.append(text) or inner(text, keep)
    try:
        assert _spans(sweep.find(values)) == first
        assert calls == []
        # the same text in a column whose name is a context word is a different question
        assert _spans(sweep.find(pa.array(["order 4821734"], pa.large_string()), ["phone"])) == {
            0: [("PHONE_NUMBER", 6, 13, 0.65)]
        }
        assert calls == ["order 4821734"]
    finally:
        for runner in sweep._state.runners:
            del runner.spans


def test_bounded_cache_forgets_its_oldest_entries() -> None:
    cache = BoundedCache(8)
    for i in range(20):
        cache.put(i, str(i))
    assert len(cache) <= 8
    assert cache.get(19) == "19"
    assert cache.get(0) is None


def test_bounded_cache_holds_at_most_its_weight() -> None:
    """Large cells fill the value cache by their size, not their number."""
    cache = BoundedCache(1000, weight=100)
    for i in range(50):
        cache.put(i, "v", weight=30)
    assert len(cache) <= 3
    assert cache.get(49) == "v"
    assert cache.get(0) is None
    cache.put("big", "v", weight=100)
    assert cache.get("big") == "v"
    assert len(cache) == 1


def test_phone_skips_only_candidates_that_cannot_change_findings() -> None:
    phone = PhoneNumberRecognizer()
    text = "SSN 501-08-5195, order 4821734, call 212-867-5309"
    everything = phone.find_spans(text)
    # judged in full: the SSN-shaped run and the bare order number are valid digits
    # somewhere but weak (not grouped as a region writes them); the phone number counts
    assert everything == [(4, 15, 0.3), (23, 30, 0.3), (37, 49, 0.4)]
    ssn = (4, 15, 1.0)

    def keep(start: int, end: int, score: float) -> bool:
        # the sweep's rule at threshold 0.4 with no phone word near, and an SSN finding at 4-15
        return score >= 0.4 and not (ssn[0] <= start and end <= ssn[1] and ssn[2] > score)

    lazy = phone.find_spans(text, keep)
    assert lazy == [s for s in everything if keep(*s)]
    assert lazy == [(37, 49, 0.4)]


def test_sweep_findings_equal_recognizer_findings_on_mixed_notes() -> None:
    """The sweep's lean runner scores as Presidio's analyze does, validators included."""
    notes = [
        "Card 4111 1111 1111 1111 declined; card 4111 1111 1111 1112 is not a card.",
        "From 10.1.2.3 and 999.1.2.3, mail ann@example.com or bob@host.invalidtld",
        "SSN 000-12-3456 is never issued, 123-45-6789 is",
    ]
    for entity in ("CREDIT_CARD", "IP_ADDRESS", "EMAIL_ADDRESS", "US_SSN"):
        spec = PATTERN_RECOGNIZERS[entity]
        recognizer = spec.build()
        sweep = PatternSweep([spec], {entity: 0.0})
        got = _spans(sweep.find(pa.array(notes, pa.large_string())))
        for row, text in enumerate(notes):
            expected = sorted(
                (entity, r.start, r.end, round(float(r.score), 4))
                for r in recognizer.analyze(text, [entity], None)
            )
            assert got.get(row, []) == expected, (entity, row)


def test_a_recognizer_is_built_when_a_value_first_passes_its_prefilter() -> None:
    specs = [PATTERN_RECOGNIZERS[e] for e in ("PHONE_NUMBER", "US_SSN", "IBAN_CODE")]
    sweep = PatternSweep(specs, {"PHONE_NUMBER": 0.4, "US_SSN": 0.5, "IBAN_CODE": 0.5})
    built = lambda: {r.spec.entity for r in sweep._state.runners if r._built}  # noqa: E731
    assert built() == set()
    assert sweep.find(pa.array(["no digits here"], pa.large_string())) == {}
    assert built() == set()
    found = _spans(sweep.find(pa.array(["SSN 078-05-1120"], pa.large_string())))
    assert found == {0: [("US_SSN", 4, 15, 1.0)]}
    # the SSN passes the phone prefilter too (seven digits); no IBAN prefilter hit
    assert built() == {"US_SSN", "PHONE_NUMBER"}


def test_specs_know_their_recognizers_context_and_kind_without_building_them() -> None:
    """The sweep picks prefilters and the order of recognizers from the spec
    before building; the built recognizer must agree."""
    for entity, spec in PATTERN_RECOGNIZERS.items():
        recognizer = spec.build()
        assert spec.context == tuple(w.lower() for w in recognizer.context or ()), entity
        assert spec.finds_own_spans == hasattr(recognizer, "find_spans"), entity
    assert "zip" in PATTERN_RECOGNIZERS["US_ZIP_CODE"].context


def test_a_column_name_outside_every_context_shares_the_cached_values() -> None:
    """The plan reads a sample with its column's name, protect without it: a name
    that no recognizer's context holds changes no finding, so the values the
    plan analyzed are not analyzed again."""
    specs = [PATTERN_RECOGNIZERS[e] for e in ("PHONE_NUMBER", "US_SSN")]
    sweep = PatternSweep(specs, {"PHONE_NUMBER": 0.4, "US_SSN": 0.5})
    values = pa.array(["call 212-867-5309 now", "order 4821734"], pa.large_string())
    planned = _spans(sweep.find(values, ["customer", "notes"]))
    calls: list[str] = []
    for runner in sweep._state.runners:
        inner = runner.spans
        runner.spans = lambda text, keep, inner=inner: calls.append(text) or inner(text, keep)
    try:
        assert _spans(sweep.find(values)) == planned == {0: [("PHONE_NUMBER", 5, 17, 0.4)]}
        assert calls == []
        # a phone word in the name is a different question
        assert _spans(sweep.find(values, ["phone", "notes"]))[1] == [("PHONE_NUMBER", 6, 13, 0.65)]
        assert calls == ["call 212-867-5309 now", "order 4821734"]
    finally:
        for runner in sweep._state.runners:
            del runner.spans


def test_custom_recognizers_keep_the_whole_column_name_in_the_cache_key() -> None:
    """A custom rule's context is known only once built: no word is left out."""
    policy = Policy.from_dict(
        {"custom_recognizers": [{"entity": "EMPLOYEE_ID", "regex": r"E\d{6}", "context": ["staff"]}]}
    )
    state = Detector(policy, ner=False).sweep._state
    assert state.relevant(["staff", "notes"]) == ("staff", "notes")
    assert PatternSweep([PATTERN_RECOGNIZERS["PHONE_NUMBER"]], {"PHONE_NUMBER": 0.4})._state.relevant(
        ["phone", "notes"]
    ) == ("phone",)
