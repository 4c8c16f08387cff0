"""Payment recognizers: checksum-valid numbers are found with exact spans;
checksum failures, unknown issuers, and look-alikes (ISBNs, phone numbers,
timestamps, order numbers, capitalised words) are not."""

from __future__ import annotations

import pytest

from ingestguard.detectors.recognizers import PATTERN_RECOGNIZERS
from tests.support.recognizers import found as _found
from tests.support.recognizers import span as _span
from tests.support.recognizers import swept

VALID: list[tuple[str, str, str]] = [
    ("CREDIT_CARD", "card 4111-1111-1111-1111 exp 12/27", "4111-1111-1111-1111"),
    ("CREDIT_CARD", "visa 4012888888881881.", "4012888888881881"),
    ("CREDIT_CARD", "amex 3714 496353 98431 ok", "3714 496353 98431"),
    ("CREDIT_CARD", "mc 5555 5555 5555 4444", "5555 5555 5555 4444"),
    ("CREDIT_CARD", "mc2 2223003122003222", "2223003122003222"),
    ("CREDIT_CARD", "discover 6011 1111 1111 1117", "6011 1111 1111 1117"),
    ("CREDIT_CARD", "jcb 3530111333300000", "3530111333300000"),
    # A card followed by its CVV: the longest digit run fails Luhn, the card does not.
    ("CREDIT_CARD", "card 4111111111111111 123 exp 12/27", "4111111111111111"),
    ("CREDIT_CARD", "card 4111 1111 1111 1111 123 exp", "4111 1111 1111 1111"),
    ("CREDIT_CARD", "amex 3714 496353 98431 1234", "3714 496353 98431"),
    ("CREDIT_CARD", "diners 3056 9309 0259 04", "3056 9309 0259 04"),
    ("IBAN_CODE", "IBAN GB82 WEST 1234 5698 7654 32 and more", "GB82 WEST 1234 5698 7654 32"),
    ("IBAN_CODE", "pay to DE89370400440532013000.", "DE89370400440532013000"),
    ("IBAN_CODE", "konto NO93 8601 1117 947", "NO93 8601 1117 947"),
    ("IBAN_CODE", "cuenta ES72 2013-0692-81-0201150993", "ES72 2013-0692-81-0201150993"),
    ("SWIFT_BIC", "BIC NWBKGB2L please", "NWBKGB2L"),
    ("SWIFT_BIC", "swift: COBADEFFXXX", "COBADEFFXXX"),
    ("SWIFT_BIC", "via ABOCCNBJ270", "ABOCCNBJ270"),
    ("EU_VAT", "USt-IdNr. DE 136 695 976 gilt", "DE 136 695 976"),
    ("EU_VAT", "TVA FR 40 303 265 045", "FR 40 303 265 045"),
    ("EU_VAT", "BTW NL004495445B01.", "NL004495445B01"),
    ("EU_VAT", "UID ATU 15159209", "ATU 15159209"),
    ("EU_VAT", "IVA IT 00743110157 ok", "IT 00743110157"),
    ("EU_VAT", "NIF-IVA ES-B58378431", "ES-B58378431"),
    ("EU_VAT", "BTW BE (0)403.019.261", "BE (0)403.019.261"),
    ("ABA_ROUTING_NUMBER", "routing 0110-0001-5 at", "0110-0001-5"),
]


@pytest.mark.parametrize(("entity", "text", "part"), VALID)
def test_valid_numbers_are_found_with_exact_spans(entity: str, text: str, part: str) -> None:
    assert _found(entity, text) == [_span(entity, text, part)]


