"""Entity names the detectors can report, grouped by how they are found.

A plain table with no heavy imports, so the policy can validate entity names
without loading Presidio or spaCy.
"""

from __future__ import annotations

# Found by the spaCy NER model (Presidio's SpacyRecognizer).
NER_ENTITIES: frozenset[str] = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "NRP", "DATE_TIME"})

# Found by pattern recognizers with validators: cheap, deterministic, and
# therefore what the residual re-scan sweeps over every output value.
PATTERN_ENTITIES: frozenset[str] = frozenset(
    {
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "US_SSN",
        "US_ITIN",
        "US_PASSPORT",
        "US_DRIVER_LICENSE",
        "US_BANK_NUMBER",
        "ABA_ROUTING_NUMBER",
        "CREDIT_CARD",
        "IBAN_CODE",
        "IP_ADDRESS",
        "MAC_ADDRESS",
        "URL",
        "CRYPTO",
        "UK_NHS",
        "UK_NINO",
        "MEDICAL_LICENSE",
    }
)

SUPPORTED_ENTITIES: frozenset[str] = NER_ENTITIES | PATTERN_ENTITIES
