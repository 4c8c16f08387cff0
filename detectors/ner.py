"""Named entities from the spaCy model and the names model, combined.

The spaCy model runs with only the pipe that finds entities.

In the small English pipelines the `ner` component carries its own
token-to-vector layer, so tagger, parser, lemmatizer and the shared
`tok2vec` can all be left out: the entities are the same, at several times
the speed of the full pipeline (and of Presidio's use of it).

Large batches go to a pool of forked worker processes that inherit the loaded
model and send back only (label, start, end), not whole documents: about
a third faster than spaCy's own `n_process`, whose workers, when forked from a
Prefect task's thread, also fail at exit and warn (W127) after finishing the
work. Fork, not spawn: a spawned worker re-imports the caller's main script,
which breaks any script without a `__main__` guard. Each worker builds its own
names-model session on first use (one made before a fork is not the child's),
and exits when this process dies (`parent_death`).
Both models' spans go through `opinions.combine`, the one place that decides
between them.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from itertools import chain
from pathlib import Path

import spacy
from spacy.language import Language

from ingestguard.detectors.candidates import candidate_windows
from ingestguard.detectors.finding import Finding, merge_overlaps
from ingestguard.detectors.names_model import ModelSpan, NamesModel
from ingestguard.detectors.opinions import CANDIDATE_LABELS, SPACY_LABELS, combine
from ingestguard.detectors.parent_death import exit_with_parent
from ingestguard.errors import ModelNotFoundError

# spaCy's OntoNotes labels that can name a person or a place. DATE and TIME are
# left to a pattern recognizer: the small model also tags "tomorrow" and digit runs.
LABELS = frozenset(SPACY_LABELS) | CANDIDATE_LABELS
# Names of data fields, and words that qualify them, which the small model
# often tags as organisations or people when they stand next to the value
# ("SSN 078-05-1120", "Email: ...", "Invalid SSN ...").
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
_TOKEN = re.compile(r"\S+")
_EDGE_PUNCTUATION = "\"'()[]{}<>.,;:!?@#-"
# A label's last word: "Customer Name", "Account Number" are no one's names.
FIELD_LAST_WORDS = frozenset({"name", "number", "address", "id"})
BATCH_SIZE = 64
BATCH_CHARS = 100_000
# Below this many texts, worker processes cost more to start than they save
# (forked workers inherit spaCy; each builds its names-model session in 0.1 s).
MIN_TEXTS_PER_PROCESS = 300
CHUNK = 250
# spaCy refuses a text longer than its `max_length` (1,000,000 characters unless
# a pipeline sets it; E088), and the models' memory grows with the text: a long
# text is read in overlapping windows, whose findings are mapped back and merged.
WINDOW_CHARS = 20_000
WINDOW_OVERLAP = 600
_SPACE = re.compile(r"\s")


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
    """NER over batches of texts; the models load on first use, so a run whose
    columns need no NER never pays for them.

    `entities`: what the caller reports; `threshold(entity)`: the score each
    needs. With `names_model` False only the spaCy model runs.
    """

    def __init__(
        self,
        model: str,
        entities: Sequence[str],
        threshold: Callable[[str], float],
        processes: int = 1,
        names_model: bool = True,
    ) -> None:
        check_installed(model)
        self.model = model
        self.entities = frozenset(entities)
        self.threshold = threshold
        self.names = NamesModel() if names_model else None
        self.kept_labels = frozenset(label for label, e in SPACY_LABELS.items() if e in self.entities)
        self.processes = processes
        self._nlp: Language | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._pool_pid = 0
        self._lock = threading.Lock()

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
        info = {"name": self.model, "version": version}
        if self.names is not None:
            names = self.names.info()
            info |= {"names_model": names["name"], "names_model_version": names["version"]}
            info["names_model_sha256"] = names["sha256"]
        return info

    def find(
        self, texts: Sequence[str], covered: Sequence[Sequence[tuple[int, int]]] | None = None
    ) -> list[list[Finding]]:
        """Findings per text. `covered`: per text, spans other detectors have
        found, which the names model need not read again (see `candidates`)."""
        covered = covered if covered is not None else [()] * len(texts)
        owners, offsets, pieces, pieces_covered = _pieces(texts, covered)
        processes = self.processes if len(pieces) >= MIN_TEXTS_PER_PROCESS * self.processes else 1
        opinions = self._in_workers(pieces, pieces_covered) if processes > 1 else None
        if opinions is None:
            opinions = _opinions(self.nlp, self.names, pieces, pieces_covered, self.kept_labels)
        out: list[list[Finding]] = [[] for _ in texts]
        for owner, offset, text, (spacy_spans, model_spans) in zip(
            owners, offsets, pieces, opinions, strict=True
        ):
            kept = []
            for label, start, end in spacy_spans:
                span = _without_codes(text, start, end)
                if span is not None and not _field_label(text[span[0] : span[1]]):
                    kept.append((label, *span))
            # "NINO: AB123456C", "Name: ...": a field's label is no one's name.
            model_spans = [s for s in model_spans if not _field_label(text[s.start : s.end])]
            found = combine(text, kept, model_spans, self.entities, self.threshold, self.names is not None)
            out[owner].extend(replace(f, start=f.start + offset, end=f.end + offset) for f in found)
        if len(pieces) > len(texts):  # a long text's windows overlap: merge what both saw
            out = [merge_overlaps(found) for found in out]
        return out

    def _in_workers(
        self, texts: Sequence[str], covered: Sequence[Sequence[tuple[int, int]]]
    ) -> list[Opinions] | None:
        """Spans from the pool, or None when a worker died (killed, out of memory):
        the caller then does the work in this process, and the next call starts
        a new pool."""
        chunks = [(texts[i : i + CHUNK], covered[i : i + CHUNK]) for i in range(0, len(texts), CHUNK)]
        pool = self._workers()
        try:
            return list(chain.from_iterable(pool.map(_worker_opinions, chunks)))
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return None

    def _workers(self) -> ProcessPoolExecutor:
        # Prefect runs several tasks on one engine in threads: one pool for all.
        # A pool inherited through a fork of this process is not this process's.
        with self._lock:
            if self._pool is None or self._pool_pid != os.getpid():
                # Forked workers inherit the loaded pipeline: no pickling, no reload.
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("fork"),
                    initializer=_worker_init,
                    # The workers are forked by the first `map`, in this thread.
                    initargs=(
                        self.nlp,
                        self.names is not None,
                        self.kept_labels,
                        os.getpid(),
                        threading.current_thread() is threading.main_thread(),
                    ),
                )
                self._pool_pid = os.getpid()
                weakref.finalize(self, self._pool.shutdown)
            return self._pool

    def close(self) -> None:
        """Stop the worker processes, if any; a later call starts new ones."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown()


