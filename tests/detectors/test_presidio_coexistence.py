"""ingestguard's recognizers must not break Presidio in the same process.

Presidio's registry finds its predefined recognizers by class name among all
loaded EntityRecognizer subclasses; a subclass of ours with the same name as
one of Presidio's would be picked up in its place and fail to construct.
"""

from __future__ import annotations

import inspect

import presidio_analyzer.predefined_recognizers as presidio_predefined

from ingestguard.detectors.recognizers import (
    builtin,
    contact,
    custom,
    financial,
    location,
    national_ids,
    secrets,
)


def test_no_recognizer_class_shadows_a_presidio_name() -> None:
    ours = {
        name
        for module in (builtin, contact, custom, financial, location, national_ids, secrets)
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__
    }
    assert ours & set(dir(presidio_predefined)) == set()


def test_presidio_default_registry_loads_after_ours() -> None:
    from presidio_analyzer import RecognizerRegistry

    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"])
    assert {"CREDIT_CARD", "US_SSN", "IBAN_CODE"} <= set(registry.get_supported_entities(["en"]))
