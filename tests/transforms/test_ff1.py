"""FF1 (NIST SP 800-38G): the NIST sample vectors, the domain rule, and the FPE action."""

from __future__ import annotations

import random
import re

import pytest

from ingestguard.errors import FpeDomainError, TokenKeyVersionError
from ingestguard.transforms.ff1 import FF1, min_length
from ingestguard.transforms.reversible import FpeCipher, luhn_valid
from tests.transforms.test_tokens import FakeKeyring

# NIST "FF1samples.pdf" (CSRC, Examples with Intermediate Values, FF1-AES128/192/256):
# samples 1-9. Key, radix, plaintext, tweak, ciphertext.
K128 = "2B7E151628AED2A6ABF7158809CF4F3C"
K192 = K128 + "EF4359D8D580AA4F"
K256 = K192 + "7F036D6F04FC6A94"
T10 = "39383736353433323130"
T11 = "3737373770717273373737"
NIST_FF1_SAMPLES = [
    (1, K128, 10, "0123456789", "", "2433477484"),
    (2, K128, 10, "0123456789", T10, "6124200773"),
    (3, K128, 36, "0123456789abcdefghi", T11, "a9tv40mll9kdu509eum"),
    (4, K192, 10, "0123456789", "", "2830668132"),
    (5, K192, 10, "0123456789", T10, "2496655549"),
    (6, K192, 36, "0123456789abcdefghi", T11, "xbj3kv35jrawxv32ysr"),
    (7, K256, 10, "0123456789", "", "6657667009"),
    (8, K256, 10, "0123456789", T10, "1001623463"),
    (9, K256, 36, "0123456789abcdefghi", T11, "xs8a0azh2avyalyzuwd"),
]
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def _numerals(text: str) -> list[int]:
    return [ALPHABET.index(c) for c in text]


def _text(numerals: list[int]) -> str:
    return "".join(ALPHABET[d] for d in numerals)


@pytest.mark.parametrize("sample,key,radix,plain,tweak,cipher", NIST_FF1_SAMPLES, ids=lambda x: str(x)[:8])
def test_nist_sample_vectors(sample: int, key: str, radix: int, plain: str, tweak: str, cipher: str) -> None:
    ff1 = FF1(bytes.fromhex(key), radix)
    out = ff1.encrypt(_numerals(plain), bytes.fromhex(tweak))
    assert _text(out) == cipher
    assert _text(ff1.decrypt(out, bytes.fromhex(tweak))) == plain


@pytest.mark.parametrize("radix", [2, 10, 16, 36, 62, 256, 65536])
def test_round_trips_random_lengths_and_radixes(radix: int) -> None:
    rng = random.Random(radix)
    ff1 = FF1(bytes(range(32)), radix)
    for n in sorted({min_length(radix), min_length(radix) + 1, 17, 33, 64} - set(range(min_length(radix)))):
        x = [rng.randrange(radix) for _ in range(n)]
        tweak = rng.randbytes(rng.randrange(0, 40))
        y = ff1.encrypt(x, tweak)
        assert len(y) == n and all(0 <= d < radix for d in y)
        assert ff1.decrypt(y, tweak) == x


def test_domain_rule_refuses_short_inputs() -> None:
    assert (min_length(10), min_length(36), min_length(2)) == (6, 4, 20)
    ff1 = FF1(bytes(16), 10)
    with pytest.raises(FpeDomainError, match=r"radix\*\*length >= 1,000,000.*at least 6 characters, got 5"):
        ff1.encrypt([1, 2, 3, 4, 5])
    assert len(ff1.encrypt([1, 2, 3, 4, 5, 6])) == 6
    with pytest.raises(FpeDomainError, match="at least 4"):
        FF1(bytes(16), 36).encrypt([1, 2, 3])
    with pytest.raises(FpeDomainError, match="outside radix 10"):
        ff1.encrypt([1, 2, 3, 4, 5, 10])


# -- the action over a keyring -------------------------------------------------


def _shape(value: str) -> str:
    return re.sub(r"[0-9]", "9", re.sub(r"[A-Z]", "A", value))


