"""Policy-defined recognizers: regexes with context and validators, deny and allow lists, countries."""

from __future__ import annotations

import pytest

from ingestguard.detectors.analyzer import Detector
from ingestguard.errors import PolicyError
from ingestguard.policy import Policy

POLICY = Policy.from_dict(
    {
        "custom_recognizers": [
            {"entity": "EMPLOYEE_ID", "regex": r"\bEMP-\d{6}\b", "context": ["employee", "staff"]},
            {"entity": "TICKET_CARD", "regex": r"\bTC(\d{16})\b", "validator": "luhn", "score": 0.9},
        ],
        "deny_lists": {"PROJECT": ["Blue Bird", "Falcon-9"]},
        "allow_list": ["help@example.com"],
        "fail_on": ["EMPLOYEE_ID"],
    }
)


@pytest.fixture(scope="module")
def patterns() -> Detector:
    return Detector(POLICY, ner=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new employee EMP-123456 joined", [("EMPLOYEE_ID", 13, 23)]),
        ("EMP-123456 without its context word", []),
        ("Staff badge emp-654321", [("EMPLOYEE_ID", 12, 22)]),
        ("Project blue bird and Falcon-9 slipped", [("PROJECT", 8, 17), ("PROJECT", 22, 30)]),
        ("Bluebirds sing", []),
        ("write to help@example.com or jane@example.com", [("EMAIL_ADDRESS", 29, 45)]),
    ],
)
def test_policy_recognizers(patterns: Detector, text: str, expected: list[tuple[str, int, int]]) -> None:
    assert [(f.entity_type, f.start, f.end) for f in patterns.analyze(text)] == expected


def test_policy_entities_are_active_and_can_fail_the_run() -> None:
    assert POLICY.active_entities()[-3:] == ["EMPLOYEE_ID", "TICKET_CARD", "PROJECT"]
    assert POLICY.fail_on == ["EMPLOYEE_ID"]


def test_validator_rejects_bad_checksums(patterns: Detector) -> None:
    custom = Policy.from_dict(
        {
            "entities": ["EMAIL_ADDRESS"],
            "custom_recognizers": [{"entity": "TICKET_CARD", "regex": r"TC\d{16}\b", "validator": "luhn"}],
        }
    )
    detector = Detector(custom, ner=False)
    assert [f.entity_type for f in detector.analyze("TC4111111111111111")] == []  # "TC" breaks Luhn input
    digits = Policy.from_dict(
        {
            "entities": ["EMAIL_ADDRESS"],
            "custom_recognizers": [
                {"entity": "TICKET_CARD", "regex": r"TC(?P<value>\d{16})\b", "validator": "luhn"}
            ],
        }
    )
    detector = Detector(digits, ner=False)
    assert [(f.entity_type, f.start, f.end) for f in detector.analyze("TC4111111111111111")] == [
        ("TICKET_CARD", 2, 18)
    ]
    assert detector.analyze("TC4111111111111112") == []


def test_countries_turn_on_their_identifiers() -> None:
    policy = Policy.from_dict({"countries": ["GB", "NL"]})
    assert {"UK_NINO", "UK_NHS", "NL_BSN"} <= set(policy.active_entities())
    assert "CA_SIN" not in policy.active_entities()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"countries": ["XX"]}, "no identifiers known for country XX"),
        ({"custom_recognizers": [{"entity": "X_ID", "regex": "("}]}, "regex for X_ID cannot run under RE2"),
        ({"custom_recognizers": [{"entity": "US_SSN", "regex": "x"}]}, "is a built-in entity"),
        (
            {"custom_recognizers": [{"entity": "X_ID", "regex": "x", "validator": "crc"}]},
            "custom_recognizers.0.validator",
        ),
    ],
)
def test_bad_custom_policy(data: dict, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy.from_dict(data)
