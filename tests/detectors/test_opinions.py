"""Combining the two models' spans: pure, no model loaded."""

from __future__ import annotations

import pytest

from ingestguard.detectors.candidates import Covered, candidate_windows, writes_in_lower_case
from ingestguard.detectors.names_model import ModelSpan
from ingestguard.detectors.opinions import combine

WANTED = {
    "PERSON",
    "LOCATION",
    "STREET_ADDRESS",
    "POSTAL_CODE",
    "PHONE_NUMBER",
    "DRIVER_LICENSE",
    "UNRESOLVED_NAME",
}


def _at(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


def _found(text: str, spacy: list[tuple[str, str]], model: list[tuple[str, str, float]], read: bool = True):
    spacy_spans = [(label, *_at(text, part)) for label, part in spacy]
    model_spans = [ModelSpan(kind, *_at(text, part), score, score >= 0.5) for kind, part, score in model]
    return [
        (f.entity_type, text[f.start : f.end])
        for f in combine(text, spacy_spans, model_spans, WANTED, lambda e: 0.5, read)
    ]


def test_an_org_the_names_model_reads_as_a_person_is_a_person() -> None:
    text = "Spoke with Tanya Mason; follow up next week."
    assert _found(text, [("ORG", "Tanya Mason")], [("PERSON", "Tanya Mason", 0.93)]) == [
        ("PERSON", "Tanya Mason")
    ]


def test_a_weak_person_reading_still_types_the_org_span() -> None:
    text = "Spoke with Tanya Mason; follow up next week."
    assert _found(text, [("ORG", "Tanya Mason")], [("PERSON", "Mason", 0.3)]) == [("PERSON", "Tanya Mason")]


def test_an_org_next_to_an_address_reading_is_a_place() -> None:
    text = "Deliver to Zanesville tomorrow."
    assert _found(text, [("ORG", "Zanesville")], [("PLACE", "Zanesville", 0.4)]) == [
        ("LOCATION", "Zanesville")
    ]


@pytest.mark.parametrize(
    ("label", "part", "read", "expected"),
    [
        ("ORG", "Acme Corp", False, []),  # an organisation's word: ORGANIZATION, not wanted here
        ("ORG", "Hooli", True, []),  # the names model read it and saw nothing: spaCy's label stands
        ("ORG", "Hooli", False, [("UNRESOLVED_NAME", "Hooli")]),  # nothing could decide: protect it
        ("NORP", "Croatian", False, []),  # a nationality is never a name
        ("PERSON", "Danish", True, []),
        ("ORG", "pro", False, []),  # names are written with capitals
    ],
)
def test_untyped_spans(label: str, part: str, read: bool, expected: list) -> None:
    text = f"We spoke to {part} about it."
    assert _found(text, [(label, part)], [], read) == expected


def test_an_org_with_a_weak_reading_of_another_kind_is_unresolved() -> None:
    text = "We spoke to Hooli about it."
    assert _found(text, [("ORG", "Hooli")], [("ID_NUMBER", "Hooli", 0.2)]) == [("UNRESOLVED_NAME", "Hooli")]


def test_address_parts_side_by_side_are_one_address() -> None:
    text = "I live at Hauptstraße 12, 10115 Berlin with my wife."
    model = [("ADDRESS", "Hauptstraße 12", 0.99), ("POSTAL_CODE", "10115", 0.99), ("PLACE", "Berlin", 0.98)]
    assert _found(text, [], model) == [("STREET_ADDRESS", "Hauptstraße 12, 10115 Berlin")]


def test_a_town_and_its_postal_code_keep_their_own_types() -> None:
    text = "Ship it to 2151 DK Nieuw-Vennep soon."
    model = [("POSTAL_CODE", "2151 DK", 0.9), ("PLACE", "Nieuw-Vennep", 0.9)]
    assert _found(text, [], model) == [("POSTAL_CODE", "2151 DK"), ("LOCATION", "Nieuw-Vennep")]


def test_an_org_word_outweighs_a_weak_reading_but_not_a_sure_person() -> None:
    text = "Bill it to Acme Corp today."
    assert _found(text, [("ORG", "Acme Corp")], [("PLACE", "Acme", 0.3)], read=False) == []
    assert _found(text, [("ORG", "Acme Corp")], [("PERSON", "Acme", 0.3)], read=False) == []
    assert _found(text, [("ORG", "Acme Corp")], [("PERSON", "Acme", 0.9)]) == [("PERSON", "Acme Corp")]


@pytest.mark.parametrize(
    ("text", "model", "expected"),
    [
        ("Ref SKU-00012 shipped", [("POSTAL_CODE", "00012", 0.9)], []),  # glued into a code
        ("zip 00012 please", [("POSTAL_CODE", "00012", 0.9)], [("POSTAL_CODE", "00012")]),
        ("code F3452345 here", [("DRIVER_LICENSE", "F3452345", 0.99)], []),  # no licence word
        (
            "driver's license F3452345",
            [("DRIVER_LICENSE", "F3452345", 0.99)],
            [("DRIVER_LICENSE", "F3452345")],
        ),
        ("call 4567 now", [("PHONE_NUMBER", "4567", 0.9)], []),  # too few digits for a phone
        ("Desk: 5551234567 ext 9", [("ADDRESS", "ext 9", 0.99)], []),  # a phone extension, no unit
        ("height 6' 1\" ok", [("ADDRESS", "6' 1", 0.7)], []),  # digits alone are no address
        ("patient p1 seen", [("ADDRESS", "p1", 0.9)], []),  # one word is no address
        ('{"plan": "pro", "Tier": 2}', [("PERSON", "pro", 0.8)], []),  # lower case in capitalised text
        ("spoke with tanya mason today", [("PERSON", "tanya mason", 0.9)], [("PERSON", "tanya mason")]),
        ("Spoke with Tanya today", [("PERSON", "Tanya", 0.45)], []),  # under the model's threshold
    ],
)
def test_model_findings_keep_their_shape_rules(text: str, model: list, expected: list) -> None:
    assert _found(text, [], model) == expected


def test_windows_skip_what_is_found_and_keep_what_is_not() -> None:
    text = (
        "Refund approved for the customer. The check will be mailed next week, and a receipt was "
        "emailed to the address on file. Please also tell Tanya Mason that the order shipped today."
    )
    windows = candidate_windows(text, [], [])
    read = " ".join(text[s:e] for s, e in windows)
    assert "Tanya Mason" in read
    assert "Refund approved" not in read  # a sentence's first word is no candidate by itself
    found = _at(text, "Tanya Mason")
    assert candidate_windows(text, [found], []) == []


def test_short_values_are_read_whole_and_blank_ones_not_at_all() -> None:
    assert candidate_windows("Croatian", [], []) == [(0, 8)]
    assert candidate_windows("   ", [], []) == []


def test_a_dialogue_speaker_and_digit_runs_are_candidates() -> None:
    text = "Ronald: Remember me? We met years ago at the reunion, and you still owe me lunch. " * 2
    assert candidate_windows(text, [], [])[0][0] == 0
    text = "the parcel went out this morning and the label reads 533 41 on the bottom of the slip, ok"
    read = " ".join(text[s:e] for s, e in candidate_windows(text, [], []))
    assert "533 41" in read


def test_a_lower_case_writer_who_capitalises_only_i_is_read_whole() -> None:
    text = "I spoke with tanya mason yesterday about the refund and she was not happy at all"
    assert writes_in_lower_case(text)
    assert candidate_windows(text, [], []) == [(0, len(text))]
    assert _found(text, [], [("PERSON", "tanya mason", 0.9)]) == [("PERSON", "tanya mason")]
    assert not writes_in_lower_case("I spoke with Tanya")


def test_lower_case_org_spans_count_in_lower_case_text() -> None:
    text = "spoke with tanya mason today"
    assert _found(text, [("ORG", "tanya mason")], [("PERSON", "tanya", 0.3)]) == [("PERSON", "tanya mason")]


def test_covered_spans_merge_and_answer_containment() -> None:
    found = Covered([(10, 20), (15, 30), (40, 50)])
    assert found.contains(12, 28) and found.contains(40, 50)
    assert not found.contains(25, 35) and not found.contains(0, 5) and not found.contains(45, 55)


def test_windows_in_text_without_spaces_stay_small() -> None:
    text = '{"k":"' + "a" * 5000 + '","who":"Tanya","v":"' + "b" * 5000 + '"}'
    windows = candidate_windows(text, [], [])
    assert windows and all(end - start < 200 for start, end in windows)
    assert any(text[s:e].find("Tanya") >= 0 for s, e in windows)
