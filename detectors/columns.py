"""Column planning: read a sample spread over the input and classify each column.

A string column is an *entity column* when one entity type covers most of its
sampled values (the whole value, not a part of it), *free text* when entities
sit inside longer values or the values read like prose, and *clean* otherwise.
Pattern recognizers run first; the NER model only sees the columns that the
patterns do not explain.

A nested or binary column is planned leaf by leaf (ingestguard/nested.py):
each text leaf, named by its path (`contact.email`, `messages[].content`),
is classified exactly like a column of its own. So is each path of JSON
documents held in a text column or leaf (ingestguard/json_documents.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

import numpy as np
import pyarrow as pa
import pycountry

from ingestguard.detectors.analyzer import Detector, Finding
from ingestguard.detectors.entities import NER_ENTITIES
from ingestguard.detectors.recognizers.location import DATE
from ingestguard.errors import ScanError
from ingestguard.io import Source
from ingestguard.json_documents import OTHER, Documents, holds_json
from ingestguard.nested import LeafKind, as_text, leaves, text_leaves
from ingestguard.policy import Action, Policy

# A finding must cover this share of a (stripped) value to stand for all of it.
WHOLE_VALUE_COVER = 0.9
# A column with at most this many distinct values (or 1% of the sample) is
# categorical: NER-style entities there (a product called "Victoria") are labels.
CATEGORY_MAX_DISTINCT = 12
# Share of one-word values NER must tag before a column counts as free text.
NER_FREE_TEXT_SHARE = 0.3
# Distinct sampled values that decide a column when nearly all are one entity.
EARLY_SAMPLE = 200
EARLY_SHARE = 0.95
# Distinct sampled values the NER model reads to classify a column: enough
# for the share of a column's values to be known within a few percent.
NER_SAMPLE = 300
# Values averaging this many words read as prose and are scanned in full.
PROSE_WORDS = 4
# A column whose sampled share is this many standard errors or fewer from the
# entity-column threshold, and whose values rarely repeat (so more rows bring
# new values), is classified again on a sample this many times larger.
UNSURE_ERRORS = 2.0
VARIED_SHARE = 0.5
RESAMPLE_FACTOR = 4
# A column whose sampled non-blank values are at least this share countries or
# states is kept: HIPAA Safe Harbor removes geographic units smaller than a
# state, not states or countries, and such a column is worth keeping for training.
# High, so that a column mixing towns with states ("Springfield", "CA") is not.
COARSE_PLACE_SHARE = 0.9
COARSE_PLACE_REASON = "places this coarse are not identifying (HIPAA Safe Harbor keeps states and countries)"
# Words in a column name that say it holds places finer than a state: such a
# column stays protected even when its values are also state names ("New York").
FINER_PLACE_WORDS = frozenset(
    {"city", "town", "village", "county", "district", "suburb", "address", "addr", "street", "zip"}
    | {"postcode", "postal", "ciudad", "stadt", "ville", "citta", "direccion", "adresse", "indirizzo"}
)
# Countries whose first-level subdivisions (states, provinces, territories) are
# all large; elsewhere ISO 3166-2 lists districts and municipalities too.
STATE_COUNTRIES = ("US", "CA", "AU")
# Everyday English names that ISO 3166 spells otherwise, the UK's nations, and
# continents (coarser still; NER would otherwise call them places).
PLACE_ALIASES = frozenset(
    {
        "europe",
        "asia",
        "africa",
        "north america",
        "south america",
        "latin america",
        "oceania",
        "antarctica",
        "middle east",
        "eu",
        "uk",
        "great britain",
        "britain",
        "england",
        "scotland",
        "wales",
        "northern ireland",
        "america",
        "united states of america",
        "russia",
        "turkey",
        "czech republic",
        "ivory coast",
        "cape verde",
        "brunei",
        "burma",
        "macedonia",
        "swaziland",
        "palestine",
        "vatican",
        "vatican city",
        "micronesia",
        "holland",
    }
)

# Column-name hints: normalized names (and suffixes/prefixes split on "_").
NAME_HINTS: dict[str, frozenset[str]] = {
    "PERSON": frozenset(
        {
            "name",
            "full_name",
            "fullname",
            "first_name",
            "firstname",
            "last_name",
            "lastname",
            "surname",
            "given_name",
            "family_name",
            "customer_name",
            "contact_name",
            "patient_name",
            "maiden_name",
            "mothers_maiden",
            "middle_name",
        }
    ),
    "EMAIL_ADDRESS": frozenset({"email", "e_mail", "mail", "email_address", "emailaddress"}),
    "PHONE_NUMBER": frozenset(
        {"phone", "phone_number", "telephone", "tel", "mobile", "cell", "msisdn", "fax"}
    ),
    "US_SSN": frozenset({"ssn", "social_security_number", "social_security"}),
    "CREDIT_CARD": frozenset({"card", "card_number", "cc", "cc_number", "credit_card", "ccn", "pan"}),
    "IBAN_CODE": frozenset({"iban", "iban_code"}),
    "IP_ADDRESS": frozenset({"ip", "ip_address", "ipv4", "ipv6", "client_ip"}),
    "LOCATION": frozenset({"city", "country", "location", "state", "town"}),
    "STREET_ADDRESS": frozenset({"address", "street", "street_address", "address_line", "address1", "addr"}),
    "DATE_OF_BIRTH": frozenset({"dob", "birthday", "birth_date", "birthdate", "date_of_birth"}),
    "US_ZIP_CODE": frozenset({"zip", "zipcode", "zip_code", "postal_code", "postcode"}),
}


# Names that say exactly what a column holds. Under such a name, the shape of
# the values decides what NER cannot: a lone given name, a small town.
_NAME_SHAPE = re.compile(r"[^\W\d_]+(?:[ '\-.]{1,2}[^\W\d_]+){0,3}\.?")
_PLACE_SHAPE = re.compile(r"[^\W\d_][^\d@]{0,60}")
_ADDRESS_SHAPE = re.compile(r"(?=.*\d)(?=.*[^\W\d_]{3}).{6,120}")
_SECRET_SHAPE = re.compile(r"\S{6,200}")
SHAPE_HINTS: dict[str, tuple[frozenset[str], re.Pattern[str]]] = {
    "PERSON": (
        frozenset(
            {
                "name",
                "first_name",
                "firstname",
                "given_name",
                "last_name",
                "lastname",
                "surname",
                "family_name",
                "full_name",
                "fullname",
                "middle_name",
                "maiden_name",
                "mothers_maiden",
                "mothers_maiden_name",
                "customer_name",
                "patient_name",
                "contact_name",
                "vorname",
                "nachname",
                "nombre",
                "apellido",
                "apellidos",
                "prenom",
                "nom",
                "cognome",
            }
        ),
        _NAME_SHAPE,
    ),
    "LOCATION": (
        frozenset(
            {
                "city",
                "town",
                "county",
                "region",
                "province",
                "country",
                "country_full",
                "state",
                "state_full",
                "ciudad",
                "stadt",
                "ville",
                "citta",
            }
        ),
        _PLACE_SHAPE,
    ),
    "STREET_ADDRESS": (
        frozenset(
            {
                "address",
                "street_address",
                "street",
                "address_line",
                "address_line_1",
                "address1",
                "addr",
                "home_address",
                "direccion",
                "adresse",
                "indirizzo",
            }
        ),
        _ADDRESS_SHAPE,
    ),
    # Bare dates say nothing alone; under a birth-date name they are birth dates.
    "DATE_OF_BIRTH": (
        frozenset(
            {
                "dob",
                "birthday",
                "birth_date",
                "birthdate",
                "date_of_birth",
                "geburtsdatum",
                "fecha_nacimiento",
                "date_naissance",
            }
        ),
        re.compile(DATE),
    ),
    "GENERIC_SECRET": (
        frozenset(
            {
                "password",
                "passwd",
                "pwd",
                "secret",
                "api_key",
                "apikey",
                "access_token",
                "token",
                "client_secret",
                "passwort",
                "contrasena",
            }
        ),
        _SECRET_SHAPE,
    ),
}


def shape_hint(column: str) -> tuple[str, re.Pattern[str]] | None:
    norm = normalized_name(column)
    for entity, (names, shape) in SHAPE_HINTS.items():
        if norm in names:
            return entity, shape
    return None


class ColumnClass(StrEnum):
    ENTITY = "entity"
    FREE_TEXT = "free_text"
    CLEAN = "clean"
    EMPTY = "empty"
    NOT_TEXT = "not_text"
    FORCED = "forced"
    SKIPPED = "skipped"
    # A nested or binary column: its `leaves` carry the plans, one per leaf path.
    NESTED = "nested"
    # JSON documents in text: `leaves` plan their strings by JSON path.
    JSON = "json"


@dataclass
class ColumnPlan:
    """What a column is and what will be done to it, with the reasons."""

    name: str
    arrow_type: str
    column_class: ColumnClass
    entity: str | None = None
    action: Action = Action.KEEP
    sample_size: int = 0
    match_share: float | None = None
    reasons: list[str] = field(default_factory=list)
    leaves: list[ColumnPlan] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Plans read back from JSON (the plan cache) bring their leaves as dicts.
        self.leaves = [
            leaf if isinstance(leaf, ColumnPlan) else ColumnPlan.from_dict(leaf) for leaf in self.leaves
        ]

    @classmethod
    def from_dict(cls, data: dict) -> ColumnPlan:
        """A plan from `dataclasses.asdict` output read back from JSON."""
        return cls(
            **{**data, "column_class": ColumnClass(data["column_class"]), "action": Action(data["action"])}
        )

    def to_evidence(self) -> dict:
        return {
            "name": self.name,
            "type": self.arrow_type,
            "classification": self.column_class.value,
            "entity": self.entity,
            "action": self.action.value if self.column_class != ColumnClass.FREE_TEXT else "per_span",
            "sample_size": self.sample_size,
            "match_share": self.match_share,
            "reasons": list(self.reasons),
        }


def flat_plans(plans: Sequence[ColumnPlan]) -> list[ColumnPlan]:
    """Every plan that is counted and reported: a nested or JSON column stands for its leaves."""
    out = []
    for p in plans:
        out += flat_plans(p.leaves) if p.column_class in (ColumnClass.NESTED, ColumnClass.JSON) else [p]
    return out


def is_text(dtype: pa.DataType) -> bool:
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_string_view(dtype)


def may_hold_text(dtype: pa.DataType) -> bool:
    """Nested, binary and extension types can carry strings a plain text reader would miss."""
    if isinstance(dtype, pa.BaseExtensionType):
        return may_hold_text(dtype.storage_type)
    if pa.types.is_dictionary(dtype):
        return may_hold_text(dtype.value_type)
    if is_text(dtype) or pa.types.is_binary(dtype) or pa.types.is_large_binary(dtype):
        return True
    if pa.types.is_binary_view(dtype) or pa.types.is_fixed_size_binary(dtype):
        return True
    return any(may_hold_text(dtype.field(i).type) for i in range(dtype.num_fields))


def normalized_name(column: str) -> str:
    """`GivenName`, `given-name` and `GIVEN_NAME` all become `given_name`."""
    split = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", column)
    return re.sub(r"[^a-z0-9]+", "_", split.lower()).strip("_")


def name_hint(column: str) -> str | None:
    """The entity a column's name suggests, if any (`e_mail` -> EMAIL_ADDRESS)."""
    norm = normalized_name(column)
    parts = norm.split("_")
    for entity, names in NAME_HINTS.items():
        if norm in names or parts[-1] in names or parts[0] in names:
            return entity
        if any("_".join(parts[i:]) in names for i in range(1, len(parts))):
            return entity
    return None


