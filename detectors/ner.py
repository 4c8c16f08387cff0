"""Named entities from the spaCy model, with only the pipe that finds them.

In the small English pipelines the `ner` component carries its own
token-to-vector layer, so tagger, parser, lemmatizer and the shared
`tok2vec` can all be left out: the entities are the same, at several times
the speed of the full pipeline (and of Presidio's use of it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import spacy
from spacy.language import Language

from ingestguard.detectors.finding import NER_RECOGNIZER, Finding
from ingestguard.errors import ModelNotFoundError

# spaCy's OntoNotes labels as Presidio names them. DATE and TIME are left to a
# pattern recognizer: the small model also tags "tomorrow" and digit runs.
LABELS = {
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "ORG": "ORGANIZATION",
    "NORP": "NRP",
}
# Names of data fields, which the small model often tags as organisations or
# people when they stand next to the value ("SSN 078-05-1120", "Email: ...").
FIELD_LABELS = frozenset(
    {
        "ssn",
        "iban",
        "isbn",
        "ip",
        "dns",
        "utc",
        "gmt",
        "dob",
        "id",
        "pin",
        "vat",
        "bic",
        "swift",
        "nino",
        "nie",
        "nif",
        "nhs",
        "bsn",
        "pan",
        "ein",
        "itin",
        "sin",
        "tin",
        "zip",
        "url",
        "api",
        "jwt",
        "aws",
        "gcp",
        "uuid",
        "guid",
        "email",
        "e-mail",
        "phone",
        "mobile",
        "fax",
        "owner",
        "pager",
        "inbox",
        "invalid",
        "node",
        "address",
        "passport",
        "license",
        "licence",
        "account",
        "routing",
    }
)
# The fixed confidence Presidio's SpacyRecognizer gives spaCy entities.
NER_SCORE = 0.85
BATCH_SIZE = 64
# Below this many texts, worker processes cost more to start than they save.
MIN_TEXTS_PER_PROCESS = 1_000


def check_installed(model: str) -> None:
    if not (spacy.util.is_package(model) or Path(model).exists()):
        raise ModelNotFoundError(
            f"spaCy model '{model}' is not installed; run `make install` or set nlp.model in the policy"
        )


def load_ner_pipeline(model: str) -> Language:
    """Load the pinned pipeline with only what `ner` needs, or fail with the fix."""
    check_installed(model)
    nlp = spacy.load(model)
    if "ner" not in nlp.pipe_names:
        raise ModelNotFoundError(f"spaCy model '{model}' has no 'ner' pipe; choose a pipeline with NER")
    # Keep a shared embedding layer only when `ner` listens to it (md/lg/trf pipelines may).
    listens = any("Listener" in type(node).__name__ for node in nlp.get_pipe("ner").model.walk())
    keep = {"ner", "tok2vec", "transformer"} if listens else {"ner"}
    for name in [n for n in nlp.pipe_names if n not in keep]:
        nlp.remove_pipe(name)
    return nlp


class NerScanner:
    """NER over batches of texts; the model loads on first use, so a run whose
    columns need no NER never pays for it."""

    def __init__(self, model: str, entities: Sequence[str], processes: int = 1) -> None:
        check_installed(model)
        self.model = model
        self.wanted = {label for label, entity in LABELS.items() if entity in entities}
        self.processes = processes
        self._nlp: Language | None = None

    @property
    def nlp(self) -> Language:
        if self._nlp is None:
            self._nlp = load_ner_pipeline(self.model)
        return self._nlp

    def info(self) -> dict[str, str]:
        if self._nlp is not None:
            version = self._nlp.meta.get("version", "")
        elif Path(self.model).exists():
            version = spacy.util.load_meta(Path(self.model) / "meta.json").get("version", "")
        else:
            version = spacy.util.get_package_version(self.model) or ""
        return {"name": self.model, "version": version}

    def find(self, texts: Sequence[str]) -> list[list[Finding]]:
        processes = self.processes if len(texts) >= MIN_TEXTS_PER_PROCESS * self.processes else 1
        out = []
        for doc in self.nlp.pipe(texts, batch_size=BATCH_SIZE, n_process=processes):
            out.append(
                [
                    Finding(LABELS[e.label_], e.start_char, e.end_char, NER_SCORE, NER_RECOGNIZER)
                    for e in doc.ents
                    if e.label_ in self.wanted and e.text.strip(" :.").lower() not in FIELD_LABELS
                ]
            )
        return out
