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

import bisect
import re
from collections.abc import Callable, Collection, Sequence

from ingestguard.detectors.candidates import writes_in_lower_case
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
# Between the parts of one address: commas, spaces, line breaks, and a unit
# the model left untagged ("\n Apt. 12\n").
_ADDRESS_GAP = re.compile(
    r"[\s,]{0,8}(?:(?i:apt|apartment|suite|ste|unit|flat|floor|fl|room|no)\.?[\s#]{0,3})?(?:\d{1,5}[A-Za-z]?[\s,]{1,8})?"
)
# Words that end an organisation's name ("Acme Corp", "Bank of ...", "University").
_ORG_WORDS = re.compile(
    r"(?i)\b(?:inc|ltd|llc|llp|plc|corp|corporation|co|company|companies|gmbh|ag|sa|s\.a|bv|nv|ab|oy|as|"
    r"group|holdings|partners|associates|bank|university|college|school|institute|hospital|clinic|"
    r"foundation|association|society|council|ministry|department|agency|committee|commission|"
    r"authority|office|services|solutions|systems|technologies|labs|studio|studios|media|press|"
    r"church|club|team|union|party|court|police|army|navy|airlines?|airways|motors|pharma|energy|"
    r"insurance|capital|ventures|consulting|international|global)\b\.?$"
)
# Nationalities and languages: words both models at times take for a person's
# name ("Croatian", "Danish" standing alone), never identifying on their own.
_NATIONALITY_WORDS = """afghan albanian algerian american andorran angolan argentine argentinian armenian australian
    austrian azerbaijani bahraini bangladeshi belarusian belgian bolivian bosnian brazilian british
    bulgarian burmese cambodian cameroonian canadian catalan chechen chilean chinese colombian congolese
    croatian cuban cypriot czech danish dutch ecuadorian egyptian emirati english eritrean estonian
    ethiopian european filipino finnish flemish french georgian german ghanaian greek guatemalan haitian
    hispanic honduran hungarian icelandic indian indonesian iranian iraqi irish israeli italian ivorian
    jamaican japanese jordanian kazakh kenyan korean kosovar kurdish kuwaiti kyrgyz latin latino latvian
    lebanese libyan lithuanian luxembourgish macedonian malagasy malaysian maltese mexican moldovan
    mongolian montenegrin moroccan nepalese nigerian norwegian omani pakistani palestinian panamanian
    paraguayan persian peruvian polish portuguese qatari romanian russian rwandan saudi scandinavian
    scottish senegalese serbian singaporean slovak slovakian slovene slovenian somali spanish sudanese
    swedish swiss syrian taiwanese tajik tamil thai tibetan tunisian turkish turkmen ugandan ukrainian
    uruguayan uzbek venezuelan vietnamese welsh yemeni zambian zimbabwean arabic hindi urdu bengali
    punjabi swahili yoruba hebrew"""
NATIONALITIES = frozenset(_NATIONALITY_WORDS.split())
_WORD_KINDS = frozenset({"PERSON", "PLACE"})
_NUMBER_KINDS = frozenset({"POSTAL_CODE", "PHONE_NUMBER", "DRIVER_LICENSE", "PASSPORT"})
# The model guesses document numbers from a code's shape alone ("SKU67890-B");
# only the words that name the document make one.
_DOCUMENT_KINDS = frozenset({"DRIVER_LICENSE", "PASSPORT"})
_DOCUMENT_WORDS = re.compile(r"(?i)licen[cs]e|\bDL\b|driv|passport|führerschein|permis")
# Glue that makes a number part of a code: "SKU-00012", "v2_1234", "A/12345".
_CODE_GLUE = "-_/.#"
# The model reads "ext 9" after a phone number as a unit of an address.
_PHONE_EXTENSION = re.compile(r"(?i)(?:ext|extension|x)\.?\s*\d")
# Digits a number must have before the names model alone may call it a phone.
MIN_PHONE_DIGITS = 7


def combine(
    text: str,
    spacy_spans: Sequence[tuple[str, int, int]],
    model_spans: Sequence[ModelSpan],
    wanted: Collection[str],
    threshold: Callable[[str], float],
    model_read: bool = True,
) -> list[Finding]:
    """Findings of the `wanted` entities that pass their `threshold`, from both
    models' spans over `text`, overlaps merged. `model_read`: the names model
    read every spaCy ORG, NORP and FAC span (see `candidates`)."""
    lower_case = writes_in_lower_case(text)
    found = [f for f in _model_findings(text, model_spans, lower_case) if f.entity_type in wanted]
    readings = _Readings(model_spans)
    for label, start, end in spacy_spans:
        if label in CANDIDATE_LABELS and not (lower_case or _capitalised(text[start:end])):
            continue  # "free", "sku": names are written with capitals
        if _nationality(text[start:end]):
            entity = "NRP"  # whichever label either model gave it
        else:
            entity = SPACY_LABELS.get(label) or _resolve(
                label, text[start:end], readings.over(start, end), model_read
            )
        if entity in wanted:
            found.append(Finding(entity, start, end, NER_SCORE, NER_RECOGNIZER))
    return merge_overlaps(f for f in found if f.score >= threshold(f.entity_type))


