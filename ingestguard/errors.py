"""The error hierarchy: one base class, a few subclasses, one-line messages.

Every message names the problem and the fix, and never holds a data value:
messages end up in logs, Prefect states and CI output.
"""

from __future__ import annotations


class IngestGuardError(Exception):
    """Base class of every error ingestguard raises on purpose."""

    exit_code = 2


class PolicyError(IngestGuardError):
    """The policy file or a policy value is invalid."""


class InputError(IngestGuardError):
    """The input cannot be read as a dataset, or the output path is unusable."""


class KeyringError(IngestGuardError):
    """No usable key: missing, malformed, or with unsafe file permissions."""


class KeyDestroyedError(KeyringError):
    """A keyring version was destroyed (crypto-shredded): what it protected stays protected."""


class KeyUnwrapError(KeyringError):
    """A stored data key does not unwrap: the wrong key-encryption key, or an edited keyring."""


class ModelNotFoundError(IngestGuardError):
    """The NLP model named in the policy is not installed."""


class ScanError(IngestGuardError):
    """Something in the data could not be scanned, so it cannot be vouched for."""


class LedgerError(IngestGuardError):
    """The evidence ledger cannot be read, appended to, or does not verify."""


class PolicyViolation(IngestGuardError):
    """A `fail_on` entity was found in a scan or left behind in an output."""

    exit_code = 1


class ExportError(IngestGuardError):
    """An export or audit pack cannot be built from the given evidence, period or ledger."""


class TokenError(IngestGuardError):
    """A token or format-preserving ciphertext cannot be reversed."""


class TamperedTokenError(TokenError):
    """A token is malformed, was altered, or was made under another key."""


class TokenKeyVersionError(TokenError):
    """The key version a token names is unknown to the keyring or was destroyed."""


class FpeDomainError(IngestGuardError):
    """A value cannot be format-preserving encrypted: too short, or not of the expected form."""


class UnprotectedDataError(IngestGuardError):
    """The training gate found no passing, signed ledger record for this data under the current policy."""

    exit_code = 1


class StreamNotFinishedError(IngestGuardError):
    """A stream's evidence was asked for before the stream was read to its end (and so verified)."""
