"""Phone numbers in national form from regions the policy does not list, in
international form, and with the words that make a digit run a phone number;
and the dates, prices, order, card and book numbers that must stay out."""

from __future__ import annotations

import pytest

from tests.support.recognizers import span, swept

PHONES: list[tuple[str, str]] = [
    # A line label after a hyphen ends the number; a line break is never inside one.
    ("Brazil 35172\n781-618-4959-Fax", "781-618-4959"),
    ("Cyprus 26607\n05.53.18.69.64 office", "05.53.18.69.64"),
    ("stop receiving messages to 72 805 20 53", "72 805 20 53"),
    # National form with a trunk 0: found by shape, no phone word needed.
    ("Ring me on 0699 829 80 31 after six", "0699 829 80 31"),  # AT mobile
    ("new number 07700 047 400.", "07700 047 400"),  # GB mobile
    ("office 020 7946 0018", "020 7946 0018"),  # GB London
    ("Sydney desk (02) 9374 4000", "(02) 9374 4000"),  # AU
    ("Büro 030 12345678", "030 12345678"),  # DE
    ("joignable au 01 23 45 67 89", "01 23 45 67 89"),  # FR
    ("ou 01.23.45.67.89", "01.23.45.67.89"),
    ("bel 06-12345678", "06-12345678"),  # NL mobile
    ("kantoor 020-1234567", "020-1234567"),  # NL Amsterdam
    ("växel 08-123 456 78", "08-123 456 78"),  # SE Stockholm
    ("mobil 070-123 45 67", "070-123 45 67"),
    ("Wien (0662) 123456", "(0662) 123456"),
    ("Handy 0664 1234567", "0664 1234567"),
    # International form.
    ("+420 601 123 456", "+420 601 123 456"),
    ("London +44 20 7946 0018", "+44 20 7946 0018"),
    ("from abroad 0044 20 7946 0018", "0044 20 7946 0018"),
    ("US 001-212-867-5309x123", "001-212-867-5309x123"),
    ("desk 212-867-5309x4567", "212-867-5309x4567"),
    # No trunk 0 and no listed region: a phone word decides.
    ("call 601 123 456", "601 123 456"),
    ("tel. 26 753221", "26 753221"),
    ("reach me at 12 34 56 78", "12 34 56 78"),
    ("My number is 912 345 678.", "912 345 678"),
    ("Contact: 601-123-456", "601-123-456"),
]


@pytest.mark.parametrize(("text", "part"), PHONES)
def test_phone_numbers(text: str, part: str) -> None:
    assert swept("PHONE_NUMBER", text) == [span("PHONE_NUMBER", text, part)]


NOT_PHONES: list[str] = [
    "part 123-456-7890-AB9",  # glued into a part number
    "601 123 456",  # grouped digits, no phone word
    "order number 601 123 456",
    "ref 12 34 56 78",
    "on 12.03.2024 10:30",  # date and time
    "call on 05-06-2023 12",
    "due 2024-01-05 12:30",
    "price 1 234 567 EUR",
    "call about card 4111 1111 1111 1111",
    "ISBN 0-306-40615-2",
    "ISBN 978-0-306-40615-7",
    "invoice 20231105",
    "order 0012345678",
    "version 10.0.19041.1",
    "total 0 123 456",
    "between 1999 and 2004",
]


@pytest.mark.parametrize("text", NOT_PHONES)
def test_look_alikes_are_not_phone_numbers(text: str) -> None:
    assert swept("PHONE_NUMBER", text) == []
