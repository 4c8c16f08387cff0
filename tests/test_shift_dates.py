"""shift_dates through protect: one keyed offset per subject (the row's value of
shift_dates.subject_column), so intervals within a subject survive exactly."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from ingestguard import Guard, Policy
from ingestguard.errors import PolicyError
from ingestguard.keyring import Keyring
from ingestguard.transforms.generalize import DateShifter

SUBJECTS = 40
POLICY = {
    "entities": ["DATE_TIME", "DATE_OF_BIRTH", "EMAIL_ADDRESS"],
    "actions": {"DATE_TIME": "shift_dates", "DATE_OF_BIRTH": "shift_dates"},
    "shift_dates": {"subject_column": "patient_id", "max_days": 30},
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    return tmp_path


def _visits() -> pd.DataFrame:
    """Two visits per subject, 3 + i days apart, subjects interleaved across rows."""
    first = [date(2024, 1, 1 + i % 28) for i in range(SUBJECTS)]
    second = [date.fromordinal(d.toordinal() + 3 + i) for i, d in enumerate(first)]
    return pd.DataFrame(
        {
            "patient_id": [f"P{i:04d}" for i in range(SUBJECTS)] * 2,
            "visit_date": [d.isoformat() for d in first + second],
        }
    )


def _days(series: pd.Series, fmt: str = "%Y-%m-%d") -> list[int]:
    return [datetime.strptime(v, fmt).toordinal() for v in series]


def _protect(data: pd.DataFrame, policy: dict = POLICY) -> pd.DataFrame:
    out, evidence = Guard(Policy.from_dict(policy)).protect(data)
    assert evidence.status == "passed"
    return out


def _offsets(original: pd.DataFrame, shifted: pd.DataFrame, column: str = "visit_date") -> list[int]:
    return [a - b for a, b in zip(_days(shifted[column]), _days(original[column]), strict=True)]


def test_the_interval_between_two_dates_of_one_subject_survives_exactly(home: Path) -> None:
    original = _visits()
    shifted = _protect(original)
    assert shifted["patient_id"].tolist() == original["patient_id"].tolist()
    assert shifted["visit_date"].tolist() != original["visit_date"].tolist()
    before, after = _days(original["visit_date"]), _days(shifted["visit_date"])
    for i in range(SUBJECTS):
        assert after[SUBJECTS + i] - after[i] == before[SUBJECTS + i] - before[i] == 3 + i


def test_each_subject_has_one_offset_within_max_days_and_never_zero(home: Path) -> None:
    original = _visits()
    offsets = _offsets(original, _protect(original))
    per_subject = dict(zip(original["patient_id"][:SUBJECTS], offsets[:SUBJECTS], strict=True))
    assert per_subject == dict(zip(original["patient_id"][SUBJECTS:], offsets[SUBJECTS:], strict=True))
    assert all(1 <= abs(d) <= 30 for d in offsets)
    # 40 subjects over 60 possible offsets: almost surely many different ones.
    assert len(set(per_subject.values())) >= 15


def test_offsets_over_many_subjects_stay_in_range_and_skip_zero(home: Path) -> None:
    shifter = DateShifter(Keyring.open(Policy.from_dict(POLICY)), max_days=2)
    offsets = {shifter.offset(f"S{i}") for i in range(400)}
    assert offsets == {-2, -1, 1, 2}


def test_the_same_subject_gets_the_same_offset_in_two_runs(home: Path) -> None:
    original = _visits()
    first = _protect(original)
    # Another run, another engine (other columns, another policy digest): same offsets.
    again = _protect(original.iloc[::-1].reset_index(drop=True)).iloc[::-1].reset_index(drop=True)
    assert first["visit_date"].tolist() == again["visit_date"].tolist()
    # And a separately started process, with the keyring opened afresh, agrees.
    script = (
        "from ingestguard.keyring import Keyring; from ingestguard.policy import Policy; "
        "from ingestguard.transforms.generalize import DateShifter; "
        f"s = DateShifter(Keyring.open(Policy.from_dict({POLICY!r})), 30); "
        f"print([s.offset('P%04d' % i) for i in range({SUBJECTS})])"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == str(_offsets(original, first)[:SUBJECTS])


def test_offsets_differ_after_rotation(home: Path) -> None:
    """Documented behaviour: the offset key is the keyring's current version."""
    ring = Keyring.open(Policy.from_dict(POLICY))
    before = DateShifter(ring, 365)
    ring.rotate()
    after = DateShifter(ring, 365)
    assert [before.offset(f"S{i}") for i in range(20)] != [after.offset(f"S{i}") for i in range(20)]


def test_the_output_keeps_each_value_format(home: Path) -> None:
    values = ["2024-03-05", "05.03.2024", "2024/03/05", "2024-03-05T10:20:30", "03/05/2024"]
    formats = ["%Y-%m-%d", "%d.%m.%Y", "%Y/%m/%d", None, "%m/%d/%Y"]
    original = pd.DataFrame({"patient_id": ["P0001"] * 5 * 4, "visit_date": values * 4})
    shifted = _protect(original)
    offset = None
    for value, fmt, out in zip(values, formats, shifted["visit_date"][:5], strict=True):
        if fmt is None:
            assert out.endswith("T10:20:30") and len(out) == len(value)
            continue
        moved = datetime.strptime(out, fmt).toordinal() - datetime.strptime(value, fmt).toordinal()
        assert offset in (None, moved) and moved != 0
        offset = moved
    assert shifted["visit_date"].tolist()[:5] == shifted["visit_date"].tolist()[5:10]


