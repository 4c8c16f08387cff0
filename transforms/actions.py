"""The action registry: one small class per policy action, in an explicit table.

An action answers one question, what replaces this value of this entity type;
callers decide whether the value is a whole cell or a span inside free text.
`None` means the value is removed (a null cell, or an empty span).
"""

from __future__ import annotations

from ingestguard.keys import Key
from ingestguard.policy import Action, Policy
from ingestguard.transforms.crypto import Pseudonymizer


class Transform:
    name: Action

    def apply(self, value: str, entity: str) -> str | None:
        raise NotImplementedError


class Redact(Transform):
    name = Action.REDACT

    def apply(self, value: str, entity: str) -> str | None:
        return None


class DropColumn(Redact):
    """Whole columns are dropped by the pipeline; inside free text it redacts."""

    name = Action.DROP_COLUMN


class Replace(Transform):
    name = Action.REPLACE

    def apply(self, value: str, entity: str) -> str | None:
        return f"<{entity}>"


class Mask(Transform):
    name = Action.MASK

    def __init__(self, keep_last: int, char: str) -> None:
        self.keep_last = keep_last
        self.char = char

    def apply(self, value: str, entity: str) -> str | None:
        # Keep the tail only when at least as much is masked as is kept.
        keep = self.keep_last if len(value) > 2 * self.keep_last else 0
        return self.char * (len(value) - keep) + (value[-keep:] if keep else "")


class Pseudonymize(Transform):
    name = Action.PSEUDONYMIZE

    def __init__(self, pseudonymizer: Pseudonymizer) -> None:
        self.pseudonymizer = pseudonymizer

    def apply(self, value: str, entity: str) -> str | None:
        return self.pseudonymizer.token(entity, value)


class Keep(Transform):
    name = Action.KEEP

    def apply(self, value: str, entity: str) -> str | None:
        return value


def build_transforms(policy: Policy, key: Key | None) -> dict[Action, Transform]:
    """The table of transforms a run uses; pseudonymization only with a key.

    A scan passes no key: it transforms nothing, and must not generate a key file.
    """
    table: dict[Action, Transform] = {
        Action.REDACT: Redact(),
        Action.DROP_COLUMN: DropColumn(),
        Action.REPLACE: Replace(),
        Action.MASK: Mask(policy.mask.keep_last, policy.mask.char),
        Action.KEEP: Keep(),
    }
    if key is not None:
        table[Action.PSEUDONYMIZE] = Pseudonymize(Pseudonymizer(key, policy.pseudonymize.hex_chars))
    return table
