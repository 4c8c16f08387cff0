"""The `ingestguard` command: a thin layer over the library and the flow.

Exit codes: 0 success, 1 the policy was violated, 2 bad input or usage,
3 an internal error (a bug: the run failed closed and wrote nothing).
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingestguard.commands_controls import controls
from ingestguard.commands_export import audit_pack, export_app
from ingestguard.commands_model_card import model_card
from ingestguard.errors import IngestGuardError

if TYPE_CHECKING:  # the policy's pydantic models cost --help 100 ms: loaded by the commands that read one
    from ingestguard.policy import Policy

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Scan, protect and prove datasets before they reach a model.",
)
policy_app = typer.Typer(no_args_is_help=True, help="Show the effective policy or its schema.")
key_app = typer.Typer(
    no_args_is_help=True,
    help="The data owner's keys: new pseudonym key, public signing key, the keyring of reversible actions.",
)
app.add_typer(policy_app, name="policy")
app.add_typer(key_app, name="keys")
app.add_typer(key_app, name="key", hidden=True)  # the first round's name, kept working
app.command("controls")(controls)
out = Console()
err = Console(stderr=True)

PolicyOpt = Annotated[Path | None, typer.Option("--policy", "-p", help="Policy YAML file.")]


class Format(StrEnum):
    table = "table"
    json = "json"


@contextmanager
def _errors():
    """Typed errors become one line and their exit code; anything else fails closed."""
    try:
        yield
    except IngestGuardError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:
        if os.environ.get("INGESTGUARD_DEBUG"):
            raise
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}; nothing was written. "
            "Rerun with INGESTGUARD_DEBUG=1 for the traceback.",
            highlight=False,
        )
        raise typer.Exit(3) from None


def _load_policy(path: Path | None) -> tuple[Policy, str]:
    from ingestguard.policy import Policy

    return (Policy.load(path), str(path)) if path else (Policy(), "default")


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@app.command()
def scan(
    input: Annotated[str, typer.Argument(help="Data file (Parquet, JSON lines or CSV), directory or glob.")],
    policy: PolicyOpt = None,
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """Report what is sensitive, column by column. Writes nothing."""
    with _errors():
        from ingestguard.errors import PolicyViolation
        from ingestguard.io import list_inputs, open_source
        from ingestguard.runs import new_run, scan_paths

        pol, source = _load_policy(policy)
        paths = list_inputs(input)[0]
        # Opening every input first checks them all before any work (and counts rows).
        total = sum(open_source(p).num_rows for p in paths)
        with _progress("scanning") as bar:
            task = bar.add_task("scan", total=total)
            evidence = scan_paths(paths, new_run(pol, source, "none"), lambda n: bar.advance(task, n))
        if format == Format.json:
            out.print_json(evidence.model_dump_json())
        else:
            _print_scan_table(evidence)
        if evidence.status != "passed":
            raise PolicyViolation(evidence.failure or "policy violated")


def _print_scan_table(evidence) -> None:
    for f in evidence.files:
        table = Table(title=f"{f.input} ({f.rows} rows)", title_justify="left")
        for h in ("column", "type", "class", "entity", "share", "findings", "action"):
            table.add_column(h)
        for c in f.columns:
            table.add_row(
                c.name,
                c.type,
                c.classification,
                c.entity or "",
                "" if c.match_share is None else f"{c.match_share:.0%}",
                ", ".join(f"{k} {v}" for k, v in c.findings.items()),
                c.action,
            )
        out.print(table)


@app.command()
def protect(
    input: Annotated[str, typer.Argument(help="Data file (Parquet, JSON lines or CSV), directory or glob.")],
    output: Annotated[str, typer.Argument(help="Output file, or directory (ending in /) for many inputs.")],
    policy: PolicyOpt = None,
    evidence_dir: Annotated[
        Path | None, typer.Option(help="Where evidence goes (default: beside the output).")
    ] = None,
    no_orchestrator: Annotated[
        bool, typer.Option("--no-orchestrator", help="Run in-process, without Prefect.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Local worker processes (default: one per core).")
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option(
            "--dask-address", help="Run on an existing Dask cluster: tcp://HOST:PORT (extra: dask)."
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout", min=0.001, help="Seconds per task; past it the worker is stopped, the run fails."
        ),
    ] = None,
    part_rows: Annotated[
        int | None,
        typer.Option(
            "--part-rows",
            min=1,
            help="Divide Parquet files larger than this into tasks of this many rows (default: files "
            "with free text over one worker's share of the run, in parts of 65,536 rows).",
        ),
    ] = None,
) -> None:
    """Protect a dataset and write its evidence; outputs appear only if the run passes.
    Running the same command again after a crash skips the files already done."""
    with _errors():
        pol, source = _load_policy(policy)
        if no_orchestrator and (workers or dask_address or timeout or part_rows):
            from ingestguard.errors import InputError

            raise InputError(
                "--workers, --dask-address, --timeout and --part-rows run through the orchestrator; "
                "drop --no-orchestrator"
            )
        if no_orchestrator:
            from ingestguard.io import open_source, resolve_inputs
            from ingestguard.runs import evidence_paths, ledger_path, new_run, protect_pairs

            pairs = resolve_inputs(input, output)
            ctx = new_run(pol, source, "none")
            path = evidence_paths(Path(output), ctx.run_id, evidence_dir)
            # Every input is opened (checked) before any is protected: a bad file
            # stops the run before anything is created at the destination.
            total = sum(open_source(p.source).num_rows for p in pairs)
            with _progress("protecting") as bar:
                task = bar.add_task("protect", total=total)
                record = protect_pairs(pairs, ctx, path, lambda n: bar.advance(task, n))
            summary = {
                "evidence": str(record.evidence_path),
                "report": str(record.report_path),
                "ledger": str(ledger_path(pol, path)),
                "key": record.evidence.key,
            }
        else:
            from ingestguard.flows.protect import (
                Execution,
                ProtectRequest,
                heartbeats_only_to_a_real_server,
                protect_dataset,
            )

            request = ProtectRequest(
                input_path=input,
                output_path=output,
                policy_path=str(policy) if policy else None,
                evidence_dir=str(evidence_dir) if evidence_dir else None,
            )
            execution = Execution(
                workers=workers, dask_address=dask_address, timeout_seconds=timeout, part_rows=part_rows
            )
            with heartbeats_only_to_a_real_server():
                summary = protect_dataset(request, execution)
        key = summary["key"]
        if key and key.get("generated"):
            err.print(
                f"generated a new key ({key['id']}) at {str(key['source']).removeprefix('file:')}; "
                "keep it safe: pseudonyms depend on it"
            )
        out.print(f"protected {input} -> {output}")
        if summary.get("reused"):
            out.print(
                f"resumed:  {summary['reused']} of {summary['files']} files were done by an earlier run"
            )
        out.print(f"evidence: {summary['evidence']}")
        out.print(f"report:   {summary['report']}")
        out.print(f"ledger:   {summary['ledger']} (check it with `ingestguard verify`)")


@app.command()
def serve(
    input: Annotated[str, typer.Argument(help="Folder, file or glob to guard.")],
    output: Annotated[str, typer.Argument(help="Output directory.")],
    policy: PolicyOpt = None,
    evidence_dir: Annotated[
        Path | None, typer.Option(help="Where evidence goes (default: beside the output).")
    ] = None,
    name: Annotated[str, typer.Option("--name", help="Deployment name.")] = "guard",
    cron: Annotated[str | None, typer.Option("--cron", help="Run on this cron schedule.")] = None,
    interval: Annotated[
        float | None, typer.Option("--interval", min=1, help="Run every this many seconds.")
    ] = None,
    on_file_event: Annotated[
        bool,
        typer.Option(
            "--on-file-event",
            help="Also run for each 'ingestguard.file.arrived' event (resource label ingestguard.path).",
        ),
    ] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Local worker processes (default: one per core).")
    ] = None,
    dask_address: Annotated[
        str | None, typer.Option("--dask-address", help="Run the protect work on this Dask scheduler.")
    ] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", min=0.001, help="Seconds per file.")] = None,
) -> None:
    """Serve the protect flow as a Prefect deployment (needs PREFECT_API_URL):
    on a schedule, per new file, or when started from the Prefect UI."""
    with _errors():
        from ingestguard.flows.protect import Execution, ProtectRequest
        from ingestguard.flows.serve import deployment
        from ingestguard.flows.serve import serve as serve_deployment

        _load_policy(policy)  # a bad policy fails here, not in every run
        request = ProtectRequest(
            input_path=input,
            output_path=output,
            policy_path=str(policy.resolve()) if policy else None,
            evidence_dir=str(evidence_dir.resolve()) if evidence_dir else None,
        )
        execution = Execution(workers=workers, dask_address=dask_address, timeout_seconds=timeout)
        serve_deployment(deployment(name, request, execution, cron, interval, on_file_event))


class ReportFormat(StrEnum):
    md = "md"
    html = "html"


@app.command()
def report(
    evidence: Annotated[Path, typer.Argument(help="An evidence JSON file.")],
    fmt: Annotated[
        ReportFormat,
        typer.Option(
            "--format", "-f", help="md for terminals and tickets, html for one self-contained page."
        ),
    ] = ReportFormat.md,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Render an evidence file as Markdown or HTML (stdout, or --out FILE)."""
    with _errors():
        from pydantic import ValidationError

        from ingestguard.errors import InputError
        from ingestguard.reports.evidence import Evidence
        from ingestguard.reports.render import to_html, to_markdown

        try:
            doc = Evidence.read(evidence)
        except FileNotFoundError:
            raise InputError(f"evidence file not found: {evidence}") from None
        except (ValueError, ValidationError):
            raise InputError(f"not an ingestguard evidence file: {evidence}") from None
        text = to_html(doc) if fmt is ReportFormat.html else to_markdown(doc)
        if out_file is None:
            sys.stdout.write(text)
            return
        if not out_file.parent.is_dir():
            raise InputError(f"no such directory for --out: {out_file.parent}")
        # Temp file and rename, so a reader never sees half a report.
        tmp = out_file.with_name(f".{out_file.name}.partial")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out_file)
        err.print(f"report: {out_file}")