def sample_rows(num_rows: int, size: int, seed: int) -> list[int]:
    """Row positions spread uniformly over the whole input, reproducible by seed."""
    if num_rows <= size:
        return list(range(num_rows))
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(num_rows, size=size, replace=False))


def plan_columns(source: Source, policy: Policy, detector: Detector, patterns: Detector) -> list[ColumnPlan]:
    plans: dict[str, ColumnPlan] = {}
    to_sample: list[str] = []
    numbers: list[str] = []
    for fld in source.schema:
        kind = str(fld.type)
        override = policy.columns.get(fld.name)
        if override is not None and override.skip:
            plans[fld.name] = ColumnPlan(fld.name, kind, ColumnClass.SKIPPED, reasons=["policy: skip"])
        elif override is not None:
            any_type = (
                Action.DROP_COLUMN,
                Action.REDACT,
                Action.KEEP,
                Action.ENCRYPT_COLUMN,  # the sink encrypts the stored column, whatever its type
                Action.SHIFT_DATES,  # date and timestamp columns move by whole days
            )
            if not is_text(fld.type) and override.action not in any_type and may_hold_text(fld.type):
                plans[fld.name] = _forced_leaves(fld, override.action)
                continue
            if not is_text(fld.type) and override.action not in any_type:
                raise ScanError(
                    f"column '{fld.name}' is {kind}; only drop_column, redact, encrypt_column, "
                    "shift_dates or keep apply to it"
                )
            plans[fld.name] = ColumnPlan(
                fld.name,
                kind,
                ColumnClass.FORCED,
                action=override.action,
                reasons=[f"policy: action {override.action.value}"],
            )
        elif is_text(fld.type):
            to_sample.append(fld.name)
        elif may_hold_text(fld.type):
            _check_readable(fld)
            to_sample.append(fld.name)
        elif pa.types.is_integer(fld.type) and name_hint(fld.name) in set(patterns.entities) - NER_ENTITIES:
            numbers.append(fld.name)  # an SSN or card number stored as an integer
            to_sample.append(fld.name)
        else:
            plans[fld.name] = ColumnPlan(
                fld.name, kind, ColumnClass.NOT_TEXT, reasons=[f"type {kind} holds no text"]
            )
    size = policy.sampling.size
    for attempt in range(2):
        if not to_sample:
            break
        rows = sample_rows(source.num_rows, size, policy.sampling.seed)
        table = source.take(to_sample, rows)
        unsure = []
        for name in to_sample:
            column = table.column(name)
            kind = str(source.schema.field(name).type)
            if is_text(column.type) or name in numbers:
                if pa.types.is_dictionary(column.type):
                    column = column.cast(column.type.value_type)
                values = [str(v) for v in column.to_pylist() if v is not None]
                if name in numbers:
                    plan = _number_column(name, kind, values, policy, patterns)
                    sampled = [(plan, values)]
                else:
                    plan, sampled = _classify_text(name, kind, values, policy, detector, patterns)
            else:
                plan, sampled = _nested_column(name, kind, column, policy, detector, patterns)
            if attempt == 0 and len(rows) < source.num_rows and any(_unsure(*s, policy) for s in sampled):
                unsure.append(name)
            elif attempt == 1:
                for leaf, _ in sampled:
                    leaf.reasons.insert(
                        0,
                        f"{policy.sampling.size} sampled rows left the share within sampling error "
                        f"of a threshold: classified on {len(rows)} rows instead",
                    )
            plans[name] = plan
        to_sample, size = unsure, size * RESAMPLE_FACTOR
    return [plans[f.name] for f in source.schema]


