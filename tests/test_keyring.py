"""The keyring of the reversible actions: versions, rotation, crypto-shredding,
wrapped storage (local and envelope backends), concurrency, and the CLI."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingestguard.cli import app
from ingestguard.errors import KeyDestroyedError, KeyringError, KeyUnwrapError, PolicyError
from ingestguard.keyring import (
    BACKENDS,
    ENV_KEK,
    KEYRING_NAME,
    EnvelopeBackend,
    Keyring,
    KeyVersion,
    LocalBackend,
    key_id_of,
)
from ingestguard.keys import ENV_HOME, ENV_KEY, load_signing_key
from ingestguard.policy import Policy
from ingestguard.reports.ledger import read_records, verify

runner = CliRunner()
KEK = base64.b64encode(bytes(range(32))).decode()
OTHER_KEK = base64.b64encode(bytes(range(1, 33))).decode()
PURPOSES = ("tokenize", "fpe")


@pytest.fixture(autouse=True)
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv(ENV_HOME, str(home))
    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.delenv(ENV_KEK, raising=False)
    return home


def envelope_policy(kek_file: Path | None = None) -> Policy:
    keyring = {"backend": "envelope", **({"kek_file": str(kek_file)} if kek_file else {})}
    return Policy.from_dict({"keyring": keyring})


def raw_keys(ring: Keyring) -> dict[int, bytes]:
    """The unwrapped data keys, read the way an attacker with the KEK would."""
    state = json.loads(ring.path.read_text())
    return {
        v["version"]: ring.backend.unwrap(base64.b64decode(v["wrapped"]))
        for v in state["versions"]
        if "wrapped" in v
    }


def encodings(secret: bytes) -> list[bytes]:
    return [
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret),
        base64.b64encode(secret).rstrip(b"="),
    ]


def assert_absent(blob: bytes | str, secrets: list[bytes]) -> None:
    data = blob.encode() if isinstance(blob, str) else blob
    for secret in secrets:
        for form in encodings(secret):
            assert form not in data


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- versions and rotation ----------------------------------------------------


def test_first_use_makes_version_one_with_per_purpose_subkeys(home: Path) -> None:
    ring = Keyring.open()
    current = ring.current()
    assert (current.version, current.status) == (1, "active")
    keys = {p: current.derive(p) for p in PURPOSES}
    assert all(len(k) == 64 for k in keys.values())
    assert keys["tokenize"] != keys["fpe"]
    assert current.key_id == key_id_of(raw_keys(ring)[1])
    assert current.key_id.startswith("igr_") and len(current.key_id) == 20
    # Another open sees the same version and derives the same subkeys.
    again = Keyring.open().current()
    assert again.key_id == current.key_id
    assert {p: again.derive(p) for p in PURPOSES} == keys
    with pytest.raises(KeyringError, match="purpose"):
        current.derive("")


def test_rotate_keeps_old_versions_working_and_moves_current() -> None:
    ring = Keyring.open()
    v1 = ring.current()
    before = {p: v1.derive(p) for p in PURPOSES}
    v2 = ring.rotate()
    assert (v2.version, v2.status) == (2, "active")
    assert ring.current().version == 2
    assert ring.current().key_id == v2.key_id != v1.key_id
    old = ring.version(1)
    assert old.status == "retired"
    assert {p: old.derive(p) for p in PURPOSES} == before
    assert v2.derive("tokenize") != before["tokenize"]
    # A fresh process-like open agrees on everything.
    fresh = Keyring.open()
    assert fresh.current().derive("tokenize") == v2.derive("tokenize")
    assert fresh.version(1).derive("fpe") == before["fpe"]
    assert [(v["version"], v["status"]) for v in fresh.versions()] == [(1, "retired"), (2, "active")]


def test_repr_and_listing_hold_no_material() -> None:
    ring = Keyring.open()
    ring.rotate()
    secrets = list(raw_keys(ring).values())
    secrets += [ring.version(n).derive(p) for n in (1, 2) for p in PURPOSES]
    kv = ring.current()
    assert isinstance(kv, KeyVersion)
    texts = [
        repr(kv),
        str(kv),
        repr(ring),
        repr(ring.backend),
        json.dumps(ring.versions()),
        str(ring.describe()),
    ]
    for text in texts:
        assert_absent(text, secrets)
    assert set(ring.versions()[0]) == {"version", "key_id", "created", "status"}


def test_keyring_file_holds_no_raw_key_and_files_are_owner_only(home: Path) -> None:
    ring = Keyring.open()
    ring.rotate()
    ring.rotate()
    secrets = list(raw_keys(ring).values())
    assert len(secrets) == 3
    assert_absent(ring.path.read_bytes(), secrets)
    for name in (KEYRING_NAME, "kek", KEYRING_NAME + ".lock"):
        assert mode(home / name) == 0o600, name
    assert mode(home) == 0o700
    # No temp file is left behind by the atomic writes.
    assert sorted(p.name for p in home.iterdir()) == ["kek", KEYRING_NAME, KEYRING_NAME + ".lock"]


def test_unknown_version_is_a_typed_error_naming_it() -> None:
    ring = Keyring.open()
    with pytest.raises(KeyringError, match=r"no key version 7 .*versions? 1") as caught:
        ring.version(7)
    assert not isinstance(caught.value, KeyDestroyedError)


# --- destruction ----------------------------------------------------------------


def test_destroy_shreds_one_version_and_keeps_the_others() -> None:
    ring = Keyring.open()
    ring.rotate()
    ring.rotate()
    keys = raw_keys(ring)
    wrapped_1 = next(v["wrapped"] for v in json.loads(ring.path.read_text())["versions"] if v["version"] == 1)
    v2_before, v3_before = ring.version(2).derive("tokenize"), ring.current().derive("tokenize")

    destroyed = ring.destroy(1)
    assert destroyed.status == "destroyed"
    with pytest.raises(KeyDestroyedError, match=r"key version 1 \(igr_[0-9a-f]{16}\) was destroyed"):
        ring.version(1)
    text = ring.path.read_bytes()
    assert wrapped_1.encode() not in text
    assert_absent(text, [keys[1]])
    assert ring.version(2).derive("tokenize") == v2_before
    assert ring.current().derive("tokenize") == v3_before
    # Other processes (a fresh open) see it destroyed too, and so does a ring
    # opened before the destruction.
    with pytest.raises(KeyDestroyedError):
        Keyring.open().version(1)
    listing = {v["version"]: v for v in Keyring.open().versions()}
    assert listing[1]["status"] == "destroyed" and "destroyed" in listing[1]
    with pytest.raises(KeyDestroyedError, match="already destroyed"):
        ring.destroy(1)
    with pytest.raises(KeyDestroyedError):
        destroyed.derive("tokenize")


def test_destroy_elsewhere_reaches_an_open_ring() -> None:
    early = Keyring.open()
    early.rotate()
    assert early.version(1).derive("fpe")
    Keyring.open().destroy(1)
    with pytest.raises(KeyDestroyedError):
        early.version(1)


def test_current_version_cannot_be_destroyed() -> None:
    ring = Keyring.open()
    with pytest.raises(KeyringError, match="current key; run `ingestguard keys rotate` first"):
        ring.destroy(1)
    assert ring.current().version == 1
    ring.rotate()
    ring.destroy(1)
    assert ring.current().version == 2


# --- backends ---------------------------------------------------------------------


def test_backend_table_is_explicit_and_instances_fit_the_protocol(tmp_path: Path) -> None:
    assert sorted(BACKENDS) == ["envelope", "local", "pkcs11"]
    local = LocalBackend(tmp_path / "kek")
    data_key = os.urandom(32)
    wrapped = local.wrap(data_key)
    assert len(wrapped) == 40 and data_key not in wrapped
    assert local.unwrap(wrapped) == data_key
    assert set(local.describe()) == {"backend", "kek_id", "kek_source"}
    with pytest.raises(KeyUnwrapError):
        local.unwrap(wrapped[:-1] + bytes([wrapped[-1] ^ 1]))


def test_envelope_keyring_needs_its_kek(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    with pytest.raises(KeyringError, match=f"set {ENV_KEK}"):
        Keyring.open(envelope_policy())
    assert not (home / KEYRING_NAME).exists()

    monkeypatch.setenv(ENV_KEK, KEK)
    ring = Keyring.open(envelope_policy())
    assert isinstance(ring.backend, EnvelopeBackend)
    token_key = ring.current().derive("tokenize")
    assert not (home / "kek").exists()  # no local KEK: the stored keyring is useless alone
    secrets = [*raw_keys(ring).values(), base64.b64decode(KEK)]
    assert_absent(ring.path.read_bytes(), secrets)

    monkeypatch.delenv(ENV_KEK)
    with pytest.raises(KeyringError, match="needs its key-encryption key"):
        Keyring.open(envelope_policy())
    # The local backend refuses a keyring the envelope backend made.
    with pytest.raises(KeyringError, match="'envelope' backend"):
        Keyring.open()

    monkeypatch.setenv(ENV_KEK, OTHER_KEK)
    with pytest.raises(KeyUnwrapError, match="does not unwrap") as caught:
        Keyring.open(envelope_policy())
    assert_absent(str(caught.value), secrets + [base64.b64decode(OTHER_KEK)])

    monkeypatch.setenv(ENV_KEK, KEK)
    assert Keyring.open(envelope_policy()).current().derive("tokenize") == token_key


def test_envelope_kek_from_a_file_named_in_the_policy(tmp_path: Path) -> None:
    kek_file = tmp_path / "customer.kek"
    kek_file.write_text(KEK + "\n")
    kek_file.chmod(0o644)
    with pytest.raises(KeyringError, match="chmod 600"):
        Keyring.open(envelope_policy(kek_file))
    kek_file.chmod(0o600)
    ring = Keyring.open(envelope_policy(kek_file))
    assert ring.describe()["kek_source"] == f"file:{kek_file}"
    ring.rotate()
    assert Keyring.open(envelope_policy(kek_file)).version(1).derive("fpe") == ring.version(1).derive("fpe")
    kek_file.write_text(OTHER_KEK)
    with pytest.raises(KeyUnwrapError):
        Keyring.open(envelope_policy(kek_file))


def test_a_wrapped_key_moved_to_another_version_is_refused() -> None:
    ring = Keyring.open()
    ring.rotate()
    state = json.loads(ring.path.read_text())
    state["versions"][0]["wrapped"], state["versions"][1]["wrapped"] = (
        state["versions"][1]["wrapped"],
        state["versions"][0]["wrapped"],
    )
    ring.path.write_text(json.dumps(state))
    with pytest.raises(KeyUnwrapError, match="does not unwrap to its key id"):
        Keyring.open()


def test_policy_keyring_settings_are_checked() -> None:
    assert Policy().keyring.backend == "local"
    with pytest.raises(PolicyError, match="kek_file is for backend 'envelope'"):
        Policy.from_dict({"keyring": {"kek_file": "/x"}})
    with pytest.raises(PolicyError, match="needs pkcs11_module, pkcs11_token and pkcs11_key_label"):
        Policy.from_dict({"keyring": {"backend": "pkcs11", "pkcs11_module": "/x.so"}})
    with pytest.raises(PolicyError, match="unknown key 'keyring.pin'"):
        Policy.from_dict({"keyring": {"backend": "pkcs11", "pin": "1234"}})


# --- concurrency ------------------------------------------------------------------

_ROTATOR = """
import sys
from ingestguard.keyring import Keyring
for _ in range(int(sys.argv[1])):
    Keyring.open().rotate()
