"""The PKCS#11 backend of the keyring: data keys wrapped by a key-encryption
key (KEK) that never leaves a hardware security module.

The KEK is an AES-256 secret key on the token, found by its label. It must be
sensitive and non-extractable; this module refuses any other. Wrapping and
unwrapping happen on the token with CKM_AES_KEY_WRAP (RFC 3394, NIST SP 800-38F
KW): the data key goes in as a short-lived, private session object, the token
wraps it under the KEK, and the object is destroyed. KW is deterministic and
authenticated (a 64-bit integrity check), which is what wrapping high-entropy
keys needs; a changed or foreign wrapped key fails to unwrap. Data keys must be
16 bytes or longer and a multiple of 8 (keyring keys are 32 bytes).
CKM_AES_KEY_WRAP is chosen over CKM_AES_KEY_WRAP_PAD because the padded
mechanism means different things in different PKCS#11 versions and HSMs, and
unpadded KW needs no padding for whole AES keys.

The KEK is never created implicitly: `create_kek` is the one, explicit way
(for setup scripts and tests). The user PIN comes from the caller (the keyring
reads it from `INGESTGUARD_PKCS11_PIN`), is used to log in, and is not kept.

PKCS#11 login state belongs to the process, not to a session: a second
C_Login fails with "already logged in" and any C_Logout logs every session
out. So each token is logged in once per process by an anchor session that the
backends on it share (counted), and each backend then opens its own session;
a backend given a PIN other than the one that logged the token in is refused
as a wrong PIN. Backends are not fork- or pickle-safe: open one per process.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestguard.errors import KeyringError, KeyUnwrapError

try:  # python-pkcs11 is a dependency; the check keeps the error typed anyway.
    import pkcs11
    from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
    from pkcs11 import exceptions as p11e
except ImportError:  # pragma: no cover - exercised only without the package
    pkcs11 = None  # type: ignore[assignment]

ENV_PIN = "INGESTGUARD_PKCS11_PIN"
MECHANISM_NAME = "CKM_AES_KEY_WRAP"
KEK_BITS = 256


class Pkcs11Error(KeyringError):
    """The PKCS#11 keyring backend cannot be used."""


class Pkcs11ModuleNotFoundError(Pkcs11Error):
    """The PKCS#11 library (.so) is missing or is not a PKCS#11 module."""


class Pkcs11TokenNotFoundError(Pkcs11Error):
    """No token (or more than one) has the configured label."""


class Pkcs11PinError(Pkcs11Error):
    """The user PIN is missing, wrong or locked."""


class Pkcs11KeyNotFoundError(Pkcs11Error):
    """No usable key-encryption key has the configured label on the token."""


class Pkcs11UnwrapError(Pkcs11Error, KeyUnwrapError):
    """A wrapped data key does not unwrap under the key-encryption key."""


# --- one login per token per process ----------------------------------------

_PIN_MAC_KEY = secrets.token_bytes(32)  # lets us compare PINs without keeping them


def _pin_mac(pin: str) -> bytes:
    return hmac.new(_PIN_MAC_KEY, pin.encode("utf-8"), hashlib.sha256).digest()


@dataclass
class _Login:
    anchor: Any  # the logged-in pkcs11 Session
    pin_mac: bytes
    users: int


_logins: dict[tuple[int, str, bytes], _Login] = {}
_logins_lock = threading.Lock()


def _acquire_login(module: str, token: Any, token_label: str, pin: str) -> tuple[int, str, bytes]:
    key = (os.getpid(), module, bytes(token.serial))
    with _logins_lock:
        login = _logins.get(key)
        if login is not None:
            if not hmac.compare_digest(login.pin_mac, _pin_mac(pin)):
                raise Pkcs11PinError(_wrong_pin(token_label))
            login.users += 1
            return key
        try:
            anchor = token.open(user_pin=pin)
        except (p11e.PinIncorrect, p11e.PinInvalid, p11e.PinLenRange) as exc:
            raise Pkcs11PinError(_wrong_pin(token_label)) from exc
        except p11e.PinLocked as exc:
            raise Pkcs11PinError(
                f"the user PIN of PKCS#11 token {token_label!r} is locked; unlock it with the SO PIN"
            ) from exc
        except p11e.UserAlreadyLoggedIn as exc:
            raise Pkcs11Error(
                f"PKCS#11 token {token_label!r} was logged in outside ingestguard in this process;"
                " log it out or use a separate process"
            ) from exc
        except p11e.PKCS11Error as exc:
            raise _unavailable(token_label, exc) from exc
        _logins[key] = _Login(anchor=anchor, pin_mac=_pin_mac(pin), users=1)
        return key