@pytest.mark.parametrize(
    "entity,value",
    [
        ("US_SSN", "123-45-6789"),
        ("US_SSN", "123456789"),
        ("PHONE_NUMBER", "555.010.0199"),
        ("PHONE_NUMBER", "030 1234 5678"),
        ("IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
        ("PASSPORT", "X1234567"),
        ("DRIVER_LICENSE", "D123-4567-8901"),
    ],
)
def test_fpe_keeps_length_alphabet_and_separators(entity: str, value: str) -> None:
    keys = FakeKeyring()
    fpe = FpeCipher(keys, alphanumeric=["IBAN_CODE", "PASSPORT", "DRIVER_LICENSE"])
    out = fpe.encrypt(entity, value)
    assert out != value and len(out) == len(value)
    if entity in fpe.alphanumeric:
        assert re.fullmatch(r"[0-9A-Z .-]*", out)
        assert [i for i, c in enumerate(out) if not c.isalnum()] == [
            i for i, c in enumerate(value) if not c.isalnum()
        ]
    else:
        assert _shape(out) == _shape(value)
    assert fpe.decrypt(entity, out) == value
    assert FpeCipher(keys, alphanumeric=fpe.alphanumeric).encrypt(entity, value) == out  # deterministic


def test_fpe_alphanumeric_is_case_insensitive_upper_case() -> None:
    fpe = FpeCipher(FakeKeyring(), alphanumeric=["PASSPORT"])
    assert fpe.encrypt("PASSPORT", "x1234567") == fpe.encrypt("PASSPORT", "X1234567")
    assert fpe.decrypt("PASSPORT", fpe.encrypt("PASSPORT", "x1234567")) == "X1234567"


def test_fpe_tweak_is_the_entity_type() -> None:
    fpe = FpeCipher(FakeKeyring())
    assert fpe.encrypt("US_SSN", "123456789") != fpe.encrypt("PHONE_NUMBER", "123456789")
    # Separators do not change the digits: the same number joins across layouts.
    assert fpe.encrypt("US_SSN", "123-45-6789").replace("-", "") == fpe.encrypt("US_SSN", "123456789")


@pytest.mark.parametrize(
    "card",
    ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011000990139424", "4222222222222"],
)
def test_fpe_cards_keep_issuer_and_luhn(card: str) -> None:
    fpe = FpeCipher(FakeKeyring())
    out = fpe.encrypt("CREDIT_CARD", card)
    digits, out_digits = re.sub(r"\D", "", card), re.sub(r"\D", "", out)
    assert len(out) == len(card) and _shape(out) == _shape(card)
    assert out_digits[:6] == digits[:6] and out_digits != digits
    assert luhn_valid(out_digits)
    assert fpe.decrypt("CREDIT_CARD", out) == card


def test_fpe_cards_many_random_stay_luhn_valid() -> None:
    rng = random.Random(7)
    fpe = FpeCipher(FakeKeyring())
    for _ in range(200):
        payload = "4" + "".join(rng.choice("0123456789") for _ in range(14))
        card = payload + next(d for d in "0123456789" if luhn_valid(payload + d))
        out = fpe.encrypt("CREDIT_CARD", card)
        assert luhn_valid(out) and out[:6] == card[:6]
        assert fpe.decrypt("CREDIT_CARD", out) == card


def test_fpe_refusals_name_the_rule_never_the_value() -> None:
    fpe = FpeCipher(FakeKeyring())
    with pytest.raises(FpeDomainError, match=r"5 encryptable characters.*1,000,000.*at least 6") as err:
        fpe.encrypt("US_ZIP_CODE", "90210")
    assert "90210" not in str(err.value)
    with pytest.raises(FpeDomainError, match="position 3"):
        fpe.encrypt("US_SSN", "123/45/6789")
    with pytest.raises(FpeDomainError, match="Luhn"):
        fpe.encrypt("CREDIT_CARD", "4111111111111112")
    with pytest.raises(FpeDomainError, match="at least 6"):
        fpe.encrypt("CREDIT_CARD", "411111111117")  # Luhn-valid, 12 digits: 5 in the middle


def test_fpe_versions_current_explicit_and_destroyed() -> None:
    keys = FakeKeyring(versions=1)
    v1 = FpeCipher(keys)
    out1 = v1.encrypt("US_SSN", "123-45-6789")
    keys.rotate()
    v2 = FpeCipher(keys)
    assert (v1.key_version, v2.key_version) == (1, 2)
    assert v2.to_evidence() == {"action": "fpe", "key_id": "fake_2", "key_version": 2}
    out2 = v2.encrypt("US_SSN", "123-45-6789")
    assert out2 != out1
    assert v2.decrypt("US_SSN", out2) == "123-45-6789"  # default: current
    assert v2.decrypt("US_SSN", out1, version=1) == "123-45-6789"
    assert v2.decrypt("US_SSN", out1) != "123-45-6789"  # FPE cannot tell its version: it must be given
    keys.destroyed.add(1)
    with pytest.raises(TokenKeyVersionError, match="key version 1"):
        v2.decrypt("US_SSN", out1, version=1)
    with pytest.raises(TokenKeyVersionError):
        v1.decrypt("US_SSN", out1)  # a running cipher looks its version up again
