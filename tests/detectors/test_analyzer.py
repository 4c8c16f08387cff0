from __future__ import annotations

import pytest
import tldextract
import tldextract.tldextract

from ingestguard.detectors.analyzer import Detector, Finding, merge_overlaps, use_offline_suffix_list
from ingestguard.detectors.recognizers.contact import PhoneNumberRecognizer
from ingestguard.policy import Policy

# (text, [(entity_type, start, end)]) with the full detector of the default policy.
CASES = [
    pytest.param(
        "Please contact jane.doe@example.com for details.",
        [("EMAIL_ADDRESS", 15, 35)],
        id="email-in-sentence",
    ),
    pytest.param("Call me at (212) 867-5309 tomorrow.", [("PHONE_NUMBER", 11, 25)], id="us-phone-parens"),
    pytest.param("Call me at 212-555-0147 tomorrow.", [("PHONE_NUMBER", 11, 23)], id="us-phone-dashes"),
    pytest.param("+1 212 867 5309", [("PHONE_NUMBER", 0, 15)], id="us-phone-e164-spaced"),
    pytest.param("My card is 4111111111111111 thanks", [("CREDIT_CARD", 11, 27)], id="card-luhn-valid"),
    pytest.param("My card is 4111111111111112 thanks", [], id="card-luhn-invalid"),
    pytest.param("Server at 192.168.1.20 is down", [("IP_ADDRESS", 10, 22)], id="ipv4"),
    pytest.param("Transfer to DE89370400440532013000 today", [("IBAN_CODE", 12, 34)], id="iban"),
    pytest.param("Yesterday John Smith visited the office.", [("PERSON", 10, 20)], id="person"),
    pytest.param("My SSN is 536-90-4399", [("US_SSN", 10, 21)], id="ssn-with-context"),
    pytest.param("banana", [], id="plain-word"),
    pytest.param("", [], id="empty"),
    pytest.param(
        "Mail jane@example.com or call (212) 867-5309.",
        [("EMAIL_ADDRESS", 5, 21), ("PHONE_NUMBER", 30, 44)],
        id="two-entities",
    ),
]


def _spans(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(f.entity_type, f.start, f.end) for f in findings]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_detector_spans(detector: Detector, text: str, expected: list[tuple[str, int, int]]) -> None:
    assert _spans(detector.analyze(text)) == expected


def test_analyze_batch_matches_analyze(detector: Detector) -> None:
    texts = [p.values[0] for p in CASES]
    assert [_spans(f) for f in detector.analyze_batch(texts)] == [p.values[1] for p in CASES]


def test_patterns_detector_finds_names_only_in_labelled_fields(patterns: Detector) -> None:
    # Places and unresolved names come only from the models.
    models_only = {"LOCATION", "UNRESOLVED_NAME"}
    assert patterns.entities == [e for e in Policy().active_entities() if e not in models_only]
    assert patterns.ner is None
    assert {"EMAIL_ADDRESS", "US_SSN", "PRIVATE_KEY", "STREET_ADDRESS"} <= set(patterns.entities)
    assert patterns.analyze("Yesterday John Smith visited the office.") == []
    assert _spans(patterns.analyze("name: John Smith")) == [("PERSON", 6, 16)]
    assert _spans(patterns.analyze("Please contact jane.doe@example.com for details.")) == [
        ("EMAIL_ADDRESS", 15, 35)
    ]


def test_findings_carry_score_and_recognizer_not_text(detector: Detector) -> None:
    [found] = detector.analyze("Please contact jane.doe@example.com for details.")
    assert found == Finding("EMAIL_ADDRESS", 15, 35, 1.0, "CheckedEmailRecognizer")
    [phone] = detector.analyze("Call me at (212) 867-5309 tomorrow.")
    assert (phone.recognizer, phone.score) == ("PhoneNumberRecognizer", 0.4)


def test_detector_entities(detector: Detector) -> None:
    assert detector.entities == Policy().active_entities()
    assert detector.entities[:2] == ["PERSON", "LOCATION"]


# -- merge_overlaps -------------------------------------------------------------------------------


def test_merge_overlaps_takes_union_labelled_by_higher_score() -> None:
    low = Finding("PHONE_NUMBER", 5, 20, 0.4, "phone")
    high = Finding("PERSON", 0, 10, 0.85, "spacy")
    assert merge_overlaps([low, high]) == [Finding("PERSON", 0, 20, 0.85, "spacy")]
    assert merge_overlaps([high, low]) == [Finding("PERSON", 0, 20, 0.85, "spacy")]


def test_merge_overlaps_later_higher_score_wins() -> None:
    first = Finding("PHONE_NUMBER", 0, 12, 0.4, "phone")
    second = Finding("US_SSN", 8, 14, 0.85, "ssn")
    assert merge_overlaps([first, second]) == [Finding("US_SSN", 0, 14, 0.85, "ssn")]


