from __future__ import annotations

import pytest

from ingestguard.detectors.analyzer import Finding
from ingestguard.keys import _make_key
from ingestguard.policy import Action, Policy
from ingestguard.transforms.actions import build_transforms
from ingestguard.transforms.crypto import Pseudonymizer
from ingestguard.transforms.spans import replace_spans

KEY = _make_key(bytes(range(32)), source="test")
POLICY = Policy()
TRANSFORMS = build_transforms(POLICY, KEY)


def _f(entity: str, text: str, value: str) -> Finding:
    start = text.index(value)
    return Finding(entity, start, start + len(value), 1.0, "test")


def test_no_findings_leaves_text_unchanged() -> None:
    text = "Nothing sensitive here."
    assert replace_spans(text, [], POLICY, TRANSFORMS) == text
    assert replace_spans("", [], POLICY, TRANSFORMS) == ""


def test_replace_redact_and_mask_several_spans() -> None:
    text = "Host 10.0.0.1 saw SSN 536-90-4399 and card 4111111111111111 from Paris."
    findings = [
        _f("IP_ADDRESS", text, "10.0.0.1"),
        _f("US_SSN", text, "536-90-4399"),
        _f("CREDIT_CARD", text, "4111111111111111"),
        _f("LOCATION", text, "Paris"),
    ]
    assert replace_spans(text, findings, POLICY, TRANSFORMS) == (
        "Host <IP_ADDRESS> saw SSN  and card ************1111 from <LOCATION>."
    )


def test_spans_at_both_ends_and_adjacent() -> None:
    text = "(212) 555-0147/10.1.2.3"
    findings = [_f("PHONE_NUMBER", text, "(212) 555-0147"), _f("IP_ADDRESS", text, "10.1.2.3")]
    assert replace_spans(text, findings, POLICY, TRANSFORMS) == "**********0147/<IP_ADDRESS>"
    ssn = "536-90-4399"
    assert replace_spans(ssn, [_f("US_SSN", ssn, ssn)], POLICY, TRANSFORMS) == ""


def test_pseudonymize_spans() -> None:
    text = "Mail jane@example.com about Jane Doe."
    findings = [_f("EMAIL_ADDRESS", text, "jane@example.com"), _f("PERSON", text, "Jane Doe")]
    pseudo = Pseudonymizer(KEY, 20)
    expected = f"Mail {pseudo.token('EMAIL_ADDRESS', 'jane@example.com')} about {pseudo.token('PERSON', 'Jane Doe')}."
    assert replace_spans(text, findings, POLICY, TRANSFORMS) == expected


def test_entity_without_an_action_uses_default_action() -> None:
    policy = Policy.from_dict({"entities": [*POLICY.entities, "URL"], "default_action": "redact"})
    text = "see https://example.com/x now"
    assert policy.action_for("URL") is Action.REDACT
    findings = [_f("URL", text, "https://example.com/x")]
    assert replace_spans(text, findings, policy, build_transforms(policy, None)) == "see  now"


def test_pseudonymize_without_key_fails_loudly() -> None:
    text = "Jane Doe"
    with pytest.raises(KeyError):
        replace_spans(text, [_f("PERSON", text, text)], POLICY, build_transforms(POLICY, None))