@policy_app.command("show")
def policy_show(policy: PolicyOpt = None) -> None:
    """Print the effective policy (defaults filled in) as YAML."""
    with _errors():
        sys.stdout.write(_load_policy(policy)[0].to_yaml())


@policy_app.command("schema")
def policy_schema() -> None:
    """Print the policy's JSON Schema."""
    from ingestguard.policy import Policy

    sys.stdout.write(json.dumps(Policy.model_json_schema(), indent=2) + "\n")


@key_app.command("new")
def key_new() -> None:
    """Print a new random key (base64) for INGESTGUARD_KEY or a key file."""
    from ingestguard.keys import new_key_b64

    sys.stdout.write(new_key_b64() + "\n")


@app.command()
def detokenize(
    input: Annotated[Path, typer.Argument(help="A protected Parquet file.")],
    output: Annotated[Path, typer.Argument(help="Where to write the re-identified file.")],
    columns: Annotated[
        str, typer.Option("--columns", help="Columns to reverse: tokens, or FPE as COL:ENTITY[@VERSION].")
    ],
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why: one of the policy's reidentification.purposes.")
    ],
    actor: Annotated[str | None, typer.Option("--actor", help="Who (default: the OS user).")] = None,
    ledger: Annotated[
        Path | None, typer.Option("--ledger", help="Ledger to record the use in (default: the policy's).")
    ] = None,
    policy: PolicyOpt = None,
) -> None:
    """Reverse tokens and FPE for an allowed purpose; the use is recorded in the ledger first."""
    with _errors():
        from ingestguard import Guard

        pol, source = _load_policy(policy)
        record = Guard(pol, source).detokenize_file(input, output, columns, purpose, actor, ledger)
        counts = ", ".join(f"{c}: {n}" for c, n in record["values_reversed"].items())
        out.print(f"re-identified {input} -> {output} ({counts}) for '{purpose}', recorded in the ledger")


