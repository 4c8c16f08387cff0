"""Recognizers the policy defines: the user's regexes and deny lists.

Context words are checked here, within the value, because the column sweeps
do not run Presidio's context enhancer. A user's regex is also used as the
RE2 prefilter when RE2 accepts it; otherwise every value goes to Python.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
import regex
from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from stdnum import bic, iban, isbn, luhn

from ingestguard.detectors.recognizers.spec import RecognizerSpec
from ingestguard.policy import CustomRecognizer, Policy

VALIDATORS: dict[str, Callable[[str], bool]] = {
    "luhn": luhn.is_valid,
    "iban": iban.is_valid,
    "bic": bic.is_valid,
    "isbn": isbn.is_valid,
}
MATCH_ANY = ""


class PolicyRegexRecognizer(PatternRecognizer):
    def __init__(self, rule: CustomRecognizer) -> None:
        self.rule = rule
        super().__init__(
            supported_entity=rule.entity,
            patterns=[Pattern(f"policy {rule.entity}", rule.regex, rule.score)],
            context=list(rule.context),
            name=f"Policy{rule.entity.title().replace('_', '')}Recognizer",
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        check = VALIDATORS.get(self.rule.validator)
        return None if check is None else check(pattern_text)

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        if self.rule.context and not any(
            regex.search(rf"\b{regex.escape(w)}\b", text, regex.IGNORECASE) for w in self.rule.context
        ):
            return []
        return super().analyze(text, entities, nlp_artifacts, regex_flags)


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
