"""Two models' opinions on one text, made into findings.

The spaCy model reads sentences well but calls many people and towns
organisations; the names model (Rampart) finds names, addresses and numbers
that spaCy misses but knows no organisations and few places outside
addresses. This is the one place that decides between them: neither model's
code knows about the other.

A span spaCy tags as an organisation, a group (NORP) or a facility is a
candidate, not a discard: the names model's reading of the same characters
(even below its own threshold), and the span's shape, type it as a person, a
place or an organisation. When nothing does, it is an UNRESOLVED_NAME: a
privacy guard errs towards protecting it, and the evidence counts it apart so
the cost is visible.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence

from ingestguard.detectors.finding import NAMES_RECOGNIZER, NER_RECOGNIZER, Finding, merge_overlaps
from ingestguard.detectors.names_model import ModelSpan

# The fixed confidence Presidio's SpacyRecognizer gives spaCy entities.
NER_SCORE = 0.85
# Below this the names model's span is only evidence for typing a spaCy span.
MODEL_FINDING_SCORE = 0.5

# spaCy's OntoNotes labels as reported here; ORG, NORP and FAC are resolved below.
SPACY_LABELS = {"PERSON": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION"}
CANDIDATE_LABELS = frozenset({"ORG", "NORP", "FAC"})
# The names model's kinds as reported here (ID_NUMBER has no entity of its own:
# the validated national-identifier recognizers own those).
MODEL_ENTITIES = {
    "PERSON": "PERSON",
    "ADDRESS": "STREET_ADDRESS",
    "PLACE": "LOCATION",
    "POSTAL_CODE": "POSTAL_CODE",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "DRIVER_LICENSE": "DRIVER_LICENSE",
    "PASSPORT": "PASSPORT",
}
_ADDRESS_PARTS = frozenset({"ADDRESS", "PLACE", "POSTAL_CODE"})
# Between the parts of one address: commas, spaces, line breaks.
_ADDRESS_GAP = re.compile(r"[\s,]{0,4}")
# Words that end an organisation's name ("Acme Corp", "Bank of ...", "University").
_ORG_WORDS = re.compile(
    r"(?i)\b(?:inc|ltd|llc|llp|plc|corp|corporation|co|company|companies|gmbh|ag|sa|s\.a|bv|nv|ab|oy|as|"
    r"group|holdings|partners|associates|bank|university|college|school|institute|hospital|clinic|"
    r"foundation|association|society|council|ministry|department|agency|committee|commission|"
    r"authority|office|services|solutions|systems|technologies|labs|studio|studios|media|press|"
    r"church|club|team|union|party|court|police|army|navy|airlines?|airways|motors|pharma|energy|"
    r"insurance|capital|ventures|consulting|international|global)\b\.?$"
)
# A nationality, religion or political group: "American", "Dutch", "Buddhists".
_DEMONYM = re.compile(r"^[A-Z][a-z]+(?:an|ans|ese|ish|ic|ics|i|is|ch|ist|ists|ans)$")
# Digits a number must have before the names model alone may call it a phone.
MIN_PHONE_DIGITS = 7


def combine(
    text: str,
    spacy_spans: Sequence[tuple[str, int, int]],
    model_spans: Sequence[ModelSpan],
    wanted: Collection[str],
    threshold: Callable[[str], float],
) -> list[Finding]:
    """Findings of the `wanted` entities that pass their `threshold`, from both
    models' spans over `text`, overlaps merged."""
    found = [f for f in _model_findings(text, model_spans) if f.entity_type in wanted]
    for label, start, end in spacy_spans:
        entity = SPACY_LABELS.get(label) or _resolve(label, text[start:end], start, end, model_spans)
        if entity in wanted:
            found.append(Finding(entity, start, end, NER_SCORE, NER_RECOGNIZER))
    return merge_overlaps(f for f in found if f.score >= threshold(f.entity_type))


def _resolve(label: str, words: str, start: int, end: int, model_spans: Sequence[ModelSpan]) -> str:
    """The entity a spaCy ORG, NORP or FAC span is, by the names model's reading
    of its characters, then by its shape; UNRESOLVED_NAME when nothing decides."""
    kinds = {s.kind for s in model_spans if s.start < end and start < s.end}
    if "PERSON" in kinds:
        return "PERSON"
    if kinds & _ADDRESS_PARTS or label == "FAC":
        return "LOCATION"
    if label == "ORG" and _ORG_WORDS.search(words):
        return "ORGANIZATION"
    if label == "NORP" and _DEMONYM.match(words.strip()):
        return "NRP"
    return "UNRESOLVED_NAME"


def _model_findings(text: str, spans: Sequence[ModelSpan]) -> list[Finding]:
    """The names model's sure spans as findings; the parts of one address
    (street, town, postal code side by side) become one STREET_ADDRESS."""
    sure = [s for s in spans if s.score >= MODEL_FINDING_SCORE and s.kind in MODEL_ENTITIES]
    sure = [s for s in sure if s.kind != "PHONE_NUMBER" or _digits(text, s) >= MIN_PHONE_DIGITS]
    out: list[Finding] = []
    i = 0
    while i < len(sure):
        span, j = sure[i], i
        has_street = span.kind == "ADDRESS"
        end, scores = span.end, [span.score]
        while (
            span.kind in _ADDRESS_PARTS
            and j + 1 < len(sure)
            and sure[j + 1].kind in _ADDRESS_PARTS
            and _ADDRESS_GAP.fullmatch(text, end, sure[j + 1].start)
        ):
            j += 1
            end = sure[j].end
            scores.append(sure[j].score)
            has_street = has_street or sure[j].kind == "ADDRESS"
        entity = "STREET_ADDRESS" if has_street else MODEL_ENTITIES[span.kind]
        if j > i and not has_street:  # a town and its postal code: one place
            entity = "LOCATION"
        out.append(Finding(entity, span.start, end, round(min(scores), 4), NAMES_RECOGNIZER))
        i = j + 1
    return out


def _digits(text: str, span: ModelSpan) -> int:
    return sum(ch.isdigit() for ch in text[span.start : span.end])