@key_app.command("export-public")
def keys_export_public() -> None:
    """Print the ledger's public signing key (PEM), for auditors to run `verify` with."""
    with _errors():
        from ingestguard.keys import signing_public_key_pem

        sys.stdout.write(signing_public_key_pem().decode())


@key_app.command("list")
def keys_list(
    policy: PolicyOpt = None,
    format: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
) -> None:
    """List the keyring's versions: number, key id, status, created (never material)."""
    with _errors():
        from ingestguard.keyring import KEYRING_NAME, Keyring
        from ingestguard.keys import key_home

        pol, _ = _load_policy(policy)
        if not (key_home() / KEYRING_NAME).exists():
            out.print(
                f"no keyring yet at {key_home() / KEYRING_NAME}; `ingestguard keys rotate` makes one",
                soft_wrap=True,
            )
            return
        ring = Keyring.open(pol, create=False)
        versions = ring.versions()
        if format == Format.json:
            out.print_json(
                json.dumps({"keyring": str(ring.path), "backend": ring.describe(), "versions": versions})
            )
            return
        table = Table(
            title=f"{ring.path} ({ring.backend.name} backend; dates UTC, times in --format json)",
            title_justify="left",
        )
        for h in ("version", "key id", "status", "created", "destroyed"):
            table.add_column(h, no_wrap=True)
        for v in versions:
            when = [v["created"], v.get("destroyed", "")]
            table.add_row(str(v["version"]), v["key_id"], v["status"], *(t[:10] for t in when))
        out.print(table)


