from __future__ import annotations

import base64
import os
import re
import stat
from pathlib import Path

import pytest

from ingestguard.errors import KeyringError
from ingestguard.keys import ENV_HOME, ENV_KEY, KEY_BYTES, load_key, new_key_b64

MATERIAL = bytes(range(KEY_BYTES))
ENCODED = base64.b64encode(MATERIAL).decode()
KEY_ID = re.compile(r"igk_[0-9a-f]{16}")


@pytest.fixture(autouse=True)
def isolated_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No test may read the real environment key or write to the real home."""
    home = tmp_path / "home"
    monkeypatch.delenv(ENV_KEY, raising=False)
    monkeypatch.setenv(ENV_HOME, str(home))
    return home


def _key_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "keyfile"
    path.write_text(text, encoding="ascii")
    path.chmod(mode)
    return path


def test_env_key_loads_with_a_stable_id(monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> None:
    monkeypatch.setenv(ENV_KEY, ENCODED)
    key = load_key()
    assert KEY_ID.fullmatch(key.key_id)
    assert key.source == "env:INGESTGUARD_KEY"
    assert key.generated is False
    assert key.material == MATERIAL
    assert load_key().key_id == key.key_id
    # Surrounding whitespace (a copied line) is tolerated.
    monkeypatch.setenv(ENV_KEY, f"  {ENCODED}\n")
    assert load_key().key_id == key.key_id
    # The environment wins over a key file and never creates the local one.
    other = _key_file(isolated_home.parent, new_key_b64())
    assert load_key(other).key_id == key.key_id
    assert not (isolated_home / "key").exists()


def test_key_id_depends_on_the_material(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_KEY, ENCODED)
    first = load_key().key_id
    monkeypatch.setenv(ENV_KEY, base64.b64encode(bytes(KEY_BYTES)).decode())
    second = load_key().key_id
    assert KEY_ID.fullmatch(second)
    assert first != second


def test_key_material_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_KEY, ENCODED)
    key = load_key()
    shown = [repr(key), str(key), repr(key.to_evidence()), str(key.to_evidence())]
    for text in shown:
        assert ENCODED not in text
        assert MATERIAL.hex() not in text
        assert repr(MATERIAL) not in text
        assert key.key_id in text
    assert key.to_evidence() == {"id": key.key_id, "source": "env:INGESTGUARD_KEY", "generated": False}


@pytest.mark.parametrize("value", ["not base64!!", "QUJD=x", "ümlaut"])
def test_bad_base64_in_env_is_rejected(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(ENV_KEY, value)
    with pytest.raises(KeyringError) as info:
        load_key()
    assert str(info.value) == "INGESTGUARD_KEY is not valid base64; generate one with `ingestguard keys new`"


@pytest.mark.parametrize("size", [1, 16, 31, 33, 64])
def test_wrong_length_in_env_is_rejected(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.setenv(ENV_KEY, base64.b64encode(b"k" * size).decode())
    with pytest.raises(KeyringError) as info:
        load_key()
    assert str(info.value) == f"INGESTGUARD_KEY must decode to 32 bytes, not {size}"


def test_local_key_is_generated_once_with_owner_only_mode(isolated_home: Path) -> None:
    path = isolated_home / "key"
    assert not path.exists()
    first = load_key()
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.generated is True
    assert first.source == f"file:{path}"
    assert KEY_ID.fullmatch(first.key_id)
    assert base64.b64decode(path.read_text(encoding="ascii").strip()) == first.material
    assert len(first.material) == KEY_BYTES
    assert first.to_evidence()["generated"] is True

    second = load_key()
    assert second.key_id == first.key_id
    assert second.generated is False
    assert second.source == f"file:{path}"


def test_policy_key_file_is_used(tmp_path: Path, isolated_home: Path) -> None:
    path = _key_file(tmp_path, ENCODED + "\n")
    key = load_key(path)
    assert key.material == MATERIAL
    assert key.source == f"file:{path}"
    assert key.generated is False
    assert not (isolated_home / "key").exists()


def test_same_material_gives_same_id_from_env_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_file = load_key(_key_file(tmp_path, ENCODED))
    monkeypatch.setenv(ENV_KEY, ENCODED)
    assert load_key().key_id == from_file.key_id


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_readable_by_others_is_rejected(tmp_path: Path, mode: int) -> None:
    path = _key_file(tmp_path, ENCODED, mode)
    with pytest.raises(KeyringError) as info:
        load_key(path)
    assert str(info.value) == f"key file {path} is accessible by other users; run `chmod 600 {path}`"


def test_local_key_with_loose_mode_is_rejected(isolated_home: Path) -> None:
    load_key()
    path = isolated_home / "key"
    path.chmod(0o644)
    with pytest.raises(KeyringError, match="is accessible by other users"):
        load_key()


def test_missing_key_file_is_rejected(tmp_path: Path, isolated_home: Path) -> None:
    path = tmp_path / "missing"
    with pytest.raises(KeyringError) as info:
        load_key(path)
    assert str(info.value) == f"key file not found: {path}"
    # A missing policy key file never falls back to generating a local key.
    assert not (isolated_home / "key").exists()


def test_key_file_with_bad_content_is_rejected(tmp_path: Path) -> None:
    path = _key_file(tmp_path, base64.b64encode(b"short").decode())
    with pytest.raises(KeyringError) as info:
        load_key(path)
    assert str(info.value) == f"key file {path} must decode to 32 bytes, not 5"


def test_key_file_with_non_ascii_bytes_is_a_keyring_error(tmp_path: Path) -> None:
    path = tmp_path / "keyfile"
    path.write_bytes(b"\xff" + ENCODED.encode())
    path.chmod(0o600)
    with pytest.raises(KeyringError):
        load_key(path)


def test_derive_separates_purposes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_KEY, ENCODED)
    key = load_key()
    a = key.derive("ingestguard/pseudonymize/v1")
    b = key.derive("ingestguard/other/v1")
    assert len(a) == len(b) == KEY_BYTES
    assert a != b
    assert a != key.material
    assert key.derive("ingestguard/pseudonymize/v1") == a
    monkeypatch.setenv(ENV_KEY, base64.b64encode(bytes(KEY_BYTES)).decode())
    assert load_key().derive("ingestguard/pseudonymize/v1") != a


def test_new_key_b64_is_a_loadable_key(monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = new_key_b64(), new_key_b64()
    assert one != two
    assert len(base64.b64decode(one, validate=True)) == KEY_BYTES
    monkeypatch.setenv(ENV_KEY, one)
    assert KEY_ID.fullmatch(load_key().key_id)


def test_default_home_is_used_when_env_home_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_HOME, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    key = load_key()
    path = tmp_path / ".ingestguard" / "key"
    assert key.source == f"file:{path}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.path.isfile(path)


def test_signing_key_is_made_once_owner_only_and_exported_public_only(tmp_path, monkeypatch) -> None:
    import stat

    from ingestguard.keys import load_signing_key, signing_key_path, signing_public_key_pem

    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    with pytest.raises(KeyringError, match="no signing key"):
        signing_public_key_pem()  # exporting never makes a key
    key = load_signing_key()
    assert stat.S_IMODE(signing_key_path().stat().st_mode) == 0o600
    assert load_signing_key().public_key().public_bytes_raw() == key.public_key().public_bytes_raw()
    pem = signing_public_key_pem()
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----") and b"PRIVATE" not in pem


def test_a_signing_key_behind_a_symlink_is_refused(tmp_path, monkeypatch) -> None:
    from ingestguard.keys import load_signing_key, signing_key_path

    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))
    real = load_signing_key(tmp_path / "elsewhere.pem")
    assert real is not None
    signing_key_path().parent.mkdir(parents=True, exist_ok=True)
    signing_key_path().symlink_to(tmp_path / "elsewhere.pem")
    with pytest.raises(KeyringError, match="symbolic link"):
        load_signing_key()


def test_threads_racing_on_a_fresh_home_all_get_the_one_key(isolated_home: Path) -> None:
    """The key file appears whole or not at all: no thread reads a half-written file."""
    from concurrent.futures import ThreadPoolExecutor

    from ingestguard.keys import load_signing_key, signing_key_path

    with ThreadPoolExecutor(16) as pool:
        keys = list(pool.map(lambda _: load_key(None), range(16)))
        signers = list(pool.map(lambda _: load_signing_key(), range(16)))
    assert len({k.material for k in keys}) == 1
    assert sum(k.generated for k in keys) == 1
    publics = {s.public_key().public_bytes_raw() for s in signers}
    assert publics == {load_signing_key(signing_key_path(), generate=False).public_key().public_bytes_raw()}
    assert not list(isolated_home.glob(".*.partial"))
