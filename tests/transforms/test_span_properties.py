"""Properties of span replacement in free text, for any text and any findings."""

from __future__ import annotations

from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestguard.detectors.analyzer import Detector, Finding, merge_overlaps
from ingestguard.detectors.finding import NER_RECOGNIZER
from ingestguard.keys import _make_key
from ingestguard.policy import Action, Policy
from ingestguard.transforms.actions import build_transforms
from ingestguard.transforms.spans import replace_spans

KEY = _make_key(bytes(range(32)), source="test")
ENTITIES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "PERSON"]
REPLACE_ALL = Policy(actions={}, default_action=Action.REPLACE)
REDACT_ALL = Policy(actions={}, default_action=Action.REDACT)
# Real values of the pattern detector's entities, to hide inside any text.
VALUES = [
    "jane.roe@example.org",
    "(212) 555-0147",
    "+44 20 7946 0958",
    "078-05-1120",
    "4111 1111 1111 1111",
    "GB82 WEST 1234 5698 7654 32",
    "192.168.10.24",
    # Obfuscated: found on the normalized copy, the original span replaced.
    "jane.roe\u200b@example.org",
    "０７８-０５-１１２０",
    "4111\ufeff1111 1111 1111",
]
PROPERTIES = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def texts_with_findings(draw: st.DrawFn) -> tuple[str, list[Finding]]:
    """Any text, and findings over it that may overlap, nest, touch or repeat."""
    text = draw(st.text(min_size=1, max_size=80))
    spans = st.tuples(st.integers(0, len(text) - 1), st.integers(1, len(text))).map(sorted)
    findings = [
        Finding(entity, start, end, score, recognizer)
        for (start, end), entity, score, recognizer in draw(
            st.lists(
                st.tuples(
                    spans.filter(lambda s: s[0] < s[1]),
                    st.sampled_from(ENTITIES),
                    st.floats(0.0, 1.0),
                    st.sampled_from(["Pattern", NER_RECOGNIZER]),
                ),
                max_size=8,
            )
        )
    ]
    return text, findings


def _covered(findings: list[Finding]) -> set[int]:
    return {i for f in findings for i in range(f.start, f.end)}


@PROPERTIES
@given(texts_with_findings())
def test_merged_findings_are_sorted_disjoint_and_cover_the_same_characters(
    case: tuple[str, list[Finding]],
) -> None:
    _, findings = case
    merged = merge_overlaps(findings)
    assert all(a.end <= b.start for a, b in zip(merged, merged[1:], strict=False))
    assert _covered(merged) == _covered(findings)
    assert {f.entity_type for f in merged} <= {f.entity_type for f in findings}


@PROPERTIES
@given(texts_with_findings())
def test_redacted_text_is_exactly_the_text_outside_the_findings(case: tuple[str, list[Finding]]) -> None:
    text, findings = case
    out = replace_spans(text, merge_overlaps(findings), REDACT_ALL, build_transforms(REDACT_ALL, KEY))
    covered = _covered(findings)
    # Nothing of any span is left at its place; everything else stays, in order.
    assert out == "".join(ch for i, ch in enumerate(text) if i not in covered)


@PROPERTIES
@given(texts_with_findings())
def test_each_span_becomes_its_label_and_the_rest_stays_in_order(case: tuple[str, list[Finding]]) -> None:
    text, findings = case
    merged = merge_overlaps(findings)
    out = replace_spans(text, merged, REPLACE_ALL, build_transforms(REPLACE_ALL, KEY))
    cursor = 0
    for f in merged:
        outside = text[cursor : f.start]
        assert out.startswith(outside)
        out = out[len(outside) :]
        assert out.startswith(f"<{f.entity_type}>")
        out = out[len(f"<{f.entity_type}>") :]
        cursor = f.end
    assert out == text[cursor:]


@cache
def _patterns() -> Detector:
    return Detector(Policy(), ner=False)


def _protect(text: str, policy: Policy) -> str:
    return replace_spans(text, _patterns().analyze(text), policy, build_transforms(policy, KEY))


# Prose around the values: words of any script, spaces and punctuation. (Digits
# run into a value's own: "2 (212) 555-0147" is no valid phone number.)
FILLER = st.text(alphabet=st.characters(categories=["L", "Zs", "Po"]), max_size=20)


@PROPERTIES
@given(st.lists(st.tuples(FILLER, st.sampled_from(VALUES)), min_size=1, max_size=5), FILLER)
def test_protecting_a_protected_text_changes_nothing(pieces: list[tuple[str, str]], tail: str) -> None:
    # Values stand apart from the filler (as in prose), so each is found whole.
    text = "".join(f"{filler} {value} " for filler, value in pieces) + tail
    for policy in (Policy(), REPLACE_ALL):  # the default actions: pseudonyms, masks, cuts
        once = _protect(text, policy)
        assert not any(f" {value} " in once for _, value in pieces)
        assert _protect(once, policy) == once
