"""The RE2 prefilters never hide what a recognizer would find.

Each prefilter must match every text on which its recognizer reports an
entity. Checked on hand-written look-alikes here and, when `../shared/eval`
exists, on the texts of Presidio's own recognizer tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ingestguard.detectors.analyzer import use_offline_suffix_list
from ingestguard.detectors.recognizers import PATTERN_RECOGNIZERS

PRESIDIO_CASES = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "eval"
    / "presidio_analyzer_recognizer_param_cases.json"
)
OWN_TEXTS = [
    "jane.doe@example.com",
    '{"name":"Amy Wong","ssn":"222-33-4444"}',
    "Owner = 'Raj Mehta'",
    "mail: a.b-c@sub.example.co.uk!",
    "SSN 078-05-1120",
    "078 05 1120",
    "card 4111-1111-1111-1111",
    "Ship to 1234 Oak Street, Springfield, IL 62704 today",
    "office at 10 Downing Street, London SW1A 2AA",
    "DOB: 1982-03-29",
    "patient aged 34 presented",
    "4012888888881881",
    "3714 496353 98431",
    "IBAN GB82 WEST 1234 5698 7654 32",
    "DE89370400440532013000",
    "10.0.0.1",
    "fe80::1ff:fe23:4567:890a",
    "::1",
    "00:1A:2B:3C:4D:5E",
    "0012.3456.789a",
    "https://example.com/x",
    "www.example.org",
    "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
    "943 476 5919",
    "AB 12 34 56 C",
    "ab123456c",
    "BB1234567",
    "DEA number BB1388568",
    "912-70-1234",
    "011000015",
    "(212) 867-5309",
    "+44 20 7946 0958",
    "123456789",
    "A1234567",
    "driver's license F3452345",
    "Passport No. 533380006",
    "EIN 04-2103594",
    "NI JG103759A",
    "SIN 130-692-544",
    "IdNr 36 574 261 809",
    "NIR 1 85 05 78 006 084 91",
    "185057800608491",
    "DNI 12345678Z",
    "NIE Y-1234567-X",
    "CF RSSMRA45C12F205C",
    "BSN 1112.22.333",
    "Aadhaar 2345 6789 0124",
    "PAN ABCPD1234F",
    "BIC NWBKGB2L",
    "DEUTDEFF",
    "VAT DE 136 695 976",
    "BE (0)403.019.261",
    "NL004495445B01",
    "ES-B58378431",
    "IBAN ES72 2013-0692-81-0201150993",
    "NO 44 1850.05.14562",
    "0110-0001-5",
    "5555 5555 5555 4444",
    # secrets (fake values; prefixes split from bodies so push-time scanners skip them)
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    '{"type": "service_account", "private_key_id": "d6c103ca54cbf7f2b7d4df4f81836fd4b78a5d03"}',
    "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=Root;Shared"
    + "AccessKey=QEkzoZdRyoFb098C0HPpFoFatjrij8p7giVxy/zDps8=",
    "GITHUB_TOKEN=ghp_" + "D0slStUQ0TurojmhknYyigtuncz0tvuobLiD",
    "token: glpat-" + "KobSKzyZkzIsJhL9mALN",
    "SLACK=xoxb-" + "2748291048-4820193847261-dKD5ERROD9L8tTb5Xt6hVAVE",
    "stripe.api_key = 'sk_live_" + "EdCf0xOfHqW0rskqvZNxX8NB'",
    "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.uHAAIPakQYL9vmI05vyEmAoD1orYgwdEDTaOdnWYYmA",
    "-----BEGIN RSA PRIVATE KEY-----\nb7rzPYgQvMlWul3g6RL5E38GT+ExIOwmUH3K1xqFS/t4U5hjkwh8vyfEqBkR+/6L\n-----END RSA PRIVATE KEY-----",
    "postgres://app:S3cr3t-Pa55@db.internal:5432/app",
    'API_KEY = "Zq8vN3xLr2Tw5Yb7Kd1Hs4Jm"',
    # postal codes in each layout the POSTAL_CODE patterns read
    "PLZ 10115 Berlin",
    "postcode: 3000",
    "Ottawa, ON K1A 0B1",
    "Stationsweg 1, 1012 AB Amsterdam",
    "Sydney NSW 2000",
    "Náměstí 1\n533 41 Lázně Bohdaneč",
    "Kungsgatan 2, 111 43 Stockholm",
    "(2000)",
]


def _texts_by_entity() -> dict[str, list[str]]:
    texts = {entity: list(OWN_TEXTS) for entity in PATTERN_RECOGNIZERS}
    if PRESIDIO_CASES.is_file():
        for case in json.loads(PRESIDIO_CASES.read_text()):
            if case["case"] and isinstance(case["case"][0], str):
                for entity in texts:
                    texts[entity].append(case["case"][0])
    return texts


@pytest.mark.parametrize("entity", sorted(PATTERN_RECOGNIZERS))
def test_prefilter_matches_every_text_the_recognizer_reports(entity: str) -> None:
    use_offline_suffix_list()
    spec = PATTERN_RECOGNIZERS[entity]
    recognizer = spec.build()
    texts = _texts_by_entity()[entity]
    passes = pc.match_substring_regex(pa.array(texts, pa.large_string()), spec.prefilter).to_pylist()
    reported = [t for t in texts if recognizer.analyze(t, [entity], None)]
    assert reported, f"no test text exercises {entity}"
    hidden = [t for t, ok in zip(texts, passes, strict=True) if not ok and t in reported]
    assert hidden == []


NARROWED = sorted(e for e, spec in PATTERN_RECOGNIZERS.items() if spec.unboosted)


def test_some_recognizers_have_a_narrower_prefilter() -> None:
    assert {"POSTAL_CODE", "US_ZIP_CODE"} <= set(NARROWED)


@pytest.mark.parametrize("entity", NARROWED)
def test_unboosted_prefilter_matches_every_stronger_result_and_context_word(entity: str) -> None:
    """Where the sweep uses the narrower prefilter, it hides only weak results
    with no context word in the text: results the threshold drops anyway."""
    spec = PATTERN_RECOGNIZERS[entity]
    recognizer = spec.build()
    texts = _texts_by_entity()[entity]
    passes = pc.match_substring_regex(pa.array(texts, pa.large_string()), spec.unboosted).to_pylist()
    strong = [
        t for t in texts if any(r.score > spec.weak_score for r in recognizer.analyze(t, [entity], None))
    ]
    assert strong
    assert [t for t, ok in zip(texts, passes, strict=True) if not ok and t in strong] == []
    words = [f"the {w} 12345" for w in recognizer.context] + [
        f"{w.upper()}S: 2000" for w in recognizer.context
    ]
    assert all(pc.match_substring_regex(pa.array(words), spec.unboosted).to_pylist())
    # what the narrower one leaves out is a bare number, reported only next to a context word
    bare = "ref 2000 and 94105"
    assert not pc.match_substring_regex(pa.array([bare]), spec.unboosted)[0].as_py()
    assert pc.match_substring_regex(pa.array([bare]), spec.prefilter)[0].as_py()
    assert all(r.score <= spec.weak_score for r in recognizer.analyze(bare, [entity], None))


def test_sweep_reads_bare_codes_in_a_postal_column_only() -> None:
    from ingestguard.detectors.sweep import PatternSweep

    spec = PATTERN_RECOGNIZERS["US_ZIP_CODE"]
    sweep = PatternSweep([spec], {"US_ZIP_CODE": 0.5})
    values = pa.array(["94105", "ZIP 94105", "Springfield, IL 62704"], pa.large_string())
    plain = {row: [(f.start, f.end) for f in fs] for row, fs in sweep.find(values).items()}
    assert plain == {1: [(4, 9)], 2: [(16, 21)]}
    in_zip_column = {row: [(f.start, f.end) for f in fs] for row, fs in sweep.find(values, ["zip"]).items()}
    assert in_zip_column == {0: [(0, 5)], 1: [(4, 9)], 2: [(16, 21)]}
