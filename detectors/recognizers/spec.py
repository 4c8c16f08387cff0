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
    # For recognizers whose loosest results (a bare digit run) score `weak_score`
    # and count only next to one of their context words: an RE2 superset of the
    # strings holding a stronger result or a context word. The sweep uses it
    # instead of `prefilter` when the threshold is above `weak_score` and the
    # column's name holds none of the context words, so columns of numbers do
    # not all reach Python.
    unboosted: str | None = None
    weak_score: float = 0.0
