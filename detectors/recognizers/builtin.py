"""Presidio's own recognizers that ingestguard uses as they are, each with an
RE2 prefilter (`tests/detectors/test_prefilters.py` checks the superset
property on Presidio's own test cases)."""

from __future__ import annotations

from presidio_analyzer.predefined_recognizers import (
    CryptoRecognizer,
    IpRecognizer,
    MacAddressRecognizer,
    MedicalLicenseRecognizer,
    UrlRecognizer,
    UsBankRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
)

from ingestguard.detectors.recognizers.spec import RecognizerSpec

SPECS: list[RecognizerSpec] = [
    RecognizerSpec("US_PASSPORT", UsPassportRecognizer, r"\d{8}"),
    RecognizerSpec("US_DRIVER_LICENSE", UsLicenseRecognizer, r"\d"),
    RecognizerSpec("US_BANK_NUMBER", UsBankRecognizer, r"\d{8}"),
    RecognizerSpec(
        "IP_ADDRESS",
        IpRecognizer,
        r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:",
    ),
    RecognizerSpec(
        "MAC_ADDRESS",
        MacAddressRecognizer,
        r"[0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}",
    ),
    RecognizerSpec("URL", UrlRecognizer, r"(?i)[a-z0-9-]\.+[a-z]{2,}|://"),
    RecognizerSpec("CRYPTO", CryptoRecognizer, r"[a-zA-Z0-9]{25,}"),
    RecognizerSpec("MEDICAL_LICENSE", MedicalLicenseRecognizer, r"(?i)[a-z][a-z9]\d{7}"),
]
