"""ingestguard: scan, protect and prove datasets before they reach a model.

The public names load on first use (PEP 562): `import ingestguard` and every
CLI command that does not scan pay for Presidio, spaCy and pandas only when
they touch `Guard`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ingestguard.errors import (
    IngestGuardError,
    InputError,
    KeyringError,
    ModelNotFoundError,
    PolicyError,
    PolicyViolation,
    ScanError,
)

if TYPE_CHECKING:
    from ingestguard.context import RedactionContext
    from ingestguard.guard import Guard
    from ingestguard.policy import Action, Policy

# name -> the module that defines it, imported when the name is first used.
_LAZY = {
    "Action": "ingestguard.policy",
    "Guard": "ingestguard.guard",
    "Policy": "ingestguard.policy",
    "RedactionContext": "ingestguard.context",
}

__all__ = [
    "Action",
    "Guard",
    "IngestGuardError",
    "InputError",
    "KeyringError",
    "ModelNotFoundError",
    "Policy",
    "PolicyError",
    "PolicyViolation",
    "RedactionContext",
    "ScanError",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ingestguard' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
