"""Shared fixtures: the detectors are built once per test session.

Building a Detector loads the spaCy pipeline (the slow part); every test that
needs one takes these fixtures instead of constructing its own.
"""

from __future__ import annotations

import pytest

from ingestguard.detectors.analyzer import Detector
from ingestguard.policy import Policy


@pytest.fixture(scope="session")
def detector() -> Detector:
    """The full detector of the default policy: pattern recognizers and spaCy NER."""
    return Detector(Policy())


@pytest.fixture(scope="session")
def patterns() -> Detector:
    """Pattern recognizers only, on a blank tokenizer (no model)."""
    return Detector(Policy(), ner=False)