"""


def test_two_processes_opening_and_rotating_lose_no_version(home: Path) -> None:
    env = {**os.environ, ENV_HOME: str(home)}
    rounds = 8
    procs = [
        subprocess.Popen([sys.executable, "-c", _ROTATOR, str(rounds)], env=env, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for proc in procs:
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr.decode()
    ring = Keyring.open()
    versions = ring.versions()
    # Both first opens raced to make version 1 (and the KEK); exactly one did.
    assert [v["version"] for v in versions] == list(range(1, 2 * rounds + 2))
    assert [v["status"] for v in versions] == ["retired"] * (2 * rounds) + ["active"]
    ids = [v["key_id"] for v in versions]
    assert len(set(ids)) == len(ids)
    for n in range(1, 2 * rounds + 2):
        assert ring.version(n).key_id == ids[n - 1]  # every version unwraps under the one KEK


# --- CLI --------------------------------------------------------------------------


def _run(*args: str, input: str | None = None):
    return runner.invoke(app, ["keys", *args], input=input)


def test_cli_list_rotate_destroy_with_a_verifiable_disposal_record(home: Path) -> None:
    result = _run("list")
    assert result.exit_code == 0 and "no keyring yet" in result.output
    result = _run("rotate")
    assert result.exit_code == 0 and "version 1" in result.output
    result = _run("rotate")
    assert result.exit_code == 0 and "key version 2" in result.output and "now current" in result.output
    ring = Keyring.open()
    secrets = list(raw_keys(ring).values())
    outputs = [result.output]

    listed = _run("list", "--format", "json")
    assert listed.exit_code == 0
    doc = json.loads(listed.output)
    assert [(v["version"], v["status"]) for v in doc["versions"]] == [(1, "retired"), (2, "active")]
    table = _run("list")
    assert table.exit_code == 0 and ring.version(1).key_id in table.output
    outputs += [listed.output, table.output]

    # Refusals: the current version, an unknown one; a "no" at the prompt.
    refused = _run("destroy", "2", "--yes")
    assert refused.exit_code == 2 and "current key" in refused.output
    unknown = _run("destroy", "9", "--yes")
    assert unknown.exit_code == 2 and "no key version 9" in unknown.output
    declined = _run("destroy", "1", input="n\n")
    assert declined.exit_code == 1 and "nothing was destroyed" in declined.output
    assert Keyring.open().version(1).derive("tokenize")
    outputs += [refused.output, unknown.output, declined.output]
    assert not (home / "ledger.jsonl").exists()

    destroyed = _run("destroy", "1", input="y\n")
    assert destroyed.exit_code == 0, destroyed.output
    assert "destroyed" in destroyed.output
    outputs.append(destroyed.output)
    with pytest.raises(KeyDestroyedError):
        Keyring.open().version(1)
    assert Keyring.open().current().version == 2

    ledger = home / "ledger.jsonl"
    verdict = verify(ledger, load_signing_key().public_key())
    assert verdict.ok and verdict.records == 1
    (record,) = read_records(ledger)
    assert record["kind"] == "key_disposal"
    assert record["run_id"].startswith("keys-")
    assert record["key_id"] == doc["versions"][0]["key_id"]
    assert (record["version"], record["backend"]) == (1, "local")
    statement = json.loads(base64.b64decode(json.loads(ledger.read_text())["payload"]))
    assert statement["subject"] == []

    again = _run("destroy", "1", "--yes")
    assert again.exit_code == 2 and "already destroyed and its disposal is in" in again.output
    outputs.append(again.output)
    for text in [*outputs, ledger.read_text(), (home / KEYRING_NAME).read_text()]:
        assert_absent(text, secrets)


def test_cli_destroy_writes_to_the_policy_ledger_or_the_given_one(tmp_path: Path) -> None:
    policy_ledger = tmp_path / "audit" / "policy-ledger.jsonl"
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(f"ledger: {policy_ledger}\n")
    for _ in range(3):
        assert _run("rotate").exit_code == 0
    assert _run("destroy", "1", "--yes", "--policy", str(policy_file)).exit_code == 0
    explicit = tmp_path / "explicit.jsonl"
    result = _run("destroy", "2", "--yes", "--policy", str(policy_file), "--ledger", str(explicit))
    assert result.exit_code == 0, result.output
    public = load_signing_key().public_key()
    assert [r["version"] for r in read_records(policy_ledger)] == [1]
    assert [r["version"] for r in read_records(explicit)] == [2]
    assert verify(policy_ledger, public).ok and verify(explicit, public).ok


def test_cli_a_disposal_the_ledger_cannot_take_is_reported_and_recorded_on_rerun(home: Path) -> None:
    for _ in range(2):
        assert _run("rotate").exit_code == 0
    ledger = home / "ledger.jsonl"
    ledger.mkdir(parents=True)  # appends fail: the ledger path is a directory
    failed = _run("destroy", "1", "--yes")
    assert failed.exit_code == 2
    assert "IS destroyed, but its disposal was not recorded" in failed.output
    assert "rerun `ingestguard keys destroy 1 --yes`" in failed.output
    with pytest.raises(KeyDestroyedError):
        Keyring.open().version(1)
    ledger.rmdir()
    recorded = _run("destroy", "1", "--yes")
    assert recorded.exit_code == 0, recorded.output
    assert "already destroyed; recorded its disposal" in recorded.output
    (record,) = read_records(ledger)
    assert (record["kind"], record["version"]) == ("key_disposal", 1)
    assert verify(ledger, load_signing_key().public_key()).ok


def test_cli_envelope_without_kek_fails_typed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text("keyring: {backend: envelope}\n")
    monkeypatch.setenv(ENV_KEK, KEK)
    assert _run("rotate", "--policy", str(policy_file)).exit_code == 0
    monkeypatch.delenv(ENV_KEK)
    result = _run("list", "--policy", str(policy_file))
    assert result.exit_code == 2 and "needs its key-encryption key" in result.output
    monkeypatch.setenv(ENV_KEK, OTHER_KEK)
    result = _run("rotate", "--policy", str(policy_file))
    assert result.exit_code == 2 and "does not unwrap" in result.output
    assert_absent(result.output, [base64.b64decode(KEK), base64.b64decode(OTHER_KEK)])
