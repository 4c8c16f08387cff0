"""Tokens: AES-SIV under a versioned keyring, typed and authenticated."""

from __future__ import annotations

import hashlib
import hmac
import re
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from ingestguard.errors import KeyringError, TamperedTokenError, TokenKeyVersionError
from ingestguard.transforms.reversible import Tokenizer, detokenize, detokenize_many


class FakeDestroyedError(KeyringError):
    """What a keyring raises for a destroyed version."""


@dataclass(frozen=True)
class FakeVersion:
    version: int
    key_id: str
    material: bytes = field(repr=False)

    def derive(self, purpose: str) -> bytes:
        return hmac.new(self.material, purpose.encode(), hashlib.sha512).digest()  # 64 bytes


class FakeKeyring:
    """Implements the VersionedKeys protocol with fixed key bytes per version."""

    def __init__(self, seed: bytes = b"A", versions: int = 1) -> None:
        self._versions = {
            n: FakeVersion(n, f"fake_{seed.hex()}_{n}", seed * 31 + bytes([n]))
            for n in range(1, versions + 1)
        }
        self._current = versions
        self.destroyed: set[int] = set()

    def current(self) -> FakeVersion:
        return self._versions[self._current]

    def version(self, n: int) -> FakeVersion:
        if n in self.destroyed:
            raise FakeDestroyedError(f"key version {n} was destroyed")
        if n not in self._versions:
            raise KeyringError(f"no key version {n}")
        return self._versions[n]

    def rotate(self) -> None:
        self._current += 1
        n = self._current
        self._versions[n] = FakeVersion(n, f"fake_{n}", bytes([n]) * 32)


VALUES = {
    "EMAIL_ADDRESS": ["maria.lopez@example.com", "a@b.co"],
    "PERSON": ["Maria Lopez", "Zoë Šimić", "李小龍"],
    "PHONE_NUMBER": ["+1 (555) 010-0199"],
    "US_SSN": ["123-45-6789"],
    "CREDIT_CARD": ["4111 1111 1111 1111"],
    "IBAN_CODE": ["DE89370400440532013000"],
    "STREET_ADDRESS": ["1600 Pennsylvania Avenue NW, Washington, DC 20500"],
    "LOCATION": ["", "Berlin", "x" * 200],
}
TOKEN = re.compile(r"tok_([A-Z][A-Z0-9_]*)_v([0-9]+)_([A-Za-z0-9_-]+)")


@pytest.mark.parametrize("entity,value", [(e, v) for e, vs in VALUES.items() for v in vs])
def test_round_trip_per_entity(entity: str, value: str) -> None:
    keys = FakeKeyring()
    token = Tokenizer(keys).token(entity, value)
    match = TOKEN.fullmatch(token)
    assert match is not None and match.group(1) == entity and match.group(2) == "1"
    assert detokenize(keys, token) == (entity, value)
    assert Tokenizer(keys).detokenize(token, entity) == (entity, value)
    assert value.encode() not in token.encode() or value == ""


def test_round_trip_of_lone_surrogates_and_nul() -> None:
    keys = FakeKeyring()
    values = ["\ud800", "a\x00", "\x80", "ends in 0x80 \x80\x00"]
    tokens = Tokenizer(keys).tokens("PERSON", values)
    assert [v for _, v in detokenize_many(keys, tokens)] == values


def test_deterministic_and_typed() -> None:
    t = Tokenizer(FakeKeyring())
    assert t.token("EMAIL_ADDRESS", "a@b.co") == t.token("EMAIL_ADDRESS", "a@b.co")
    assert t.token("EMAIL_ADDRESS", "a@b.co") != t.token("EMAIL_ADDRESS", "a@b.cp")
    # Same value, another entity type: an unrelated body, not just another prefix.
    body = lambda tok: tok.rsplit("_", 1)[-1]  # noqa: E731
    assert body(t.token("PERSON", "Maria")) != body(t.token("LOCATION", "Maria"))
    assert Tokenizer(FakeKeyring(b"B")).token("EMAIL_ADDRESS", "a@b.co") != t.token("EMAIL_ADDRESS", "a@b.co")


def test_length_class_only() -> None:
    t = Tokenizer(FakeKeyring())
    # 0..15 bytes share one length, 16..31 the next: 16-byte SIV + padded blocks.
    short = {len(t.token("PERSON", "x" * n)) for n in range(16)}
    longer = {len(t.token("PERSON", "x" * n)) for n in range(16, 32)}
    assert len(short) == 1 and len(longer) == 1 and longer != short
    assert short == {len("tok_PERSON_v1_") + 43}  # base64url of 32 bytes, no padding
    assert "=" not in t.token("PERSON", "x")