INVALID: list[tuple[str, str]] = [
    ("CREDIT_CARD", "card 4111-1111-1111-1112"),  # Luhn failure
    ("CREDIT_CARD", "ISBN 978-0-306-40615-7"),  # Luhn-irrelevant, no issuer
    ("CREDIT_CARD", "order 1234567812345670"),  # Luhn-valid, no issuer
    ("CREDIT_CARD", "ts 1696502096123"),  # epoch milliseconds
    ("CREDIT_CARD", "card 4111 1111-1111 1111"),  # mixed separators
    ("CREDIT_CARD", "visa 41111111111111111"),  # Luhn failure (and Visa at 17 digits)
    ("CREDIT_CARD", "call +1 212 555 0198 4111"),
    ("IBAN_CODE", "IBAN GB82 WEST 1234 5698 7654 33"),  # mod-97 failure
    ("IBAN_CODE", "IBAN QQ93 1234 5678 9012"),  # no such country
    ("IBAN_CODE", "IBAN DE89 3704 0044 0532 0130"),  # wrong length for DE
    ("SWIFT_BIC", "status CUSTOMER"),  # country OM, but all letters
    ("SWIFT_BIC", "ENVIRONMENT"),
    ("SWIFT_BIC", "code DEUTQQFF"),  # QQ is no country
    ("SWIFT_BIC", "bic deutde2l"),  # lower case
    ("EU_VAT", "USt-IdNr. DE 136 695 977"),  # check digit
    ("EU_VAT", "to be 123456789 or not"),  # BE with too few digits
    ("EU_VAT", "at 12345678 sharp"),  # AT needs the U
    ("EU_VAT", "VAT QQ 123456"),
    ("ABA_ROUTING_NUMBER", "routing 0110-0001-6"),  # check digit
    ("ABA_ROUTING_NUMBER", "routing 4110-0001-5"),  # 41 is no Fed prefix
    ("ABA_ROUTING_NUMBER", "order 011000015"),  # bare digits
    ("ABA_ROUTING_NUMBER", "ts 2023-1005-1"),
]


@pytest.mark.parametrize(("entity", "text"), INVALID)
def test_invalid_numbers_and_look_alikes_are_not_found(entity: str, text: str) -> None:
    assert _found(entity, text) == []


# Luhn-valid numbers outside the issuer table (test ranges, private labels,
# 12-digit Maestro): cards next to a card word, and only there.
CARD_WORD_VALID: list[tuple[str, list[str]]] = [
    ("JCB 3513 1234 5678 9019 exp 04/29", ["3513 1234 5678 9019"]),
    ("credit card number: 180012345678905", ["180012345678905"]),
    ("paid by card 2100-1234-5678-909.", ["2100-1234-5678-909"]),
    ("Maestro 501234567896", ["501234567896"]),
    ("debit card 6012 3456 7894 on file", ["6012 3456 7894"]),
    ("my CC is 1234567812345670", ["1234567812345670"]),
    ("the PAN 601234567894 was masked", ["601234567894"]),
    ("cards: 501234567896 and 601234567894", ["501234567896", "601234567894"]),
]


@pytest.mark.parametrize(("text", "parts"), CARD_WORD_VALID)
def test_luhn_valid_numbers_next_to_a_card_word_are_cards(text: str, parts: list[str]) -> None:
    assert swept("CREDIT_CARD", text) == [_span("CREDIT_CARD", text, part) for part in parts]


CARD_WORD_INVALID: list[str] = [
    "order 1234567812345670",  # Luhn-valid, no issuer, no card word
    "ref 501234567896",
    "card 3513123456789018",  # Luhn failure
    "card 12345678903",  # 11 digits
    "card 5012-3456 7896",  # mixed separators
    "ISBN 978-0-306-40615-7 on the card",  # fails Luhn
    "tracking 1Z999AA10123456784 card",
]


@pytest.mark.parametrize("text", CARD_WORD_INVALID)
def test_other_numbers_are_not_cards_even_near_a_card_word(text: str) -> None:
    assert swept("CREDIT_CARD", text) == []


def test_all_letter_bic_validates_but_stays_below_the_threshold() -> None:
    results = PATTERN_RECOGNIZERS["SWIFT_BIC"].build().analyze("DEUTDEFF", ["SWIFT_BIC"], None)
    assert [(r.start, r.end, r.score) for r in results] == [(0, 8, 0.4)]
