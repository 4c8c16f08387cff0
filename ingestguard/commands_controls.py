"""`ingestguard controls`: the SOC 2 control catalog, for people and for tools."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table


class CatalogFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def controls(
    format: Annotated[CatalogFormat, typer.Option("--format", "-f")] = CatalogFormat.table,
) -> None:
    """Print the control catalog: what each control promises, how a run tests it, its SOC 2 criteria."""
    # Imported here: its pydantic models cost every other command (and --help) 70 ms to build.
    from ingestguard.reports.controls import CATALOG, catalog_csv

    if format == CatalogFormat.json:
        sys.stdout.write(json.dumps([c.to_dict() for c in CATALOG], indent=2) + "\n")
    elif format == CatalogFormat.csv:
        sys.stdout.write(catalog_csv())
    else:
        table = Table(title="ingestguard controls", title_justify="left", show_lines=True)
        for header in ("control", "SOC 2 criteria", "what it promises", "how a run tests it"):
            table.add_column(header, overflow="fold")
        for c in CATALOG:
            table.add_row(c.id, ", ".join(c.criteria), c.title, c.test)
        Console().print(table)
