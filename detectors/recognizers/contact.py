"""Contact details: phone numbers that are long enough to reach someone."""

from __future__ import annotations

from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

# No dialable subscriber number anywhere is shorter than this; shorter matches
# (a region's short codes, the last digits a mask keeps) are noise.
MIN_PHONE_DIGITS = 7


class DialablePhoneRecognizer(PhoneRecognizer):
    """Presidio's phonenumbers-based recognizer, minus short codes."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        return [
            r
            for r in super().analyze(text, entities, nlp_artifacts)
            if sum(ch.isdigit() for ch in text[r.start : r.end]) >= MIN_PHONE_DIGITS
        ]
