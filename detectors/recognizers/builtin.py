"""Presidio's own recognizers that ingestguard uses, as an explicit table.

Only the entities a policy names are instantiated; nothing is discovered by
walking subclasses or loaded from Presidio's default registry.
"""

from __future__ import annotations

from collections.abc import Callable

from presidio_analyzer import EntityRecognizer
from presidio_analyzer.predefined_recognizers import (
    AbaRoutingRecognizer,
    CreditCardRecognizer,
    CryptoRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    MacAddressRecognizer,
    MedicalLicenseRecognizer,
    NhsRecognizer,
    UkNinoRecognizer,
    UrlRecognizer,
    UsBankRecognizer,
    UsItinRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)

from ingestguard.detectors.recognizers.contact import DialablePhoneRecognizer

PATTERN_RECOGNIZERS: dict[str, Callable[[], EntityRecognizer]] = {
    "EMAIL_ADDRESS": EmailRecognizer,
    "PHONE_NUMBER": DialablePhoneRecognizer,
    "US_SSN": UsSsnRecognizer,
    "US_ITIN": UsItinRecognizer,
    "US_PASSPORT": UsPassportRecognizer,
    "US_DRIVER_LICENSE": UsLicenseRecognizer,
    "US_BANK_NUMBER": UsBankRecognizer,
    "ABA_ROUTING_NUMBER": AbaRoutingRecognizer,
    "CREDIT_CARD": CreditCardRecognizer,
    "IBAN_CODE": IbanRecognizer,
    "IP_ADDRESS": IpRecognizer,
    "MAC_ADDRESS": MacAddressRecognizer,
    "URL": UrlRecognizer,
    "CRYPTO": CryptoRecognizer,
    "UK_NHS": NhsRecognizer,
    "UK_NINO": UkNinoRecognizer,
    "MEDICAL_LICENSE": MedicalLicenseRecognizer,
}
