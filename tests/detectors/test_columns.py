from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pv
import pytest

from ingestguard import Guard
from ingestguard.demo import synthetic_table, write_demo
from ingestguard.detectors.analyzer import Detector
from ingestguard.detectors.columns import (
    ColumnClass,
    ColumnPlan,
    classify_column,
    coarse_places,
    flat_plans,
    place_key,
    plan_columns,
    sample_rows,
)
from ingestguard.detectors.columns import name_hint as hint
from ingestguard.errors import ScanError
from ingestguard.io import ParquetSource, TableSource
from ingestguard.policy import Action, Policy

POLICY = Policy()


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("e_mail", "EMAIL_ADDRESS"),
        ("EmailAddress", "EMAIL_ADDRESS"),
        ("Email-Address", "EMAIL_ADDRESS"),
        ("customer_phone", "PHONE_NUMBER"),
        ("ssn", "US_SSN"),
        ("SSN", "US_SSN"),
        ("first_name", "PERSON"),
        ("Customer Name", "PERSON"),
        ("card_number", "CREDIT_CARD"),
        ("iban", "IBAN_CODE"),
        ("client_ip", "IP_ADDRESS"),
        ("billing_city", "LOCATION"),
        # A name hint only lowers the share the values must reach; the values decide.
        ("email_verified", "EMAIL_ADDRESS"),
        ("academic_year_code", None),
        ("plan", None),
        ("created_at", None),
        ("mailing_list", None),
        ("", None),
    ],
)
def test_name_hint(column: str, expected: str | None) -> None:
    assert hint(column) == expected


# -- sample_rows ----------------------------------------------------------------------------------


def test_sample_rows_is_reproducible_by_seed() -> None:
    first = sample_rows(100_000, 500, seed=0)
    assert sample_rows(100_000, 500, seed=0) == first
    assert sample_rows(100_000, 500, seed=1) != first


def test_sample_rows_sorted_unique_and_spread() -> None:
    rows = sample_rows(1_000_000, 1000, seed=0)
    assert len(rows) == 1000
    assert rows == sorted(rows)
    assert len(set(rows)) == 1000
    assert all(isinstance(r, int) for r in rows)
    assert 0 <= rows[0] < 100_000
    assert 900_000 < rows[-1] < 1_000_000


@pytest.mark.parametrize(("num_rows", "size"), [(0, 10), (5, 10), (10, 10)])
def test_sample_rows_takes_everything_when_small(num_rows: int, size: int) -> None:
    assert sample_rows(num_rows, size, seed=3) == list(range(num_rows))


# -- classify_column ------------------------------------------------------------------------------


def _classify(name: str, values: list[str], detector: Detector, patterns: Detector) -> ColumnPlan:
    return classify_column(name, "string", values, POLICY, detector, patterns)


def test_email_column_is_an_entity_column(detector: Detector, patterns: Detector) -> None:
    emails = synthetic_table(200, seed=1).column("email").to_pylist()
    assert len(set(emails)) == 200
    plan = _classify("email", emails, detector, patterns)
    assert plan.column_class is ColumnClass.ENTITY
    assert plan.entity == "EMAIL_ADDRESS"
    assert plan.action is Action.PSEUDONYMIZE
    assert plan.match_share == 1.0
    assert plan.sample_size == 200
    assert plan.reasons == [
        "sampled 200 non-null values (200 distinct)",
        "name suggests EMAIL_ADDRESS",
        "100% of sampled values are EMAIL_ADDRESS as a whole",
    ]


def test_entity_column_found_by_values_without_a_name_hint(detector: Detector, patterns: Detector) -> None:
    emails = synthetic_table(200, seed=1).column("email").to_pylist()
    plan = _classify("contact", emails, detector, patterns)
    assert (plan.column_class, plan.entity, plan.match_share) == (ColumnClass.ENTITY, "EMAIL_ADDRESS", 1.0)


def test_name_column_uses_ner(detector: Detector, patterns: Detector) -> None:
    names = synthetic_table(200, seed=1).column("full_name").to_pylist()
    plan = _classify("attendee", names, detector, patterns)  # a name that hints nothing
    assert (plan.column_class, plan.entity, plan.action) == (
        ColumnClass.ENTITY,
        "PERSON",
        Action.PSEUDONYMIZE,
    )
    # With patterns alone, and no name to go by, it is not an entity column.
    alone = classify_column("attendee", "string", names, POLICY, patterns, patterns)
    assert alone.column_class is ColumnClass.CLEAN