def _release_login(key: tuple[int, str, bytes]) -> None:
    with _logins_lock:
        login = _logins.get(key)
        if login is None:
            return
        login.users -= 1
        if login.users > 0:
            return
        del _logins[key]
        if key[0] == os.getpid():
            with contextlib.suppress(p11e.PKCS11Error):
                login.anchor.close()  # C_Logout, then C_CloseSession


def _wrong_pin(token_label: str) -> str:
    return f"wrong user PIN for PKCS#11 token {token_label!r}; set {ENV_PIN} to the token's user PIN"


def _unavailable(token_label: str, exc: Exception) -> Pkcs11Error:
    return Pkcs11Error(
        f"PKCS#11 token {token_label!r} failed ({type(exc).__name__}); check the token is present and retry"
    )


# --- opening the module and the token ---------------------------------------


def _load_module(module: Path | str | None) -> Any:
    if pkcs11 is None:
        raise Pkcs11Error("the PKCS#11 backend needs python-pkcs11; run: pip install python-pkcs11")
    if module is None or str(module) == "":
        raise Pkcs11ModuleNotFoundError(
            "no PKCS#11 module configured; set keyring.pkcs11_module to the library,"
            " e.g. /usr/lib/softhsm/libsofthsm2.so"
        )
    path = Path(module)
    if not path.is_file():
        raise Pkcs11ModuleNotFoundError(
            f"PKCS#11 module {str(path)!r} not found; install it (Debian: apt-get install softhsm2)"
            " or fix keyring.pkcs11_module"
        )
    try:
        return pkcs11.lib(str(path))
    except p11e.PKCS11Error as exc:
        raise Pkcs11ModuleNotFoundError(
            f"{str(path)!r} cannot be loaded as a PKCS#11 module; point keyring.pkcs11_module at the"
            " vendor's PKCS#11 library"
        ) from exc


def _find_token(lib: Any, token_label: str | None) -> Any:
    if not token_label:  # none configured: the one initialised token, if there is exactly one
        tokens = [t for t in lib.get_tokens() if t.flags & pkcs11.TokenFlag.TOKEN_INITIALIZED]
        if len(tokens) == 1:
            return tokens[0]
        raise Pkcs11TokenNotFoundError(
            f"{'no' if not tokens else len(tokens)} initialised PKCS#11 tokens; set keyring.pkcs11_token"
            " to the label of the token that holds the KEK"
        )
    try:
        return lib.get_token(token_label=token_label)
    except p11e.NoSuchToken as exc:
        labels = sorted({t.label for t in lib.get_tokens() if t.label})
        raise Pkcs11TokenNotFoundError(
            f"no PKCS#11 token labelled {token_label!r} (found: {', '.join(map(repr, labels)) or 'none'});"
            " initialise it (softhsm2-util --init-token) or fix keyring.pkcs11_token"
        ) from exc
    except p11e.MultipleTokensReturned as exc:
        raise Pkcs11TokenNotFoundError(
            f"more than one PKCS#11 token is labelled {token_label!r}; relabel one so the label is unique"
        ) from exc