def _check_readable(fld: pa.Field) -> None:
    """Fail closed on a column holding text no walker step can reach."""
    for leaf in leaves(fld.name, fld.type):
        if leaf.kind == LeafKind.OPAQUE:
            inside = f", whose part '{leaf.path}' ({leaf.type})" if leaf.path != fld.name else ""
            raise ScanError(
                f"column '{fld.name}' has type {fld.type}{inside}, which ingestguard cannot scan; "
                f"set columns.{fld.name} to drop_column or skip in the policy"
            )


def _forced_leaves(fld: pa.Field, action: Action) -> ColumnPlan:
    """A text action the policy sets on a nested or binary column: applied to each of its text leaves."""
    _check_readable(fld)
    plans = []
    for leaf in leaves(fld.name, fld.type):
        kind = str(leaf.type)
        if leaf.kind == LeafKind.NO_TEXT:
            plan = ColumnPlan(leaf.path, kind, ColumnClass.NOT_TEXT, reasons=[f"type {kind} holds no text"])
        else:
            reasons = [f"policy: action {action.value} on column {fld.name}"]
            plan = ColumnPlan(leaf.path, kind, ColumnClass.FORCED, action=action, reasons=reasons)
            _nested_action(plan, fld.name)
        plans.append(plan)
    reasons = [f"policy: action {action.value} on each text leaf"]
    return ColumnPlan(fld.name, str(fld.type), ColumnClass.NESTED, reasons=reasons, leaves=plans)


