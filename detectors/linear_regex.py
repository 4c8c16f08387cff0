"""Regexes that run in time linear in the text: a policy's own patterns.

A user's pattern such as `(a+)+$` makes a backtracking engine (Python's `re`,
the `regex` module Presidio uses) take exponential time on a long run of a's;
Presidio then gives up after its timeout and reports nothing, so one cell
would both stall the run and pass unscanned. RE2 (the engine behind
pyarrow's `match_substring_regex` prefilters) has no backtracking: what it
cannot run in linear time (backreferences, lookarounds, possessive or atomic
groups) it refuses to compile, which the policy turns into an error at load.
"""

from __future__ import annotations

import re2

# Presidio's default flags for pattern recognizers: ignore case, `^`/`$` at
# line breaks, `.` matches a line break; the user's pattern means the same here.
_PRESIDIO_FLAGS = "(?ims)"


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # the reason comes back in the exception instead
    return options


def compile_linear(pattern: str) -> re2._Regexp:
    """The pattern compiled by RE2 with Presidio's flags; ValueError with RE2's
    reason when RE2 cannot run it."""
    try:
        return re2.compile(_PRESIDIO_FLAGS + pattern, _options())
    except re2.error as exc:
        reason = exc.args[0].decode(errors="replace") if exc.args else "unsupported syntax"
        raise ValueError(reason) from None
