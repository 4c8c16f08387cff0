from __future__ import annotations

import base64
import re

import pytest

from ingestguard.keys import _make_key
from ingestguard.policy import KEYRING_ACTIONS, Action, Policy
from ingestguard.transforms.actions import (
    DropColumn,
    Keep,
    Mask,
    Pseudonymize,
    Redact,
    Replace,
    build_transforms,
)
from ingestguard.transforms.crypto import Pseudonymizer

KEY_A = _make_key(bytes(range(32)), source="test")
KEY_B = _make_key(bytes(32), source="test")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4111111111111111", "************1111"),
        ("(212) 555-0147", "**********0147"),
        ("123456789", "*****6789"),  # the shortest value that keeps 4
        ("12345678", "********"),  # no longer than twice what is kept: all masked
        ("1234", "****"),
        ("a", "*"),
        ("", ""),
    ],
)
def test_mask_keeps_last_four(value: str, expected: str) -> None:
    assert Mask(keep_last=4, char="*").apply(value, "CREDIT_CARD") == expected


def test_mask_with_other_settings() -> None:
    assert Mask(keep_last=0, char="#").apply("secret", "PERSON") == "######"
    assert Mask(keep_last=2, char="x").apply("abcdef", "PERSON") == "xxxxef"
    assert Mask(keep_last=2, char="x").apply("abcd", "PERSON") == "xxxx"


def test_replace_redact_keep_drop() -> None:
    assert Replace().apply("jane@example.com", "EMAIL_ADDRESS") == "<EMAIL_ADDRESS>"
    assert Replace().apply("10.0.0.1", "IP_ADDRESS") == "<IP_ADDRESS>"
    assert Redact().apply("536-90-4399", "US_SSN") is None
    assert DropColumn().apply("536-90-4399", "US_SSN") is None
    assert Keep().apply("jane@example.com", "EMAIL_ADDRESS") == "jane@example.com"


def test_pseudonymize_is_deterministic_and_typed() -> None:
    action = Pseudonymize(Pseudonymizer(KEY_A, 20))
    token = action.apply("jane@example.com", "EMAIL_ADDRESS")
    assert re.fullmatch(r"EMAIL_ADDRESS_[0-9a-f]{20}", token)
    assert action.apply("jane@example.com", "EMAIL_ADDRESS") == token
    # A fresh pseudonymizer over the same key gives the same token (joins across runs).
    assert Pseudonymize(Pseudonymizer(KEY_A, 20)).apply("jane@example.com", "EMAIL_ADDRESS") == token


def test_pseudonymize_differs_by_key_entity_and_value() -> None:
    a = Pseudonymizer(KEY_A, 20)
    b = Pseudonymizer(KEY_B, 20)
    token = a.token("PERSON", "Jane Doe")
    assert token.startswith("PERSON_")
    assert b.token("PERSON", "Jane Doe") != token
    other_entity = a.token("LOCATION", "Jane Doe")
    assert other_entity.startswith("LOCATION_")
    assert other_entity.removeprefix("LOCATION_") != token.removeprefix("PERSON_")
    assert a.token("PERSON", "Jane Doe ") != token
    assert a.token("PERSON", "jane doe") != token


def test_pseudonymize_hex_chars_setting() -> None:
    short = Pseudonymizer(KEY_A, 20).token("IBAN_CODE", "DE89370400440532013000")
    long = Pseudonymizer(KEY_A, 32).token("IBAN_CODE", "DE89370400440532013000")
    full = Pseudonymizer(KEY_A, 64).token("IBAN_CODE", "DE89370400440532013000")
    assert re.fullmatch(r"IBAN_CODE_[0-9a-f]{32}", long)
    assert re.fullmatch(r"IBAN_CODE_[0-9a-f]{64}", full)
    # Truncations of one HMAC.
    assert long.startswith(short)
    assert full.startswith(long)


def test_pseudonymize_handles_non_ascii_and_lone_surrogates() -> None:
    p = Pseudonymizer(KEY_A, 20)
    assert re.fullmatch(r"PERSON_[0-9a-f]{20}", p.token("PERSON", "Zoë Šimić"))
    assert p.token("PERSON", "\ud800") != p.token("PERSON", "\ud801")


def test_build_transforms_without_key_has_no_pseudonymize() -> None:
    table = build_transforms(Policy(), None)
    assert set(table) == {Action.REDACT, Action.DROP_COLUMN, Action.REPLACE, Action.MASK, Action.KEEP}
    assert Action.PSEUDONYMIZE not in table
    assert all(t.name is action for action, t in table.items())


def test_build_transforms_with_key_uses_policy_settings() -> None:
    policy = Policy.from_dict({"mask": {"keep_last": 2, "char": "#"}, "pseudonymize": {"hex_chars": 24}})
    table = build_transforms(policy, KEY_A)
    assert set(table) == set(Action) - KEYRING_ACTIONS  # those need a keyring
    assert table[Action.MASK].apply("abcdefgh", "PHONE_NUMBER") == "######gh"
    token = table[Action.PSEUDONYMIZE].apply("Jane Doe", "PERSON")
    assert token == Pseudonymizer(KEY_A, 24).token("PERSON", "Jane Doe")
    assert re.fullmatch(r"PERSON_[0-9a-f]{24}", token)


def test_key_from_env_matches_make_key(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from ingestguard.keys import load_key

    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path))
    monkeypatch.setenv("INGESTGUARD_KEY", base64.b64encode(bytes(range(32))).decode())
    key = load_key()
    assert Pseudonymizer(key, 20).token("PERSON", "x") == Pseudonymizer(KEY_A, 20).token("PERSON", "x")


@pytest.mark.parametrize(
    "transform",
    [Mask(4, "*"), Mask(0, "#"), Mask(2, "x"), Replace(), Redact(), Keep()],
    ids=lambda t: f"{type(t).__name__}",
)
def test_vectorized_array_path_equals_value_path(transform) -> None:
    import pyarrow as pa

    values = ["4111111111111111", "12345678", "abc", None, "(415) 555-0132", "éüñ12345678", "", "a"]
    expected = [None if v is None else transform.apply(v, "CREDIT_CARD") for v in values]
    assert transform.apply_array(pa.array(values), "CREDIT_CARD").to_pylist() == expected
