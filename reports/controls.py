"""The SOC 2 control catalog of the guard, and each run's control results.

The mapping follows `soc2-tsc.md` (criterion IDs as auditors write them, as in
the ciso-assistant `soc2-2017` library). It is the project's proposal of which
criteria each per-run control supports, not an auditor's opinion.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    criteria: tuple[str, ...]


SCAN_COVERAGE = Control(
    "IG-SCAN",
    "Every input column scanned or explicitly excluded before use",
    ("C1.1", "P3.1", "PI1.2", "CC2.1", "CC3.2"),
)
PROTECTION = Control(
    "IG-PROTECT",
    "Sensitive values redacted, masked or pseudonymized before the data leaves",
    ("P4.1", "C1.1", "CC6.1", "CC6.7", "PI1.3", "PI1.4"),
)
KEY_CUSTODY = Control(
    "IG-KEYS",
    "Keys held by the data owner; only key identifiers recorded",
    ("CC6.1",),
)
VIOLATIONS = Control(
    "IG-FAIL",
    "Policy violations and residual leaks fail the run and are reported",
    ("CC7.2", "CC7.3", "CC4.2", "P6.3"),
)
VERSIONS = Control(
    "IG-VERSIONS",
    "Policy, detector and model versions pinned and recorded",
    ("CC8.1", "CC7.1"),
)
RECONCILIATION = Control(
    "IG-RECONCILE",
    "Row counts and digests of inputs and outputs reconciled",
    ("PI1.2", "PI1.4", "PI1.5"),
)
EVIDENCE = Control(
    "IG-EVIDENCE",
    "Run evidence complete, timestamped and digested",
    ("CC2.1", "PI1.3", "PI1.5", "CC4.1"),
)

CATALOG: tuple[Control, ...] = (
    SCAN_COVERAGE,
    PROTECTION,
    KEY_CUSTODY,
    VIOLATIONS,
    VERSIONS,
    RECONCILIATION,
    EVIDENCE,
)


def result(control: Control, status: str, detail: str) -> dict:
    """One control's outcome for this run: passed, failed or not_applicable."""
    return {
        "id": control.id,
        "title": control.title,
        "status": status,
        "criteria": list(control.criteria),
        "detail": detail,
    }
