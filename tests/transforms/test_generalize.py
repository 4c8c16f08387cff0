"""Generalize and shift_dates: exact outputs."""

from __future__ import annotations

from datetime import date

import pytest

from ingestguard.transforms.generalize import (
    DateShifter,
    Generalizer,
    age_band,
    coordinates_grid,
    date_offset,
    generalize_date,
    postal_prefix,
    shift_date,
)
from tests.transforms.test_tokens import FakeKeyring


@pytest.mark.parametrize(
    "value,year,month",
    [
        ("2024-03-05", "2024", "2024-03"),
        ("2024/12/31", "2024", "2024-12"),
        ("05.03.2024", "2024", "2024-03"),
        ("03/05/2024", "2024", "2024-03"),  # US month/day by default
        ("19800402", "1980", "1980-04"),
        (" 2024-03-05T10:11:12+01:00 ", "2024", "2024-03"),
        ("2024-03-05 10:11", "2024", "2024-03"),
        ("2024-02-30", None, None),
        ("March 5th", None, None),
        ("", None, None),
    ],
)
def test_generalize_date(value: str, year: str | None, month: str | None) -> None:
    assert generalize_date(value, "year") == year
    assert generalize_date(value, "month") == month


def test_generalize_date_formats_are_policy() -> None:
    assert generalize_date("03/05/2024", "month", ["%d/%m/%Y"]) == "2024-05"


@pytest.mark.parametrize(
    "value,width,top,band",
    [
        ("34", 10, 90, "30-39"),
        ("0", 10, 90, "0-9"),
        ("89", 10, 90, "80-89"),
        ("90", 10, 90, "90+"),
        ("104", 10, 90, "90+"),
        ("34.9", 10, 90, "30-39"),
        ("34 years", 10, 90, "30-39"),
        ("87", 10, 85, "85+"),
        ("84", 10, 85, "80-84"),
        ("42", 5, None, "40-44"),
        ("42", 1, None, "42"),
        ("-3", 10, 90, None),
        ("151", 10, None, None),
        ("forty", 10, 90, None),
        ("Infinity", 10, 90, None),
    ],
)
def test_age_band(value: str, width: int, top: int | None, band: str | None) -> None:
    assert age_band(value, width, top) == band


@pytest.mark.parametrize(
    "value,chars,prefix",
    [
        ("90210", 3, "902"),
        ("90210-1234", 3, "902"),
        ("SW1A 1AA", 3, "SW1"),
        ("sw1a 1aa", 4, "SW1A"),
        ("902", 3, None),
    ],
)
def test_postal_prefix(value: str, chars: int, prefix: str | None) -> None:
    assert postal_prefix(value, chars) == prefix


@pytest.mark.parametrize(
    "value,step,cell",
    [
        ("48.1372, 11.5756", "0.1", "48.1, 11.5"),
        ("-33.8688,151.2093", "0.1", "-33.9, 151.2"),
        ("(40.7128 -74.0060)", "0.01", "40.71, -74.01"),
        ("48.1372, 11.5756", "0.5", "48.0, 11.5"),
        ("48.1372, 11.5756", 1, "48, 11"),
        ("91.0, 10.0", "0.1", None),
        ("near Munich", "0.1", None),
    ],
)
def test_coordinates_grid(value: str, step: str, cell: str | None) -> None:
    assert coordinates_grid(value, step) == cell


def test_generalizer_by_kind() -> None:
    g = Generalizer(
        kinds={"DATE_OF_BIRTH": "date", "AGE": "age", "US_ZIP_CODE": "postal_code", "GPS": "coordinates"},
        date_to="month",
    )
    assert g.generalize("DATE_OF_BIRTH", "1980-04-02") == "1980-04"
    assert g.generalize("AGE", "47") == "40-49"
    assert g.generalize("US_ZIP_CODE", "02139") == "021"
    assert g.generalize("GPS", "52.5200, 13.4050") == "52.5, 13.4"
    assert g.generalize("DATE_OF_BIRTH", "spring 1980") == "<DATE_OF_BIRTH>"  # unreadable: replaced
    assert g.generalize("PERSON", "Maria Lopez") == "<PERSON>"  # no kind: replaced


def test_date_offset_range_and_keying() -> None:
    key_a, key_b = b"a" * 64, b"b" * 64
    offsets = [date_offset(key_a, f"patient-{i}", 30) for i in range(2000)]
    assert set(offsets) == set(range(-30, 0)) | set(range(1, 31))  # every value in range, never 0
    assert date_offset(key_a, "patient-7", 30) == offsets[7]
    assert [date_offset(key_b, f"patient-{i}", 30) for i in range(50)] != offsets[:50]


@pytest.mark.parametrize(
    "value,days,shifted",
    [
        ("2024-03-05", 10, "2024-03-15"),
        ("2024-02-25", 5, "2024-03-01"),  # leap year
        ("2024-01-03", -5, "2023-12-29"),
        ("05.03.2024", -5, "29.02.2024"),
        ("03/05/2024", 30, "04/04/2024"),
        ("2024-03-05T10:11:12+01:00", 1, "2024-03-06T10:11:12+01:00"),
        ("19800402", 365, "19810402"),
        ("not a date", 3, None),
    ],
)
def test_shift_date(value: str, days: int, shifted: str | None) -> None:
    assert shift_date(value, days) == shifted


def test_date_shifter_keeps_intervals_within_a_subject() -> None:
    shifter = DateShifter(FakeKeyring(), max_days=90)
    offset = shifter.offset("MRN-0001")
    assert 1 <= abs(offset) <= 90
    admitted, discharged = shifter.shift("2024-03-05", "MRN-0001"), shifter.shift("2024-03-19", "MRN-0001")
    a, d = date.fromisoformat(admitted), date.fromisoformat(discharged)
    assert (d - a).days == 14
    assert (a - date(2024, 3, 5)).days == offset
    assert shifter.shift("soon", "MRN-0001", "DATE_TIME") == "<DATE_TIME>"
    assert DateShifter(FakeKeyring(), max_days=90).offset("MRN-0001") == offset  # same key: same offset
    others = DateShifter(FakeKeyring(b"B"), max_days=90)
    assert [others.offset(f"MRN-{i}") for i in range(20)] != [shifter.offset(f"MRN-{i}") for i in range(20)]
    assert shifter.to_evidence() == {
        "action": "shift_dates",
        "key_id": "fake_41_1",
        "key_version": 1,
        "max_days": 90,
    }


def test_policy_defaults_match_the_module() -> None:
    from ingestguard.policy import Policy
    from ingestguard.transforms.generalize import DEFAULT_DATE_FORMATS, DEFAULT_KINDS

    policy = Policy()
    assert policy.generalize.date_formats == policy.shift_dates.date_formats == DEFAULT_DATE_FORMATS
    assert policy.generalize.kinds == DEFAULT_KINDS
