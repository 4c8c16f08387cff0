"""The `templates` corpus: presidio-evaluator's generator, seeded and offline.

presidio-evaluator is a bench extra (`make test` installs only the test
extra), so the tests that generate skip without it.
"""

from __future__ import annotations

import socket

import pytest

from benchmarks.corpora import TEMPLATE_FAMILIES, _unescape_newlines


def test_unescaped_newlines_move_the_spans() -> None:
    text = "Ann Lee\\n\\n12 Oak St\\nLeeds"
    spans = [("person", 0, 7, "Ann Lee"), ("street", 11, 20, "12 Oak St"), ("city", 22, 27, "Leeds")]
    assert [text[a:b] for _, a, b, _ in spans] == ["Ann Lee", "12 Oak St", "Leeds"]
    new, moved = _unescape_newlines(text, spans)
    assert new == "Ann Lee\n\n12 Oak St\nLeeds"
    assert [(t, a, b) for t, a, b, _ in moved] == [("person", 0, 7), ("street", 9, 18), ("city", 19, 24)]
    assert all(new[a:b] == v for _, a, b, v in moved)


@pytest.fixture(scope="module")
def samples() -> list:
    pytest.importorskip("presidio_evaluator")
    pytest.importorskip("faker")
    from benchmarks.corpora import template_samples

    return template_samples(120, seed=7)


def test_spans_point_at_their_values(samples: list) -> None:
    assert len(samples) == 120
    spans = [s for _, ss in samples for s in ss]
    assert len(spans) > 120
    for text, ss in samples:
        assert "\\n" not in text
        for _, start, end, value in ss:
            assert text[start:end] == value


def test_every_slot_has_a_family(samples: list) -> None:
    assert {slot for _, ss in samples for slot, *_ in ss} <= set(TEMPLATE_FAMILIES)


def test_same_seed_same_set_other_seed_other_set(samples: list) -> None:
    from benchmarks.corpora import template_samples, templates_corpus

    assert template_samples(120, seed=7) == samples
    assert template_samples(120, seed=8) != samples
    cases = templates_corpus(120, seed=7)
    assert [c.text for c in cases] == [t for t, _ in samples]
    assert [[(g.entity, g.start, g.end) for g in c.gold] for c in cases] == [
        [(t, a, b) for t, a, b, _ in ss] for _, ss in samples
    ]


def test_generation_opens_no_connection(samples: list, monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.corpora import template_samples

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network use: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    assert template_samples(30, seed=7) == samples[:30]
