"""Column classification on whole tables of known meaning (issue 3's check).

Every sensitive column must get the right entity type, and no look-alike
(a boolean named like an email, codes, categories that look like names,
ISBNs, versions) may be called sensitive.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest
from stdnum import ean, iban, luhn

from ingestguard.demo import FIRST, LAST, _luhn_complete, _phone, _ssn
from ingestguard.io import ParquetSource
from ingestguard.keys import _make_key
from ingestguard.pipeline import Engine, plan

FAKE_NAMES = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "eval"
    / "presidio_research_FakeNameGenerator.com_100.csv"
)
ROWS = 600


@pytest.fixture(scope="module")
def engine() -> Engine:
    from ingestguard.policy import Policy

    return Engine(Policy(), _make_key(bytes(range(32)), "test"))


def _classes(path: Path, engine: Engine) -> dict[str, tuple[str, str | None]]:
    return {p.name: (p.column_class.value, p.entity) for p in plan(ParquetSource(path), engine)}


def _iban(rng: random.Random) -> str:
    bban = f"{rng.randint(10_000_000, 99_999_999)}{rng.randint(10**9, 10**10 - 1)}"
    check = iban.calc_check_digits(f"DE00{bban}")
    return f"DE{check}{bban}"


def _isbn13(rng: random.Random) -> str:
    body = f"978{rng.randint(10**8, 10**9 - 1)}"
    return f"{body}{ean.calc_check_digit(body)}"


def own_table(rows: int, seed: int = 3) -> tuple[pa.Table, dict[str, tuple[str, str | None]]]:
    """32 columns: 17 sensitive, 15 look-alikes or plain data, with the expected class of each."""
    rng = random.Random(seed)
    first = [rng.choice(FIRST) for _ in range(rows)]
    last = [rng.choice(LAST) for _ in range(rows)]
    start = date(1950, 1, 1)
    cols: dict[str, tuple[list, pa.DataType, tuple[str, str | None]]] = {
        "full_name": (
            [f"{f} {s}" for f, s in zip(first, last, strict=True)],
            pa.string(),
            ("entity", "PERSON"),
        ),
        "FirstName": (first, pa.string(), ("entity", "PERSON")),
        "surname": (last, pa.string(), ("entity", "PERSON")),
        "e_mail": (
            [
                f"{f.lower()}.{s.lower()}{i}@example.com"
                for i, (f, s) in enumerate(zip(first, last, strict=True))
            ],
            pa.string(),
            ("entity", "EMAIL_ADDRESS"),
        ),
        "contact": (
            [f"{f.lower()}{i}@example.org" for i, f in enumerate(first)],
            pa.string(),
            ("entity", "EMAIL_ADDRESS"),
        ),
        "msisdn": ([_phone(rng) for _ in range(rows)], pa.string(), ("entity", "PHONE_NUMBER")),
        "ssn": ([_ssn(rng) for _ in range(rows)], pa.string(), ("entity", "US_SSN")),
        "tax_ref": ([_ssn(rng) for _ in range(rows)], pa.string(), ("entity", "US_SSN")),
        "card_number": (
            [_luhn_complete("4", 16, rng) for _ in range(rows)],
            pa.string(),
            ("entity", "CREDIT_CARD"),
        ),
        "cc": (
            [int(_luhn_complete("51", 16, rng)) for _ in range(rows)],
            pa.int64(),
            ("entity", "CREDIT_CARD"),
        ),
        "iban": ([_iban(rng) for _ in range(rows)], pa.string(), ("entity", "IBAN_CODE")),
        "client_ip": (
            [f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(rows)],
            pa.string(),
            ("entity", "IP_ADDRESS"),
        ),
        "address": (
            [f"{rng.randint(1, 9999)} {rng.choice(LAST)} Street" for _ in range(rows)],
            pa.string(),
            ("entity", "STREET_ADDRESS"),
        ),
        "dob": (
            [(start + timedelta(days=rng.randint(0, 20_000))).isoformat() for _ in range(rows)],
            pa.string(),
            ("entity", "DATE_OF_BIRTH"),
        ),
        "city": (
            [
                rng.choice(
                    [
                        "Springfield",
                        "Riverton",
                        "Lakeview",
                        "Fairview",
                        "Greenville",
                        "Madison",
                        "Georgetown",
                        "Clinton",
                        "Salem",
                        "Franklin",
                        "Bristol",
                        "Oxford",
                        "Dover",
                        "Ashland",
                        "Milton",
                    ]
                )
                for _ in range(rows)
            ],
            pa.string(),
            ("entity", "LOCATION"),
        ),
        "password": (
            [uuid.UUID(int=rng.getrandbits(128)).hex[:14] + "!Aa" for _ in range(rows)],
            pa.string(),
            ("entity", "GENERIC_SECRET"),
        ),
        "notes": (
            [
                f"Spoke with {f} {s} about order {rng.randint(1000, 9999)}; call back tomorrow."
                for f, s in zip(first, last, strict=True)
            ],
            pa.string(),
            ("free_text", None),
        ),
        # Look-alikes and plain data: none of these is sensitive.
        "email_verified": ([rng.random() < 0.5 for _ in range(rows)], pa.bool_(), ("not_text", None)),
        "email_opt_in": ([rng.choice(["true", "false"]) for _ in range(rows)], pa.string(), ("clean", None)),
        "academic_year_code": (
            [rng.choice(["2021-22", "2022-23", "2023-24"]) for _ in range(rows)],
            pa.string(),
            ("clean", None),
        ),
        "product": (
            [rng.choice(["Victoria", "Jackson", "Madison Pro", "Austin"]) for _ in range(rows)],
            pa.string(),
            ("clean", None),
        ),
        "order_id": ([f"ORD-{i:07d}" for i in range(rows)], pa.string(), ("clean", None)),
        "sku": (
            [f"SKU{rng.randint(10_000, 99_999)}-{rng.choice('ABC')}" for _ in range(rows)],
            pa.string(),
            ("clean", None),
        ),
        "isbn": ([_isbn13(rng) for _ in range(rows)], pa.string(), ("clean", None)),
        "version": (
            [f"{rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}" for _ in range(rows)],
            pa.string(),
            ("clean", None),
        ),
        "request_id": (
            [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(rows)],
            pa.string(),
            ("clean", None),
        ),
        "status": (
            [rng.choice(["open", "closed", "pending"]) for _ in range(rows)],
            pa.string(),
            ("clean", None),
        ),
        "color": (
            [rng.choice(["red", "green", "blue", "Black"]) for _ in range(rows)],
            pa.string(),
            ("clean", None),
        ),
        "rating": (
            [f"{rng.randint(1, 5)}.{rng.randint(0, 9)}" for _ in range(rows)],
            pa.string(),
            ("clean", None),
        ),
        "amount": ([round(rng.uniform(1, 999), 2) for _ in range(rows)], pa.float64(), ("not_text", None)),
        "http_status": (
            [rng.choice([200, 201, 404, 500]) for _ in range(rows)],
            pa.int32(),
            ("not_text", None),
        ),
        "created_at": (
            [date(2024, 1, 1) + timedelta(days=rng.randint(0, 300)) for _ in range(rows)],
            pa.date32(),
            ("not_text", None),
        ),
    }
    table = pa.table({name: pa.array(values, dtype) for name, (values, dtype, _) in cols.items()})
    assert luhn.is_valid(str(table.column("cc")[0].as_py()))
    return table, {name: expected for name, (_, _, expected) in cols.items()}


def test_own_table_of_32_columns(tmp_path: Path, engine: Engine) -> None:
    table, expected = own_table(ROWS)
    assert table.num_columns >= 30
    path = tmp_path / "own.parquet"
    pq.write_table(table, path, row_group_size=100)
    got = _classes(path, engine)
    wrong = {name: (got[name], want) for name, want in expected.items() if got[name] != want}
    assert wrong == {}


# FakeNameGenerator column -> (class, entity); columns not listed must not be sensitive.
FAKE_NAME_EXPECTED = {
    "GivenName": ("entity", "PERSON"),
    "Surname": ("entity", "PERSON"),
    "MothersMaiden": ("entity", "PERSON"),
    "StreetAddress": ("entity", "STREET_ADDRESS"),
    "City": ("entity", "LOCATION"),
    "EmailAddress": ("entity", "EMAIL_ADDRESS"),
    "TelephoneNumber": ("entity", "PHONE_NUMBER"),
    "Birthday": ("entity", "DATE_OF_BIRTH"),
    "CCNumber": ("entity", "CREDIT_CARD"),
    "Password": ("entity", "GENERIC_SECRET"),
}
# Sensitive in the eyes of an auditor, but not (yet) an entity type of ours,
# or international formats the default policy does not enable: scanned in
# full as free text, or left as known gaps. Listed so the test says so.
FAKE_NAME_NOT_ENTITY_TYPES = {
    "State",
    "StateFull",
    "Country",
    "CountryFull",
    "ZipCode",
    "Username",
    "NationalID",
    "UPS",
    "BrowserUserAgent",
    "Latitude",
    "Longitude",
    "GUID",
    "Company",
    "Vehicle",
    "Occupation",
    "WesternUnionMTCN",
    "MoneyGramMTCN",
    "CVV2",
    "Age",
    "CCExpires",
    "Domain",
}


@pytest.mark.skipif(not FAKE_NAMES.is_file(), reason="../shared/eval is not present")
def test_fake_name_generator_columns(tmp_path: Path, engine: Engine) -> None:
    table = pv.read_csv(FAKE_NAMES)
    table = table.rename_columns([c.lstrip("\ufeff") for c in table.column_names])
    path = tmp_path / "fake_names.parquet"
    pq.write_table(table, path)
    got = _classes(path, engine)
    wrong = {name: (got[name], want) for name, want in FAKE_NAME_EXPECTED.items() if got[name] != want}
    assert wrong == {}
    traps = set(got) - set(FAKE_NAME_EXPECTED) - FAKE_NAME_NOT_ENTITY_TYPES
    called_sensitive = {name: got[name] for name in traps if got[name][0] in ("entity", "free_text")}
    assert called_sensitive == {}
