"""The NER scanner: which model spans become findings, and the worker pool."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

from ingestguard.detectors import ner
from ingestguard.detectors.ner import NerScanner, _without_codes
from ingestguard.policy import Policy

MODEL = Policy().nlp.model


@pytest.mark.parametrize(
    ("span", "kept"),
    [
        ("John Smith", "John Smith"),
        ("RT @ Konnan 5150", "RT @ Konnan 5150"),  # all digits: a ring name, not a code
        ("Jo ] ( http://web.archive.org/web/20100310145702/", "Jo"),  # set apart by brackets
        ("Order 12345ABC", None),  # a word right before a code labels it
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
    """Prefect runs tasks in threads: the pool must work from one, quietly."""
    monkeypatch.setattr(ner, "MIN_TEXTS_PER_PROCESS", 10)
    monkeypatch.setattr(ner, "CHUNK", 7)
    texts = [f"Maria Lopez met Tom Baker in Paris about case {i}." for i in range(40)]
    single = NerScanner(MODEL, ["PERSON", "LOCATION"], processes=1).find(texts)
    pooled = NerScanner(MODEL, ["PERSON", "LOCATION"], processes=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ThreadPoolExecutor(1) as threads:
            got = threads.submit(pooled.find, texts).result()
    assert pooled._pool is not None  # the pool really ran
    assert got == single
    assert [(f.entity_type, texts[0][f.start : f.end]) for f in got[0]] == [
        ("PERSON", "Maria Lopez"),
        ("PERSON", "Tom Baker"),
        ("LOCATION", "Paris"),
    ]


def test_a_dead_worker_fails_the_call_and_the_next_call_starts_a_new_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os
    import signal
    from concurrent.futures.process import BrokenProcessPool

    monkeypatch.setattr(ner, "MIN_TEXTS_PER_PROCESS", 10)
    scanner = NerScanner(MODEL, ["PERSON"], processes=2)
    texts = [f"Maria Lopez wrote case {i}." for i in range(30)]
    assert scanner.find(texts)[0][0].entity_type == "PERSON"
    for pid in list(scanner._pool._processes):
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):
        scanner.find(texts)
    assert scanner.find(texts)[0][0].entity_type == "PERSON"
