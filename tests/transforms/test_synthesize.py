"""Keyed fakes: realistic, of the same type, stable under a key, unrelated under another."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from ingestguard.transforms.synthesize import Synthesizer
from tests.transforms.test_tokens import FakeKeyring

SHAPES = {
    "PERSON": ("Maria Lopez", r"[A-Z][a-z'-]+ [A-Z][a-z'-]+"),
    "EMAIL_ADDRESS": ("maria.lopez@gmail.com", r"[a-z0-9._]+@example\.(com|org|net)"),
    "PHONE_NUMBER": ("+1 (415) 555-0132", r"\+1 \([2-9]\d\d\) \d{3}-\d{4}"),
    "STREET_ADDRESS": ("221B Baker Street", r"\d+ [A-Z][A-Za-z]+ [A-Z][A-Za-z]+.*"),
    "LOCATION": ("Barcelona", r"[A-Z][A-Za-z ]+"),
    "US_SSN": ("123-45-6789", r"\d{3}-\d{2}-\d{4}"),
    "US_ZIP_CODE": ("90210", r"\d{5}"),
    "DATE_OF_BIRTH": ("1980-04-02", r"\d{4}-\d{2}-\d{2}"),
}


@pytest.mark.parametrize("entity", sorted(SHAPES))
def test_fake_of_the_same_type(entity: str) -> None:
    value, shape = SHAPES[entity]
    others = [value[:-1] + "7", value[:-1] + "8"] if entity == "PHONE_NUMBER" else [value + "x", value + "y"]
    fakes = Synthesizer(FakeKeyring()).fakes(entity, [value, *others])
    assert all(re.fullmatch(shape, f) for f in fakes), fakes
    assert value not in fakes
    assert len(set(fakes)) > 1  # different inputs, different fakes (here)


@pytest.mark.parametrize("entity", sorted(SHAPES))
def test_stable_under_one_key_unrelated_under_another(entity: str) -> None:
    values = [SHAPES[entity][0], "Jane Doe", "jane@doe.org", "+1 202 555 0100", "Paris"]
    a1 = Synthesizer(FakeKeyring(b"A")).fakes(entity, values)
    a2 = Synthesizer(FakeKeyring(b"A")).fakes(entity, values)
    b = Synthesizer(FakeKeyring(b"B")).fakes(entity, values)
    assert a1 == a2
    assert sum(x != y for x, y in zip(a1, b, strict=True)) >= 4  # a coincidence or two at most


def test_entity_type_is_part_of_the_seed() -> None:
    s = Synthesizer(FakeKeyring())
    assert s.seed("PERSON", "Paris") != s.seed("LOCATION", "Paris")


def test_single_word_name_stays_one_word() -> None:
    assert re.fullmatch(r"[A-Z][a-z]+", Synthesizer(FakeKeyring()).fake("PERSON", "Maria"))


@pytest.mark.parametrize(
    "value,shape",
    [
        ("+14155550132", r"\+[2-9]\d{10}"),
        ("+44 20 7946 0958", r"\+44 [2-9]\d \d{4} \d{4}"),
        ("030/1234-5678", r"[2-9]\d\d/\d{4}-\d{4}"),
        ("call me", r"\([2-9]\d\d\) \d{3}-\d{4}"),
        ("555-01", r"\([2-9]\d\d\) \d{3}-\d{4}"),
    ],
)
def test_phone_keeps_layout_never_digits(value: str, shape: str) -> None:
    fake = Synthesizer(FakeKeyring()).fake("PHONE_NUMBER", value)
    assert re.fullmatch(shape, fake), fake
    assert fake != value


def test_unknown_entity_is_replaced() -> None:
    assert Synthesizer(FakeKeyring()).fake("MEDICAL_LICENSE", "AB123456") == "<MEDICAL_LICENSE>"


def test_same_fake_in_another_process() -> None:
    program = (
        "import sys; sys.path.insert(0, '.');"
        "from tests.transforms.test_tokens import FakeKeyring;"
        "from ingestguard.transforms.synthesize import Synthesizer;"
        "print(Synthesizer(FakeKeyring()).fakes('PERSON', ['Maria Lopez', 'Jan Novak']))"
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(Synthesizer(FakeKeyring()).fakes("PERSON", ["Maria Lopez", "Jan Novak"]))


def test_evidence_names_the_version() -> None:
    keys = FakeKeyring(versions=3)
    assert Synthesizer(keys).to_evidence() == {
        "action": "synthesize",
        "key_id": "fake_41_3",
        "key_version": 3,
    }