class Pkcs11Backend:
    """Wraps and unwraps data keys under an AES KEK that stays on a PKCS#11 token."""

    name = "pkcs11"

    def __init__(self, module: Path | str, token_label: str | None, key_label: str, pin: str) -> None:
        self._module = str(module)
        self._token_label = token_label
        self._key_label = key_label
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._session: Any = None
        self._login: tuple[int, str, bytes] | None = None
        lib = _load_module(module)
        token = _find_token(lib, token_label)
        self._token_label = token_label = token.label
        if not pin:
            raise Pkcs11PinError(f"no PKCS#11 user PIN given; set {ENV_PIN} to the token's user PIN")
        self._token_serial = bytes(token.serial).decode("ascii", "replace").strip()
        if Mechanism.AES_KEY_WRAP not in token.slot.get_mechanisms():
            raise Pkcs11Error(
                f"PKCS#11 token {token_label!r} does not support {MECHANISM_NAME}; use a token that does"
            )
        self._login = _acquire_login(self._module, token, token_label, pin)
        try:
            # Read-only is enough: the backend creates session objects only.
            self._session = token.open()
            self._kek = _find_kek(self._session, token_label, key_label)
            kek_id = self._kek[Attribute.ID]
            self._key_id = bytes(kek_id).hex() if kek_id else ""
        except BaseException:
            self.close()
            raise

    # -- the backend protocol --

    def wrap(self, data_key: bytes) -> bytes:
        """The data key wrapped under the KEK, on the token (RFC 3394: len(data_key) + 8 bytes)."""
        if not isinstance(data_key, bytes | bytearray) or len(data_key) < 16 or len(data_key) % 8:
            raise Pkcs11Error("a data key to wrap must be bytes, at least 16 long and a multiple of 8")
        with self._lock:
            session = self._live_session()
            try:
                obj = session.create_object(
                    {
                        Attribute.CLASS: ObjectClass.SECRET_KEY,
                        Attribute.KEY_TYPE: KeyType.GENERIC_SECRET,
                        Attribute.TOKEN: False,
                        Attribute.PRIVATE: True,
                        Attribute.SENSITIVE: False,
                        Attribute.EXTRACTABLE: True,
                        Attribute.VALUE: bytes(data_key),
                    }
                )
                try:
                    return self._kek.wrap_key(obj, mechanism=Mechanism.AES_KEY_WRAP)
                finally:
                    obj.destroy()
            except p11e.PKCS11Error as exc:
                raise _unavailable(self._token_label, exc) from exc

    def unwrap(self, wrapped: bytes) -> bytes:
        """The data key from `wrap`'s output; a changed or foreign input raises Pkcs11UnwrapError."""
        if not isinstance(wrapped, bytes | bytearray) or len(wrapped) < 24 or len(wrapped) % 8:
            raise Pkcs11UnwrapError(self._unwrap_failed())
        with self._lock:
            self._live_session()
            try:
                obj = self._kek.unwrap_key(
                    ObjectClass.SECRET_KEY,
                    KeyType.GENERIC_SECRET,
                    bytes(wrapped),
                    mechanism=Mechanism.AES_KEY_WRAP,
                    template={
                        Attribute.TOKEN: False,
                        Attribute.PRIVATE: True,
                        Attribute.SENSITIVE: False,
                        Attribute.EXTRACTABLE: True,
                    },
                )
            except _UNWRAP_FAILURES as exc:
                raise Pkcs11UnwrapError(self._unwrap_failed()) from exc
            except p11e.PKCS11Error as exc:
                raise _unavailable(self._token_label, exc) from exc
            try:
                return bytes(obj[Attribute.VALUE])
            except p11e.PKCS11Error as exc:
                raise _unavailable(self._token_label, exc) from exc
            finally:
                with contextlib.suppress(p11e.PKCS11Error):
                    obj.destroy()

    def describe(self) -> dict[str, str]:
        """Identifiers only: never the PIN, never key material."""
        return {
            "backend": self.name,
            "token": self._token_label,
            "token_serial": self._token_serial,
            "key_label": self._key_label,
            "key_id": self._key_id,
            "mechanism": MECHANISM_NAME,
        }

    # -- lifetime --

    def close(self) -> None:
        """Close this backend's session; the token logs out when its last backend closes."""
        with self._lock:
            session, self._session = self._session, None
            login, self._login = self._login, None
        if session is not None and self._pid == os.getpid():
            with contextlib.suppress(p11e.PKCS11Error):
                session.close()  # not logged in itself, so no C_Logout
        if login is not None:
            _release_login(login)

    def __enter__(self) -> Pkcs11Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Pkcs11Backend(token={self._token_label!r}, key_label={self._key_label!r})"

    def __reduce__(self) -> Any:
        raise Pkcs11Error("a PKCS#11 backend cannot be pickled; open one in each process that needs it")

    def _live_session(self) -> Any:
        if self._session is None:
            raise Pkcs11Error("this PKCS#11 backend is closed; open a new one")
        if self._pid != os.getpid():
            raise Pkcs11Error("this PKCS#11 backend was opened in another process; open one in this process")
        return self._session

    def _unwrap_failed(self) -> str:
        return (
            f"a wrapped data key does not unwrap under KEK {self._key_label!r} on token"
            f" {self._token_label!r}: it was changed or wrapped by another key; restore the keyring"
            " from backup or configure the KEK that wrapped it"
        )


