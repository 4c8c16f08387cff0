"""Recognizers the policy defines: the user's regexes (run by RE2) and deny lists.

Context words are checked here, within the value, because the column sweeps
do not run Presidio's context enhancer. A user's regex is also used as the
RE2 prefilter when RE2 accepts it; otherwise every value goes to Python.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
import regex
from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from stdnum import bic, iban, isbn, luhn

from ingestguard.detectors.linear_regex import compile_linear
from ingestguard.detectors.recognizers.spec import RecognizerSpec
from ingestguard.policy import CustomRecognizer, Policy

VALIDATORS: dict[str, Callable[[str], bool]] = {
    "luhn": luhn.is_valid,
    "iban": iban.is_valid,
    "bic": bic.is_valid,
    "isbn": isbn.is_valid,
}
MATCH_ANY = ""
VALUE_GROUP = "value"


class PolicyRegexRecognizer(EntityRecognizer):
    """The user's regex, matched by RE2 (see `linear_regex`): no pattern and no
    cell can make it backtrack for ever, and no match is dropped on a timeout
    (Presidio's own pattern matching gives up silently after one)."""

    def __init__(self, rule: CustomRecognizer) -> None:
        self.rule = rule
        self._regex = compile_linear(rule.regex)
        # RE2 has no lookbehind: `TC(?P<value>\d{16})` reports and validates
        # only the digits, where a backtracking engine would write `(?<=TC)\d{16}`.
        self._value_group = self._regex.groupindex.get(VALUE_GROUP, 0)
        super().__init__(
            supported_entities=[rule.entity],
            context=list(rule.context),
            name=f"Policy{rule.entity.title().replace('_', '')}Recognizer",
        )

    def load(self) -> None:
        """Nothing to load: the pattern is compiled in the constructor."""

    def validate_result(self, pattern_text: str) -> bool | None:
        check = VALIDATORS.get(self.rule.validator)
        return None if check is None else check(pattern_text)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if self.rule.context and not any(
            regex.search(rf"\b{regex.escape(w)}\b", text, regex.IGNORECASE) for w in self.rule.context
        ):
            return []
        results = []
        for match in self._regex.finditer(text):
            start, end = match.span(self._value_group)
            if start == end:
                continue
            # A validator decides alone, as in Presidio: a checksum beats the rule's score.
            valid = self.validate_result(text[start:end])
            score = self.rule.score if valid is None else (self.MAX_SCORE if valid else self.MIN_SCORE)
            if score > self.MIN_SCORE:
                results.append(RecognizerResult(self.rule.entity, start, end, score))
        return results


def _re2_or_any(pattern: str) -> str:
    try:
        pc.match_substring_regex(pa.array([""]), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return MATCH_ANY
    return pattern


def policy_specs(policy: Policy) -> list[RecognizerSpec]:
    specs = [
        # Presidio matches case-insensitively by default, so must the prefilter.
        RecognizerSpec(
            rule.entity, lambda rule=rule: PolicyRegexRecognizer(rule), _re2_or_any("(?i)" + rule.regex)
        )
        for rule in policy.custom_recognizers
    ]
    for entity, words in policy.deny_lists.items():
        prefilter = _re2_or_any("(?i)" + "|".join(regex.escape(w) for w in words))
        specs.append(
            RecognizerSpec(
                entity,
                lambda entity=entity, words=words: PatternRecognizer(
                    supported_entity=entity,
                    deny_list=list(words),
                    name=f"DenyList{entity.title().replace('_', '')}",
                ),
                prefilter,
            )
        )
    return specs
