"""The recognizer table and the entity names the policy accepts agree."""

from __future__ import annotations

from collections import Counter

from ingestguard.detectors.entities import PATTERN_ENTITIES
from ingestguard.detectors.recognizers import (
    PATTERN_RECOGNIZERS,
    builtin,
    contact,
    documents,
    financial,
    labelled,
    location,
    national_ids,
    secrets,
)


def test_every_pattern_entity_has_exactly_one_recognizer() -> None:
    entities = Counter(
        s.entity
        for m in (builtin, contact, national_ids, financial, secrets, location, documents, labelled)
        for s in m.SPECS
    )
    assert [e for e, n in entities.items() if n > 1] == []
    # PERSON: names in labelled fields; NER finds the rest.
    assert set(PATTERN_RECOGNIZERS) == PATTERN_ENTITIES | {"PERSON"}
