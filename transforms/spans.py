"""Replacing findings inside free text, span by span.

Format-preserving encryption is for entity columns, where a downstream schema
needs the shape. Inside free text its output would look like the entity it
hides, so no residual re-scan could tell a leak from a ciphertext: there an
`fpe` entity is tokenized instead (reversible with the same keyring).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ingestguard.detectors.analyzer import Finding
from ingestguard.policy import Action, Policy
from ingestguard.transforms.actions import Transform


def replace_spans(
    text: str, findings: Sequence[Finding], policy: Policy, transforms: Mapping[Action, Transform]
) -> str:
    """Apply the policy's action for each (non-overlapping, sorted) finding."""
    if not findings:
        return text
    pieces, cursor = [], 0
    for f in findings:
        pieces.append(text[cursor : f.start])
        action = policy.action_for(f.entity_type)
        if action == Action.FPE:
            action = Action.TOKENIZE
        replacement = transforms[action].apply(text[f.start : f.end], f.entity_type)
        pieces.append(replacement or "")
        cursor = f.end
    pieces.append(text[cursor:])
    return "".join(pieces)
