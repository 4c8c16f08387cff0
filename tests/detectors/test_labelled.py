from __future__ import annotations

import pyarrow as pa
import pytest

from ingestguard.detectors.analyzer import Detector
from ingestguard.detectors.recognizers.labelled import LabelledNameRecognizer
from ingestguard.policy import Policy


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('{"user":{"name":"Amy Wong","ssn":"222-33-4444"}}', ["Amy Wong"]),
        ('{"owner":"Raj Mehta","ssn":"111-22-3333"}', ["Raj Mehta"]),
        ("first_name='José' last_name='García'", ["José", "García"]),
        ("customer_name: Mary Ann O’Neil\n", ["Mary Ann O’Neil"]),
        ("name: Jane Doe email: jane@x.com", ["Jane Doe"]),
        ('{"full_name":"小明 王"}', ["小明 王"]),
        ("first_name=Amy&last_name=Wong", ["Amy", "Wong"]),  # a query string
        ('{"name":"Ronald McDonald"}', ["Ronald McDonald"]),
    ],
)
def test_labelled_names(text: str, names: list[str]) -> None:
    found = LabelledNameRecognizer().analyze(text, ["PERSON"])
    assert [(r.entity_type, text[r.start : r.end]) for r in found] == [("PERSON", n) for n in names]


@pytest.mark.parametrize(
    "text",
    [
        "owner: Finance",  # a role key needs a full name: teams are owners too
        "name=default",  # lower case: a setting, not a person
        "filename: Report.pdf",  # the key only ends in "name"
        "hostname=Alpha",
        "The name: John Smith lives here",  # prose, not a field
        '{"name":"Widget 3000"}',
        '{"name":"TypeError","message":"x is undefined"}',  # a serialised JS error
        '{"name":"Production"}',  # "name" alone needs a full name
        "Customer Name: \nAccount Number: 12345",  # a redacted value: never the next line
        '{"name": "XXXXXXXXXXmith"}',  # masked with a letter
        "Name:\nEmployee ID: 44",
    ],
)
def test_labelled_look_alikes(text: str) -> None:
    assert LabelledNameRecognizer().analyze(text, ["PERSON"]) == []


def test_sweep_finds_labelled_names_without_ner() -> None:
    """The pattern-only detector (used to check outputs) finds them too."""
    detector = Detector(Policy(entities=["PERSON"]), ner=False)
    values = pa.array(['{"name":"Leo Wang","email":"leo@sample.dev"}', "no names here"])
    found = detector.analyze_batch(values)
    assert [(f.entity_type, f.start, f.end) for f in found[0]] == [("PERSON", 9, 17)]
    assert found[1] == ()