def test_date_of_birth_and_forced_columns_shift_by_the_row_subject(home: Path) -> None:
    original = _visits()
    original["dob"] = ["1980-01-02"] * (2 * SUBJECTS)
    original["admitted"] = original["visit_date"]
    policy = {**POLICY, "columns": {"admitted": {"action": "shift_dates"}}}
    shifted = _protect(original, policy)
    offsets = _offsets(original, shifted)
    assert _offsets(original, shifted, "dob") == offsets
    assert _offsets(original, shifted, "admitted") == offsets


def test_an_arrow_string_column_keeps_its_type(home: Path) -> None:
    table = pa.Table.from_pandas(_visits(), preserve_index=False).cast(
        pa.schema([("patient_id", pa.string()), ("visit_date", pa.string())])
    )
    out, evidence = Guard(Policy.from_dict(POLICY)).protect(table)
    assert evidence.status == "passed"
    assert out.schema.field("visit_date").type == pa.string()
    assert out.column("visit_date").to_pylist() == _protect(_visits())["visit_date"].tolist()


def test_rows_without_a_subject_and_unreadable_dates_are_replaced(home: Path) -> None:
    original = pd.DataFrame(
        {
            "patient_id": ["P1", None, "P2", "P3"] * 5,
            "visit_date": ["2024-03-05", "2024-03-06", None, "2024-03-07"] * 5,
        }
    )
    original.loc[6, "visit_date"] = "2024-02-30"
    shifted = _protect(original)
    assert shifted.loc[1, "visit_date"] == "<DATE_TIME>"  # no subject: no offset to apply
    assert shifted.loc[6, "visit_date"] == "<DATE_TIME>"  # not a real date
    assert pd.isna(shifted.loc[2, "visit_date"])
    assert shifted.loc[0, "visit_date"] not in ("2024-03-05", "<DATE_TIME>")


def test_a_missing_subject_column_is_a_policy_error_naming_it(home: Path) -> None:
    policy = {**POLICY, "shift_dates": {"subject_column": "member_id"}}
    with pytest.raises(PolicyError, match="shift_dates.subject_column 'member_id'"):
        Guard(Policy.from_dict(policy)).protect(_visits())


@pytest.mark.parametrize(
    "policy",
    [
        {"entities": ["DATE_TIME"], "actions": {"DATE_TIME": "shift_dates"}},
        {"columns": {"visit_date": {"action": "shift_dates"}}},
        {"entities": ["DATE_TIME"], "default_action": "shift_dates"},
    ],
)
def test_shift_dates_without_a_subject_column_is_refused(policy: dict) -> None:
    with pytest.raises(PolicyError, match="shift_dates.subject_column"):
        Policy.from_dict(policy)


def test_subject_column_set_without_the_action_is_fine() -> None:
    assert not Policy.from_dict({"shift_dates": {"subject_column": "patient_id"}}).uses_keyring()


def test_date_and_timestamp_columns_move_by_whole_days_in_their_own_type(tmp_path, monkeypatch) -> None:
    import pyarrow.parquet as pq

    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    policy = Policy.from_dict(
        {
            "columns": {"visit": {"action": "shift_dates"}, "seen_at": {"action": "shift_dates"}},
            "shift_dates": {"subject_column": "patient", "max_days": 30},
        }
    )
    table = pa.table(
        {
            "patient": ["p1", "p1", "p2", None],
            "visit": pa.array(
                [date(2024, 1, 1), date(2024, 1, 11), date(2024, 1, 1), date(2024, 2, 2)], pa.date32()
            ),
            "seen_at": pa.array(
                [
                    datetime(2024, 1, 1, 9),
                    datetime(2024, 1, 11, 10),
                    datetime(2024, 1, 1, 9),
                    datetime(2024, 2, 2),
                ],
                pa.timestamp("us"),
            ),
        }
    )
    pq.write_table(table, tmp_path / "in.parquet")
    evidence = Guard(policy).protect_file(
        tmp_path / "in.parquet", tmp_path / "out.parquet", evidence_dir=tmp_path / "ev"
    )
    assert evidence.status == "passed"
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.field("visit").type == pa.date32() and out.schema.field("seen_at").type == pa.timestamp(
        "us"
    )
    visits, seen = out.column("visit").to_pylist(), out.column("seen_at").to_pylist()
    assert visits[1] - visits[0] == date(2024, 1, 11) - date(2024, 1, 1)  # a subject's interval survives
    assert seen[1] - seen[0] == datetime(2024, 1, 11, 10) - datetime(2024, 1, 1, 9)
    shift = visits[0] - date(2024, 1, 1)
    assert 1 <= abs(shift.days) <= 30 and seen[0] - datetime(2024, 1, 1, 9) == shift  # one offset per subject
    assert visits[3] is None and seen[3] is None  # no subject, no offset: the date is removed
