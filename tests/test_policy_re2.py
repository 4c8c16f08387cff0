"""Policy regexes run under RE2: linear time on any cell, and what RE2 cannot run
is refused when the policy loads, naming the entity."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingestguard.detectors.analyzer import Detector
from ingestguard.errors import PolicyError
from ingestguard.policy import Policy


def _policy_file(tmp_path: Path, regex: str) -> Path:
    path = tmp_path / "policy.yaml"
    rule = {"entity": "BATCH_CODE", "regex": regex}
    path.write_text(yaml.safe_dump({"entities": ["EMAIL_ADDRESS"], "custom_recognizers": [rule]}))
    return path


def test_catastrophic_pattern_is_matched_in_linear_time(tmp_path: Path) -> None:
    # `(a+)+$` on a's followed by "b" takes a backtracking engine 2**n steps;
    # at n = 50,000 this test would never finish without RE2.
    detector = Detector(Policy.load(_policy_file(tmp_path, r"(a+)+$")), ner=False)
    hostile = "a" * 50_000 + "b"
    assert detector.analyze(hostile) == []
    # The same pattern still finds what it describes: a run of a's ending a line.
    text = hostile + "\n" + "a" * 40
    found = [(f.entity_type, f.start, f.end) for f in detector.analyze(text)]
    assert found == [("BATCH_CODE", len(hostile) + 1, len(text))]


@pytest.mark.parametrize(
    ("regex", "reason"),
    [
        (r"(\w+)\s+\1", "backreference"),
        (r"(?<=ID:)\d{6}", "lookbehind"),
        (r"\d{6}(?!\d)", "lookahead"),
        (r"(?>a+)b", "atomic group"),
        (r"a++b", "possessive quantifier"),
    ],
)
def test_what_re2_cannot_run_is_refused_at_load(tmp_path: Path, regex: str, reason: str) -> None:
    with pytest.raises(PolicyError) as err:
        Policy.load(_policy_file(tmp_path, regex))
    message = str(err.value)
    assert "custom_recognizers.0" in message, reason
    assert "regex for BATCH_CODE cannot run under RE2" in message, reason
    assert "\n" not in message


def test_value_group_replaces_lookbehind() -> None:
    policy = Policy.from_dict(
        {"entities": ["EMAIL_ADDRESS"], "custom_recognizers": [{"entity": "BATCH_CODE", "regex": r"ID:(?P<value>\d{6})\b"}]}
    )
    found = Detector(policy, ner=False).analyze("lot ID:123456 shipped")
    assert [(f.entity_type, f.start, f.end) for f in found] == [("BATCH_CODE", 7, 13)]