# Actions that only make sense for a whole column; a nested value is redacted instead.
_COLUMN_ONLY_ACTIONS = frozenset({Action.DROP_COLUMN, Action.SHIFT_DATES, Action.ENCRYPT_COLUMN})


def _nested_column(
    name: str, kind: str, column: pa.ChunkedArray, policy: Policy, detector: Detector, patterns: Detector
) -> tuple[ColumnPlan, list[tuple[ColumnPlan, list[str]]]]:
    """A nested or binary column's plan: each text leaf is classified on its
    sampled values like a column named by its path; `columns.<path>` in the
    policy skips a leaf or fixes its action. Returns the plan and, per
    classified leaf, the values it was classified on."""
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    values: dict[str, list[str]] = {}
    for path, leaf_values in text_leaves(array, name):
        text = as_text(leaf_values, path, name)
        if pa.types.is_dictionary(text.type):
            text = text.cast(text.type.value_type)
        values[path] = [v for v in text.to_pylist() if v is not None]
    plans, sampled = [], []
    for leaf in leaves(name, column.type):
        leaf_kind = str(leaf.type)
        if leaf.kind == LeafKind.NO_TEXT:
            plan = ColumnPlan(
                leaf.path, leaf_kind, ColumnClass.NOT_TEXT, reasons=[f"type {leaf_kind} holds no text"]
            )
        elif (fixed := _fixed_by_policy(leaf.path, leaf_kind, policy)) is not None:
            plan = fixed
        else:
            plan, classified = _classify_text(
                leaf.path, leaf_kind, values.get(leaf.path, []), policy, detector, patterns
            )
            sampled += classified
        _nested_action(plan, name)
        plans.append(plan)
    whole = (
        Action.DROP_COLUMN
        if [(p.name, p.action) for p in plans] == [(name, Action.DROP_COLUMN)]
        else Action.KEEP
    )
    reasons = [f"{len(plans)} leaves, each planned by its path"]
    return ColumnPlan(name, kind, ColumnClass.NESTED, action=whole, reasons=reasons, leaves=plans), sampled


