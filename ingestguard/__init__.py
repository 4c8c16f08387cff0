"""ingestguard: scan, protect and prove datasets before they reach a model."""

from ingestguard.context import RedactionContext
from ingestguard.errors import (
    IngestGuardError,
    InputError,
    KeyringError,
    ModelNotFoundError,
    PolicyError,
    PolicyViolation,
    ScanError,
)
from ingestguard.guard import Guard
from ingestguard.policy import Action, Policy

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
