"""Re-keying: tokens and FPE move to the newest keyring version, reverse to the
originals, survive the destruction of the old version; tampered tokens and
destroyed versions stop the run by column and row with nothing written."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingestguard import Guard, Policy
from ingestguard.cli import app
from ingestguard.errors import PolicyError, TamperedTokenError, TokenKeyVersionError
from ingestguard.keyring import Keyring
from ingestguard.rekey import FpeColumn, parse_fpe, rekey_file, rekey_table
from ingestguard.reports.ledger import read_records

ROWS = 30
POLICY = {
    "actions": {"EMAIL_ADDRESS": "tokenize", "US_SSN": "fpe", "CREDIT_CARD": "fpe"},
    "reidentification": {
        "purposes": ["migration-check"],
        "entities": ["EMAIL_ADDRESS", "US_SSN", "CREDIT_CARD"],
    },
}
CARDS = ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 000000 00009"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.fixture
def original() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": list(range(ROWS)),
            "email": [f"rekey.canary{i}@example.com" for i in range(ROWS)],
            "ssn": [f"536-90-{4300 + i}" for i in range(ROWS)],
            "card": CARDS * (ROWS // len(CARDS)),
            "notes": [f"please mail rekey.canary{i}@example.com today" for i in range(ROWS)],
        }
    )


@pytest.fixture
def policy() -> Policy:
    return Policy.from_dict(POLICY)


def _protect(policy: Policy, original: pd.DataFrame, path: Path) -> pd.DataFrame:
    protected, evidence = Guard(policy).protect(original)
    assert evidence.status == "passed"
    assert protected["email"].str.startswith("tok_EMAIL_ADDRESS_v1_").all()
    assert protected["notes"].str.contains("tok_EMAIL_ADDRESS_v1_").all()
    pq.write_table(pa.Table.from_pandas(protected, preserve_index=False), path)
    return protected


def _versions(series: pd.Series) -> set[str]:
    return {v for text in series for v in re.findall(r"tok_[A-Z_]+?_(v\d+)_", text)}


def _ledger_text(ledger: Path) -> str:
    lines = ledger.read_text().splitlines()
    return ledger.read_text() + "".join(
        base64.b64decode(json.loads(line)["payload"]).decode() for line in lines
    )


def test_rekey_moves_every_token_to_the_new_version_and_survives_destroying_the_old(
    home: Path, original: pd.DataFrame, policy: Policy
) -> None:
    src, dst, ledger = home / "v1.parquet", home / "v2.parquet", home / "ledger.jsonl"
    _protect(policy, original, src)
    ring = Keyring.open(policy)
    ring.rotate()

    record = rekey_file(src, dst, policy, ledger_file=ledger)

    rekeyed = pq.read_table(dst).to_pandas()
    assert _versions(rekeyed["email"]) == _versions(rekeyed["notes"]) == {"v2"}
    assert rekeyed["id"].tolist() == original["id"].tolist()
    assert pq.read_table(dst).schema.equals(pq.read_table(src).schema)
    # Default columns: every string column; ssn and card hold no tokens and are untouched.
    assert rekeyed["ssn"].tolist() == pq.read_table(src).column("ssn").to_pylist()
    assert record["from_versions"] == [1] and record["to_version"] == 2
    assert record["tokens_rekeyed"] == {"email": ROWS, "notes": ROWS}
    assert record["rows"] == ROWS

    [entry] = read_records(ledger)
    assert entry["kind"] == "rekey" and entry["to_key_id"] == ring.current().key_id
    assert "rekey.canary" not in _ledger_text(ledger) and "536-90" not in _ledger_text(ledger)

    guard = Guard(policy)
    back = guard.detokenize(rekeyed, "email,notes", "migration-check", ledger=home / "reid.jsonl")
    pd.testing.assert_frame_equal(back[["email", "notes"]], original[["email", "notes"]])

    ring.destroy(1)
    back = guard.detokenize(rekeyed, "email,notes", "migration-check", ledger=home / "reid.jsonl")
    pd.testing.assert_frame_equal(back[["email", "notes"]], original[["email", "notes"]])
    old = pq.read_table(src).to_pandas()
    with pytest.raises(TokenKeyVersionError):
        guard.detokenize(old, "email", "migration-check", ledger=home / "reid.jsonl")


def test_rekey_of_current_tokens_keeps_them_and_counts_them_as_current(
    home: Path, original: pd.DataFrame, policy: Policy
) -> None:
    src = home / "v1.parquet"
    protected = _protect(policy, original, src)
    done = rekey_table(pq.read_table(src), policy, columns="email", ledger_file=home / "ledger.jsonl")
    assert done.table.column("email").to_pylist() == protected["email"].tolist()
    assert done.record["tokens_already_current"] == {"email": ROWS}
    assert done.record["tokens_rekeyed"] == {} and done.record["from_versions"] == []


def test_a_tampered_token_is_refused_by_column_and_row_and_nothing_is_written(
    home: Path, original: pd.DataFrame, policy: Policy
) -> None:
    src, dst, ledger = home / "v1.parquet", home / "out" / "v2.parquet", home / "ledger.jsonl"
    protected = _protect(policy, original, src)
    token = protected.loc[7, "email"]
    protected.loc[7, "email"] = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    pq.write_table(pa.Table.from_pandas(protected, preserve_index=False), src)
    Keyring.open(policy).rotate()

    with pytest.raises(TamperedTokenError) as info:
        rekey_file(src, dst, policy, ledger_file=ledger)
    message = str(info.value)
    assert "column email, row 7" in message and "nothing was written" in message
    assert "rekey.canary" not in message and token not in message
    assert not dst.exists() and list(dst.parent.iterdir()) == []  # no staged file left behind
    assert not ledger.exists()


def test_a_destroyed_version_stops_the_rekey_with_nothing_written(
    home: Path, original: pd.DataFrame, policy: Policy
) -> None:
    src, dst = home / "v1.parquet", home / "v2.parquet"
    _protect(policy, original, src)
    ring = Keyring.open(policy)
    ring.rotate()
    ring.destroy(1)
    with pytest.raises(TokenKeyVersionError, match=r"column email, row 0: key version 1"):
        rekey_file(src, dst, policy, ledger_file=home / "ledger.jsonl")
    assert not dst.exists() and not (home / "ledger.jsonl").exists()


def test_fpe_columns_rekey_from_their_old_version_and_round_trip(
    home: Path, original: pd.DataFrame, policy: Policy
) -> None:
    src, dst, ledger = home / "v1.parquet", home / "v2.parquet", home / "ledger.jsonl"
    protected = _protect(policy, original, src)
    ring = Keyring.open(policy)
    ring.rotate()

    record = rekey_file(
        src, dst, policy, columns="email", fpe="ssn:US_SSN@1,card:CREDIT_CARD@1", ledger_file=ledger
    )

    rekeyed = pq.read_table(dst).to_pandas()
    assert record["fpe_values_rekeyed"] == {"card": ROWS, "ssn": ROWS}
    assert record["from_versions"] == [1] and record["to_version"] == 2
    assert record["fpe_columns"][0] == {"column": "ssn", "entity": "US_SSN", "from_version": 1}
    for column in ("ssn", "card"):
        assert not set(rekeyed[column]) & set(protected[column])  # re-encrypted, not copied
        for before, after in zip(protected[column], rekeyed[column], strict=True):
            assert len(before) == len(after)
            assert [i for i, c in enumerate(before) if not c.isdigit()] == [
                i for i, c in enumerate(after) if not c.isdigit()
            ]
    assert rekeyed["notes"].tolist() == protected["notes"].tolist()  # not named: left alone

    guard = Guard(policy)
    ring.destroy(1)
    back = guard.detokenize(
        rekeyed, "ssn:US_SSN@2,card:CREDIT_CARD@2,email", "migration-check", ledger=home / "reid.jsonl"
    )
    pd.testing.assert_frame_equal(back[["ssn", "card", "email"]], original[["ssn", "card", "email"]])


@pytest.mark.parametrize(
    ("spec", "match"),
    [("ssn:US_SSN", "COLUMN:ENTITY@VERSION"), ("ssn@1", "COLUMN:ENTITY@VERSION"), ("ssn:us_ssn@1", "ENTITY")],
)
def test_fpe_columns_must_name_entity_and_version(spec: str, match: str) -> None:
    with pytest.raises(PolicyError, match=match):
        parse_fpe(spec)


def test_parse_fpe() -> None:
    assert parse_fpe("ssn:US_SSN@1, card:CREDIT_CARD@12") == [
        FpeColumn("ssn", "US_SSN", 1),
        FpeColumn("card", "CREDIT_CARD", 12),
    ]


@pytest.mark.parametrize(
    ("columns", "fpe", "match"),
    [
        ("nope", None, "--columns names nope"),
        ("id", None, "column id is not text"),
        ("ssn", "ssn:US_SSN@1", "both --columns and --fpe"),
    ],
)
def test_bad_column_requests_are_refused(
    home: Path, original: pd.DataFrame, policy: Policy, columns: str, fpe: str | None, match: str
) -> None:
    src = home / "v1.parquet"
    _protect(policy, original, src)
    with pytest.raises(PolicyError, match=match):
        rekey_file(src, home / "v2.parquet", policy, columns=columns, fpe=fpe, ledger_file=home / "l.jsonl")
    assert not (home / "v2.parquet").exists()


def test_cli_keys_rekey(home: Path, original: pd.DataFrame, policy: Policy) -> None:
    import yaml

    src, dst, ledger = home / "v1.parquet", home / "v2.parquet", home / "ledger.jsonl"
    policy_file = home / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(POLICY))
    _protect(policy, original, src)
    Keyring.open(policy).rotate()
    runner = CliRunner()
    args = ["keys", "rekey", str(src), str(dst), "--fpe", "ssn:US_SSN@1", "--policy", str(policy_file)]
    result = runner.invoke(app, [*args, "--ledger", str(ledger)])
    assert result.exit_code == 0, result.output
    assert "under key version 2" in result.output and f"{2 * ROWS} tokens moved (from v1)" in result.output
    assert _versions(pq.read_table(dst).to_pandas()["email"]) == {"v2"}
    assert [r["kind"] for r in read_records(ledger)] == ["rekey"]

    table = pq.read_table(src).to_pandas()
    table.loc[3, "notes"] = table.loc[3, "notes"].replace("_v1_", "_v1_A", 1)
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), src)
    dst2 = home / "v2b.parquet"
    result = runner.invoke(app, ["keys", "rekey", str(src), str(dst2), "--policy", str(policy_file)])
    assert result.exit_code == 2
    assert "column notes, row 3" in result.output and not dst2.exists()
