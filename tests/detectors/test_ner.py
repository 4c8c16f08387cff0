"""The NER scanner: which model spans become findings, and the worker pool."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from ingestguard.detectors import ner
from ingestguard.detectors.ner import NerScanner, _without_codes
from ingestguard.policy import Policy

MODEL = Policy().nlp.model
THRESHOLD = Policy().threshold_for


@pytest.mark.parametrize(
    ("span", "kept"),
    [
        ("John Smith", "John Smith"),
        ("RT @ Konnan 5150", "RT @ Konnan 5150"),  # all digits: a ring name, not a code
        ("Jo ] ( http://web.archive.org/web/20100310145702/", "Jo"),  # set apart by brackets
        ("Maria Garcia MRN12345", "Maria Garcia"),  # the model ran on into a code
        ("Dr. Raj Mehta MD123", "Dr. Raj Mehta"),
        ("Order 12345ABC", None),  # one word right before a code labels it
        ("Release v2026.2.9", None),
        ("Ticket ABC-123-XYZ", None),
        ("Invalid 256.1.1.1", None),
        ("01/32/2020", None),
    ],
)
def test_spans_lose_codes(span: str, kept: str | None) -> None:
    got = _without_codes(span, 0, len(span))
    assert (span[got[0] : got[1]] if got else None) == kept


def test_pool_from_a_worker_thread_matches_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prefect runs tasks in threads: the pool is started from one."""
    monkeypatch.setattr(ner, "MIN_TEXTS_PER_PROCESS", 10)
    monkeypatch.setattr(ner, "CHUNK", 7)
    texts = [f"Maria Lopez met Tom Baker in Paris about case {i}." for i in range(40)]
    single = NerScanner(MODEL, ["PERSON", "LOCATION"], THRESHOLD, processes=1).find(texts)
    pooled = NerScanner(MODEL, ["PERSON", "LOCATION"], THRESHOLD, processes=2)
    try:
        with ThreadPoolExecutor(2) as threads:
            got = [f.result() for f in [threads.submit(pooled.find, texts) for _ in range(2)]]
        assert pooled._pool is not None  # the pool really ran
        assert got == [single, single]
    finally:
        pooled.close()
    assert [(f.entity_type, texts[0][f.start : f.end]) for f in single[0]] == [
        ("PERSON", "Maria Lopez"),
        ("PERSON", "Tom Baker"),
        ("LOCATION", "Paris"),
    ]


def test_a_dead_worker_costs_the_pool_not_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal

    monkeypatch.setattr(ner, "MIN_TEXTS_PER_PROCESS", 10)
    scanner = NerScanner(MODEL, ["PERSON"], THRESHOLD, processes=2)
    texts = [f"Maria Lopez wrote case {i}." for i in range(30)]
    try:
        expected = scanner.find(texts)
        first = scanner._pool
        for pid in list(first._processes):
            os.kill(pid, signal.SIGKILL)
        assert scanner.find(texts) == expected  # done in this process
        assert scanner._pool is None
        assert scanner.find(texts) == expected  # a new pool
        assert scanner._pool is not None and scanner._pool is not first
    finally:
        scanner.close()


@pytest.mark.parametrize(
    ("span", "label"),
    [("Customer Name", True), ("Account Number", True), ("SSN:", True), ("Amy Wong", False), ("Nam", False)],
)
def test_field_labels_are_not_names(span: str, label: bool) -> None:
    assert ner._field_label(span) is label


def test_a_spacy_place_the_policy_does_not_want_is_read_for_a_name() -> None:
    """spaCy tags "Tanya" as a place here: with only PERSON wanted, the names
    model must still read it instead of taking it as found."""
    scanner = NerScanner(MODEL, ["PERSON"], THRESHOLD)
    text = "The parcel is late again and nobody knows why it helps. Then Tanya will call the customer back."
    found = [(f.entity_type, text[f.start : f.end]) for f in scanner.find([text])[0]]
    assert found == [("PERSON", "Tanya")]