class _Readings:
    """The names model's spans of one text, sorted, to find those over a span
    without scanning them all (a long text can hold thousands)."""

    # Longer than any span the model reads in one window.
    LONGEST = 4096

    def __init__(self, spans: Sequence[ModelSpan]) -> None:
        self._spans = sorted(spans, key=lambda s: s.start)
        self._starts = [s.start for s in self._spans]

    def over(self, start: int, end: int) -> list[ModelSpan]:
        first = bisect.bisect_left(self._starts, start - self.LONGEST)
        last = bisect.bisect_left(self._starts, end)
        return [s for s in self._spans[first:last] if s.end > start]


def _resolve(label: str, words: str, over: Sequence[ModelSpan], model_read: bool) -> str:
    """The entity a spaCy ORG, NORP or FAC span is, by the names model's reading
    of its characters (weak readings count), then by its shape.

    The names model finds nearly every person name spaCy misses: when it read
    the span and saw nothing there, spaCy's label stands. UNRESOLVED_NAME is
    what is left: the model saw something it cannot type, or did not run.
    """
    kinds = {s.kind for s in over}
    if any(s.kind == "PERSON" and s.sure for s in over):
        return "PERSON"
    if label == "ORG" and _ORG_WORDS.search(words):
        return "ORGANIZATION"  # "Acme Corp": its own word outweighs a weak reading
    if "PERSON" in kinds:
        return "PERSON"
    if kinds & _ADDRESS_PARTS or label == "FAC":
        return "LOCATION"
    if model_read and not kinds:
        return "ORGANIZATION" if label == "ORG" else "NRP"
    return "UNRESOLVED_NAME"


def _model_findings(text: str, spans: Sequence[ModelSpan], lower_case: bool) -> list[Finding]:
    """The names model's sure spans as findings; the parts of one address
    (a street, then its town and postal code side by side) become one STREET_ADDRESS."""
    # A writer who capitalises anything capitalises names ("plan": "pro" is none).
    sure = [
        s
        for s in spans
        if s.sure
        and s.score >= MODEL_FINDING_SCORE
        and s.kind in MODEL_ENTITIES
        and (s.kind != "PHONE_NUMBER" or _digits(text, s) >= MIN_PHONE_DIGITS)
        and (s.kind not in _WORD_KINDS or lower_case or _capitalised(text[s.start : s.end]))
        and (s.kind not in _NUMBER_KINDS or _standalone(text, s))
        and (s.kind not in _DOCUMENT_KINDS or _DOCUMENT_WORDS.search(text, max(0, s.start - 48), s.start))
        and not (s.kind == "PERSON" and _nationality(text[s.start : s.end]))
        and not (s.kind == "ADDRESS" and _PHONE_EXTENSION.match(text, s.start))
    ]
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
        words = text[span.start : end].split()
        if has_street and (len(words) < 2 or not any(ch.isalpha() for ch in text[span.start : end])):
            i = j + 1  # one word ("p1", "221B") or a number alone ("12", 6' 1") is no address
        elif has_street:
            score = round(sum(scores) / len(scores), 4)
            out.append(Finding("STREET_ADDRESS", span.start, end, score, NAMES_RECOGNIZER))
            i = j + 1
        else:  # a town beside its postal code: each keeps its own type
            out.append(Finding(MODEL_ENTITIES[span.kind], span.start, span.end, span.score, NAMES_RECOGNIZER))
            i += 1
    return out


def _standalone(text: str, span: ModelSpan) -> bool:
    """A number the model found is not the tail or head of a code ("SKU-00012")."""
    before = text[span.start - 2 : span.start] if span.start >= 2 else " " + text[: span.start]
    after = text[span.end : span.end + 2].ljust(2)
    glued_before = before[-1].isalnum() or (before[-1] in _CODE_GLUE and before[0].isalnum())
    # After a number, a hyphen and a word label it ("781-618-4959-Fax"); a digit continues it.
    glued_after = after[0].isalnum() or (after[0] in _CODE_GLUE and after[1].isdigit())
    return not (glued_before or glued_after)


def _nationality(words: str) -> bool:
    """One word that names a nationality or a language: "Croatian", "Danish"."""
    word = words.strip(" .,;:()").lower()
    return word in NATIONALITIES or (word.endswith("s") and word[:-1] in NATIONALITIES)


def _capitalised(words: str) -> bool:
    return any(word[:1].isupper() for word in words.split())


def _digits(text: str, span: ModelSpan) -> int:
    return sum(ch.isdigit() for ch in text[span.start : span.end])