def _classify_text(
    name: str, kind: str, values: list[str], policy: Policy, detector: Detector, patterns: Detector
) -> tuple[ColumnPlan, list[tuple[ColumnPlan, list[str]]]]:
    """A text column or leaf classified on its sampled values, as JSON documents
    when they all are; with each classified plan and the values it was classified on."""
    if not holds_json(values):
        plan = classify_column(name, kind, values, policy, detector, patterns)
        return plan, [(plan, values)]
    docs = Documents(values, name)
    leaves, sampled = [], []
    for path, strings in docs.leaves.items():
        plan = _fixed_by_policy(path, "json string", policy)
        if plan is None:
            plan, classified = _classify_text(path, "json string", strings, policy, detector, patterns)
            sampled += classified
        _json_action(plan)
        leaves.append(plan)
    leaves.append(
        ColumnPlan(
            name + OTHER,
            "json string",
            ColumnClass.FREE_TEXT,
            reasons=[
                "strings at paths the sample did not show, and values that are not JSON: scanned in full"
            ],
        )
    )
    reasons = [f"all {len(values)} sampled values are JSON documents: their strings are planned by path"]
    return ColumnPlan(name, kind, ColumnClass.JSON, reasons=reasons, leaves=leaves), sampled


def _fixed_by_policy(path: str, kind: str, policy: Policy) -> ColumnPlan | None:
    """The plan `columns.<path>` in the policy sets for a leaf (skip or an action), if any."""
    override = policy.columns.get(path)
    if override is None:
        return None
    if override.skip:
        return ColumnPlan(path, kind, ColumnClass.SKIPPED, reasons=["policy: skip"])
    reasons = [f"policy: action {override.action.value}"]
    return ColumnPlan(path, kind, ColumnClass.FORCED, action=override.action, reasons=reasons)


