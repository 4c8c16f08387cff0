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
    StreamNotFinishedError,
    UnprotectedDataError,
)

if TYPE_CHECKING:
    from ingestguard.context import RedactionContext
    from ingestguard.gate import ProtectionProof, guarded, require_protected
    from ingestguard.guard import Guard
    from ingestguard.model_cards import model_card
    from ingestguard.policy import Action, Policy

# name -> the module that defines it, imported when the name is first used.
_LAZY = {
    "Action": "ingestguard.policy",
    "Guard": "ingestguard.guard",
    "Policy": "ingestguard.policy",
    "ProtectionProof": "ingestguard.gate",
    "RedactionContext": "ingestguard.context",
    "guarded": "ingestguard.gate",
    "model_card": "ingestguard.model_cards",
    "require_protected": "ingestguard.gate",
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
    "ProtectionProof",
    "RedactionContext",
    "ScanError",
    "StreamNotFinishedError",
    "UnprotectedDataError",
    "guarded",
    "model_card",
    "require_protected",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ingestguard' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