def test_a_name_that_says_person_and_name_shaped_values_decide_without_ner(patterns: Detector) -> None:
    given = ["Marie", "Jürgen", "Siobhán", "Li", "O'Neil", "Anne-Sophie"] * 10
    plan = classify_column("GivenName", "string", given, POLICY, patterns, patterns)
    assert (plan.column_class, plan.entity) == (ColumnClass.ENTITY, "PERSON")
    assert "the name says PERSON and 100% of sampled values have its shape" in plan.reasons
    codes = ["AB-12", "X9", "Q-7", "ZZ-3"] * 15  # the name says person, the values do not
    assert (
        classify_column("surname", "string", codes, POLICY, patterns, patterns).column_class
        is ColumnClass.CLEAN
    )


def test_categorical_column_is_clean(detector: Detector, patterns: Detector) -> None:
    plan = _classify("plan", ["free", "pro", "team"] * 50, detector, patterns)
    assert plan.column_class is ColumnClass.CLEAN
    assert plan.entity is None
    assert plan.action is Action.KEEP
    assert (plan.sample_size, plan.match_share) == (150, 0.0)
    assert plan.reasons == [
        "sampled 150 non-null values (3 distinct)",
        "3 repeated values with no pattern entity: categories, not people or places",
    ]


def test_hinted_name_with_non_matching_values_is_clean(detector: Detector, patterns: Detector) -> None:
    plan = _classify("email_verified", ["true", "false"] * 50, detector, patterns)
    assert plan.column_class is ColumnClass.CLEAN
    assert plan.entity is None
    assert plan.reasons == [
        "sampled 100 non-null values (2 distinct)",
        "name suggests EMAIL_ADDRESS",
        "2 repeated values with no pattern entity: categories, not people or places",
    ]


def test_no_values_is_empty(detector: Detector, patterns: Detector) -> None:
    plan = _classify("anything", [], detector, patterns)
    assert plan.column_class is ColumnClass.EMPTY
    assert (plan.sample_size, plan.match_share, plan.entity) == (0, None, None)
    assert plan.reasons == ["every sampled value is null"]


def test_notes_with_embedded_emails_are_free_text(detector: Detector, patterns: Detector) -> None:
    notes = [f"Customer asked for a refund; reach them at user{i}@example.com please." for i in range(50)]
    plan = _classify("notes", notes, detector, patterns)
    assert plan.column_class is ColumnClass.FREE_TEXT
    assert plan.entity is None
    assert plan.match_share == 1.0
    assert plan.to_evidence()["action"] == "per_span"


def test_prose_without_entities_is_free_text(detector: Detector, patterns: Detector) -> None:
    notes = ["the order shipped on time and arrived in good shape"] * 20
    plan = _classify("comments", notes, detector, patterns)
    assert plan.column_class is ColumnClass.FREE_TEXT
    assert plan.match_share == 0.0


def test_mixed_column_below_share_is_free_text(detector: Detector, patterns: Detector) -> None:
    # 50% whole-value emails: under the 0.8 share without a hint, so not an entity column.
    values = [f"user{i}@example.com" for i in range(10)] + ["n/a"] * 10
    plan = _classify("contact", values, detector, patterns)
    assert plan.column_class is ColumnClass.FREE_TEXT
    assert plan.match_share == 0.5
    # With the hint the lower share (0.5) is enough.
    hinted = _classify("email", values, detector, patterns)
    assert (hinted.column_class, hinted.entity, hinted.match_share) == (
        ColumnClass.ENTITY,
        "EMAIL_ADDRESS",
        0.5,
    )


# -- plan_columns ---------------------------------------------------------------------------------


def test_plan_columns_classes(detector: Detector, patterns: Detector) -> None:
    table = pa.table(
        {
            "id": pa.array(range(30), pa.int64()),
            "plan": pa.array(["free", "pro", "team"] * 10).dictionary_encode(),
            "email": pa.array([f"user{i}@example.com" for i in range(30)], pa.large_string()),
            "blank": pa.array([None] * 30, pa.string()),
        }
    )
    plans = plan_columns(TableSource(table), POLICY, detector, patterns)
    assert [(p.name, p.arrow_type, p.column_class, p.entity) for p in plans] == [
        ("id", "int64", ColumnClass.NOT_TEXT, None),
        ("plan", "dictionary<values=string, indices=int32, ordered=0>", ColumnClass.CLEAN, None),
        ("email", "large_string", ColumnClass.ENTITY, "EMAIL_ADDRESS"),
        ("blank", "string", ColumnClass.EMPTY, None),
    ]
    assert plans[0].reasons == ["type int64 holds no text"]


