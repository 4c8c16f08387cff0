"""What the registry knows about a recognizer: its entity, how to build it,
and the RE2 prefilter that lets whole Arrow columns be swept in C++."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

    @property
    def context(self) -> tuple[str, ...] | None:
        """The recognizer's context words, lower-cased, without building it: the
        CONTEXT of the class `build` names, where Presidio's recognizers and ours
        keep them. None for a factory function (custom specs): only the built
        recognizer knows. The sweep picks a column's prefilter from them before
        any value needs the recognizer."""
        if not isinstance(self.build, type):
            return None
        return tuple(w.lower() for w in getattr(self.build, "CONTEXT", None) or ())

    @property
    def finds_own_spans(self) -> bool:
        """Whether the recognizer has `find_spans` (it then runs after the others,
        so it can skip candidates inside their surer findings)."""
        return hasattr(self.build, "find_spans")