def test_same_token_from_two_processes() -> None:
    program = (
        "import sys; sys.path.insert(0, '.');"
        "from tests.transforms.test_tokens import FakeKeyring;"
        "from ingestguard.transforms.reversible import Tokenizer;"
        "print(Tokenizer(FakeKeyring()).token('EMAIL_ADDRESS', 'maria.lopez@example.com'))"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs[0] == runs[1] == Tokenizer(FakeKeyring()).token("EMAIL_ADDRESS", "maria.lopez@example.com")


def _flip(token: str, i: int) -> str:
    ch = token[i]
    return token[:i] + ("B" if ch != "B" else "C") + token[i + 1 :]


def test_every_flipped_body_character_is_refused() -> None:
    keys = FakeKeyring()
    token = Tokenizer(keys).token("EMAIL_ADDRESS", "maria.lopez@example.com")
    start = len("tok_EMAIL_ADDRESS_v1_")
    for i in range(start, len(token)):
        with pytest.raises(TamperedTokenError) as err:
            detokenize(keys, _flip(token, i))
        assert "maria" not in str(err.value)


def test_changed_prefix_is_refused() -> None:
    keys = FakeKeyring()
    token = Tokenizer(keys).token("EMAIL_ADDRESS", "maria.lopez@example.com")
    with pytest.raises(TamperedTokenError, match="does not authenticate"):
        detokenize(keys, token.replace("EMAIL_ADDRESS", "PERSON"))
    with pytest.raises(TamperedTokenError, match="PERSON was expected"):
        detokenize(keys, token, entity="PERSON")
    for bad in ["", "tok_EMAIL_ADDRESS_v1_", "tok_email_v1_abc", token + "=", token[:-1], "x" + token]:
        with pytest.raises(TamperedTokenError):
            detokenize(keys, bad)


def test_foreign_token_is_refused() -> None:
    token = Tokenizer(FakeKeyring(b"A")).token("PERSON", "Maria Lopez")
    with pytest.raises(TamperedTokenError, match="another key"):
        detokenize(FakeKeyring(b"B"), token)


def test_rotation_and_destroyed_version() -> None:
    keys = FakeKeyring(versions=1)
    old = Tokenizer(keys).token("US_SSN", "123-45-6789")
    keys.rotate()
    new = Tokenizer(keys).token("US_SSN", "123-45-6789")
    assert old.startswith("tok_US_SSN_v1_") and new.startswith("tok_US_SSN_v2_") and old != new
    assert detokenize(keys, old) == detokenize(keys, new) == ("US_SSN", "123-45-6789")

    keys.destroyed.add(1)
    with pytest.raises(TokenKeyVersionError, match="key version 1 is not available") as err:
        detokenize(keys, old)
    assert isinstance(err.value.__cause__, FakeDestroyedError)
    assert "123" not in str(err.value)
    assert detokenize(keys, new) == ("US_SSN", "123-45-6789")  # the current version still works

    with pytest.raises(TokenKeyVersionError, match="key version 7"):
        detokenize(keys, new.replace("_v2_", "_v7_"))


def test_destroyed_version_refused_by_a_running_tokenizer() -> None:
    keys = FakeKeyring(versions=2)
    tokenizer = Tokenizer(keys)
    token = tokenizer.token("PERSON", "Maria Lopez")
    assert tokenizer.detokenize(token) == ("PERSON", "Maria Lopez")
    keys.destroyed.add(2)
    with pytest.raises(TokenKeyVersionError):
        tokenizer.detokenize(token)


def test_repr_and_evidence_hold_no_material() -> None:
    t = Tokenizer(FakeKeyring())
    assert t.to_evidence() == {"action": "tokenize", "key_id": "fake_41_1", "key_version": 1}
    assert "fake_41_1" in repr(t) and "AAAA" not in repr(t)


# -- the action table and the policy ---------------------------------------------

import pyarrow as pa  # noqa: E402

from ingestguard.errors import PolicyError  # noqa: E402
from ingestguard.keys import Key  # noqa: E402
from ingestguard.policy import KEYRING_ACTIONS, Action, Policy  # noqa: E402
from ingestguard.transforms.actions import build_transforms  # noqa: E402
from ingestguard.transforms.columns import ColumnTransformer  # noqa: E402

KEY = Key(key_id="igk_test", source="test", material=bytes(range(32)))


def test_without_keyring_the_table_is_unchanged() -> None:
    assert set(build_transforms(Policy(), None)) == {
        Action.REDACT,
        Action.DROP_COLUMN,
        Action.REPLACE,
        Action.MASK,
        Action.KEEP,
    }
    assert set(build_transforms(Policy(), KEY)) == set(Action) - KEYRING_ACTIONS


def test_with_keyring_the_table_has_the_new_actions() -> None:
    keys = FakeKeyring(versions=2)
    table = build_transforms(Policy(), KEY, keys)
    # encrypt_column has no per-value transform: the Parquet sink encrypts the column.
    assert set(table) == set(Action) - {Action.ENCRYPT_COLUMN}
    assert all(t.name is action for action, t in table.items())
    token = table[Action.TOKENIZE].apply("maria@example.com", "EMAIL_ADDRESS")
    assert token.startswith("tok_EMAIL_ADDRESS_v2_") and detokenize(keys, token)[1] == "maria@example.com"
    out = table[Action.FPE].apply("4111 1111 1111 1111", "CREDIT_CARD")
    assert (
        out.replace(" ", "").startswith("411111")
        and table[Action.FPE].cipher.decrypt("CREDIT_CARD", out) == "4111 1111 1111 1111"
    )
    assert table[Action.FPE].cipher.key_version == 2
    assert table[Action.GENERALIZE].apply("1980-04-02", "DATE_OF_BIRTH") == "1980"
    assert table[Action.SYNTHESIZE].apply("Maria Lopez", "PERSON") != "Maria Lopez"


def test_apply_array_keeps_nulls_and_matches_apply() -> None:
    table = build_transforms(Policy(), None, FakeKeyring())
    values = pa.array(["123-45-6789", None, "987-65-4321"], pa.large_string())
    for action, entity in [
        (Action.TOKENIZE, "US_SSN"),
        (Action.FPE, "US_SSN"),
        (Action.SYNTHESIZE, "US_SSN"),
        (Action.GENERALIZE, "US_SSN"),
    ]:
        out = table[action].apply_array(values, entity).to_pylist()
        assert out[1] is None
        assert out[0] == table[action].apply("123-45-6789", entity)
        assert out[2] == table[action].apply("987-65-4321", entity)


def test_column_transformer_tokenizes_distinct_values_once_per_batch() -> None:
    keys = FakeKeyring()
    column = ColumnTransformer(build_transforms(Policy(), None, keys)[Action.TOKENIZE], "EMAIL_ADDRESS")
    out = column(pa.array(["a@b.co", "c@d.co", "a@b.co", None])).to_pylist()
    assert out[0] == out[2] != out[1] and out[3] is None
    assert [detokenize(keys, t)[1] for t in out[:3]] == ["a@b.co", "c@d.co", "a@b.co"]


def test_policy_settings_and_uses_keyring() -> None:
    policy = Policy.from_dict(
        {
            "actions": {
                "EMAIL_ADDRESS": "tokenize",
                "US_SSN": "fpe",
                "PERSON": "synthesize",
                "AGE": "generalize",
            },
            "fpe": {"alphanumeric": ["PASSPORT"]},
            "generalize": {"date": "month", "kinds": {"AGE": "age"}},
            "shift_dates": {"subject_column": "patient_id", "max_days": 30},
        }
    )
    assert policy.action_for("EMAIL_ADDRESS") is Action.TOKENIZE and policy.uses_keyring()
    assert policy.fpe.luhn == ["CREDIT_CARD"] and policy.shift_dates.max_days == 30
    assert Policy.from_dict(policy.to_dict()) == policy
    assert not Policy().uses_keyring()
    assert Policy.from_dict({"columns": {"zip": {"action": "generalize"}}}).uses_keyring()
    assert Policy().actions == Policy.from_dict({}).actions  # defaults untouched
    assert not set(Policy().actions.values()) & KEYRING_ACTIONS
    with pytest.raises(PolicyError, match="has no %Y"):
        Policy.from_dict({"generalize": {"date_formats": ["%d/%m"]}})
    with pytest.raises(PolicyError, match="separators"):
        Policy.from_dict({"fpe": {"separators": " x"}})
    with pytest.raises(PolicyError, match="max_days"):
        Policy.from_dict({"shift_dates": {"max_days": 0}})