if pkcs11 is not None:
    # What tokens report for a wrapped key that is not authentic under the KEK
    # (SoftHSM answers CKR_GENERAL_ERROR; others CKR_WRAPPED_KEY_INVALID).
    _UNWRAP_FAILURES: tuple[type[Exception], ...] = (
        p11e.WrappedKeyInvalid,
        p11e.WrappedKeyLenRange,
        p11e.EncryptedDataInvalid,
        p11e.EncryptedDataLenRange,
        p11e.DataInvalid,
        p11e.GeneralError,
        p11e.FunctionFailed,
    )


def _find_kek(session: Any, token_label: str, key_label: str | None) -> Any:
    if not key_label:
        raise Pkcs11KeyNotFoundError(
            "no key-encryption key configured; set keyring.pkcs11_key_label to the AES key's label"
        )
    try:
        kek = session.get_key(object_class=ObjectClass.SECRET_KEY, key_type=KeyType.AES, label=key_label)
    except p11e.NoSuchKey as exc:
        raise Pkcs11KeyNotFoundError(
            f"no AES key labelled {key_label!r} on PKCS#11 token {token_label!r}; create one"
            " (ingestguard.keyring_pkcs11.create_kek) or fix keyring.pkcs11_key_label"
        ) from exc
    except p11e.MultipleObjectsReturned as exc:
        raise Pkcs11KeyNotFoundError(
            f"more than one AES key is labelled {key_label!r} on PKCS#11 token {token_label!r};"
            " give the KEK a unique label"
        ) from exc
    flags = {
        "sensitive": kek[Attribute.SENSITIVE],
        "non-extractable": not kek[Attribute.EXTRACTABLE],
        "wrap": kek[Attribute.WRAP],
        "unwrap": kek[Attribute.UNWRAP],
    }
    missing = [name for name, ok in flags.items() if not ok]
    if missing:
        raise Pkcs11KeyNotFoundError(
            f"AES key {key_label!r} on PKCS#11 token {token_label!r} is not a safe KEK (not"
            f" {', '.join(missing)}); create a new one with create_kek"
        )
    return kek


def create_kek(module: Path | str, token_label: str, key_label: str, pin: str) -> dict[str, str]:
    """Generate the AES-256 KEK on the token: sensitive, never extractable, wrap/unwrap only.

    The one way this module makes a key; setup scripts and tests call it, the
    backend never does. Refuses if a key with that label exists. Returns the
    new backend's `describe()`.
    """
    lib = _load_module(module)
    token = _find_token(lib, token_label)
    if not pin:
        raise Pkcs11PinError(f"no PKCS#11 user PIN given; set {ENV_PIN} to the token's user PIN")
    login = _acquire_login(str(module), token, token_label, pin)
    try:
        with token.open(rw=True) as session:
            if any(True for _ in session.get_objects({Attribute.LABEL: key_label})):
                raise Pkcs11Error(
                    f"PKCS#11 token {token_label!r} already has an object labelled {key_label!r};"
                    " use it, or choose another label"
                )
            try:
                session.generate_key(
                    KeyType.AES,
                    KEK_BITS,
                    id=secrets.token_bytes(8),
                    label=key_label,
                    store=True,
                    template={
                        Attribute.TOKEN: True,
                        Attribute.PRIVATE: True,
                        Attribute.SENSITIVE: True,
                        Attribute.EXTRACTABLE: False,
                        Attribute.MODIFIABLE: False,
                        Attribute.WRAP: True,
                        Attribute.UNWRAP: True,
                        Attribute.ENCRYPT: False,
                        Attribute.DECRYPT: False,
                        Attribute.SIGN: False,
                        Attribute.VERIFY: False,
                        Attribute.DERIVE: False,
                    },
                )
            except p11e.PKCS11Error as exc:
                raise _unavailable(token_label, exc) from exc
    finally:
        _release_login(login)
    with Pkcs11Backend(module, token_label, key_label, pin) as backend:
        return backend.describe()


def from_settings(
    module: Path | str | None,
    token_label: str | None,
    key_label: str | None,
    env: Mapping[str, str] | None = None,
) -> Pkcs11Backend:
    """The backend of the policy's `keyring.pkcs11_module / pkcs11_token /
    pkcs11_key_label`, logged in with the PIN from `INGESTGUARD_PKCS11_PIN`
    (never from the policy). Without a token label, the one initialised token."""
    pin = (os.environ if env is None else env).get(ENV_PIN, "")
    return Pkcs11Backend(module or "", token_label, key_label or "", pin)