def windows(text: str) -> list[tuple[int, int]]:
    """Overlapping ranges of a long text for the models, ending at a space where
    one is near, so that a name or address (up to WINDOW_OVERLAP / 2
    characters) lies whole in one of them; a short text is one range."""
    if len(text) <= WINDOW_CHARS:
        return [(0, len(text))]
    ranges, start, half = [], 0, WINDOW_OVERLAP // 2
    while start + WINDOW_CHARS < len(text):
        end = start + WINDOW_CHARS
        space = max(text.rfind(" ", end - half, end), text.rfind("\n", end - half, end))
        end = space + 1 if space >= 0 else end
        ranges.append((start, end))
        start = end - WINDOW_OVERLAP
        space = _SPACE.search(text, start, start + half)
        start = space.end() if space else start
    ranges.append((start, len(text)))
    return ranges


def _pieces(
    texts: Sequence[str], covered: Sequence[Sequence[tuple[int, int]]]
) -> tuple[list[int], list[int], list[str], list[Sequence[tuple[int, int]]]]:
    """Each text's windows, with their owner, offset and the covered spans within."""
    owners, offsets, pieces, pieces_covered = [], [], [], []
    for owner, (text, found) in enumerate(zip(texts, covered, strict=True)):
        ranges = windows(text)
        for start, end in ranges:
            owners.append(owner)
            offsets.append(start)
            if len(ranges) == 1:
                pieces.append(text)
                pieces_covered.append(found)
                continue
            pieces.append(text[start:end])
            pieces_covered.append(
                [(max(s, start) - start, min(e, end) - start) for s, e in found if s < end and e > start]
            )
    return owners, offsets, pieces, pieces_covered


