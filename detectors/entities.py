"""Entity names the detectors can report, grouped by how they are found.

A plain table with no heavy imports, so the policy can validate entity names
without loading Presidio or spaCy.
"""

from __future__ import annotations

# Found by the NER models. UNRESOLVED_NAME is a proper name the spaCy model
# tagged as an organisation, group or facility that no other evidence could
# type as a person, a place or an organisation: protected, and counted apart.
NER_ENTITIES: frozenset[str] = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "NRP", "UNRESOLVED_NAME"})

# National identifiers, by the country that issues them (ISO 3166 alpha-2).
COUNTRY_ENTITIES: dict[str, frozenset[str]] = {
    "US": frozenset(
        {
            "US_SSN",
            "US_ITIN",
            "US_EIN",
            "US_PASSPORT",
            "US_DRIVER_LICENSE",
            "US_BANK_NUMBER",
            "ABA_ROUTING_NUMBER",
        }
    ),
    "GB": frozenset({"UK_NINO", "UK_NHS"}),
    "CA": frozenset({"CA_SIN"}),
    "DE": frozenset({"DE_TAX_ID"}),
    "FR": frozenset({"FR_NIR"}),
    "ES": frozenset({"ES_NIF", "ES_NIE"}),
    "IT": frozenset({"IT_FISCAL_CODE"}),
    "NL": frozenset({"NL_BSN"}),
    "IN": frozenset({"IN_AADHAAR", "IN_PAN"}),
}

FINANCIAL_ENTITIES: frozenset[str] = frozenset({"CREDIT_CARD", "IBAN_CODE", "SWIFT_BIC", "EU_VAT", "CRYPTO"})

CONTACT_ENTITIES: frozenset[str] = frozenset(
    {"EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "MAC_ADDRESS", "URL"}
)

SECRET_ENTITIES: frozenset[str] = frozenset(
    {
        "AWS_ACCESS_KEY",
        "AWS_SECRET_KEY",
        "GCP_SERVICE_ACCOUNT_KEY",
        "AZURE_CONNECTION_STRING",
        "GITHUB_TOKEN",
        "GITLAB_TOKEN",
        "SLACK_TOKEN",
        "STRIPE_KEY",
        "JWT",
        "PRIVATE_KEY",
        "URL_CREDENTIALS",
        "GENERIC_SECRET",
    }
)

LOCATION_ENTITIES: frozenset[str] = frozenset(
    {"STREET_ADDRESS", "US_ZIP_CODE", "UK_POSTCODE", "POSTAL_CODE", "DATE_OF_BIRTH", "AGE"}
)

# Document numbers of any issuer, found next to the words that name them
# ("driver's license F3452345", "passport no. 533380006").
DOCUMENT_ENTITIES: frozenset[str] = frozenset({"DRIVER_LICENSE", "PASSPORT"})

OTHER_PATTERN_ENTITIES: frozenset[str] = frozenset({"MEDICAL_LICENSE", "DATE_TIME"})

# Found by pattern recognizers with validators: cheap, deterministic, and
# therefore what the residual re-scan sweeps over every output value.
PATTERN_ENTITIES: frozenset[str] = frozenset().union(
    *COUNTRY_ENTITIES.values(),
    FINANCIAL_ENTITIES,
    CONTACT_ENTITIES,
    SECRET_ENTITIES,
    LOCATION_ENTITIES,
    DOCUMENT_ENTITIES,
    OTHER_PATTERN_ENTITIES,
)

SUPPORTED_ENTITIES: frozenset[str] = NER_ENTITIES | PATTERN_ENTITIES
