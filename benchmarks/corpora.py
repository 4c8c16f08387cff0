"""Labelled corpora for `benchmarks.accuracy`: the project's own generated one,
and loaders for the peer data in `../shared/eval/` (absent in a user's clone).

Every loader returns `Case`s: a text and its gold spans (entity type in the
corpus's own vocabulary, start, end). Nothing here imports Presidio or spaCy, and ingestguard only lazily (see
`benchmarks.accuracy.Presidio` for why the import order matters).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import random
import string
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from stdnum import bic, iban, luhn
from stdnum.ca import sin
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.eu import vat
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.us import ein, itin, rtn

EVAL_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "eval"


@dataclass(frozen=True)
class Span:
    entity: str
    start: int
    end: int


@dataclass
class Case:
    id: str
    text: str
    gold: list[Span] = field(default_factory=list)
    negative: bool = False  # a case written to contain nothing


# --------------------------------------------------------------------------- generated corpus

FIRST_EXTRA = ["Aisha", "Mateo", "Chen", "Priya", "Olumide", "Sofia", "Lukas", "Yuki", "Fatima", "Diego"]
LAST_EXTRA = [
    "Okafor",
    "Nakamura",
    "Kowalski",
    "Haddad",
    "Fernandes",
    "Larsen",
    "Dubois",
    "Rossi",
    "Novak",
    "Singh",
]
CITIES = [
    "Chicago",
    "Boston",
    "Seattle",
    "Denver",
    "Houston",
    "London",
    "Manchester",
    "Paris",
    "Berlin",
    "Madrid",
    "Toronto",
    "Sydney",
    "Mumbai",
    "Nairobi",
    "Lisbon",
    "Dublin",
    "Atlanta",
    "Phoenix",
]
COUNTRIES = ["France", "Germany", "Canada", "Spain", "Italy", "Japan", "Brazil", "Kenya", "India", "Mexico"]
STREETS = ["Oak", "Maple", "Main", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Pine"]
STREET_KINDS = ["Street", "Avenue", "Road", "Lane", "Drive", "Boulevard"]
US_STATES = [("IL", "Springfield"), ("CA", "Fresno"), ("TX", "Austin"), ("NY", "Albany"), ("WA", "Tacoma")]
UK_POSTCODES = ["SW1A 1AA", "EC1A 1BB", "W1A 0AX", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "LS1 4AP"]
DOMAINS = ["example.com", "example.org", "mail.example.net", "corp.example.com"]
AREA = ["212", "312", "415", "617", "646", "702", "713", "818", "917", "206"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _until(rng: random.Random, make: Callable[[], str], ok: Callable[[str], bool]) -> str:
    for _ in range(10_000):
        value = make()
        if ok(value):
            return value
    raise RuntimeError("generator could not make a valid value")


def _person(rng):
    from ingestguard.demo import FIRST, LAST

    return f"{rng.choice(FIRST + FIRST_EXTRA)} {rng.choice(LAST + LAST_EXTRA)}"


def _email(rng):
    from ingestguard.demo import FIRST, LAST

    sep = rng.choice([".", "_", ""])
    return f"{rng.choice(FIRST).lower()}{sep}{rng.choice(LAST).lower()}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}"


def _phone(rng):
    a, x, n = rng.choice(AREA), str(rng.randint(201, 989)), _digits(rng, 4)
    return rng.choice([f"({a}) {x}-{n}", f"{a}-{x}-{n}", f"+1 {a} {x} {n}", f"{a}.{x}.{n}"])


def _ssn(rng):
    area = rng.choice([i for i in range(1, 900) if i != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def _card(rng):
    prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("37", 15), ("6011", 16)])
    body = prefix + _digits(rng, length - len(prefix) - 1)
    number = body + luhn.calc_check_digit(body)
    if rng.random() < 0.5 and length == 16:
        sep = rng.choice([" ", "-"])
        number = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    return number


def _iban(rng):
    country, bban = rng.choice(
        [
            ("DE", lambda: _digits(rng, 18)),
            ("GB", lambda: rng.choice(["NWBK", "BARC", "LOYD"]) + _digits(rng, 14)),
            (
                "FR",
                lambda: (
                    _digits(rng, 10)
                    + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(11))
                    + _digits(rng, 2)
                ),
            ),
            ("NL", lambda: rng.choice(["ABNA", "RABO", "INGB"]) + _digits(rng, 10)),
            ("ES", lambda: _digits(rng, 20)),
        ]
    )

    def make():
        b = bban()
        return country + iban.calc_check_digits(country + "00" + b) + b

    number = _until(rng, make, iban.is_valid)
    if rng.random() < 0.5:
        number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


def _ip(rng):
    if rng.random() < 0.8:
        return ".".join(str(rng.randint(1, 254)) for _ in range(4))
    return ":".join(f"{rng.randint(0, 65535):x}" for _ in range(8))


def _location(rng):
    return rng.choice(CITIES + COUNTRIES)


def _nino(rng):
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    if first + second in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
        first, second = "A", "B"
    d = _digits(rng, 6)
    suffix = rng.choice("ABCD")
    if rng.random() < 0.5:
        return f"{first}{second} {d[:2]} {d[2:4]} {d[4:]} {suffix}"
    return f"{first}{second}{d}{suffix}"


def _nhs(rng):
    def make():
        body = str(rng.randint(4, 6)) + _digits(rng, 8)
        check = (11 - nhs.checksum(body + "0")) % 11  # weights 10..2 on body
        return body + str(check)

    n = _until(rng, make, nhs.is_valid)
    return f"{n[:3]} {n[3:6]} {n[6:]}"


def _sin(rng):
    def make():
        body = rng.choice("1234567") + _digits(rng, 7)
        return body + luhn.calc_check_digit(body)

    n = _until(rng, make, sin.is_valid)
    return rng.choice([f"{n[:3]}-{n[3:6]}-{n[6:]}", f"{n[:3]} {n[3:6]} {n[6:]}"])


def _de_idnr(rng):
    def make():
        body = rng.choice("123456789") + _digits(rng, 9)
        return body + idnr.mod_11_10.calc_check_digit(body)

    n = _until(rng, make, idnr.is_valid)
    return rng.choice([n, f"{n[:2]} {n[2:5]} {n[5:8]} {n[8:]}"])


def _fr_nir(rng):
    def make():
        body = f"{rng.randint(1, 2)}{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}{_digits(rng, 3)}{_digits(rng, 3)}"
        return body + nir.calc_check_digits(body)

    n = _until(rng, make, nir.is_valid)
    return rng.choice([n, f"{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:10]} {n[10:13]} {n[13:]}"])


def _es_dni(rng):
    d = _digits(rng, 8)
    return d + dni.calc_check_digit(d)


def _es_nie(rng):
    d = rng.choice("XYZ") + _digits(rng, 7)
    return d + nie.calc_check_digit(d)


def _it_cf(rng):
    def make():
        letters = "".join(rng.choice("BCDFGLMNPRSTVZ") for _ in range(3)) + "".join(
            rng.choice("BCDFGLMNPRSTVAEIO") for _ in range(3)
        )
        body = (
            letters
            + f"{rng.randint(40, 99)}"
            + rng.choice("ABCDEHLMPRST")
            + f"{rng.randint(1, 28) + rng.choice([0, 40]):02d}"
            + rng.choice(["H501", "F205", "L219", "A662", "G273"])
        )
        return body + codicefiscale.calc_check_digit(body)

    return _until(rng, make, codicefiscale.is_valid)


def _nl_bsn(rng):
    n = _until(rng, lambda: rng.choice("123456789") + _digits(rng, 8), bsn.is_valid)
    return rng.choice([n, f"{n[:4]}.{n[4:6]}.{n[6:]}"])


def _aadhaar(rng):
    def make():
        body = rng.choice("23456789") + _digits(rng, 10)
        return body + aadhaar.verhoeff.calc_check_digit(body)

    n = _until(rng, make, aadhaar.is_valid)
    return rng.choice([f"{n[:4]} {n[4:8]} {n[8:]}", n])


def _pan(rng):
    up = string.ascii_uppercase
    return "".join(rng.choice(up) for _ in range(3)) + "P" + rng.choice(up) + _digits(rng, 4) + rng.choice(up)


def _itin(rng):
    def make():
        return f"9{_digits(rng, 2)}-{rng.choice([70, 71, 75, 78, 80, 83, 88, 90, 94, 97])}-{_digits(rng, 4)}"

    return _until(rng, make, itin.is_valid)


def _ein(rng):
    return _until(
        rng,
        lambda: f"{rng.choice(['10', '12', '20', '27', '45', '46', '52', '94'])}-{_digits(rng, 7)}",
        ein.is_valid,
    )


def _aba(rng):
    def make():
        body = f"{rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 21, 22, 26, 31]):02d}" + _digits(rng, 6)
        return body + rtn.calc_check_digit(body)

    return _until(rng, make, rtn.is_valid)


def _bic(rng):
    def make():
        bank = rng.choice(["DEUT", "BNPA", "COBA", "BARC", "NWBK", "INGB", "RABO", "UBSW"])
        return (
            bank
            + rng.choice(["DE", "FR", "GB", "NL", "CH"])
            + rng.choice(["FF", "PP", "2L", "22", "ZZ"])
            + rng.choice(["", "XXX", "500"])
        )

    return _until(rng, make, bic.is_valid)


def _vat(rng):
    def make():
        cc = rng.choice(["DE", "FR", "NL", "IT", "ES"])
        if cc == "DE":
            return "DE" + rng.choice("123456789") + _digits(rng, 8)
        if cc == "FR":
            return "FR" + _digits(rng, 11)
        if cc == "NL":
            return "NL" + _digits(rng, 9) + "B01"
        if cc == "IT":
            return "IT" + _digits(rng, 11)
        return "ES" + rng.choice("ABCDEFGHJ") + _digits(rng, 8)

    return _until(rng, make, vat.is_valid)


def _street(rng):
    return f"{rng.randint(1, 9999)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}"


def _dob(rng):
    y, m, d = rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        [
            f"{m:02d}/{d:02d}/{y}",
            f"{y}-{m:02d}-{d:02d}",
            f"{d} {MONTHS[m - 1]} {y}",
            f"{MONTHS[m - 1]} {d}, {y}",
        ]
    )


def _age(rng):
    return str(rng.randint(18, 95))


VALUE_MAKERS: dict[str, Callable[[random.Random], str]] = {
    "PERSON": _person,
    "LOCATION": _location,
    "EMAIL_ADDRESS": _email,
    "PHONE_NUMBER": _phone,
    "US_SSN": _ssn,
    "CREDIT_CARD": _card,
    "IBAN_CODE": _iban,
    "IP_ADDRESS": _ip,
    "UK_NINO": _nino,
    "UK_NHS": _nhs,
    "CA_SIN": _sin,
    "DE_TAX_ID": _de_idnr,
    "FR_NIR": _fr_nir,
    "ES_NIF": _es_dni,
    "ES_NIE": _es_nie,
    "IT_FISCAL_CODE": _it_cf,
    "NL_BSN": _nl_bsn,
    "IN_AADHAAR": _aadhaar,
    "IN_PAN": _pan,
    "US_ITIN": _itin,
    "US_EIN": _ein,
    "ABA_ROUTING_NUMBER": _aba,
    "SWIFT_BIC": _bic,
    "EU_VAT": _vat,
    "STREET_ADDRESS": _street,
    "DATE_OF_BIRTH": _dob,
    "AGE": _age,
    "US_ZIP_CODE": lambda rng: rng.choice(
        [f"{rng.randint(10000, 99999)}", f"{rng.randint(10000, 99999)}-{_digits(rng, 4)}"]
    ),
    "UK_POSTCODE": lambda rng: rng.choice(UK_POSTCODES),
}

# Templates: `{ENTITY}` is a labelled slot; `{~NAME}` is filler, labelled
# only where LABELLED_FILLER says (cities and US state codes are places). Roughly half the templates
# carry a context word, half do not.
LABELLED_FILLER = {"~CITY": "LOCATION", "~STATE": "LOCATION", "~UKCITY": "LOCATION"}

TEMPLATES: list[str] = [
    "Please contact {PERSON} about the renewal.",
    "{PERSON} moved to {LOCATION} last spring.",
    "Meeting notes: {PERSON} and {PERSON} will visit {LOCATION} next week.",
    "Send the invoice to {EMAIL_ADDRESS} before Friday.",
    "You can reach {PERSON} at {EMAIL_ADDRESS} or {PHONE_NUMBER}.",
    "Call me back on {PHONE_NUMBER} after 5pm.",
    "phone: {PHONE_NUMBER}",
    "Customer {PERSON}, SSN {US_SSN}, called about a refund.",
    "my social security number is {US_SSN}",
    "{US_SSN}",
    "Charge card {CREDIT_CARD} for the annual plan.",
    "The payment with credit card {CREDIT_CARD} was declined.",
    "{PERSON} paid with {CREDIT_CARD} yesterday.",
    "Wire the deposit to IBAN {IBAN_CODE}.",
    "Account {IBAN_CODE} belongs to {PERSON}.",
    "Login from {IP_ADDRESS} was blocked.",
    "The server at {IP_ADDRESS} stopped responding at noon.",
    "Her national insurance number is {UK_NINO}.",
    "NINO {UK_NINO} on file for {PERSON}.",
    "NHS number {UK_NHS} registered at the {LOCATION} practice.",
    "Patient {PERSON} ({UK_NHS}) was discharged.",
    "SIN: {CA_SIN}",
    "Employee {PERSON} gave social insurance number {CA_SIN}.",
    "Steuer-ID {DE_TAX_ID} wurde bestätigt.",
    "Tax id {DE_TAX_ID} for {PERSON} in {LOCATION}.",
    "Numéro de sécurité sociale {FR_NIR}.",
    "Client {PERSON}, NIR {FR_NIR}.",
    "DNI {ES_NIF} de {PERSON}.",
    "Her NIE is {ES_NIE} and she lives in {LOCATION}.",
    "Codice fiscale: {IT_FISCAL_CODE}",
    "{PERSON} registered with {IT_FISCAL_CODE} in {LOCATION}.",
    "BSN {NL_BSN} is linked to the account.",
    "burgerservicenummer: {NL_BSN}",
    "Aadhaar {IN_AADHAAR} verified for {PERSON}.",
    "PAN card {IN_PAN} was submitted.",
    "The applicant's PAN is {IN_PAN}.",
    "ITIN {US_ITIN} was issued last year.",
    "Our EIN is {US_EIN}.",
    "Employer identification number {US_EIN} on the W-2.",
    "Routing number {ABA_ROUTING_NUMBER}, account ending 4421.",
    "ABA {ABA_ROUTING_NUMBER} for the transfer.",
    "SWIFT code {SWIFT_BIC} for international wires.",
    "Beneficiary bank BIC {SWIFT_BIC}, IBAN {IBAN_CODE}.",
    "VAT number {EU_VAT} appears on the invoice.",
    "Supplier VAT ID: {EU_VAT}",
    "Ship to {STREET_ADDRESS}, {~CITY}, {~STATE} {US_ZIP_CODE}.",
    "Mail it to {~CITY}, {~STATE} {US_ZIP_CODE} by Monday.",
    "Our office moved to {STREET_ADDRESS}, {~UKCITY} {UK_POSTCODE}.",
    "Postcode {UK_POSTCODE} is outside the delivery area.",
    "{PERSON} lives at {STREET_ADDRESS}.",
    "Date of birth: {DATE_OF_BIRTH}",
    "{PERSON} was born on {DATE_OF_BIRTH} in {LOCATION}.",
    "The patient is {AGE} years old.",
    "{PERSON}, aged {AGE}, joined the trial.",
]

# Look-alikes with nothing to find: order numbers, ISBNs, timestamps, versions.
NEGATIVE_TEMPLATES: list[Callable[[random.Random], str]] = [
    lambda r: f"Order #{_digits(r, 9)} shipped on time.",
    lambda r: f"ISBN 978-{r.randint(0, 9)}-{_digits(r, 3)}-{_digits(r, 5)}-{r.randint(0, 9)}",
    lambda r: (
        f"The build finished at {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d} UTC."
    ),
    lambda r: f"Release v{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 99)} fixed the cache bug.",
    lambda r: f"Invoice total: {r.randint(100, 9999)}.{_digits(r, 2)} units across {r.randint(2, 40)} lines.",
    lambda r: f"Ticket ABC-{_digits(r, 4)} was closed as a duplicate.",
    lambda r: f"Part number {_digits(r, 3)}-{_digits(r, 3)}-{_digits(r, 5)}-X is out of stock.",
    lambda r: f"The quarterly report covers {r.randint(2, 12)} product lines and {r.randint(10, 99)} stores.",
]


def generated_corpus(n: int = 1000, seed: int = 0, entities: Iterable[str] | None = None) -> list[Case]:
    """`n` seeded sentences (about 10% negatives) labelled with `entities`
    (default: every entity a value maker exists for). Templates naming an
    entity outside `entities` are left out."""
    allowed = set(VALUE_MAKERS) if entities is None else set(entities) & set(VALUE_MAKERS)
    templates = [t for t in TEMPLATES if set(_slots(t)) <= allowed]
    rng = random.Random(seed)
    out: list[Case] = []
    for i in range(n):
        if rng.random() < 0.1:
            out.append(Case(f"gen-{i}", rng.choice(NEGATIVE_TEMPLATES)(rng), [], negative=True))
            continue
        text, gold = _fill(rng.choice(templates), rng)
        out.append(Case(f"gen-{i}", text, gold))
    return out


def _slots(template: str) -> list[str]:
    return [p.split("}", 1)[0] for p in template.split("{")[1:] if not p.startswith("~")]


def _fill(template: str, rng: random.Random) -> tuple[str, list[Span]]:
    text, gold = "", []
    state, city = rng.choice(US_STATES)
    filler = {
        "~CITY": city,
        "~STATE": state,
        "~UKCITY": rng.choice(["London", "Manchester", "Leeds"]),
        "~ZIP": f"{rng.randint(10000, 99999)}",
        "~POSTCODE": rng.choice(UK_POSTCODES),
    }
    for i, part in enumerate(template.split("{")):
        if i == 0:
            text += part
            continue
        slot, rest = part.split("}", 1)
        if slot.startswith("~"):
            value = filler[slot]
            if slot in LABELLED_FILLER:
                gold.append(Span(LABELLED_FILLER[slot], len(text), len(text) + len(value)))
            text += value
        else:
            value = VALUE_MAKERS[slot](rng)
            gold.append(Span(slot, len(text), len(text) + len(value)))
            text += value
        text += rest
    return text, gold


# --------------------------------------------------------------------------- templates corpus
#
# Sentences from presidio-evaluator's data generator (PyPI `presidio-evaluator`,
# a bench extra): its own templates, its FakeNameGenerator records (names,
# addresses and phones from many countries) and Faker. Nothing in it comes from
# this project's detectors or tests, which is the point: it measures on text we
# did not write.

# Generator slot name -> our family. The generator's own default mapping is not
# used, so that postcodes are POSTAL_CODE (it calls them STREET_ADDRESS) and the
# mapping is one table printed next to every figure.
TEMPLATE_FAMILIES: dict[str, str] = {
    "person": "PERSON",
    "name": "PERSON",
    "name_female": "PERSON",
    "name_male": "PERSON",
    "first_name": "PERSON",
    "first_name_female": "PERSON",
    "first_name_male": "PERSON",
    "first_name_nonbinary": "PERSON",
    "last_name": "PERSON",
    "last_name_female": "PERSON",
    "last_name_male": "PERSON",
    "city": "LOCATION",
    "country": "LOCATION",
    "state": "LOCATION",
    "state_abbr": "LOCATION",
    "address": "STREET_ADDRESS",
    "street_name": "STREET_ADDRESS",
    "building_number": "STREET_ADDRESS",
    "secondary_address": "STREET_ADDRESS",
    "postcode": "POSTAL_CODE",
    "zipcode": "POSTAL_CODE",
    "phone_number": "PHONE_NUMBER",
    "credit_card_number": "CREDIT_CARD",
    "credit_card": "CREDIT_CARD",
    "email": "EMAIL_ADDRESS",
    "age": "AGE",
    "date_of_birth": "DATE_OF_BIRTH",
    "birthday": "DATE_OF_BIRTH",
    "us_driver_license": "DRIVER_LICENSE",
    "ssn": "US_SSN",
    "iban": "IBAN_CODE",
    "ip_address": "IP_ADDRESS",
    "date_time": "DATE_TIME",
    "day_of_week": "DATE_TIME",
    "year": "DATE_TIME",
    "url": "URL",
    "organization": "ORGANIZATION",
    "nationality": "NRP",
    "nation_woman": "NRP",
    "nation_man": "NRP",
    "nation_plural": "NRP",
    "job": "TITLE",
    "prefix": "TITLE",
    "prefix_female": "TITLE",
    "prefix_male": "TITLE",
}
TEMPLATES_N = 1500
TEMPLATES_SEED = 42
TEMPLATES_LOWER_SHARE = 0.05  # the generator's own default share of lower-cased sentences

# (slot, start, end, value) with text[start:end] == value.
RawSpan = tuple[str, int, int, str]


def template_samples(n: int = TEMPLATES_N, seed: int = TEMPLATES_SEED) -> list[tuple[str, list[RawSpan]]]:
    """`n` sentences from presidio-evaluator's generator, seeded, offline.

    Four departures from calling `PresidioSentenceFaker` as is, each because
    the default would be wrong here: the hospital provider is left out (it
    queries WikiData when built); `date_time` ends at a fixed date, not at
    now; the literal "\\n" in its address templates becomes a real line break
    (multi-line addresses, offsets shifted); and the lower-casing of some
    sentences is done here, because the package lowers the span values but
    not the text. Raises ImportError without the package.
    """
    import numpy as np

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(var, "1")  # presidio imports transformers when it is installed
    from faker.providers import BaseProvider
    from faker.providers.date_time import Provider as DateTimeProvider
    from presidio_evaluator.data_generator import PresidioSentenceFaker, presidio_additional_entity_providers
    from presidio_evaluator.data_generator.faker_extensions import HospitalProvider

    class FixedClock(BaseProvider):
        """Faker's `date_time` ends at the wall clock's now, so it differs from run to run."""

        def date_time(self) -> datetime:
            return DateTimeProvider(self.generator).date_time(end_datetime=datetime(2025, 1, 1))

    providers = [p for p in presidio_additional_entity_providers if p is not HospitalProvider]

    # The generator seeds (and draws from) the global random and numpy states,
    # and reads the global one before seeding too: pin it, and put it back after.
    saved, saved_np = random.getstate(), np.random.get_state()
    try:
        with warnings.catch_warnings():
            random.seed(seed)
            warnings.simplefilter("ignore")  # pandas deprecation notices from inside the package
            faker = PresidioSentenceFaker(
                locale="en_US",
                lower_case_ratio=0.0,
                entity_providers=[*providers, FixedClock],
                entity_type_mapping={slot: slot for slot in TEMPLATE_FAMILIES},
                provider_aliases=list(PresidioSentenceFaker.PROVIDER_ALIASES),
                random_seed=seed,
            )
            with contextlib.redirect_stderr(io.StringIO()):  # its progress bar
                samples = faker.generate_new_fake_sentences(n)
    finally:
        random.setstate(saved)
        np.random.set_state(saved_np)
    rng = random.Random(seed)
    out = []
    for sample in samples:
        spans = [(s.entity_type, s.start_position, s.end_position, str(s.entity_value)) for s in sample.spans]
        text, spans = _unescape_newlines(sample.full_text, spans)
        if rng.random() < TEMPLATES_LOWER_SHARE and len(text.lower()) == len(text):
            text, spans = text.lower(), [(t, a, b, v.lower()) for t, a, b, v in spans]
        out.append((text, sorted(spans, key=lambda s: (s[1], s[2]))))
    return out


def _unescape_newlines(text: str, spans: list[RawSpan]) -> tuple[str, list[RawSpan]]:
    """Turn each two-character "\\n" into a line break and move the spans with it."""
    where = [0] * (len(text) + 1)  # old offset -> new offset
    out: list[str] = []
    i = 0
    while i < len(text):
        where[i] = len(out)
        if text.startswith("\\n", i):
            out.append("\n")
            where[i + 1] = len(out)
            i += 2
        else:
            out.append(text[i])
            i += 1
    where[len(text)] = len(out)
    return "".join(out), [(t, where[a], where[b], v.replace("\\n", "\n")) for t, a, b, v in spans]


def templates_corpus(n: int = TEMPLATES_N, seed: int = TEMPLATES_SEED) -> list[Case]:
    """The template sentences as `Case`s; gold types are the generator's slot names."""
    return [
        Case(f"tpl-{i}", text, [Span(t, a, b) for t, a, b, _ in spans])
        for i, (text, spans) in enumerate(template_samples(n, seed))
    ]


