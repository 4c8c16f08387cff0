"""Pattern sweeps over whole Arrow columns.

pyarrow's RE2 kernels test every value against each recognizer's prefilter
in C++; only the values that pass go through the recognizers (their regexes
and checksum validators) in Python. On columns where most values cannot hold
an entity, almost no Python runs at all.

What Python does run is remembered. Sweeps built from the same recognizer
specs and thresholds share one state (see `_shared_state`): a bounded cache of
each analyzed value's findings, and per recognizer a bounded cache of each
distinct candidate's validation. So a value the protect stage analyzed and left
unchanged costs the residual re-scan one dictionary lookup, and a number that
recurs across rows, batches and columns is validated once.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import regex
from presidio_analyzer import PatternRecognizer

from ingestguard.detectors.finding import Finding
from ingestguard.detectors.recognizers.spec import RecognizerSpec

# Presidio's default context similarity factor and a window of a few words.
CONTEXT_BOOST = 0.35
CONTEXT_BEFORE = 40
CONTEXT_AFTER = 20
_WORD = re.compile(r"[a-z0-9#]+")
# Bounds of the caches. A protected batch is re-scanned right after it is
# protected, so the value cache needs to hold about one batch's distinct values;
# it holds at most 16 million characters of them (tens of MB), whatever their size.
VALUE_CACHE_SIZE = 131_072
VALUE_CACHE_CHARS = 16_000_000
CANDIDATE_CACHE_SIZE = 65_536
# Longer values are analyzed every time: caching them would hold large cells.
MAX_CACHED_VALUE = 4_096

Span = tuple[int, int, float]
# Would a result at (start, end) with this score be reported? Lets a recognizer
# skip validating candidates whose answer cannot change the findings.
Keep = Callable[[int, int, float], bool]


class BoundedCache:
    """A dict that forgets its oldest entries when it holds `size` entries or
    `weight` in all (each entry weighs what `put` says; a lost or repeated entry
    only costs a recomputation)."""

    def __init__(self, size: int, weight: int | None = None) -> None:
        self.size = size
        self.weight = weight
        self._data: dict = {}
        self._weights: dict = {}
        self._held = 0
        self._lock = threading.Lock()

    def get(self, key: object, default: object = None) -> object:
        return self._data.get(key, default)

    def put(self, key: object, value: object, weight: int = 0) -> None:
        with self._lock:
            data = self._data
            if key in data:
                return
            while data and (
                len(data) >= self.size or (self.weight is not None and self._held + weight > self.weight)
            ):
                for old in list(data)[: max(1, len(data) // 4)]:
                    del data[old]
                    self._held -= self._weights.pop(old, 0)
            data[key] = value
            if weight:
                self._weights[key] = weight
                self._held += weight

    def __len__(self) -> int:
        return len(self._data)


class _Runner:
    """One recognizer as the sweep runs it: its regexes compiled once, its
    validation of each distinct candidate cached, and no per-match bookkeeping
    (Presidio's explanations and timings are not used on the data path).

    The recognizer is built when a value first passes its prefilter: building
    compiles and checks every pattern, which most recognizers of a broad policy
    never need on a given table. What the sweep needs before that (whether the
    recognizer finds its own spans, its context words) comes from the spec."""

    def __init__(self, spec: RecognizerSpec, threshold: float) -> None:
        self.spec = spec
        self.threshold = threshold
        self.finds_own_spans = spec.finds_own_spans
        self._built = False
        self._lock = threading.Lock()

    def _build(self) -> None:
        with self._lock:
            if self._built:
                return
            self.recognizer = self.spec.build()
            self.name = self.recognizer.name
            self.context = frozenset(w.lower() for w in (self.recognizer.context or ()))
            self.lazy = getattr(self.recognizer, "find_spans", None)
            self._lean = isinstance(self.recognizer, PatternRecognizer) and (
                type(self.recognizer).analyze is PatternRecognizer.analyze
            )
            if self._lean:
                flags = self.recognizer.global_regex_flags
                self._patterns = [
                    (regex.compile(p.regex, flags=flags), p.score) for p in self.recognizer.patterns
                ]
                self._checks = BoundedCache(CANDIDATE_CACHE_SIZE)
            self._built = True

    def spans(self, text: str, keep: Keep) -> list[Span]:
        if not self._built:
            self._build()
        if self.lazy is not None:
            return self.lazy(text, keep)
        if self._lean:
            return self._lean_spans(text)
        return [
            (r.start, r.end, float(r.score)) for r in self.recognizer.analyze(text, [self.spec.entity], None)
        ]

    def _lean_spans(self, text: str) -> list[Span]:
        """PatternRecognizer.analyze's scoring, on plain tuples."""
        found: list[Span] = []
        for compiled, base in self._patterns:
            for m in compiled.finditer(text):
                start, end = m.span()
                if start == end:
                    continue
                score = self._check(text[start:end], base)
                if score > 0:
                    found.append((start, end, score))
        return _without_contained(found) if len(found) > 1 else found

    def _check(self, candidate: str, base: float) -> float:
        key = (candidate, base)
        score = self._checks.get(key)
        if score is None:
            score = base
            valid = self.recognizer.validate_result(candidate)
            if valid is not None:
                score = 1.0 if valid else 0.0
            if self.recognizer.invalidate_result(candidate):
                score = 0.0
            self._checks.put(key, score)
        return score


def _without_contained(spans: list[Span]) -> list[Span]:
    """Presidio's remove_duplicates for one entity: drop a result that another
    contains with an equal or higher score."""
    kept: list[Span] = []
    for s in sorted(set(spans), key=lambda s: (s[0], s[0] - s[1], -s[2])):
        if not any(k[0] <= s[0] and s[1] <= k[1] and s[2] <= k[2] for k in kept):
            kept.append(s)
    return kept


class _SweepState:
    """What sweeps of the same specs and thresholds share: the recognizers,
    ordered so that lazy ones run after the others, and the value cache."""

    def __init__(self, specs: Sequence[RecognizerSpec], thresholds: dict[str, float]) -> None:
        runners = [_Runner(spec, thresholds[spec.entity]) for spec in specs]
        self.runners = [r for r in runners if not r.finds_own_spans] + [r for r in runners if r.finds_own_spans]
        self.values = BoundedCache(VALUE_CACHE_SIZE, VALUE_CACHE_CHARS)
        self._prefilters: dict[tuple[str, ...], tuple[list[str], str]] = {}
        known = [spec.context for spec in specs]
        self._context_words = (
            None if any(words is None for words in known) else frozenset(w for words in known for w in words)
        )

    def relevant(self, context: Sequence[str]) -> tuple[str, ...]:
        """The column's words that some recognizer's context holds. The others
        change no finding, so leaving them out of the cache key lets the plan's
        sample (read with its column's name) and the protect stage (without it)
        share analyzed values. All of them while a recognizer's context is
        unknown (see RecognizerSpec.context)."""
        words = self._context_words
        return tuple(context) if words is None else tuple(w for w in context if w in words)

    def prefilters(self, context: tuple[str, ...]) -> tuple[list[str], str]:
        """Each runner's prefilter for a column with these context words, and all of
        them in one: the narrower `unboosted` one where a weak result could only be
        reported next to a context word and the column's name holds none."""
        got = self._prefilters.get(context)
        if got is None:
            words = set(context)
            each = [
                r.spec.unboosted
                if r.spec.unboosted and r.threshold > r.spec.weak_score and not words & set(r.spec.context or ())
                else r.spec.prefilter
                for r in self.runners
            ]
            got = (each, "|".join(f"(?:{p})" for p in each))
            self._prefilters[context] = got
        return got

    def analyze(self, text: str, context: tuple[str, ...], hits: Sequence[bool]) -> list[Finding]:
        """Findings in one text, from the recognizers whose prefilter it passed."""
        out: list[Finding] = []
        for runner, hit in zip(self.runners, hits, strict=True):
            if not hit:
                continue
            scored = _Scorer(runner, text, context, out)
            for start, end, score in runner.spans(text, scored.keep):
                score = scored.boosted(start, end, score)
                if score >= runner.threshold:
                    out.append(Finding(runner.spec.entity, start, end, round(score, 4), runner.name))
        return out


class _Scorer:
    """The sweep's reporting rule for one recognizer on one text: the context
    boost, the threshold, and (for `keep`) the findings already made."""

    def __init__(self, runner: _Runner, text: str, context: tuple[str, ...], found: list[Finding]) -> None:
        self.runner, self.text, self.context, self.found = runner, text, context, found

    def boosted(self, start: int, end: int, score: float) -> float:
        r = self.runner
        if score < r.threshold and _near_context(self.text, start, end, r.context, self.context):
            return min(1.0, score + CONTEXT_BOOST)
        return score

    def keep(self, start: int, end: int, score: float) -> bool:
        """Whether a result would be reported and would label its span: a surer
        finding that holds the span labels the merged span alone (merge_overlaps)."""
        score = self.boosted(start, end, score)
        return score >= self.runner.threshold and not any(
            f.start <= start and end <= f.end and f.score > score for f in self.found
        )


_states: weakref.WeakValueDictionary[tuple, _SweepState] = weakref.WeakValueDictionary()
_states_lock = threading.Lock()


def _shared_state(specs: Sequence[RecognizerSpec], thresholds: dict[str, float]) -> _SweepState:
    """One state per (specs, thresholds): the Detector that protects and the one
    that verifies the output of the same policy share recognizers and caches.
    Kept alive by the sweeps that use it."""
    key = tuple((spec, thresholds[spec.entity]) for spec in specs)
    with _states_lock:
        state = _states.get(key)
        if state is None:
            state = _SweepState(specs, thresholds)
            _states[key] = state
        return state


class PatternSweep:
    def __init__(self, specs: list[RecognizerSpec], thresholds: dict[str, float]) -> None:
        self._state = _shared_state(specs, thresholds)
        self._specs = list(specs)

    @property
    def entities(self) -> list[str]:
        return [spec.entity for spec in self._specs]

    def find(self, values: pa.Array, context: Sequence[str] = ()) -> dict[int, list[Finding]]:
        """Findings by position, for the values that have any (nulls never do).

        Sparse, because most values of most columns hold nothing; pass distinct
        values, each is analyzed once. `context` words (a column's name) count
        as present in every value.
        """
        out: dict[int, list[Finding]] = {}
        state = self._state
        if not len(values) or not state.runners:
            return out
        ctx = state.relevant(context)
        each, any_ = state.prefilters(ctx)
        candidates = _true_positions(pc.match_substring_regex(values, any_))
        if not len(candidates):
            return out
        subset = values.take(pa.array(candidates))
        texts = subset.to_pylist()
        cache = state.values
        todo: list[int] = []
        for i, text in enumerate(texts):
            found = cache.get((text, ctx)) if len(text) <= MAX_CACHED_VALUE else None
            if found is None:
                todo.append(i)
            elif found:
                out[int(candidates[i])] = list(found)
        if not todo:
            return out
        rest = subset.take(pa.array(todo)) if len(todo) < len(texts) else subset
        # Which runners' prefilters each value passed, as one row of bools per value.
        hits = np.column_stack(
            [pc.match_substring_regex(rest, p).fill_null(False).to_numpy(zero_copy_only=False) for p in each]
        ).tolist()
        for i, hit in zip(todo, hits, strict=True):
            text = texts[i]
            found = state.analyze(text, ctx, hit)
            if len(text) <= MAX_CACHED_VALUE:
                cache.put((text, ctx), tuple(found), len(text))
            if found:
                out[int(candidates[i])] = found
        return out


def _near_context(
    text: str, start: int, end: int, words: frozenset[str], column_words: Sequence[str]
) -> bool:
    """A context word within a few words before the finding (or just after),
    or in the column's name: Presidio's context rule, made cheap. `words` are
    lower case."""
    if not words:
        return False
    if not words.isdisjoint(column_words):
        return True
    window = text[max(0, start - CONTEXT_BEFORE) : start] + " " + text[end : end + CONTEXT_AFTER]
    # Plurals count ("ZIPs 10001 and 30301", "phones: ...").
    return any(
        w in words or (w[-1] == "s" and w[:-1] in words) for w in _WORD.findall(window.lower())
    )


def _true_positions(mask: pa.Array) -> np.ndarray:
    return np.flatnonzero(mask.fill_null(False).to_numpy(zero_copy_only=False))