@key_app.command("rotate")
def keys_rotate(policy: PolicyOpt = None) -> None:
    """Make a new key version for new tokens; older versions stay usable for reversing."""
    with _errors():
        from ingestguard.keyring import KEYRING_NAME, Keyring
        from ingestguard.keys import key_home

        pol, _ = _load_policy(policy)
        if not (key_home() / KEYRING_NAME).exists():
            current = Keyring.open(pol).current()
            out.print(
                f"made the keyring {key_home() / KEYRING_NAME}: version {current.version} ({current.key_id}) is current",
                soft_wrap=True,
            )
            return
        current = Keyring.open(pol, create=False).rotate()
        out.print(
            f"key version {current.version} ({current.key_id}) is now current; "
            "older versions are retired and still reverse their tokens",
            soft_wrap=True,
        )


@key_app.command("rekey")
def keys_rekey(
    input: Annotated[Path, typer.Argument(help="A protected Parquet file.")],
    output: Annotated[Path, typer.Argument(help="Where to write the re-keyed file.")],
    columns: Annotated[
        str | None,
        typer.Option("--columns", help="Token columns to re-key, C[,C...] (default: every string column)."),
    ] = None,
    fpe: Annotated[
        str | None,
        typer.Option(
            "--fpe", help="FPE columns with the version they were encrypted with: COL:ENTITY@VERSION,..."
        ),
    ] = None,
    policy: PolicyOpt = None,
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger", help="Ledger for the rekey record (default: the policy's, else the key home's)."
        ),
    ] = None,
) -> None:
    """Re-tokenize (and re-encrypt FPE columns) under the newest key version, so
    older versions can be destroyed. Written atomically; recorded in the ledger."""
    with _errors():
        from ingestguard.rekey import rekey_file
        from ingestguard.runs import event_ledger_path

        pol, _ = _load_policy(policy)
        record = rekey_file(input, output, pol, columns, fpe, ledger)
        moved = sum(record["tokens_rekeyed"].values())
        current = sum(record["tokens_already_current"].values())
        values = sum(record["fpe_values_rekeyed"].values())
        versions = ", ".join(f"v{v}" for v in record["from_versions"]) or "none"
        out.print(
            f"re-keyed {input} -> {output} under key version {record['to_version']}: "
            f"{moved} tokens moved (from {versions}), {current} already current, {values} FPE values; "
            f"recorded in {event_ledger_path(pol, ledger)}",
            soft_wrap=True,
            highlight=False,
        )