# --------------------------------------------------------------------------- peer corpora


def datafog_corpus(root: Path = EVAL_DIR) -> list[Case]:
    out = []
    for path in sorted((root / "datafog_corpus").glob("*.json")):
        negative = path.stem == "negative_cases"
        for rec in json.loads(path.read_text(encoding="utf-8")):
            gold = [Span(e["type"], e["start"], e["end"]) for e in rec["expected_entities"]]
            out.append(Case(f"{path.stem}/{rec['id']}", rec["input"], gold, negative=negative))
    return out


def wnut17(root: Path = EVAL_DIR, labels: dict[str, str] | None = None) -> list[Case]:
    """CoNLL BIO tokens joined with single spaces; only `labels` (WNUT label ->
    gold type) are kept, default person and location."""
    labels = labels or {"person": "PERSON", "location": "LOCATION"}
    out: list[Case] = []
    tokens: list[tuple[str, str]] = []

    def flush():
        if not tokens:
            return
        text, gold, cur = "", [], None
        for tok, tag in tokens:
            if text:
                text += " "
            start = len(text)
            text += tok
            kind = tag[2:] if tag != "O" else None
            if tag.startswith("B-") or (tag.startswith("I-") and (cur is None or cur[0] != kind)):
                if cur:
                    gold.append(cur)
                cur = [kind, start, len(text)]
            elif tag.startswith("I-"):
                cur[2] = len(text)
            else:
                if cur:
                    gold.append(cur)
                cur = None
        if cur:
            gold.append(cur)
        spans = [Span(labels[k], s, e) for k, s, e in gold if k in labels]
        out.append(Case(f"wnut-{len(out)}", text, spans))
        tokens.clear()

    with (root / "wnut17_emerging.test.annotated.conll").open(encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                flush()
                continue
            tok, tag = line.rsplit("\t", 1) if "\t" in line else line.rsplit(" ", 1)
            tokens.append((tok, tag))
    flush()
    return out


# Presidio test file -> our entity (only files for entities ingestguard supports).
PRESIDIO_FILES: dict[str, str] = {
    "test_aba_routing_recognizer.py": "ABA_ROUTING_NUMBER",
    "test_ca_sin_recognizer.py": "CA_SIN",
    "test_credit_card_recognizer.py": "CREDIT_CARD",
    "test_crypto_recognizer.py": "CRYPTO",
    "test_de_tax_id_recognizer.py": "DE_TAX_ID",
    "test_email_recognizer.py": "EMAIL_ADDRESS",
    "test_es_nie_recognizer.py": "ES_NIE",
    "test_es_nif_recognizer.py": "ES_NIF",
    "test_iban_recognizer.py": "IBAN_CODE",
    "test_in_aadhaar_recognizer.py": "IN_AADHAAR",
    "test_in_pan_recognizer.py": "IN_PAN",
    "test_ip_recognizer.py": "IP_ADDRESS",
    "test_it_fiscal_code_recognizer.py": "IT_FISCAL_CODE",
    "test_mac_recognizer.py": "MAC_ADDRESS",
    "test_phone_recognizer.py": "PHONE_NUMBER",
    "test_uk_nhs_recognizer.py": "UK_NHS",
    "test_uk_nino_recognizer.py": "UK_NINO",
    "test_uk_postcode_recognizer.py": "UK_POSTCODE",
    "test_url_recognizer.py": "URL",
    "test_us_bank_recognizer.py": "US_BANK_NUMBER",
    "test_us_driver_license_recognizer.py": "US_DRIVER_LICENSE",
    "test_us_itin_recognizer.py": "US_ITIN",
    "test_us_passport_recognizer.py": "US_PASSPORT",
    "test_us_ssn_recognizer.py": "US_SSN",
}

_POSITION_ARGS = ("expected_positions", "expected_res")


def presidio_cases(root: Path = EVAL_DIR) -> dict[str, list[Case]]:
    """Per test file, the cases that give expected [start, end] positions
    (including those expecting none)."""
    data = json.loads((root / "presidio_analyzer_recognizer_param_cases.json").read_text(encoding="utf-8"))
    out: dict[str, list[Case]] = {}
    for i, rec in enumerate(data):
        entity = PRESIDIO_FILES.get(rec["file"])
        if entity is None:
            continue
        names = [a.strip() for a in rec["argnames"].split(",")]
        pos_name = next((n for n in names if n in _POSITION_ARGS), None)
        if pos_name is None or len(rec["case"]) != len(names):
            continue
        text, positions = rec["case"][0], rec["case"][names.index(pos_name)]
        if not isinstance(text, str) or not isinstance(positions, list):
            continue
        if not all(isinstance(p, list) and len(p) == 2 for p in positions):
            continue
        gold = [Span(entity, int(s), int(e)) for s, e in positions]
        out.setdefault(rec["file"], []).append(Case(f"{rec['file']}#{i}", text, gold, negative=not gold))
    return out


def stdnum_vectors(root: Path = EVAL_DIR) -> list[dict[str, str]]:
    with (root / "stdnum_test_vectors.tsv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))