def _json_action(plan: ColumnPlan) -> None:
    """Inside a JSON document a value is redacted to null rather than a column
    dropped, and tokenized rather than format-preservingly encrypted (the
    re-scan reads the document's text, where a ciphertext would pass for the
    entity it hides)."""
    if plan.action in _COLUMN_ONLY_ACTIONS:
        plan.reasons.append(f"{plan.action.value} applies to whole columns: the JSON values are redacted")
        plan.action = Action.REDACT
    elif plan.action == Action.FPE:
        plan.reasons.append("fpe inside JSON text would pass for the entity it hides: tokenized instead")
        plan.action = Action.TOKENIZE


def _nested_action(plan: ColumnPlan, column: str) -> None:
    """Whole-column actions become a redaction inside a nested value (the
    column's shape is kept), and map keys, which cannot be null, are replaced.
    A binary column (its one leaf is the column) can still be dropped whole."""
    if plan.name == column and plan.action == Action.DROP_COLUMN:
        return
    if plan.action in _COLUMN_ONLY_ACTIONS:
        plan.reasons.append(f"{plan.action.value} applies to whole columns: the nested values are redacted")
        plan.action = Action.REDACT
    if plan.action == Action.REDACT and plan.name.endswith("{}.key"):
        plan.reasons.append("map keys cannot be null: replaced instead of redacted")
        plan.action = Action.REPLACE


def _unsure(plan: ColumnPlan, values: Sequence[str], policy: Policy) -> bool:
    """Whether the sample is too small to tell which side of the entity-column
    threshold a column is on. Only varied columns: where values repeat, a
    larger sample shows the same values again."""
    n = len(values)
    if n == 0 or plan.match_share is None or len(set(values)) < VARIED_SHARE * n:
        return False
    share = plan.match_share
    error = math.sqrt(max(share * (1 - share), 0.01) / n)
    thresholds = (policy.classification.entity_column_share, policy.classification.name_hint_share)
    return any(abs(share - t) <= UNSURE_ERRORS * error for t in thresholds)


# Fixed-width identifiers that may start with 0, which an integer column drops
# (SSN 078-05-1120 stored as 78051120).
ZERO_PADDED_DIGITS = {
    "US_SSN": 9,
    "US_ITIN": 9,
    "US_EIN": 9,
    "ABA_ROUTING_NUMBER": 9,
    "CA_SIN": 9,
    "NL_BSN": 9,
    "UK_NHS": 10,
}


def _number_column(name: str, kind: str, values: list[str], policy: Policy, patterns: Detector) -> ColumnPlan:
    """An integer column whose name says it holds identifiers: checked like text
    (with the leading zeros the integer lost put back), and redacted (nulls keep
    the column's type) unless the policy drops or keeps it."""
    width = ZERO_PADDED_DIGITS.get(name_hint(name) or "")
    padded = sum(v.isdigit() and len(v) < width for v in values) if width else 0
    if width:
        values = [v.zfill(width) if v.isdigit() else v for v in values]
    plan = classify_column(name, kind, values, policy, patterns, patterns)
    if padded:  # the evidence says why an 8-digit integer can count as an SSN
        plan.reasons.append(f"{padded} sampled integers read with their leading zeros, as {width} digits")
    if plan.column_class != ColumnClass.ENTITY:
        return ColumnPlan(
            name,
            kind,
            ColumnClass.NOT_TEXT,
            sample_size=plan.sample_size,
            match_share=plan.match_share,
            reasons=[*plan.reasons, f"type {kind} kept as is"],
        )
    if plan.action not in (Action.DROP_COLUMN, Action.KEEP, Action.REDACT):
        plan.reasons.append(f"{plan.action.value} would change the {kind} column to text: redacted instead")
        plan.action = Action.REDACT
    return plan


