"""Pattern recognizers, one module per family, and the explicit table of them.

Each family module lists its recognizers in `SPECS`; the table below is the
only place they are gathered (no discovery by subclass or import side effect).
"""

from __future__ import annotations

from ingestguard.detectors.recognizers import (
    builtin,
    contact,
    documents,
    financial,
    labelled,
    location,
    national_ids,
    secrets,
)
from ingestguard.detectors.recognizers.spec import RecognizerSpec

PATTERN_RECOGNIZERS: dict[str, RecognizerSpec] = {
    spec.entity: spec
    for family in (builtin, contact, national_ids, financial, secrets, location, documents, labelled)
    for spec in family.SPECS
}

# The python-stdnum format behind each validated entity: what the project claims
# to agree with (checked against stdnum's own vectors in tests and benchmarks).
STDNUM_FORMATS: dict[str, str] = {
    "stdnum.bic": "SWIFT_BIC",
    "stdnum.ca.sin": "CA_SIN",
    "stdnum.de.idnr": "DE_TAX_ID",
    "stdnum.es.dni": "ES_NIF",
    "stdnum.es.nie": "ES_NIE",
    "stdnum.es.nif": "ES_NIF",
    "stdnum.eu.vat": "EU_VAT",
    "stdnum.fr.nir": "FR_NIR",
    "stdnum.gb.nhs": "UK_NHS",
    "stdnum.iban": "IBAN_CODE",
    "stdnum.in_.aadhaar": "IN_AADHAAR",
    "stdnum.in_.pan": "IN_PAN",
    "stdnum.it.codicefiscale": "IT_FISCAL_CODE",
    "stdnum.luhn": "CREDIT_CARD",
    "stdnum.nl.bsn": "NL_BSN",
    "stdnum.us.ein": "US_EIN",
    "stdnum.us.itin": "US_ITIN",
    "stdnum.us.rtn": "ABA_ROUTING_NUMBER",
    "stdnum.us.ssn": "US_SSN",
}