def test_plan_columns_plans_a_list_of_strings_leaf_by_leaf(detector: Detector, patterns: Detector) -> None:
    table = pa.table(
        {
            "id": pa.array(range(40), pa.int64()),
            "tags": pa.array(
                [[f"user{i}@example.com"] if i % 2 else None for i in range(40)], pa.list_(pa.string())
            ),
        }
    )
    _, tags = plan_columns(TableSource(table), POLICY, detector, patterns)
    assert (tags.name, tags.column_class, tags.action) == ("tags", ColumnClass.NESTED, Action.KEEP)
    [leaf] = tags.leaves
    assert (leaf.name, leaf.arrow_type, leaf.column_class, leaf.entity) == (
        "tags[]",
        "string",
        ColumnClass.ENTITY,
        "EMAIL_ADDRESS",
    )
    assert leaf.sample_size == 20  # null lists hold no values
    assert [p.name for p in flat_plans([tags])] == ["tags[]"]


@pytest.mark.parametrize(
    ("dtype", "leaves"),
    [
        (pa.binary(), [("x", ColumnClass.EMPTY)]),
        (
            pa.struct([("note", pa.string()), ("n", pa.int8())]),
            [("x.note", ColumnClass.EMPTY), ("x.n", ColumnClass.NOT_TEXT)],
        ),
        (
            pa.map_(pa.string(), pa.large_binary()),
            [("x{}.key", ColumnClass.EMPTY), ("x{}.value", ColumnClass.EMPTY)],
        ),
    ],
    ids=["binary", "struct", "map"],
)
def test_plan_columns_nested_or_binary(
    detector: Detector, patterns: Detector, dtype: pa.DataType, leaves: list
) -> None:
    table = pa.table({"x": pa.array([None, None], dtype)})
    [plan] = plan_columns(TableSource(table), POLICY, detector, patterns)
    assert plan.column_class is ColumnClass.NESTED
    assert [(leaf.name, leaf.column_class) for leaf in plan.leaves] == leaves


@pytest.mark.parametrize(
    ("dtype", "part"),
    [
        (pa.binary(4), ""),
        (pa.struct([("digest", pa.binary(16))]), ", whose part 'x.digest' (fixed_size_binary[16])"),
        (
            pa.list_(pa.dense_union([pa.field("s", pa.string())])),
            ", whose part 'x[]' (dense_union<s: string=0>)",
        ),
    ],
    ids=["fixed_binary", "struct_of_fixed_binary", "list_of_union"],
)
def test_plan_columns_fails_closed_on_text_it_cannot_read(
    detector: Detector, patterns: Detector, dtype: pa.DataType, part: str
) -> None:
    table = pa.table({"x": pa.nulls(2, dtype)})
    with pytest.raises(ScanError) as info:
        plan_columns(TableSource(table), POLICY, detector, patterns)
    assert str(info.value) == (
        f"column 'x' has type {dtype}{part}, which ingestguard cannot scan; "
        "set columns.x to drop_column or skip in the policy"
    )


def test_plan_columns_fails_closed_on_binary_that_is_not_utf8(detector: Detector, patterns: Detector) -> None:
    table = pa.table({"blob": pa.array([b"user@example.com", b"\xff\xfe jane@example.com"], pa.binary())})
    with pytest.raises(ScanError) as info:
        plan_columns(TableSource(table), POLICY, detector, patterns)
    assert str(info.value) == (
        "column 'blob' holds bytes that are not UTF-8 text, which ingestguard cannot scan; "
        "set columns.blob to drop_column or skip in the policy"
    )


def test_plan_columns_policy_overrides(detector: Detector, patterns: Detector) -> None:
    policy = Policy.from_dict(
        {
            "columns": {
                "tags": {"skip": True},
                "plan": {"action": "drop_column"},
                "id": {"action": "redact"},
            }
        }
    )
    table = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "plan": ["free", "pro", "team"],
            "tags": pa.array([["a"], ["b"], []], pa.list_(pa.string())),
        }
    )
    plans = plan_columns(TableSource(table), policy, detector, patterns)
    assert [(p.name, p.column_class, p.action, p.reasons) for p in plans] == [
        ("id", ColumnClass.FORCED, Action.REDACT, ["policy: action redact"]),
        ("plan", ColumnClass.FORCED, Action.DROP_COLUMN, ["policy: action drop_column"]),
        ("tags", ColumnClass.SKIPPED, Action.KEEP, ["policy: skip"]),
    ]