def test_merge_overlaps_contained_span() -> None:
    outer = Finding("EMAIL_ADDRESS", 0, 30, 1.0, "email")
    inner = Finding("PERSON", 0, 8, 0.85, "spacy")
    assert merge_overlaps([inner, outer]) == [outer]


def test_merge_overlaps_chains() -> None:
    a = Finding("PERSON", 0, 10, 0.5, "a")
    b = Finding("LOCATION", 8, 20, 0.9, "b")
    c = Finding("PHONE_NUMBER", 18, 30, 0.4, "c")
    assert merge_overlaps([c, a, b]) == [Finding("LOCATION", 0, 30, 0.9, "b")]


def test_merge_overlaps_keeps_separate_and_touching_spans_sorted() -> None:
    a = Finding("PERSON", 0, 5, 0.85, "a")
    b = Finding("EMAIL_ADDRESS", 5, 15, 1.0, "b")  # touches a: no overlap
    c = Finding("IP_ADDRESS", 20, 30, 0.6, "c")
    assert merge_overlaps([c, b, a]) == [a, b, c]
    assert merge_overlaps([]) == []


# -- PhoneNumberRecognizer -----------------------------------------------------------------------


def test_phone_ignores_masked_tail_and_short_numbers() -> None:
    recognizer = PhoneNumberRecognizer()
    assert recognizer.analyze("**********1687", ["PHONE_NUMBER"]) == []
    assert recognizer.analyze("ext 1687", ["PHONE_NUMBER"]) == []


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Call (212) 867-5309 now", (5, 19)),
        ("cell: 415-287-1234.", (6, 18)),
        ("London office +44 20 7946 0958, ask for Sam", (14, 30)),
        ("Ruf an: +49 30 901820", (8, 21)),
        ("call 020 7946 0958 today", (5, 18)),  # GB, national form, GB grouping
        ("Tel. 0151 23456789", (5, 18)),  # DE mobile
        ("mobile 98765 43210", (7, 18)),  # IN mobile, trunk 0 left out as usual
        ("phone (555) 444-9999", (6, 20)),  # North American layout, fictional 555 range
        ("phone 555.111.2222", (6, 18)),
    ],
)
def test_phone_finds_valid_numbers(text: str, span: tuple[int, int]) -> None:
    [found] = PhoneNumberRecognizer().analyze(text, ["PHONE_NUMBER"])
    assert (found.entity_type, found.start, found.end) == ("PHONE_NUMBER", *span)


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1111",  # 16 digits: longer than any phone number
        "PERSON_3a35aacf9a6e4f1b0735",  # a pseudonym: digits inside a word
        "order 2024-01-05 10:22:33",  # a timestamp
        "ISBN 978-3-16-148410-0",
    ],
)
def test_phone_rejects_look_alikes(text: str) -> None:
    assert PhoneNumberRecognizer().analyze(text, ["PHONE_NUMBER"]) == []


# Valid digit strings in some region, grouped as no listed region writes phone
# numbers: SSN layouts, a sequence, a malformed ZIP+4, an Austrian number.
ODDLY_GROUPED = [
    ("Sequence 1234 5678 90 is not a card", (9, 21)),
    ("Backup SSN 987-65-4321 recorded.", (11, 22)),
    ("Invalid SSN 666-12-9999 should be ignored.", (12, 23)),
    ("Bad SSN 123-45-67890", (8, 20)),
    ("ZIP 12345-12345 is invalid.", (4, 15)),
    ("Part 123-456-7890 shipped", (5, 17)),  # no area code starts with 1
]


@pytest.mark.parametrize(("text", "span"), ODDLY_GROUPED)
def test_oddly_grouped_numbers_score_low(text: str, span: tuple[int, int]) -> None:
    from ingestguard.detectors.recognizers.contact import WEAK_SCORE

    [found] = PhoneNumberRecognizer().analyze(text, ["PHONE_NUMBER"])
    assert (found.start, found.end, found.score) == (*span, WEAK_SCORE)


def test_oddly_grouped_numbers_count_only_with_context() -> None:
    detector = Detector(Policy(entities=["PHONE_NUMBER"]))
    texts = [t for t, _ in ODDLY_GROUPED]
    assert detector.analyze_batch(texts) == [()] * len(texts)
    in_phone_column = detector.analyze_batch(texts, context=["phone"])
    assert [[(f.start, f.end) for f in fs] for fs in in_phone_column] == [[s] for _, s in ODDLY_GROUPED]


def test_masked_phone_leaves_no_residual_finding(detector: Detector) -> None:
    assert detector.analyze("**********1687") == []


# -- offline suffix list --------------------------------------------------------------------------


