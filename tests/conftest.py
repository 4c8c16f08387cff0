"""Shared fixtures: the detectors are built once per test session.

Building a Detector loads the spaCy pipeline (the slow part); every test that
needs one takes these fixtures instead of constructing its own. The Prefect
server (`prefect_api`) is defined here once, so the whole session shares one:
a fixture imported into several modules is a fixture of each, started anew.
"""

from __future__ import annotations

import pytest

from ingestguard.detectors.analyzer import Detector
from ingestguard.policy import Policy
from tests.flows.prefect_server import prefect_api  # noqa: F401 (a fixture)


@pytest.fixture(scope="session")
def detector() -> Detector:
    """The full detector of the default policy: pattern recognizers and spaCy NER."""
    return Detector(Policy())


@pytest.fixture(scope="session")
def patterns() -> Detector:
    """Pattern recognizers only, on a blank tokenizer (no model)."""
    return Detector(Policy(), ner=False)