def test_plan_columns_rejects_text_action_on_non_text(detector: Detector, patterns: Detector) -> None:
    policy = Policy.from_dict({"columns": {"id": {"action": "mask"}}})
    table = pa.table({"id": pa.array([1, 2, 3], pa.int64())})
    with pytest.raises(ScanError) as info:
        plan_columns(TableSource(table), policy, detector, patterns)
    assert (
        str(info.value)
        == "column 'id' is int64; only drop_column, redact, encrypt_column, shift_dates or keep apply to it"
    )


def test_plan_columns_on_demo_parquet(tmp_path: Path, detector: Detector, patterns: Detector) -> None:
    source = ParquetSource(write_demo(tmp_path / "demo.parquet", rows=300, row_group_size=100))
    policy = Policy.from_dict({"sampling": {"size": 150, "seed": 0}})
    plans = {p.name: p for p in plan_columns(source, policy, detector, patterns)}
    assert {n: (p.column_class, p.entity) for n, p in plans.items()} == {
        "customer_id": (ColumnClass.NOT_TEXT, None),
        "full_name": (ColumnClass.ENTITY, "PERSON"),
        "email": (ColumnClass.ENTITY, "EMAIL_ADDRESS"),
        "phone": (ColumnClass.ENTITY, "PHONE_NUMBER"),
        "ssn": (ColumnClass.ENTITY, "US_SSN"),
        "card_number": (ColumnClass.ENTITY, "CREDIT_CARD"),
        "notes": (ColumnClass.FREE_TEXT, None),
        "plan": (ColumnClass.CLEAN, None),
        "signup_at": (ColumnClass.NOT_TEXT, None),
        "amount": (ColumnClass.NOT_TEXT, None),
    }
    assert plans["email"].sample_size == 150