def _field_label(span: str) -> bool:
    words = span.strip(" :.").lower()
    return words in FIELD_LABELS or words.rsplit(" ", 1)[-1] in FIELD_LAST_WORDS


def _without_codes(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span cut before its first code: a token mixing digits with letters or
    inner punctuation (an order, ticket, version, date or URL), which pattern
    recognizers own and no name contains. One word right before a code labels
    it ("Order 12345ABC", "Release v2026.2.9"): nothing is left. Longer heads
    are names the model ran on into a code ("Maria Garcia MRN12345") and stay,
    as do names set apart by punctuation ("Jo ] ( http://..."), without it.
    All-digit tokens ("Konnan 5150") are no codes."""
    for token in _TOKEN.finditer(text, start, end):
        core = token.group().strip(_EDGE_PUNCTUATION)
        if any(ch.isdigit() for ch in core) and not core.isdigit():
            head = text[start : token.start()].rstrip()
            if not head or (head[-1].isalnum() and len(head.split()) == 1):
                return None
            end = start + len(head.rstrip(_EDGE_PUNCTUATION + " "))
            return (start, end) if start < end else None
    return (start, end)


# Per text: spaCy's (label, start, end) spans and the names model's spans.
Opinions = tuple[list[tuple[str, int, int]], list[ModelSpan]]


def _spans(doc: spacy.tokens.Doc) -> list[tuple[str, int, int]]:
    return [(e.label_, e.start_char, e.end_char) for e in doc.ents if e.label_ in LABELS]


def _batches(texts: Sequence[str]) -> Iterator[Sequence[str]]:
    """Consecutive texts, at most BATCH_SIZE of them and about BATCH_CHARS
    characters: spaCy's memory grows with the tokens of a batch (64 windows of
    a long text took a gigabyte)."""
    start = 0
    while start < len(texts):
        end, chars = start, 0
        while (
            end < len(texts)
            and end - start < BATCH_SIZE
            and (end == start or chars + len(texts[end]) <= BATCH_CHARS)
        ):
            chars += len(texts[end])
            end += 1
        yield texts[start:end]
        start = end


def _opinions(
    nlp: Language,
    names: NamesModel | None,
    texts: Sequence[str],
    covered: Sequence[Sequence[tuple[int, int]]],
    kept_labels: frozenset[str],
) -> list[Opinions]:
    """Both models' spans per text. `kept_labels`: the spaCy labels whose
    entity the caller reports; only their spans spare the names model a read
    (a GPE the policy does not want may still be a person's name)."""
    spacy_spans = [_spans(doc) for batch in _batches(texts) for doc in nlp.pipe(batch, batch_size=len(batch))]
    if names is None:
        return [(spans, []) for spans in spacy_spans]
    windows = []
    for text, spans, found in zip(texts, spacy_spans, covered, strict=True):
        typed = [(s, e) for label, s, e in spans if label in kept_labels]
        untyped = [(s, e) for label, s, e in spans if label not in kept_labels]
        windows.append(candidate_windows(text, [*found, *typed], untyped))
    return list(zip(spacy_spans, names.spans(texts, windows), strict=True))


_worker_nlp: Language | None = None
_worker_names: NamesModel | None = None
_worker_kept_labels: frozenset[str] = frozenset()


def _worker_init(
    nlp: Language, names_model: bool, kept_labels: frozenset[str], parent: int, forked_by_main_thread: bool
) -> None:
    # No orphans: a SIGKILLed parent must not leave 380 MB workers behind.
    exit_with_parent(parent, forked_by_main_thread)
    global _worker_nlp, _worker_names, _worker_kept_labels
    _worker_nlp = nlp
    _worker_names = NamesModel() if names_model else None
    _worker_kept_labels = kept_labels


def _worker_opinions(
    chunk: tuple[Sequence[str], Sequence[Sequence[tuple[int, int]]]],
) -> list[Opinions]:
    assert _worker_nlp is not None, "worker used before _worker_init"
    return _opinions(_worker_nlp, _worker_names, *chunk, _worker_kept_labels)
