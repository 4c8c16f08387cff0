"""The executor: values a sample misses are still protected; traps stay untouched."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from ingestguard.keys import _make_key
from ingestguard.pipeline import Engine, protect_table
from ingestguard.policy import Policy

KEY = _make_key(bytes(range(32)), source="test")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(Policy(sampling={"size": 50, "seed": 1}), KEY)


def test_rare_ssn_in_a_clean_column_is_redacted_not_left_behind(engine: Engine) -> None:
    refs = [f"REF-{i:05d}" for i in range(5_000)]
    refs[4_321] = "see 536-22-1983"  # one row; a 50-value sample will not see it
    out, outcome = protect_table(pa.table({"ref": refs}), engine)
    [col] = outcome.columns
    assert col["classification"] == "clean"
    assert col["findings"] == {"US_SSN": 1} and col["values_transformed"] == 1
    assert out.column("ref")[4_321].as_py() == "see "
    assert out.column("ref").to_pylist()[:3] == refs[:3]
    assert outcome.residual == {}


def test_name_like_categories_are_not_people(engine: Engine) -> None:
    tiers = ["Victoria", "Elizabeth", "Jackson"] * 400
    out, outcome = protect_table(pa.table({"tier": tiers}), Engine(Policy(), KEY))
    [col] = outcome.columns
    assert (col["classification"], col["entity"]) == ("clean", None)
    assert "categories" in " ".join(col["reasons"])
    assert out.column("tier").to_pylist() == tiers


def test_name_hints_can_be_switched_off() -> None:
    names = ["Maria Garcia", "James Smith", "Linda Brown", "unknown", "n/a", "-"] * 20
    hinted = Engine(Policy(), KEY)
    plain = Engine(Policy(classification={"use_name_hints": False}), KEY)
    _, with_hint = protect_table(pa.table({"full_name": names}), hinted)
    _, without = protect_table(pa.table({"full_name": names}), plain)
    assert (with_hint.columns[0]["classification"], with_hint.columns[0]["entity"]) == ("entity", "PERSON")
    assert without.columns[0]["classification"] != "entity"


def test_json_extension_column_is_protected_path_by_path(engine: Engine) -> None:
    payload = pa.array([f'{{"email": "user{i}@example.org", "n": {i}}}' for i in range(20)], pa.json_())
    out, outcome = protect_table(pa.table({"payload": payload}), engine)
    assert out.schema.field("payload").type == pa.json_()
    docs = [json.loads(v) for v in out.column("payload").to_pylist()]
    assert [d["n"] for d in docs] == list(range(20))
    assert all(d["email"].startswith("EMAIL_ADDRESS_") for d in docs)
    assert [c["name"] for c in outcome.columns] == ["payload$.email", "payload$*"]


def test_redacting_a_non_nullable_column_makes_it_nullable(engine: Engine) -> None:
    schema = pa.schema(
        [pa.field("ssn", pa.string(), nullable=False), pa.field("id", pa.int64(), nullable=False)]
    )
    table = pa.table({"ssn": [f"536-22-{1000 + i}" for i in range(60)], "id": list(range(60))}, schema=schema)
    out, _ = protect_table(table, engine)
    assert out.column("ssn").null_count == 60
    assert out.schema.field("ssn").nullable and not out.schema.field("id").nullable


def test_integer_ssns_that_lost_their_leading_zero_are_redacted(engine: Engine) -> None:
    # 078-05-1120, 012-34-5670, ... stored as integers: 8 digits, not 9.
    ssns = [int(f"0{i % 90 + 10:02d}{i % 89 + 10:02d}{i % 9000 + 1000:04d}") for i in range(60)]
    table = pa.table({"ssn": pa.array(ssns, pa.int64()), "id": pa.array(range(60), pa.int64())})
    out, outcome = protect_table(table, engine)
    ssn, ident = outcome.columns
    assert (ssn["classification"], ssn["entity"], ssn["action"]) == ("entity", "US_SSN", "redact")
    assert (
        f"{ssn['sample_size']} sampled integers read with their leading zeros, as 9 digits" in ssn["reasons"]
    )
    assert ssn["findings"] == {"US_SSN": 60} and ssn["values_transformed"] == 60
    assert out.column("ssn").null_count == 60 and out.schema.field("ssn").type == pa.int64()
    assert not [v for v in ssns if str(v) in str(ssn)]  # no raw value in the evidence
    assert ident["classification"] == "not_text"
    assert out.column("id").to_pylist() == list(range(60))


def test_kept_entity_columns_count_their_findings_as_scan_does() -> None:
    from ingestguard.io import TableSource
    from ingestguard.pipeline import scan_source

    engine = Engine(Policy(actions={"EMAIL_ADDRESS": "keep"}, fail_on=[]), KEY)
    emails = [f"user{i}@example.com" for i in range(50)] + [None] * 10
    table = pa.table({"email": emails})
    out, protected = protect_table(table, engine)
    scanned = scan_source(TableSource(table), engine)
    assert protected.columns[0]["findings"] == scanned.columns[0]["findings"] == {"EMAIL_ADDRESS": 50}
    assert protected.columns[0]["values_transformed"] == 0
    assert out.column("email").to_pylist() == emails


@pytest.mark.parametrize(
    "settings",
    [
        {"actions": {"PERSON": "redact"}},
        {"actions": {"PERSON": "mask"}},
        {"actions": {"PERSON": "mask"}, "mask": {"char": "X", "keep_last": 4}},
        {"actions": {"PERSON": "replace"}},
        {"actions": {"PERSON": "pseudonymize"}},
    ],
)
def test_labelled_names_protected_leave_nothing_the_verification_flags(settings: dict) -> None:
    first, last = ["Amy", "Raj", "Maria", "Tom"], ["Wong", "Mehta", "Garcia", "Baker"]
    rows = [
        f'{{"name":"{a} {b}","plan":"pro"}}\nCustomer Name: {a} {b}\nNote: ok' for a in first for b in last
    ]
    out, outcome = protect_table(pa.table({"payload": rows * 4}), Engine(Policy(**settings), KEY))
    text = "\n".join(out.column("payload").to_pylist())
    assert not [f"{a} {b}" for a in first for b in last if f"{a} {b}" in text]
    assert outcome.columns[0]["findings"]["PERSON"] == 2 * len(rows) * 4
    assert outcome.residual == {}
