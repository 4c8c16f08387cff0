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
# Keys for one part of a name: one capitalised word is enough.
PART_KEYS = "first_?name|given_?name|last_?name|family_?name|surname|middle_?name|maiden_?name"
# Keys for a whole name or a person's role: the value must look like a full
# name, two to four words ("name" also labels products, builds and errors).
FULL_KEYS = (
    "name|full_?name|(?:customer|contact|patient|employee|card_?holder)_?name|"
    "owner|contact|customer|patient|employee|assignee|author|sender|recipient|cardholder"
)
_WORD = r"[^\W\d_][^\W\d_'’.\-]*"
_VALUE = rf"(?P<value>{_WORD}(?:[ '’\-]{_WORD}){{0,3}})"
# Key, separator, optional quote, all on one line.
_KEY_VALUE = r"""["']?[ \t]*[:=][ \t]*["']?"""
_LABELLED = re.compile(
    rf"(?i:(?<![\w])[\"']?(?P<key>{PART_KEYS}|{FULL_KEYS}){_KEY_VALUE}){_VALUE}"
    rf"(?=[\"',;&}}\]\n\r]|[ \t]*$|[ \t]+\w+[ \t]*[:=])"
)
_PART = re.compile(rf"(?i:{PART_KEYS})")
# A masked value ("XXXXXXmith"), or a word with a capital inside ("TypeError")
# unless after a surname prefix (McDonald, DeVito, LaToya, VanDyke).
_NOT_A_NAME_WORD = re.compile(r"(\w)\1{3,}|^(?!(?:Mc|Mac|De|Di|Da|La|Le|Van|Von)[A-Z]).*[a-z][A-Z]")
# RE2 superset for the column sweep: a key, then ":" or "=".
PREFILTER = rf"(?i)(?:{PART_KEYS}|{FULL_KEYS})[\"']?[ \t]*[:=]"


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
            words = m.group("value").split()
            if any(w[:1].islower() or _NOT_A_NAME_WORD.search(w) for w in words):
                continue  # "name": "default", "name": "TypeError": not a person
            if len(words) < 2 and not _PART.fullmatch(m.group("key")):
                continue  # "owner": "Finance" names a team as often as a person
            out.append(RecognizerResult("PERSON", m.start("value"), m.end("value"), SCORE))
        return out


SPECS: list[RecognizerSpec] = [RecognizerSpec("PERSON", LabelledNameRecognizer, PREFILTER)]