def _mixed_table(rows: int, email_share: float) -> pa.Table:
    """Distinct values, `email_share` of them emails, spread evenly."""
    emails = round(email_share * 100)
    values = [f"user{i}@example.com" if i % 100 < emails else f"ref-{i:06d}" for i in range(rows)]
    return pa.table({"contact": pa.array(values), "plan": pa.array(["free", "pro"] * (rows // 2))})


def test_a_share_near_the_threshold_is_decided_on_a_larger_sample(patterns: Detector) -> None:
    policy = Policy.from_dict({"sampling": {"size": 100, "seed": 3}})
    plans = {
        p.name: p for p in plan_columns(TableSource(_mixed_table(20_000, 0.85)), policy, patterns, patterns)
    }
    contact = plans["contact"]
    assert contact.sample_size == 400
    assert contact.reasons[0] == (
        "100 sampled rows left the share within sampling error of a threshold: classified on 400 rows instead"
    )
    assert (contact.column_class, contact.entity) == (ColumnClass.ENTITY, "EMAIL_ADDRESS")
    assert contact.match_share == pytest.approx(0.85, abs=0.03)
    # Repeated values: more rows would only repeat them.
    assert plans["plan"].sample_size == 100


def test_a_share_far_from_the_threshold_keeps_the_first_sample(patterns: Detector) -> None:
    policy = Policy.from_dict({"sampling": {"size": 100, "seed": 3}})
    [contact, _] = plan_columns(TableSource(_mixed_table(20_000, 0.3)), policy, patterns, patterns)
    [clear, _] = plan_columns(TableSource(_mixed_table(20_000, 0.99)), policy, patterns, patterns)
    assert (contact.sample_size, clear.sample_size) == (100, 100)
    assert not any("sampling error" in r for r in contact.reasons + clear.reasons)


def test_names_are_found_by_ner_under_a_person_only_policy() -> None:
    """PERSON also has a pattern recognizer (labelled fields): NER must still run."""
    policy = Policy(entities=["PERSON", "EMAIL_ADDRESS"])
    detector, patterns = Detector(policy), Detector(policy, ner=False)
    first = ["Amy", "Raj", "Maria", "James", "Linda", "Tom", "Ana", "Kofi"]
    last = ["Wong", "Mehta", "Garcia", "Smith", "Brown", "Baker", "Silva", "Mensah"]
    names = [f"{a} {b}" for a in first for b in last]
    plan = classify_column("client", "string", names, policy, detector, patterns)
    assert (plan.column_class, plan.entity) == (ColumnClass.ENTITY, "PERSON")


# -- coarse places: countries and states ----------------------------------------------------------

COARSE = "places this coarse are not identifying (HIPAA Safe Harbor keeps states and countries)"
TEST_KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="


@pytest.mark.parametrize(
    ("value", "coarse"),
    [
        ("US", True),
        ("U.S.", True),
        ("deu", True),
        ("Gbr", True),
        ("Germany", True),
        ("South Korea", True),
        ("Korea, Republic of", True),
        ("Turkey", True),
        ("California", True),
        ("OR", True),
        ("in", True),
        ("Ontario", True),
        ("NSW", True),
        ("Springfield", False),
        ("Paris", False),
        ("Bavaria", False),  # a German state: only US, CA and AU subdivisions are listed
    ],
)
def test_coarse_places(value: str, coarse: bool) -> None:
    assert (place_key(value) in coarse_places()) is coarse


def test_a_table_keeps_its_countries_and_states_and_protects_towns_and_names(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("INGESTGUARD_KEY", TEST_KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    df = pd.DataFrame(
        {
            "full_name": [
                f"{a} {b}"
                for a in ["Maria", "James", "Linda", "Kofi", "Amy", "Raj"]
                for b in [
                    "Garcia",
                    "Smith",
                    "Brown",
                    "Mensah",
                    "Wong",
                    "Mehta",
                    "Baker",
                    "Silva",
                    "Nolan",
                    "Reyes",
                ]
            ],
            "country": ["US", "GB", "DE"] * 20,
            "country_full": ["Germany", "France", "United States", "Japan", "Brazil", "India"] * 10,
            "state": ["California", "Texas", "New York", "Oregon", "Maine", "Ohio"] * 10,
            "iso3": ["USA", "deu", "Gbr", "fra", "JPN", "Ind"] * 10,
            "city": ["Springfield", "Riverton", "Lakeview", "Fairview", "Greenville", "Madison"] * 10,
        }
    )
    out, evidence = Guard().protect(df)
    for name in ("country", "country_full", "state", "iso3"):
        pd.testing.assert_series_equal(out[name], df[name])
    assert not set(out["city"]) & set(df["city"])
    assert not set(out["full_name"]) & set(df["full_name"])
    columns = {c.name: c for c in evidence.files[0].columns}
    assert (columns["country"].classification, columns["country"].entity, columns["country"].action) == (
        "clean",
        None,
        "keep",
    )
    assert columns["country"].reasons[-1] == f"100% of sampled values are countries or states: {COARSE}"
    assert (columns["city"].entity, columns["city"].action) == ("LOCATION", "replace")
    assert evidence.status == "passed"


def test_a_country_column_with_a_few_placeholders_is_kept(detector: Detector, patterns: Detector) -> None:
    values = ["US", "GB", "DE", "FR"] * 24 + ["Unknown"] * 4
    plan = _classify("country", values, detector, patterns)
    assert (plan.column_class, plan.entity, plan.action) == (ColumnClass.CLEAN, None, Action.KEEP)
    assert (
        plan.reasons[-1]
        == f"96% of sampled values are countries or states; the other 4% hold no entity: {COARSE}"
    )


def test_towns_among_states_are_still_protected(detector: Detector, patterns: Detector) -> None:
    # Half towns: far under the share.
    mixed = _classify(
        "region", ["Springfield", "CA", "Riverton", "TX", "Dover", "NY"] * 10, detector, patterns
    )
    assert (mixed.column_class, mixed.entity, mixed.action) == (
        ColumnClass.ENTITY,
        "LOCATION",
        Action.REPLACE,
    )
    # 92% states, but the rest are towns: a town among them is not a coarse place.
    states = ["California", "Texas", "Ohio", "Maine"] * 23 + ["Springfield", "Riverton"] * 4
    plan = _classify("state", states, detector, patterns)
    assert (plan.column_class, plan.entity) == (ColumnClass.ENTITY, "LOCATION")
    assert not any(COARSE in r for r in plan.reasons)


def test_a_city_column_of_state_names_is_still_protected(detector: Detector, patterns: Detector) -> None:
    plan = _classify("city", ["New York", "Washington"] * 30, detector, patterns)
    assert (plan.column_class, plan.entity, plan.action) == (ColumnClass.ENTITY, "LOCATION", Action.REPLACE)


FAKE_NAMES = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "eval"
    / "presidio_research_FakeNameGenerator.com_100.csv"
)


@pytest.mark.skipif(not FAKE_NAMES.is_file(), reason="../shared/eval is not present")
def test_fake_name_generator_country_codes_are_kept(detector: Detector, patterns: Detector) -> None:
    table = pv.read_csv(FAKE_NAMES)
    table = table.rename_columns([c.lstrip("\ufeff") for c in table.column_names]).select(["Country", "City"])
    country, city = plan_columns(TableSource(table), POLICY, detector, patterns)
    assert (country.column_class, country.action) == (ColumnClass.CLEAN, Action.KEEP)
    assert country.reasons[-1] == f"100% of sampled values are countries or states: {COARSE}"
    assert (city.column_class, city.entity) == (ColumnClass.ENTITY, "LOCATION")
