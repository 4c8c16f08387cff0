"""`ingestguard model-card RUN_ID`: the data-protection section of a model card.

Kept out of cli.py like the other command modules; the ledger, evidence and
policy modules load only when the command runs, and the shared error handling
comes from cli.py at call time (cli.py registers this command).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def model_card(
    run_id: Annotated[str, typer.Argument(help="The protect run's id (from its evidence or the training gate).")],
    ledger: Annotated[
        Path | None, typer.Option("--ledger", help="The ledger holding the run; default: the policy's.")
    ] = None,
    evidence_dir: Annotated[
        Path | None, typer.Option("--evidence-dir", help="Where the run's evidence is; default: the ledger's folder.")
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="The ledger's public key; default: this machine's.")
    ] = None,
    policy: Annotated[Path | None, typer.Option("--policy", "-p", help="Policy YAML file.")] = None,
) -> None:
    """Print Markdown for a model card: what was scanned, found and done, the verdict, the ledger record and SOC 2 criteria."""
    from ingestguard.cli import _errors

    with _errors():
        from ingestguard.model_cards import model_card as card

        sys.stdout.write(card(run_id, ledger, evidence_dir, public_key, policy))
