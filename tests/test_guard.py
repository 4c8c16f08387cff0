"""The library facade: same data path, same type back, typed errors."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from ingestguard import Guard, Policy, PolicyViolation
from ingestguard.demo import synthetic_table

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="


@pytest.fixture(autouse=True)
def _key(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


def test_protect_dataframe_returns_dataframe_with_index_and_clean_columns():
    df = synthetic_table(60, seed=5).to_pandas()
    df.index = pd.RangeIndex(1000, 1060)
    out, evidence = Guard().protect(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.index) == list(df.index)
    assert list(out.columns) == list(df.columns)
    pd.testing.assert_series_equal(out["amount"], df["amount"])
    pd.testing.assert_series_equal(out["plan"], df["plan"])
    assert not set(out["email"]) & set(df["email"])
    assert out["ssn"].isna().all()
    assert evidence.status == "passed" and evidence.files[0].rows == 60


def test_protect_table_returns_table_and_pseudonyms_are_stable():
    table = synthetic_table(40, seed=6)
    out1, _ = Guard().protect(table)
    out2, _ = Guard().protect(table.slice(0, 20))
    assert isinstance(out1, pa.Table)
    assert out1.column("email").to_pylist()[:20] == out2.column("email").to_pylist()
    assert out1.schema == table.schema


def test_analyze_text_gives_types_and_spans():
    text = "Write to jane.roe@example.org or call (212) 555-0147."
    found = [(f.entity_type, f.start, f.end) for f in Guard().analyze_text(text)]
    assert found == [("EMAIL_ADDRESS", 9, 29), ("PHONE_NUMBER", 38, 52)]


def test_redact_text_applies_the_policy_actions():
    policy = Policy(actions={"EMAIL_ADDRESS": "replace", "PHONE_NUMBER": "redact"})
    text = "Write to jane.roe@example.org or call (212) 555-0147."
    assert Guard(policy).redact_text(text) == "Write to <EMAIL_ADDRESS> or call ."


def test_protect_raises_on_fail_on_left_behind():
    policy = Policy(actions={"US_SSN": "keep"}, fail_on=["US_SSN"])
    with pytest.raises(PolicyViolation, match="US_SSN"):
        Guard(policy).protect(synthetic_table(20))


def test_protect_file_writes_output_and_evidence(tmp_path):
    from ingestguard.demo import write_demo

    src = write_demo(tmp_path / "in" / "a.parquet", rows=30)
    evidence = Guard().protect_file(src, tmp_path / "out.parquet", evidence_dir=tmp_path / "ev")
    assert (tmp_path / "out.parquet").is_file()
    assert evidence.files[0].output_rows == 30
    assert [p.name for p in (tmp_path / "ev").iterdir() if p.suffix == ".json"] == [
        f"out.parquet.{evidence.run_id}.evidence.json"
    ]


def test_scan_dataframe_changes_nothing():
    df = synthetic_table(30).to_pandas()
    before = df.copy()
    evidence = Guard().scan(df)
    pd.testing.assert_frame_equal(df, before)
    cols = {c.name: c for c in evidence.files[0].columns}
    assert (cols["email"].classification, cols["email"].entity) == ("entity", "EMAIL_ADDRESS")
    assert evidence.key is None


def test_string_view_columns_are_protected_as_large_strings(tmp_path):
    import pyarrow.parquet as pq

    emails = [f"user{i}@example.com" for i in range(50)]
    notes = [f"mail bob{i}@example.org now" for i in range(50)]
    table = pa.table({"email": pa.array(emails, pa.string_view()), "note": pa.array(notes, pa.string_view())})
    out, evidence = Guard().protect(table)
    pq.write_table(table, tmp_path / "in.parquet")
    Guard().protect_file(tmp_path / "in.parquet", tmp_path / "out.parquet")
    for protected in (out, pq.read_table(tmp_path / "out.parquet")):
        assert protected.schema.types == [pa.large_string(), pa.large_string()]
        text = " ".join(protected.column("email").to_pylist() + protected.column("note").to_pylist())
        assert not [v for v in emails + [f"bob{i}@example.org" for i in range(50)] if v in text]
    assert [c.classification for c in evidence.files[0].columns] == ["entity", "free_text"]


# (input type, output type): view types come out as their large_* equivalents.
STRING_TYPES = [
    pytest.param(pa.string(), pa.string(), id="string"),
    pytest.param(pa.large_string(), pa.large_string(), id="large_string"),
    pytest.param(pa.string_view(), pa.large_string(), id="string_view"),
    pytest.param(
        pa.dictionary(pa.int32(), pa.string_view()),
        pa.dictionary(pa.int32(), pa.large_string()),
        id="dictionary<string_view>",
    ),
]


@pytest.mark.parametrize(("in_type", "out_type"), STRING_TYPES)
def test_every_arrow_string_type_is_scanned_and_protected(
    in_type: pa.DataType, out_type: pa.DataType
) -> None:
    emails = [f"user{i}@example.com" for i in range(50)]
    if pa.types.is_dictionary(in_type):
        array = pa.DictionaryArray.from_arrays(
            pa.array(range(50), pa.int32()), pa.array(emails, in_type.value_type)
        )
    else:
        array = pa.array(emails, in_type)
    table = pa.table({"email": array})
    guard = Guard()
    assert guard.scan(table).files[0].columns[0].findings == {"EMAIL_ADDRESS": 50}
    out, evidence = guard.protect(table)
    assert out.schema.field("email").type == out_type
    left = out.column("email").cast(pa.large_string()).to_pylist()
    assert len(left) == 50 and None not in left and not set(left) & set(emails)
    column = evidence.files[0].columns[0]
    assert (column.classification, column.findings, column.values_transformed) == (
        "entity",
        {"EMAIL_ADDRESS": 50},
        50,
    )


def test_kept_email_column_evidence_counts_findings_as_scan_does() -> None:
    policy = Policy(actions={"EMAIL_ADDRESS": "keep"}, fail_on=[])
    emails = [f"user{i}@example.com" for i in range(50)] + [None] * 10
    table = pa.table({"email": emails})
    scanned = Guard(policy).scan(table).files[0].columns[0]
    out, evidence = Guard(policy).protect(table)
    kept = evidence.files[0].columns[0]
    assert (kept.classification, kept.action, kept.values_transformed) == ("entity", "keep", 0)
    assert kept.findings == scanned.findings == {"EMAIL_ADDRESS": 50}
    assert out.column("email").to_pylist() == emails
