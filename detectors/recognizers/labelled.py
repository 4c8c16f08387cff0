"""Names written as the value of a field that says it holds a person's name.

Records serialised into text (JSON payloads, log lines, `key=value` pairs)
label their values: in `{"name":"Amy Wong"}` or `owner: Raj Mehta` the key
says what the model has no sentence to guess from, and the small NER model
misses most such names. This is the column-name rule applied inside a text.
"""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from ingestguard.detectors.recognizers.spec import RecognizerSpec

SCORE = 0.85
# Keys that name the value as a person's name: one capitalized word is enough.
NAME_KEYS = (
    "name|full_?name|first_?name|given_?name|last_?name|family_?name|surname|middle_?name|"
    "maiden_?name|(?:customer|contact|patient|employee|user|owner|account|card_?holder)_?name"
)
# Keys that name a person's role: the value must look like a full name.
ROLE_KEYS = "owner|contact|customer|patient|employee|assignee|author|sender|recipient|cardholder"
_WORD = r"[^\W\d_][^\W\d_'’.\-]*"
_VALUE = rf"(?P<value>{_WORD}(?:[ '’\-]{_WORD}){{0,3}})"
_KEY_VALUE = r"""["']?\s*[:=]\s*["']?"""
_LABELLED = re.compile(
    rf"(?i:(?<![\w])[\"']?(?P<key>{NAME_KEYS}|{ROLE_KEYS}){_KEY_VALUE}){_VALUE}(?=[\"',;}}\]\n\r]|\s*$|\s+\w+\s*[:=])"
)
_ROLE = re.compile(rf"(?i:{ROLE_KEYS})")
# RE2 superset for the column sweep: a key, then ":" or "=".
PREFILTER = rf"(?i)(?:{NAME_KEYS}|{ROLE_KEYS})[\"']?\s*[:=]"


class LabelledNameRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name="LabelledNameRecognizer")

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        out = []
        for m in _LABELLED.finditer(text):
            value = m.group("value")
            words = re.split(r"[ '’\-]", value)
            if any(w[:1].islower() for w in words):
                continue  # "name": "default", "owner": "team-a": not a person
            if _ROLE.fullmatch(m.group("key")) and len(words) < 2:
                continue  # "owner": "Finance" names a team as often as a person
            out.append(RecognizerResult("PERSON", m.start("value"), m.end("value"), SCORE))
        return out


SPECS: list[RecognizerSpec] = [RecognizerSpec("PERSON", LabelledNameRecognizer, PREFILTER)]