def classify_column(
    name: str, kind: str, values: Sequence[str], policy: Policy, detector: Detector, patterns: Detector
) -> ColumnPlan:
    n = len(values)
    if n == 0:
        return ColumnPlan(name, kind, ColumnClass.EMPTY, reasons=["every sampled value is null"])
    counts = Counter(values)
    distinct = list(counts)
    hint = name_hint(name) if policy.classification.use_name_hints else None
    reasons = [f"sampled {n} non-null values ({len(distinct)} distinct)"]
    if hint:
        reasons.append(f"name suggests {hint}")
    # Before the name and shape hints, which would call a `country` column LOCATION.
    finer = FINER_PLACE_WORDS & set(normalized_name(name).split("_"))
    coarse = None if finer else coarse_place_share(counts, detector)
    if coarse is not None:
        others = f"; the other {1 - coarse:.0%} hold no entity" if coarse < 1 else ""
        reasons.append(
            f"{coarse:.0%} of sampled values are countries or states{others}: {COARSE_PLACE_REASON}"
        )
        return ColumnPlan(name, kind, ColumnClass.CLEAN, sample_size=n, match_share=0.0, reasons=reasons)

    def entity_plan(entity: str, share: float) -> ColumnPlan:
        return ColumnPlan(
            name,
            kind,
            ColumnClass.ENTITY,
            entity=entity,
            action=policy.action_for(entity),
            sample_size=n,
            match_share=round(share, 4),
            reasons=reasons,
        )

    def shares(values: list[str], findings: list[Sequence[Finding]]) -> tuple[Counter, int, int]:
        whole: Counter = Counter()
        hit = 0
        for value, found in zip(values, findings, strict=True):
            if found:
                hit += counts[value]
            entity = whole_value_entity(value, found)
            if entity:
                whole[entity] += counts[value]
        return whole, hit, sum(counts[v] for v in values)

    # Patterns first on a small part of the sample: a column that is clearly one
    # entity is decided there; anything less clear reads the whole sample.
    first = distinct[:EARLY_SAMPLE]
    name_words = normalized_name(name).split("_")
    whole, hit, total = shares(first, patterns.analyze_batch(first, name_words))
    pick = _entity_over_threshold(whole, total, hint, policy)
    if pick is not None and pick[1] >= EARLY_SHARE and len(first) < len(distinct):
        reasons.append(f"decided on {len(first)} distinct sampled values ({total} rows)")
    elif len(first) < len(distinct):
        rest = distinct[EARLY_SAMPLE:]
        more_whole, more_hit, more_total = shares(rest, patterns.analyze_batch(rest, name_words))
        whole, hit, total = whole + more_whole, hit + more_hit, total + more_total
        pick = _entity_over_threshold(whole, total, hint, policy)
    # Only columns the patterns say nothing about can be name or place columns.
    shaped = shape_hint(name) if policy.classification.use_name_hints else None
    if pick is None and shaped and shaped[0] in policy.active_entities():
        entity, shape = shaped
        fitting = sum(counts[v] for v in distinct if _fits(shape, v))
        if fitting / n >= policy.classification.name_hint_share:
            reasons.append(f"the name says {entity} and {fitting / n:.0%} of sampled values have its shape")
            return entity_plan(entity, fitting / n)
    if pick is None and not hit and hint not in NER_ENTITIES and _categorical(len(distinct), n):
        reasons.append(
            f"{len(distinct)} repeated values with no pattern entity: categories, not people or places"
        )
        return ColumnPlan(name, kind, ColumnClass.CLEAN, sample_size=n, match_share=0.0, reasons=reasons)
    ner_ran = pick is None and not hit and detector.ner is not None
    if ner_ran:
        subset = distinct[:NER_SAMPLE]
        whole, hit, total = shares(subset, detector.analyze_batch(subset))
        pick = _entity_over_threshold(whole, total, hint, policy)
        if len(subset) < len(distinct):
            reasons.append(f"NER ran on {len(subset)} distinct sampled values ({total} rows)")
    if pick is not None:
        entity, share = pick
        reasons.append(f"{share:.0%} of sampled values are {entity} as a whole")
        return entity_plan(entity, share)
    hit_share = round(hit / total, 4)
    words = sum(len(v.split()) * c for v, c in counts.items()) / n
    # NER misfires on codes and labels ("REF-00001" as a person): a few NER hits
    # in one-word values do not make a column free text; patterns always do.
    if hit and (not ner_ran or words >= 2 or hit_share >= NER_FREE_TEXT_SHARE):
        reasons.append(f"{hit_share:.0%} of sampled values contain entities; scanned in full")
        return ColumnPlan(
            name, kind, ColumnClass.FREE_TEXT, sample_size=n, match_share=hit_share, reasons=reasons
        )
    if words >= PROSE_WORDS:
        reasons.append(f"values average {words:.1f} words; prose is scanned in full")
        return ColumnPlan(name, kind, ColumnClass.FREE_TEXT, sample_size=n, match_share=0.0, reasons=reasons)
    reasons.append("no entity found in the sample")
    return ColumnPlan(name, kind, ColumnClass.CLEAN, sample_size=n, match_share=0.0, reasons=reasons)


