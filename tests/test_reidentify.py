"""Re-identification: round trips through protect and detokenize, refused
purposes and entities, tampered tokens, destroyed versions, and the ledger
record that must exist before any plaintext is returned."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ingestguard import Guard, Policy
from ingestguard.cli import app
from ingestguard.errors import KeyDestroyedError, LedgerError, PolicyError, TamperedTokenError, TokenError
from ingestguard.keyring import Keyring
from ingestguard.reports.ledger import read_records

ROWS = 30
POLICY = {
    "actions": {"EMAIL_ADDRESS": "tokenize", "US_SSN": "fpe", "CREDIT_CARD": "fpe"},
    "reidentification": {
        "purposes": ["fraud-investigation"],
        "entities": ["EMAIL_ADDRESS", "US_SSN", "CREDIT_CARD"],
    },
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.fixture
def original() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "email": [f"reid.canary{i}@example.com" for i in range(ROWS)],
            "ssn": [f"536-90-{4300 + i}" for i in range(ROWS)],
            "card": ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 000000 00009"] * (ROWS // 3),
            "notes": [f"please mail reid.canary{i}@example.com today" for i in range(ROWS)],
        }
    )


def _protected(original: pd.DataFrame) -> tuple[Guard, pd.DataFrame]:
    guard = Guard(Policy.from_dict(POLICY))
    protected, evidence = guard.protect(original)
    assert evidence.status == "passed"
    assert protected["email"].str.startswith("tok_EMAIL_ADDRESS_v1_").all()
    assert not set(protected["ssn"]) & set(original["ssn"])
    return guard, protected


def test_tokens_and_fpe_round_trip_for_an_allowed_purpose(home: Path, original: pd.DataFrame) -> None:
    guard, protected = _protected(original)
    ledger = home / "ledger.jsonl"
    back = guard.detokenize(
        protected, "email,notes,ssn:US_SSN,card:CREDIT_CARD", "fraud-investigation", "analyst", ledger
    )
    pd.testing.assert_frame_equal(back, original)
    [record] = read_records(ledger)
    assert record["kind"] == "detokenize" and record["actor"] == "analyst"
    assert record["purpose"] == "fraud-investigation" and record["key_versions"] == [1]
    assert record["values_reversed"] == {"email": ROWS, "notes": ROWS, "ssn": ROWS, "card": ROWS}
    text = ledger.read_text() + "".join(
        base64.b64decode(json.loads(line)["payload"]).decode() for line in ledger.read_text().splitlines()
    )
    assert "reid.canary" not in text and "536-90" not in text


@pytest.mark.parametrize(
    ("columns", "purpose", "match"),
    [
        ("email", "marketing", "purpose 'marketing' is not allowed"),
        ("ssn:IBAN_CODE", "fraud-investigation", "IBAN_CODE"),
    ],
)
def test_other_purposes_and_entities_are_refused_and_nothing_recorded(
    home: Path, original: pd.DataFrame, columns: str, purpose: str, match: str
) -> None:
    guard, protected = _protected(original)
    with pytest.raises(PolicyError, match=match):
        guard.detokenize(protected, columns, purpose, ledger=home / "ledger.jsonl")
    assert not (home / "ledger.jsonl").exists()


def test_a_tampered_token_names_column_and_row_not_the_value(home: Path, original: pd.DataFrame) -> None:
    guard, protected = _protected(original)
    token = protected.loc[7, "email"]
    protected.loc[7, "email"] = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(TamperedTokenError) as info:
        guard.detokenize(protected, "email", "fraud-investigation", ledger=home / "ledger.jsonl")
    assert "column email, row 7" in str(info.value) and "reid.canary" not in str(info.value)
    assert not (home / "ledger.jsonl").exists()


def test_no_plaintext_without_the_ledger_record(home: Path, original: pd.DataFrame) -> None:
    guard, protected = _protected(original)
    blocked = home / "blocked"
    blocked.mkdir()
    with pytest.raises(LedgerError):
        guard.detokenize(protected, "email", "fraud-investigation", ledger=blocked)


def test_a_destroyed_version_cannot_be_reversed_while_the_current_one_can(
    home: Path, original: pd.DataFrame
) -> None:
    guard, old = _protected(original)
    ring = Keyring.open(guard.policy)
    ring.rotate()
    ring.destroy(1)
    new_guard = Guard(Policy.from_dict(POLICY))
    fresh, _ = new_guard.protect(original)
    assert fresh["email"].str.startswith("tok_EMAIL_ADDRESS_v2_").all()
    back = new_guard.detokenize(fresh, "email", "fraud-investigation", ledger=home / "ledger.jsonl")
    assert list(back["email"]) == list(original["email"])
    with pytest.raises((TokenError, KeyDestroyedError)):
        new_guard.detokenize(old, "email", "fraud-investigation", ledger=home / "ledger.jsonl")


def test_cli_detokenize_writes_only_when_allowed(home: Path, original: pd.DataFrame) -> None:
    guard, protected = _protected(original)
    policy_file = home / "policy.json"
    policy_file.write_text(json.dumps(POLICY))  # YAML is a superset of JSON
    src, dst = home / "protected.parquet", home / "plain.parquet"
    protected.to_parquet(src)
    runner = CliRunner()
    refused = runner.invoke(
        app,
        [
            "detokenize",
            str(src),
            str(dst),
            "--columns",
            "email",
            "--purpose",
            "curiosity",
            "-p",
            str(policy_file),
        ],
    )
    assert refused.exit_code == 2 and not dst.exists()
    done = runner.invoke(
        app,
        [
            "detokenize",
            str(src),
            str(dst),
            "--columns",
            "email,ssn:US_SSN",
            "--purpose",
            "fraud-investigation",
            "--ledger",
            str(home / "ledger.jsonl"),
            "-p",
            str(policy_file),
        ],
    )
    assert done.exit_code == 0, done.output
    back = pq.read_table(dst).to_pandas()
    assert list(back["email"]) == list(original["email"]) and list(back["ssn"]) == list(original["ssn"])
    assert "reid.canary" not in done.output
    [record] = read_records(home / "ledger.jsonl")
    assert record["columns"] == ["email", "ssn"]
