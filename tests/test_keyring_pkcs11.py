"""The PKCS#11 keyring backend against a real software HSM (Debian's softhsm2).

`make test` installs softhsm2 when it is missing and may; otherwise this
module is skipped with the reason. Nothing here is faked: every wrap and
unwrap happens on a SoftHSM token in a temporary token directory.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

pkcs11 = pytest.importorskip("pkcs11", reason="python-pkcs11 is not installed (pip install -e .)")

from ingestguard.errors import KeyringError  # noqa: E402
from ingestguard.keyring_pkcs11 import (  # noqa: E402
    ENV_PIN,
    Pkcs11Backend,
    Pkcs11Error,
    Pkcs11KeyNotFoundError,
    Pkcs11ModuleNotFoundError,
    Pkcs11PinError,
    Pkcs11TokenNotFoundError,
    Pkcs11UnwrapError,
    create_kek,
    from_settings,
)

_MODULE_CANDIDATES = [
    os.environ.get("SOFTHSM2_MODULE", ""),
    "/usr/lib/softhsm/libsofthsm2.so",  # Debian, Ubuntu
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",  # Fedora
    "/usr/local/lib/softhsm/libsofthsm2.so",  # source builds, Homebrew
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
]
SOFTHSM_MODULE = next((p for p in _MODULE_CANDIDATES if p and Path(p).is_file()), None)
SOFTHSM_UTIL = shutil.which("softhsm2-util")

pytestmark = [
    pytest.mark.skipif(
        SOFTHSM_UTIL is None,
        reason="softhsm2-util not found: install Debian's softhsm2 (`make test` does when it may install packages)",
    ),
    pytest.mark.skipif(
        SOFTHSM_MODULE is None,
        reason="libsofthsm2.so not found (Debian: /usr/lib/softhsm/libsofthsm2.so); install softhsm2"
        " or set SOFTHSM2_MODULE",
    ),
]

TOKEN = "ingestguard-test"
PIN = "user-pin-4711"
SO_PIN = "so-pin-0815"
KEK = "ingestguard-kek"
OTHER_KEK = "ingestguard-other-kek"


@pytest.fixture(scope="session")
def hsm(tmp_path_factory: pytest.TempPathFactory):
    """A SoftHSM token in a temporary directory, with two KEKs made by `create_kek`."""
    root = tmp_path_factory.mktemp("softhsm")
    tokens = root / "tokens"
    tokens.mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    with pytest.MonkeyPatch.context() as mp:
        # SoftHSM reads its configuration when the module is initialised, so
        # this must be set before the first load in this process.
        mp.setenv("SOFTHSM2_CONF", str(conf))
        subprocess.run(
            [SOFTHSM_UTIL, "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN],
            check=True,
            capture_output=True,
            env=os.environ.copy(),
        )
        described = create_kek(SOFTHSM_MODULE, TOKEN, KEK, PIN)
        create_kek(SOFTHSM_MODULE, TOKEN, OTHER_KEK, PIN)
        yield SimpleNamespace(module=SOFTHSM_MODULE, token=TOKEN, kek=KEK, pin=PIN, described=described)
        # Finalise the module so a later configuration in this process starts clean.
        pkcs11.unload(SOFTHSM_MODULE)


@pytest.fixture
def backend(hsm):
    with Pkcs11Backend(hsm.module, hsm.token, hsm.kek, hsm.pin) as opened:
        yield opened


def _assert_one_line_and_no_pin(exc: BaseException) -> None:
    message = str(exc)
    assert "\n" not in message and message
    assert PIN not in message and SO_PIN not in message


def test_wrap_unwrap_round_trip(backend):
    for _ in range(3):
        data_key = os.urandom(32)
        wrapped = backend.wrap(data_key)
        assert backend.unwrap(wrapped) == data_key
    long_key = os.urandom(64)  # an AES-SIV key pair wraps as well
    assert backend.unwrap(backend.wrap(long_key)) == long_key


def test_wrapped_bytes_are_not_the_data_key(backend):
    data_key = os.urandom(32)
    wrapped = backend.wrap(data_key)
    assert len(wrapped) == 40  # RFC 3394: the key plus an 8-byte integrity block
    assert wrapped != data_key
    assert data_key not in wrapped
    assert not any(data_key[i : i + 8] in wrapped for i in range(0, 32, 8))


def test_wrap_happens_on_the_token_and_leaves_no_objects(backend, hsm):
    session = pkcs11.lib(hsm.module).get_token(token_label=hsm.token).open()  # shares the backend's login
    try:
        before = len(list(session.get_objects()))
        backend.unwrap(backend.wrap(os.urandom(32)))
        assert len(list(session.get_objects())) == before
    finally:
        session.close()


def test_kek_cannot_be_extracted(backend, hsm):
    from pkcs11 import Attribute, KeyType, ObjectClass

    session = pkcs11.lib(hsm.module).get_token(token_label=hsm.token).open()  # shares the backend's login
    try:
        kek = session.get_key(object_class=ObjectClass.SECRET_KEY, key_type=KeyType.AES, label=hsm.kek)
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            kek[Attribute.VALUE]
        assert kek[Attribute.SENSITIVE] and kek[Attribute.ALWAYS_SENSITIVE]
        assert not kek[Attribute.EXTRACTABLE] and kek[Attribute.NEVER_EXTRACTABLE]
        # Nor can it be wrapped out under a key of our own.
        wrapper = session.generate_key(KeyType.AES, 256, store=False, template={Attribute.WRAP: True})
        with pytest.raises(pkcs11.exceptions.KeyUnextractable):
            wrapper.wrap_key(kek)
    finally:
        session.close()


def test_describe_has_ids_only(backend, hsm):
    described = backend.describe()
    assert described["backend"] == "pkcs11" == backend.name
    assert described["token"] == hsm.token
    assert described["key_label"] == hsm.kek
    assert described["mechanism"] == "CKM_AES_KEY_WRAP"
    assert described["key_id"] and described == hsm.described
    assert all(isinstance(v, str) for v in described.values())
    text = repr(described) + repr(backend)
    assert PIN not in text and SO_PIN not in text


def test_wrong_pin_is_typed(hsm):
    with pytest.raises(Pkcs11PinError) as caught:
        Pkcs11Backend(hsm.module, hsm.token, hsm.kek, "not-the-pin")
    assert isinstance(caught.value, KeyringError)
    assert ENV_PIN in str(caught.value)
    _assert_one_line_and_no_pin(caught.value)
    # The right PIN still works afterwards (no lockout from one miss).
    with Pkcs11Backend(hsm.module, hsm.token, hsm.kek, hsm.pin) as opened:
        assert opened.unwrap(opened.wrap(bytes(32))) == bytes(32)


def test_wrong_pin_is_refused_while_the_token_is_logged_in(backend, hsm):
    # PKCS#11 login is per process: the token is already logged in here, and a
    # second backend with a wrong PIN must not ride on that login.
    with pytest.raises(Pkcs11PinError):
        Pkcs11Backend(hsm.module, hsm.token, hsm.kek, "not-the-pin")
    assert backend.unwrap(backend.wrap(bytes(range(32)))) == bytes(range(32))


def test_two_backends_share_a_token_and_closing_one_keeps_the_other(hsm):
    first = Pkcs11Backend(hsm.module, hsm.token, hsm.kek, hsm.pin)
    second = Pkcs11Backend(hsm.module, hsm.token, hsm.kek, hsm.pin)
    data_key = os.urandom(32)
    wrapped = first.wrap(data_key)
    first.close()
    assert second.unwrap(wrapped) == data_key
    second.close()
    with pytest.raises(Pkcs11Error, match="closed"):
        second.wrap(data_key)


def test_missing_pin_is_typed(hsm):
    with pytest.raises(Pkcs11PinError, match=ENV_PIN):
        Pkcs11Backend(hsm.module, hsm.token, hsm.kek, "")
    with pytest.raises(Pkcs11PinError, match=ENV_PIN):
        from_settings(hsm.module, hsm.token, hsm.kek, env={})


def test_missing_token_is_typed(hsm):
    with pytest.raises(Pkcs11TokenNotFoundError) as caught:
        Pkcs11Backend(hsm.module, "no-such-token", hsm.kek, hsm.pin)
    assert "no-such-token" in str(caught.value) and hsm.token in str(caught.value)
    _assert_one_line_and_no_pin(caught.value)


def test_missing_key_is_typed(hsm):
    with pytest.raises(Pkcs11KeyNotFoundError) as caught:
        Pkcs11Backend(hsm.module, hsm.token, "no-such-key", hsm.pin)
    assert "create_kek" in str(caught.value)
    _assert_one_line_and_no_pin(caught.value)


def test_missing_module_is_typed(hsm, tmp_path):
    with pytest.raises(Pkcs11ModuleNotFoundError, match="softhsm2"):
        Pkcs11Backend(tmp_path / "libnothere.so", hsm.token, hsm.kek, hsm.pin)
    not_a_module = tmp_path / "libfake.so"
    not_a_module.write_bytes(b"not an ELF file")
    with pytest.raises(Pkcs11ModuleNotFoundError, match="PKCS#11 library"):
        Pkcs11Backend(not_a_module, hsm.token, hsm.kek, hsm.pin)
    with pytest.raises(Pkcs11ModuleNotFoundError, match="pkcs11_module"):
        from_settings(None, hsm.token, hsm.kek, env={ENV_PIN: hsm.pin})


def test_tampered_or_foreign_wrapped_keys_fail_typed(backend, hsm):
    wrapped = backend.wrap(os.urandom(32))
    for position in (0, 7, 8, 39):
        tampered = bytearray(wrapped)
        tampered[position] ^= 0x01
        with pytest.raises(Pkcs11UnwrapError) as caught:
            backend.unwrap(bytes(tampered))
        _assert_one_line_and_no_pin(caught.value)
    for malformed in (b"", wrapped[:-8], wrapped[:-1], wrapped + bytes(8)):
        with pytest.raises(Pkcs11UnwrapError):
            backend.unwrap(malformed)
    with (
        Pkcs11Backend(hsm.module, hsm.token, OTHER_KEK, hsm.pin) as other,
        pytest.raises(Pkcs11UnwrapError, match=hsm.kek),
    ):
        backend.unwrap(other.wrap(os.urandom(32)))


def test_bad_data_keys_are_refused(backend):
    for bad in (b"", os.urandom(8), os.urandom(33), "not bytes"):
        with pytest.raises(Pkcs11Error):
            backend.wrap(bad)  # type: ignore[arg-type]


def test_create_kek_refuses_an_existing_label(hsm):
    with pytest.raises(Pkcs11Error, match="already has"):
        create_kek(hsm.module, hsm.token, hsm.kek, hsm.pin)


def test_backend_does_not_pickle(backend):
    with pytest.raises(Pkcs11Error, match="each process"):
        pickle.dumps(backend)


def _settings(hsm, **changes):
    from ingestguard.policy import KeyringSettings

    fields = {"pkcs11_module": Path(hsm.module), "pkcs11_token": hsm.token, "pkcs11_key_label": hsm.kek}
    return KeyringSettings(backend="pkcs11", **{**fields, **changes})


def test_from_settings_reads_the_pin_from_the_environment(hsm, monkeypatch):
    monkeypatch.setenv(ENV_PIN, hsm.pin)
    with from_settings(Path(hsm.module), hsm.token, hsm.kek) as opened:
        assert opened.unwrap(opened.wrap(bytes(32))) == bytes(32)
    # Without pkcs11_token, the one initialised token is used.
    with from_settings(Path(hsm.module), None, hsm.kek) as opened:
        assert opened.describe()["token"] == hsm.token


def test_keyring_with_pkcs11_backend_round_trips_a_version(hsm, tmp_path, monkeypatch):
    keyring = pytest.importorskip("ingestguard.keyring", reason="ingestguard/keyring.py has not landed yet")
    from ingestguard.errors import KeyUnwrapError
    from ingestguard.policy import Policy

    monkeypatch.setenv(ENV_PIN, hsm.pin)
    policy = Policy(keyring=_settings(hsm))
    ring = keyring.Keyring.open(policy, home=tmp_path)
    try:
        assert ring.backend.name == "pkcs11"
        first = ring.current()
        subkey = first.derive("tokenize")
        ring.rotate()
    finally:
        ring.backend.close()
    stored = (tmp_path / keyring.KEYRING_NAME).read_text()
    assert hsm.pin not in stored and '"pkcs11"' in stored

    reopened = keyring.Keyring.open(policy, home=tmp_path, create=False)
    try:
        assert reopened.version(first.version).derive("tokenize") == subkey
        assert reopened.current().version == first.version + 1
        assert reopened.describe()["key_label"] == hsm.kek
    finally:
        reopened.backend.close()

    # The same keyring under another KEK on the token does not open.
    with pytest.raises(KeyUnwrapError):
        keyring.Keyring.open(Policy(keyring=_settings(hsm, pkcs11_key_label=OTHER_KEK)), home=tmp_path)