def test_detector_uses_offline_suffix_list(detector: Detector) -> None:
    assert tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls == ()
    assert tldextract.tldextract.TLD_EXTRACTOR.fallback_to_snapshot is True


def test_use_offline_suffix_list_replaces_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tldextract.tldextract, "TLD_EXTRACTOR", tldextract.TLDExtract(cache_dir=None))
    assert tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls != ()
    use_offline_suffix_list()
    assert tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls == ()
    assert tldextract.tldextract.TLD_EXTRACTOR.fallback_to_snapshot is True


def test_email_recognizer_goes_through_the_offline_extractor(
    detector: Detector, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    class Spy(tldextract.TLDExtract):
        def __call__(self, url, *args, **kwargs):
            seen.append(url)
            return super().__call__(url, *args, **kwargs)

    monkeypatch.setattr(
        tldextract.tldextract,
        "TLD_EXTRACTOR",
        Spy(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True),
    )
    # A domain no other test uses: the recognizer looks each domain up once.
    assert _spans(detector.analyze("write to ops@spy.example.org today")) == [("EMAIL_ADDRESS", 9, 28)]
    assert seen == ["spy.example.org"]
    assert _spans(detector.analyze("or to dev@spy.example.org")) == [("EMAIL_ADDRESS", 6, 25)]
    assert seen == ["spy.example.org"]


# -- email -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "score"),
    [
        ("john@acme.com123-45-6789", (0, 13), 1.0),  # glued to the next field
        ("Reach mario@azienda.italia today.", (6, 26), 0.4),  # suffix not on the public list
        ("ops: user@host.corp", (5, 19), 0.4),
        ("bob@example.com.", (0, 15), 1.0),  # the full stop ends the sentence
        ("a@xn--d1acufc.xn--p1ai", (0, 22), 1.0),  # a punycode top-level label
    ],
)
def test_email_spans(text: str, span: tuple[int, int], score: float) -> None:
    from ingestguard.detectors.recognizers.contact import CheckedEmailRecognizer

    use_offline_suffix_list()
    [found] = CheckedEmailRecognizer().analyze(text, ["EMAIL_ADDRESS"])
    assert (found.entity_type, found.start, found.end, found.score) == ("EMAIL_ADDRESS", *span, score)


@pytest.mark.parametrize(
    "text", ["lodash@4.17.21", "https://example.com/@user/profile", "x@y.z", "@handle.io", "a@b"]
)
def test_email_rejects_look_alikes(text: str) -> None:
    from ingestguard.detectors.recognizers.contact import CheckedEmailRecognizer

    use_offline_suffix_list()
    assert CheckedEmailRecognizer().analyze(text, ["EMAIL_ADDRESS"]) == []


# -- NER spans ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Order 12345ABC ships tomorrow",
        "Release v2026.2.9 fixed the issue",
        "Ticket ABC-123-XYZ is now closed",
        "Invalid 256.1.1.1 should fail.",
        "Bad date 01/32/2020 should not match.",
    ],
)
def test_codes_with_digits_are_not_names(text: str) -> None:
    detector = Detector(Policy(entities=["PERSON", "LOCATION", "ORGANIZATION"]))
    assert detector.analyze(text) == []


def test_an_extension_is_phone_context() -> None:
    detector = Detector(Policy(entities=["PHONE_NUMBER"]))
    text = "Desk: 5551234567 ext 9"
    assert _spans(detector.analyze(text)) == [("PHONE_NUMBER", 6, 16)]
    assert detector.analyze("Desk: 5551234567") == []


def test_unknown_email_suffixes_count_only_next_to_a_mail_word() -> None:
    detector = Detector(Policy(entities=["EMAIL_ADDRESS"]))
    assert detector.analyze("y = x@self.weight + emb@model.embeddings") == []
    text = "email: mario@azienda.italia"
    assert _spans(detector.analyze(text)) == [("EMAIL_ADDRESS", 7, 27)]
    assert _spans(detector.analyze_batch(["mario@azienda.italia"], context=["e", "mail"])[0]) == [
        ("EMAIL_ADDRESS", 0, 20)
    ]


def test_numbers_run_together_are_found_apart() -> None:
    text = "Büro 030 12345678 030 98765432"
    found = PhoneNumberRecognizer(("DE",)).analyze(text, ["PHONE_NUMBER"])
    # The second number's area code went to the first candidate: its rest is a bare run.
    assert [(text[r.start : r.end], r.score) for r in found] == [("030 12345678", 0.4), ("98765432", 0.3)]


def test_email_after_text_in_another_script() -> None:
    from ingestguard.detectors.recognizers.contact import CheckedEmailRecognizer

    use_offline_suffix_list()
    text = "张小明的邮箱是xiaoming@example.cn"
    [found] = CheckedEmailRecognizer().analyze(text, ["EMAIL_ADDRESS"])
    assert (found.end, found.score) == (len(text), 1.0)
