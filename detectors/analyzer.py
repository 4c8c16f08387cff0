"""An explicit, offline Presidio engine built from the policy.

Presidio's `AnalyzerEngine()` with no arguments builds `en_core_web_lg` and
downloads it when missing, and its email and URL recognizers let tldextract
fetch the public suffix list. Here every collaborator is named: the spaCy
pipeline the policy pins (never downloaded), the recognizers the policy
enables, and tldextract's bundled suffix snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import spacy
import tldextract.tldextract
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer
from spacy.language import Language

from ingestguard.detectors.entities import NER_ENTITIES
from ingestguard.detectors.recognizers.builtin import PATTERN_RECOGNIZERS
from ingestguard.errors import ModelNotFoundError
from ingestguard.policy import Policy

NER_BATCH_SIZE = 64
# NER needs tokens, lemmas (Presidio's context words) and entities; the
# dependency parser only costs time.
_UNUSED_PIPES = ["parser"]


@dataclass(frozen=True, slots=True)
class Finding:
    """Where an entity is, and how sure: never the matched text itself."""

    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str


class _PinnedSpacyEngine(SpacyNlpEngine):
    """Presidio's spaCy engine around a pipeline loaded by us; it never downloads."""

    def __init__(self, nlp: Language, language: str, model_name: str) -> None:
        super().__init__(
            models=[{"lang_code": language, "model_name": model_name}],
            ner_model_configuration=NerModelConfiguration(
                labels_to_ignore=[
                    "CARDINAL",
                    "ORDINAL",
                    "QUANTITY",
                    "MONEY",
                    "PERCENT",
                    "PRODUCT",
                    "EVENT",
                    "WORK_OF_ART",
                    "LAW",
                    "LANGUAGE",
                    "FAC",
                ],
            ),
        )
        self.nlp = {language: nlp}

    def load(self) -> None:  # already loaded in __init__
        return None


def use_offline_suffix_list() -> None:
    """Point tldextract at its bundled suffix snapshot: no fetch, no cache writes."""
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True
    )


def load_spacy_pipeline(model: str) -> Language:
    """Load the pinned pipeline by package name or path, or fail with the fix."""
    if not (spacy.util.is_package(model) or Path(model).exists()):
        raise ModelNotFoundError(
            f"spaCy model '{model}' is not installed; run `make install` or set nlp.model in the policy"
        )
    return spacy.load(model, exclude=_UNUSED_PIPES)


class Detector:
    """Finds entities in strings, in batches, with the policy's thresholds.

    With `ner=False` the engine runs on a bare tokenizer: only pattern
    recognizers, no model, for sweeps where speed matters more than names.
    """

    def __init__(self, policy: Policy, ner: bool = True) -> None:
        use_offline_suffix_list()
        self.policy = policy
        self.language = policy.nlp.language
        wanted_ner = sorted(NER_ENTITIES & set(policy.entities)) if ner else []
        self.entities = [e for e in policy.entities if e in PATTERN_RECOGNIZERS or e in wanted_ner]
        if wanted_ner:
            nlp = load_spacy_pipeline(policy.nlp.model)
            model_name = policy.nlp.model
        else:
            nlp = spacy.blank(self.language)
            model_name = f"blank:{self.language}"
        self.nlp = nlp
        recognizers: list[EntityRecognizer] = [
            PATTERN_RECOGNIZERS[e]() for e in self.entities if e in PATTERN_RECOGNIZERS
        ]
        if wanted_ner:
            recognizers.append(SpacyRecognizer(supported_entities=wanted_ner))
        registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[self.language])
        self._min_threshold = min(policy.threshold_for(e) for e in self.entities) if self.entities else 1.0
        self.engine = AnalyzerEngine(
            registry=registry,
            nlp_engine=_PinnedSpacyEngine(nlp, self.language, model_name),
            supported_languages=[self.language],
            default_score_threshold=self._min_threshold,
        )

    def model_info(self) -> dict[str, str]:
        meta = self.nlp.meta
        return {"name": f"{meta.get('lang', '')}_{meta.get('name', '')}", "version": meta.get("version", "")}

    def analyze(self, text: str, context: Sequence[str] | None = None) -> list[Finding]:
        return self.analyze_batch([text], context)[0]

    def analyze_batch(
        self, texts: Sequence[str], context: Sequence[str] | None = None
    ) -> list[list[Finding]]:
        """Findings per text; spaCy runs once over the batch with `nlp.pipe`."""
        if not self.entities:
            return [[] for _ in texts]
        artifacts = self.engine.nlp_engine.process_batch(
            list(texts), self.language, batch_size=NER_BATCH_SIZE
        )
        out = []
        for text, nlp_artifacts in artifacts:
            results = self.engine.analyze(
                text,
                self.language,
                entities=self.entities,
                score_threshold=self._min_threshold,
                context=list(context) if context else None,
                nlp_artifacts=nlp_artifacts,
            )
            out.append(self._keep(results))
        return out

    def _keep(self, results: Iterable) -> list[Finding]:
        kept = [
            Finding(
                r.entity_type,
                r.start,
                r.end,
                round(float(r.score), 4),
                (r.recognition_metadata or {}).get("recognizer_name", ""),
            )
            for r in results
            if r.score >= self.policy.threshold_for(r.entity_type)
        ]
        return merge_overlaps(kept)


def merge_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Merge overlapping findings into one span labelled by the surest of them.

    A union, not a choice: when a phone number overlaps a name, replacing only
    the name would leave part of the number behind.
    """
    merged: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if merged and f.start < merged[-1].end:
            last = merged[-1]
            best = last if (last.score, last.end - last.start) >= (f.score, f.end - f.start) else f
            merged[-1] = Finding(
                best.entity_type, last.start, max(last.end, f.end), best.score, best.recognizer
            )
        else:
            merged.append(f)
    return merged
