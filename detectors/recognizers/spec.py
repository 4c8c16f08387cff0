"""What the registry knows about a recognizer: its entity, how to build it,
and the RE2 prefilter that lets whole Arrow columns be swept in C++."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from presidio_analyzer import EntityRecognizer


@dataclass(frozen=True)
class RecognizerSpec:
    entity: str
    build: Callable[[], EntityRecognizer]
    # RE2 syntax, for pyarrow.compute.match_substring_regex; it must match every
    # string on which the recognizer can report the entity (a superset).
    prefilter: str