@key_app.command("destroy")
def keys_destroy(
    version: Annotated[int, typer.Argument(help="The key version to destroy (see `keys list`).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    policy: PolicyOpt = None,
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger", help="Ledger for the disposal record (default: the policy's, else the key home's)."
        ),
    ] = None,
) -> None:
    """Crypto-shred a retired key version: what it protected can never be reversed
    again. The current version is refused (rotate first). Records the disposal
    in the evidence ledger."""
    with _errors():
        from ingestguard.errors import KeyringError
        from ingestguard.keyring import Keyring, destroy_recorded
        from ingestguard.runs import event_ledger_path

        pol, _ = _load_policy(policy)
        ring = Keyring.open(pol, create=False)
        ledger_file = event_ledger_path(pol, ledger)
        entry = next((v for v in ring.versions() if v["version"] == version), None)
        if entry is None:
            ring.version(version)  # raises the typed "no such version" error
        if entry["status"] == "active" and ring.current().version == version:
            raise KeyringError(
                f"key version {version} is the current key; run `ingestguard keys rotate` first, then destroy {version}"
            )
        if not yes and entry["status"] != "destroyed":
            sure = typer.confirm(
                f"Destroy key version {version} ({entry['key_id']})? "
                "Tokens and FPE values of that version can never be reversed again"
            )
            if not sure:
                err.print("nothing was destroyed")
                raise typer.Exit(1)
        entry, fresh = destroy_recorded(ring, version, ledger_file)
        what = "destroyed" if fresh else "was already destroyed; recorded its disposal"
        out.print(
            f"key version {version} ({entry['key_id']}) {what}; disposal recorded in {ledger_file}",
            soft_wrap=True,
        )


@app.command()
def verify(
    ledger: Annotated[Path, typer.Argument(help="A ledger.jsonl file.")],
    evidence: Annotated[
        Path | None,
        typer.Option("--evidence", help="Evidence directory: every document must be in the ledger."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="PEM public key (default: this machine's signing key)."),
    ] = None,
    is_slice: Annotated[
        bool,
        typer.Option(
            "--slice", help="The ledger is part of one (an audit pack's): start at its first record."
        ),
    ] = False,
) -> None:
    """Check the ledger's signatures, links and sequence; exit 1 naming the first bad record."""
    with _errors():
        from ingestguard.verify import verify_ledger

        verdict = verify_ledger(ledger, evidence, public_key, is_slice)
        if not verdict.ok:
            err.print(
                f"[bold red]ledger does not verify:[/] {verdict.problem}", highlight=False, soft_wrap=True
            )
            raise typer.Exit(1)
        out.print(f"ledger verified: {verdict.records} records, signatures and links intact")


@app.command()
def demo(
    output: Annotated[Path, typer.Argument(help="Where to write the demo Parquet file.")],
    rows: Annotated[int, typer.Option(min=1)] = 2_000,
    seed: int = 0,
) -> None:
    """Write a synthetic customers dataset with known sensitive values."""
    from ingestguard.demo import write_demo

    out.print(f"wrote {write_demo(output, rows, seed)} ({rows} rows)")


app.add_typer(export_app, name="export")
app.command("audit-pack")(audit_pack)
app.command("model-card")(model_card)
