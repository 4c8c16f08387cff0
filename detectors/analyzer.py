"""The detector a policy asks for: pattern sweeps plus, where wanted, NER.

Built explicitly from the policy, offline: Presidio's recognizers (with their
validators) for patterns, the pinned spaCy pipeline and the Rampart names
model for names, places and addresses (see `opinions`), and tldextract's bundled suffix snapshot for the email and URL validators.
Presidio's `AnalyzerEngine` is not used on the data path: it runs the whole
spaCy pipeline and every recognizer on one text at a time, where here the
patterns sweep whole Arrow columns and NER runs once per distinct text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import pyarrow as pa
import tldextract.tldextract

from ingestguard.detectors.entities import NER_ENTITIES
from ingestguard.detectors.finding import Finding, merge_overlaps
from ingestguard.detectors.normalize import Normalized, normalize_array
from ingestguard.detectors.opinions import MODEL_ENTITIES
from ingestguard.detectors.recognizers import PATTERN_RECOGNIZERS
from ingestguard.detectors.recognizers.custom import policy_specs
from ingestguard.detectors.sweep import PatternSweep
from ingestguard.policy import Policy

if TYPE_CHECKING:
    from ingestguard.detectors.ner import NerScanner

__all__ = ["Detector", "Finding", "merge_overlaps", "use_offline_suffix_list"]


def use_offline_suffix_list() -> None:
    """Point tldextract at its bundled suffix snapshot: no fetch, no cache writes."""
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True
    )


class Detector:
    """Finds the policy's entities in batches of strings.

    With `ner=False` only the pattern recognizers run: the cheap, exhaustive
    sweep used to verify outputs.
    """

    def __init__(self, policy: Policy, ner: bool = True, processes: int = 1) -> None:
        use_offline_suffix_list()
        self.policy = policy
        active = policy.active_entities()
        specs = [PATTERN_RECOGNIZERS[e] for e in active if e in PATTERN_RECOGNIZERS] + policy_specs(policy)
        thresholds = {e: policy.threshold_for(e) for e in active}
        self.sweep = PatternSweep(specs, thresholds)
        # The models run when the policy wants names or places; they then also
        # report the addresses, postal codes, phones and documents they see.
        wants_names = ner and any(e in NER_ENTITIES for e in active)
        model_entities = (
            NER_ENTITIES | set(MODEL_ENTITIES.values()) if policy.nlp.names_model else NER_ENTITIES
        )
        ner_entities = [e for e in active if e in model_entities] if wants_names else []
        self.ner: NerScanner | None = None
        if ner_entities:
            # Imported only by a detector that runs NER (Presidio, once a recognizer is
            # built, brings spaCy itself in; the NER pipeline code it need not).
            from ingestguard.detectors.ner import NerScanner

            self.ner = NerScanner(
                policy.nlp.model, ner_entities, policy.threshold_for, processes, policy.nlp.names_model
            )
        self.entities = [e for e in active if e in self.sweep.entities or e in ner_entities]
        self._allowed = frozenset(policy.allow_list)

    def model_info(self) -> dict[str, str]:
        return self.ner.info() if self.ner else {"name": "none", "version": ""}

    def analyze(self, text: str) -> list[Finding]:
        return list(self.analyze_batch([text])[0])

    def analyze_batch(
        self, texts: Sequence[str] | pa.Array, context: Sequence[str] = ()
    ) -> list[Sequence[Finding]]:
        """Findings per text, overlaps merged; pass distinct texts, nulls find nothing.

        Spans are in the original texts, though detection reads normalized copies:
        invisible characters, full-width forms and look-alike letters hide nothing.

        `context`: words that hold for every text, such as its column's name.
        """
        original = texts if isinstance(texts, pa.Array) else pa.array(texts, pa.large_string())
        # Detect on normalized copies (see `normalize`); spans map back below.
        array, copies = normalize_array(original)
        found = self.sweep.find(array, context)
        if self.ner is not None:
            values = [v or "" for v in array.to_pylist()]
            covered = [[(f.start, f.end) for f in found.get(row, ())] for row in range(len(values))]
            for row, named in enumerate(self.ner.find(values, covered)):
                if named:
                    found.setdefault(row, []).extend(named)
        out: list[Sequence[Finding]] = [()] * len(array)
        for row, findings in found.items():
            if self._allowed:
                text = array[row].as_py()
                findings = [f for f in findings if text[f.start : f.end] not in self._allowed]
            copy = copies.get(row)
            if copy is not None:
                findings = [_in_original(f, copy) for f in findings]
            # Most texts hold one finding: nothing to merge.
            out[row] = merge_overlaps(findings) if len(findings) > 1 else findings
        return out


def _in_original(finding: Finding, copy: Normalized) -> Finding:
    start, end = copy.span(finding.start, finding.end)
    return replace(finding, start=start, end=end)
