"""encrypt_column: Parquet modular encryption with the keyring as the KMS.

Real outcomes only: files written by a protect run, read back with and
without keys, across a rotation and after crypto-shredding a version.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestguard import Guard, Policy
from ingestguard.column_encryption import KeyringKmsClient, read_encrypted
from ingestguard.errors import KeyDestroyedError, KeyringError, KeyUnwrapError, PolicyError
from ingestguard.io import FilePair
from ingestguard.keyring import Keyring
from ingestguard.pipeline import abort, get_engine, protect_file
from ingestguard.runs import key_for

KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
ROWS = 40
EMAILS = [f"worker{i:03d}.private@example.com" for i in range(ROWS)]
POLICY = Policy(columns={"email": {"action": "encrypt_column"}}, sampling={"size": 50, "seed": 1})
PLAIN = ["id", "salary", "dept"]


def _table(emails: list[str | None] = EMAILS) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(ROWS), pa.int64()),
            "email": pa.array(emails, pa.string()),
            "salary": pa.array([40_000 + 1_000 * i for i in range(ROWS)], pa.int64()),
            "dept": pa.array([("sales", "ops", "research")[i % 3] for i in range(ROWS)], pa.string()),
        }
    )


@pytest.fixture(autouse=True)
def _home(monkeypatch, tmp_path) -> Path:
    monkeypatch.setenv("INGESTGUARD_KEY", KEY)
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _protect(tmp_path: Path, name: str, table: pa.Table | None = None):
    src, dst = tmp_path / f"{name}.in.parquet", tmp_path / "out" / f"{name}.parquet"
    pq.write_table(table if table is not None else _table(), src)
    evidence = Guard(POLICY).protect_file(src, dst, evidence_dir=tmp_path / "evidence")
    return dst, evidence


def test_readers_without_keys_get_every_other_column_and_not_the_encrypted_one(tmp_path) -> None:
    out, evidence = _protect(tmp_path, "staff")
    assert evidence.status == "passed"
    source = _table()
    # Plaintext footer: the schema and the other columns are readable by anyone.
    assert pq.ParquetFile(out).schema_arrow.names == source.column_names
    assert pq.read_table(out, columns=PLAIN).equals(source.select(PLAIN))
    with pytest.raises(OSError, match="decrypt"):
        pq.read_table(out, columns=["email"])
    with pytest.raises(OSError, match="decrypt"):
        pq.read_table(out)
    raw = out.read_bytes()
    assert not [e for e in EMAILS if e.encode() in raw]
    assert b"example.com" not in raw and b"private" not in raw


def test_key_holders_read_the_values_back_exactly(tmp_path) -> None:
    out, _ = _protect(tmp_path, "staff")
    assert read_encrypted(out, POLICY).equals(_table())
    assert read_encrypted(out, POLICY, columns=["email"]).column("email").to_pylist() == EMAILS


def test_rotation_keeps_old_files_readable_and_destroying_their_version_shreds_them(tmp_path) -> None:
    old, before = _protect(tmp_path, "old")
    with Keyring.open(POLICY) as ring:
        v1 = ring.current()
        v2 = ring.rotate()
    new, after = _protect(tmp_path, "new")
    assert read_encrypted(old, POLICY).equals(_table())
    assert read_encrypted(new, POLICY).equals(_table())
    reasons = lambda ev: next(c.reasons for c in ev.files[0].columns if c.name == "email")  # noqa: E731
    assert any(f"{v1.key_id} version 1" in r for r in reasons(before))
    assert any(f"{v2.key_id} version 2" in r for r in reasons(after))

    with Keyring.open(POLICY) as ring:
        ring.destroy(1)
    with pytest.raises(KeyDestroyedError, match=f"key version 1 \\({v1.key_id}\\) was destroyed"):
        read_encrypted(old, POLICY)
    assert read_encrypted(new, POLICY).equals(_table())  # v2 still holds its key
    # Without keys the shredded file still gives its other columns.
    assert pq.read_table(old, columns=PLAIN).equals(_table().select(PLAIN))


def test_evidence_says_the_column_was_encrypted_with_ids_and_no_material(tmp_path) -> None:
    out, evidence = _protect(tmp_path, "staff")
    with Keyring.open(POLICY) as ring:
        current = ring.current()
        material = [current.derive("parquet-kek"), current._material]
    column = next(c for c in evidence.files[0].columns if c.name == "email")
    assert column.action == "encrypt_column" and column.classification == "forced"
    assert any(f"{current.key_id}@v{current.version}" in r and "AES_GCM_V1" in r for r in column.reasons)
    assert evidence.key["keyring_key_id"] == current.key_id and evidence.key["keyring_version"] == "1"
    assert evidence.files[0].residual == {}
    text = json.dumps(evidence.model_dump(mode="json")) + out.read_bytes().decode("latin-1")
    for secret in material:
        for form in (secret.hex(), base64.b64encode(secret).decode(), secret.decode("latin-1")):
            assert form not in text
    assert not [e for e in EMAILS if e in text]


def test_residual_scan_skips_only_the_encrypted_column(tmp_path) -> None:
    policy = Policy(
        columns={"email": {"action": "encrypt_column"}, "contact": {"action": "keep"}},
        sampling={"size": 50, "seed": 1},
    )
    table = _table().append_column("contact", pa.array(EMAILS, pa.string()))
    src = tmp_path / "in.parquet"
    pq.write_table(table, src)
    outcome = protect_file(FilePair(src, tmp_path / "out.parquet"), get_engine(policy, key_for(policy)))
    try:
        # The same addresses: counted where they stay readable, not where they are ciphertext.
        assert outcome.residual == {"contact": {"EMAIL_ADDRESS": ROWS}}
    finally:
        abort([outcome])


def test_in_memory_protect_refuses_encrypt_column() -> None:
    with pytest.raises(PolicyError, match="encrypt_column works only on Parquet outputs"):
        Guard(POLICY).protect(_table())


def test_encrypt_column_is_a_column_override_only() -> None:
    assert POLICY.uses_keyring()
    with pytest.raises(PolicyError, match="whole columns only"):
        Policy.from_dict({"actions": {"EMAIL_ADDRESS": "encrypt_column"}})
    with pytest.raises(PolicyError, match="whole columns only"):
        Policy.from_dict({"default_action": "encrypt_column"})


def test_the_kms_client_refuses_foreign_ids_and_altered_wrapped_keys(_home, tmp_path) -> None:
    with Keyring.open(POLICY) as ring:
        kms = KeyringKmsClient(ring)
        master = f"{ring.current().key_id}@v1"
        wrapped = kms.wrap_key(bytes(16), master)
        assert kms.unwrap_key(wrapped, master) == bytes(16)
        raw = bytearray(base64.b64decode(wrapped))
        raw[-1] ^= 1
        with pytest.raises(KeyUnwrapError):
            kms.unwrap_key(base64.b64encode(bytes(raw)).decode(), master)
        with pytest.raises(KeyringError, match="not an ingestguard keyring version"):
            kms.unwrap_key(wrapped, "some-other-kms-key")
    # Another keyring's version 1 is another key: refused by id, before any decryption.
    with (
        Keyring.open(POLICY, home=tmp_path / "other") as other,
        pytest.raises(KeyringError, match="open the keyring that wrote it"),
    ):
        KeyringKmsClient(other).unwrap_key(wrapped, master)


def test_a_numeric_column_is_encrypted_too(tmp_path) -> None:
    src, dst = tmp_path / "n.in.parquet", tmp_path / "out" / "n.parquet"
    pq.write_table(_table(), src)
    policy = Policy(columns={"salary": {"action": "encrypt_column"}}, sampling={"size": 50, "seed": 1})
    evidence = Guard(policy).protect_file(src, dst, evidence_dir=tmp_path / "evidence")
    assert {c.name: c.action for c in evidence.files[0].columns}["salary"] == "encrypt_column"
    assert pq.read_table(dst, columns=["id", "dept"]).num_rows == ROWS  # readable without keys
    with pytest.raises(OSError):
        pq.read_table(dst, columns=["salary"])
    assert read_encrypted(dst, policy).column("salary").to_pylist() == _table().column("salary").to_pylist()
