"""k-anonymity of outputs: group sizes over quasi-identifiers, the verdict, and the run's evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingestguard.cli import app
from ingestguard.errors import PolicyError, PolicyViolation
from ingestguard.guard import Guard
from ingestguard.kanonymity import GroupSizes, check_columns
from ingestguard.policy import KAnonymitySettings, Policy

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
QI = ["zip", "birth_year", "gender"]


@pytest.fixture(autouse=True)
def _key(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


def people(groups: list[tuple[str, int, str, int]]) -> pa.Table:
    """One row per person: (zip, birth_year, gender, how many such people)."""
    rows = [(z, y, g) for z, y, g, n in groups for _ in range(n)]
    return pa.table(
        {
            "id": list(range(len(rows))),
            "zip": [r[0] for r in rows],
            "birth_year": [r[1] for r in rows],
            "gender": [r[2] for r in rows],
        }
    )


def test_group_sizes_add_across_batches():
    table = people([("02139", 1980, "F", 6), ("02139", 1980, "M", 2), ("94105", 1975, "F", 1)])
    sizes = GroupSizes(QI)
    for batch in table.to_batches(max_chunksize=4):  # groups split over batches
        sizes.add(batch)
    result = sizes.summary(KAnonymitySettings(quasi_identifiers=QI, k=3, max_share_below_k=0.5))
    assert (result.rows, result.groups, result.smallest_group) == (9, 3, 1)
    assert result.rows_below_k == 3 and result.share_below_k == pytest.approx(3 / 9, abs=1e-6)
    assert result.status == "passed" and result.failure is None


def test_files_merge_into_one_count():
    """A group split over two files is one group of the published dataset."""
    a, b = GroupSizes(QI), GroupSizes(QI)
    a.add(people([("02139", 1980, "F", 3)]))
    b.add(people([("02139", 1980, "F", 3)]))
    result = (a + b).summary(KAnonymitySettings(quasi_identifiers=QI, k=5))
    assert (result.groups, result.smallest_group, result.rows_below_k) == (1, 6, 0)


def test_nulls_form_their_own_group_and_types_stay_apart():
    table = pa.table({"zip": ["1", None, None, "1"], "age": [1, 2, 2, None]})
    sizes = GroupSizes(["zip", "age"])
    sizes.add(table)
    assert sorted(sizes.sizes.values()) == [1, 1, 2]
    mixed = GroupSizes(["v"])
    mixed.add(pa.table({"v": ["1"]}))
    mixed.add(pa.table({"v": [1]}))  # the string "1" and the number 1 are different values
    assert len(mixed.sizes) == 2


def test_below_k_fails_with_a_reason_that_quotes_no_value():
    table = people([("02139", 1980, "F", 5), ("90210", 1961, "X", 1)])
    sizes = GroupSizes(QI)
    sizes.add(table)
    result = sizes.summary(KAnonymitySettings(quasi_identifiers=QI, k=5, max_share_below_k=0.0))
    assert result.status == "failed" and result.smallest_group == 1 and result.rows_below_k == 1
    assert "16.67% of output rows" in result.failure and "k=5" in result.failure
    assert "90210" not in result.failure and "1961" not in result.failure


def test_a_dropped_column_tells_no_rows_apart():
    sizes = GroupSizes(["zip", "ssn"])
    sizes.add(pa.table({"zip": ["1", "1", "2"]}))  # ssn dropped by the policy
    assert sorted(sizes.sizes.values()) == [1, 2]
    nothing = GroupSizes(["ssn"])
    nothing.add(pa.table({"zip": ["1", "2"]}))
    assert list(nothing.sizes.values()) == [2]


def test_missing_column_is_a_policy_error_naming_it():
    settings = KAnonymitySettings(quasi_identifiers=["zip", "postcode"])
    with pytest.raises(PolicyError, match="'postcode'"):
        check_columns(settings, pa.schema([("zip", pa.string())]), "in.parquet")


def policy(k: int, share: float = 0.0) -> Policy:
    return Policy(
        entities=["EMAIL_ADDRESS"], k_anonymity={"quasi_identifiers": QI, "k": k, "max_share_below_k": share}
    )


def test_library_run_records_k_anonymity_and_fails_below_threshold():
    table = people([("02139", 1980, "F", 5), ("94105", 1975, "M", 5), ("10001", 1990, "F", 2)])
    out, evidence = Guard(policy(k=2)).protect(table)
    ka = evidence.k_anonymity
    assert (ka.rows, ka.groups, ka.smallest_group, ka.rows_below_k, ka.status) == (12, 3, 2, 0, "passed")
    assert out.num_rows == 12
    with pytest.raises(PolicyViolation, match="k-anonymity over zip, birth_year, gender: 16.67%"):
        Guard(policy(k=5)).protect(table)
    assert Guard(policy(k=5, share=0.2)).protect(table)[1].k_anonymity.status == "passed"


def test_library_run_with_a_missing_quasi_identifier_is_a_policy_error():
    bad = Policy(entities=["EMAIL_ADDRESS"], k_anonymity={"quasi_identifiers": ["zip", "postcode"]})
    with pytest.raises(PolicyError, match="'postcode'"):
        Guard(bad).protect(people([("02139", 1980, "F", 5)]))


def write_policy(path: Path, k: int) -> Path:
    path.write_text(
        json.dumps({"entities": ["EMAIL_ADDRESS"], "k_anonymity": {"quasi_identifiers": QI, "k": k}}),
        encoding="utf-8",
    )
    return path


def test_cli_run_over_files_fails_below_k_publishes_nothing_and_writes_evidence(tmp_path):
    """Two files, each with groups under k that reach k only together, then a third group that never does."""
    src = tmp_path / "in"
    src.mkdir()
    pq.write_table(people([("02139", 1980, "F", 3), ("94105", 1975, "M", 5)]), src / "a.parquet")
    pq.write_table(people([("02139", 1980, "F", 2)]), src / "b.parquet")
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "protect",
            str(src),
            str(tmp_path / "out"),
            "-p",
            str(write_policy(tmp_path / "k5.yaml", 5)),
            "--evidence-dir",
            str(tmp_path / "ev"),
            "--no-orchestrator",
        ],
    )
    assert ok.exit_code == 0, ok.output
    (doc,) = [json.loads(p.read_text()) for p in (tmp_path / "ev").glob("*.evidence.json")]
    assert doc["k_anonymity"]["smallest_group"] == 5 and doc["k_anonymity"]["groups"] == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.parquet", "b.parquet"]

    pq.write_table(people([("10001", 1990, "F", 1)]), src / "c.parquet")
    failed = runner.invoke(
        app,
        [
            "protect",
            str(src),
            str(tmp_path / "out2"),
            "-p",
            str(write_policy(tmp_path / "k5b.yaml", 5)),
            "--evidence-dir",
            str(tmp_path / "ev2"),
            "--no-orchestrator",
        ],
    )
    assert failed.exit_code == 1
    assert "k-anonymity over zip, birth_year, gender" in failed.output
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").rglob("*"))
    (doc,) = [json.loads(p.read_text()) for p in (tmp_path / "ev2").glob("*.evidence.json")]
    assert doc["status"] == "failed" and doc["k_anonymity"]["rows_below_k"] == 1
    assert doc["k_anonymity"]["smallest_group"] == 1
    (report,) = (tmp_path / "ev2").glob("*.report.md")
    assert "smallest group 1, 1 of 11 rows (9.09%) in groups under k=5" in report.read_text()
    (html,) = (tmp_path / "ev2").glob("*.report.html")
    assert 'id="k-anonymity"' in html.read_text()


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_text_formats_are_read_back_in_their_own_format(tmp_path, suffix):
    src = tmp_path / f"in{suffix}"
    rows = [("02139", 1980, "F")] * 5 + [("90210", 1961, "M")]
    if suffix == ".jsonl":
        src.write_text(
            "".join(json.dumps(dict(zip(QI, r, strict=True))) + "\n" for r in rows), encoding="utf-8"
        )
    else:
        src.write_text(
            ",".join(QI) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows), encoding="utf-8"
        )
    evidence = Guard(policy(k=2, share=0.2)).protect_file(
        src, tmp_path / "out" / src.name, evidence_dir=tmp_path / "ev"
    )
    ka = evidence.k_anonymity
    assert (ka.rows, ka.groups, ka.smallest_group, ka.rows_below_k, ka.status) == (6, 2, 1, 1, "passed")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"k": 1}, "bad value for 'k_anonymity.k'"),
        ({"max_share_below_k": 1.5}, "bad value for 'k_anonymity.max_share_below_k'"),
        ({"quasi_identifiers": [""]}, "bad value for 'k_anonymity.quasi_identifiers.0'"),
        ({"quasi": ["zip"]}, "unknown key 'k_anonymity.quasi'"),
    ],
)
def test_bad_settings_are_policy_errors(settings, message):
    with pytest.raises(PolicyError, match=message):
        Policy.from_dict({"k_anonymity": settings})
