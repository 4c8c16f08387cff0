"""Texts longer than spaCy's max_length: read in overlapping windows, all of it."""

from __future__ import annotations

import pandas as pd
import pytest

from ingestguard import Guard
from ingestguard.detectors import ner
from ingestguard.detectors.analyzer import Detector

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
FILLER = "The shipment left the warehouse on time and arrived in good order. "
EMAIL = "maria.garcia@example.org"


@pytest.fixture(autouse=True)
def _key(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


def _filler(chars: int) -> str:
    return FILLER * (chars // len(FILLER) + 1)


def test_windows_cover_the_text_and_overlap_at_spaces() -> None:
    text = _filler(5 * ner.WINDOW_CHARS)
    ranges = ner.windows(text)
    assert len(ranges) > 5 and ranges[0][0] == 0 and ranges[-1][1] == len(text)
    for (start, end), (next_start, _) in zip(ranges, ranges[1:], strict=False):
        assert end - start <= ner.WINDOW_CHARS
        assert end - next_start >= ner.WINDOW_OVERLAP // 2  # a name up to this long lies whole in one
        assert text[end - 1] == " " and text[next_start - 1] == " "  # no word is cut
    assert ner.windows("short text") == [(0, 10)]


def test_text_over_max_length_is_scanned_to_its_end(detector: Detector, monkeypatch) -> None:
    # A lower max_length keeps the test quick; the code path is the one a text
    # over spaCy's default 1,000,000 characters takes.
    monkeypatch.setattr(detector.ner.nlp, "max_length", 50_000)
    head = _filler(ner.WINDOW_CHARS)[: ner.WINDOW_CHARS - 4]
    head = head[: head.rindex(" ") + 1]
    # "Maria Garcia" straddles the end of the first window.
    text = head + "Maria Garcia signed. " + _filler(120_000) + "Questions go to " + EMAIL
    assert ner.windows(text)[0][1] < len(head) + len("Maria Garcia")
    with pytest.raises(ValueError, match="E088"):
        detector.ner.nlp(text)
    found = [(f.entity_type, f.start, f.end) for f in detector.analyze(text)]
    assert found == [
        ("PERSON", len(head), len(head) + len("Maria Garcia")),
        ("EMAIL_ADDRESS", len(text) - len(EMAIL), len(text)),
    ]


@pytest.mark.slow
def test_protect_replaces_an_email_at_the_end_of_a_cell_over_max_length() -> None:
    body = _filler(1_000_001)  # over spaCy's default max_length, which the code does not change
    df = pd.DataFrame({"notes": [body + "Write to " + EMAIL, "A short note."]})
    out, evidence = Guard().protect(df)
    assert evidence.status == "passed"
    cell = out["notes"][0]
    assert EMAIL not in cell
    assert cell.startswith(body + "Write to ") and len(cell) < len(df["notes"][0]) + 32
    assert out["notes"][1] == "A short note."
