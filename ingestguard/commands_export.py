"""CLI commands that export evidence: `export oscal` and `audit-pack`.

Kept out of cli.py so that module stays a list of commands; the heavy parts
(reports.oscal, reports.pack, keys) load only when a command runs, and the
shared error handling and consoles come from cli.py at call time (importing
them at module load would be circular: cli.py registers these commands).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

export_app = typer.Typer(no_args_is_help=True, help="Export evidence in standard formats.")


@export_app.command("oscal")
def export_oscal(
    evidence: Annotated[list[Path], typer.Argument(help="Evidence JSON files: one run, or a period's runs.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here (atomically) instead of stdout.")
    ] = None,
) -> None:
    """OSCAL 1.2 assessment-results JSON: one result per run, one finding per control."""
    from ingestguard.cli import _errors

    with _errors():
        from ingestguard.reports.oscal import assessment_results, read_all, to_json

        text = to_json(assessment_results(read_all(evidence)))
        if out_file is None:
            sys.stdout.write(text)
        else:
            _write_text(out_file, text)


def audit_pack(
    out_zip: Annotated[Path, typer.Argument(help="The zip to write, e.g. audit-2026Q4.zip.")],
    since: Annotated[str, typer.Option(help="First day (YYYY-MM-DD) or ISO datetime; naive is UTC.")],
    until: Annotated[str, typer.Option(help="Last day, included (or an ISO datetime, excluded).")],
    evidence_dir: Annotated[
        Path, typer.Option("--evidence-dir", help="Where the runs' *.evidence.json files are.")
    ] = Path("."),
    ledger: Annotated[
        Path | None, typer.Option(help="The ledger file (default: ledger.jsonl in the evidence directory).")
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="PEM to include (default: this machine's signing key, if any)."),
    ] = None,
) -> None:
    """Zip a period's evidence, ledger slice, public key, control CSVs, OSCAL and a manifest."""
    from ingestguard.cli import _errors, err, out

    with _errors():
        from ingestguard.reports.pack import build_pack, parse_period

        period = parse_period(since, until)
        result = build_pack(out_zip, evidence_dir, period, ledger=ledger, public_key=_key_source(public_key))
        for warning in result.warnings:
            err.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
        out.print(
            f"wrote {out_zip}: {result.runs} runs, {result.ledger_records} ledger records, "
            f"{len(result.files)} files (manifest.json lists their sha256)"
        )


def _key_source(path: Path | None):
    """Where the pack's public key comes from; never creates a signing key as a side effect."""

    def from_file() -> bytes:
        from ingestguard.errors import ExportError

        try:
            return path.read_bytes()  # type: ignore[union-attr]
        except OSError:
            raise ExportError(
                f"public key file not found: {path}; pass the PEM from `keys export-public`"
            ) from None

    def from_machine() -> bytes | None:
        from ingestguard.keys import signing_key_path, signing_public_key_pem

        if not signing_key_path().is_file():
            return None  # no signing key here: nothing was signed with one
        return signing_public_key_pem()

    return from_file if path is not None else from_machine


def _write_text(path: Path, text: str) -> None:
    """Temp file beside `path`, then rename, so a reader never sees half a document."""
    from ingestguard.errors import ExportError

    tmp = path.with_name(f".{path.name}.partial")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path} ({exc.strerror}); choose a writable --out") from None