def place_key(value: str) -> str:
    """`U.S.`, ` us ` and `US` all become `us`; `New  York` becomes `new york`."""
    return " ".join(value.replace(".", "").split()).casefold()


@cache
def coarse_places() -> frozenset[str]:
    """Country names and ISO 3166-1 alpha-2/alpha-3 codes, and the names and
    codes of US states, Canadian provinces and Australian states (with their
    territories), as `place_key`s. From pycountry's copy of the ISO 3166 tables,
    so the list stays current without a table of our own to maintain."""
    places = set(PLACE_ALIASES)
    for country in pycountry.countries:
        places.update({country.alpha_2, country.alpha_3, country.name})
        places.update(
            getattr(country, attr) for attr in ("official_name", "common_name") if hasattr(country, attr)
        )
    for code in STATE_COUNTRIES:
        for sub in pycountry.subdivisions.get(country_code=code):
            places.update({sub.code.split("-", 1)[1], sub.name})
    return frozenset(place_key(p) for p in places)


def coarse_place_share(counts: Counter[str], detector: Detector) -> float | None:
    """The share of a column's sampled non-blank values that are countries or
    states, when it is at least COARSE_PLACE_SHARE and none of the other values
    holds an entity (a town NER knows, an email): else None, and the column is
    classified as any other. Blanks say nothing either way and are not counted."""
    filled = {v: c for v, c in counts.items() if v.strip()}
    total = sum(filled.values())
    places = coarse_places()
    others = [v for v in filled if place_key(v) not in places]
    share = (total - sum(filled[v] for v in others)) / total if total else 0.0
    if share < COARSE_PLACE_SHARE:
        return None
    if others and any(detector.analyze_batch(others[:NER_SAMPLE])):
        return None
    return share


def _fits(shape: re.Pattern[str], value: str) -> bool:
    value = value.strip()
    if shape is _NAME_SHAPE or shape is _PLACE_SHAPE:  # names and places are capitalized
        return bool(value[:1].isupper() and shape.fullmatch(value))
    return bool(shape.fullmatch(value))


def _categorical(distinct: int, n: int) -> bool:
    """Few values, each repeated many times: labels of categories."""
    return n >= 50 and distinct <= max(CATEGORY_MAX_DISTINCT, n // 100)


def whole_value_entity(value: str, findings: Sequence[Finding]) -> str | None:
    length = len(value.strip())
    for f in findings:
        if length and (f.end - f.start) >= WHOLE_VALUE_COVER * length:
            return f.entity_type
    return None


def _entity_over_threshold(
    whole: Counter, n: int, hint: str | None, policy: Policy
) -> tuple[str, float] | None:
    best = None
    for entity, count in whole.most_common():
        share = count / n
        needed = (
            policy.classification.name_hint_share
            if entity == hint
            else policy.classification.entity_column_share
        )
        if share >= needed and (best is None or share > best[1]):
            best = (entity, share)
    return best
