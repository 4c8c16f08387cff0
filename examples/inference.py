"""Inference with ingestguard: the model sees placeholders, the user gets real values back.

    python examples/inference.py

`answer` redacts the prompt with a fresh `RedactionContext` (one per request:
a context is one conversation, so requests never share placeholders), calls
the model on the redacted prompt, and restores the values in the model's
answer. The `Guard` (its detectors and models, loaded once) is shared by all
requests and threads; only the context is per request.

`echo_model` stands in for a real model: it answers by repeating the
placeholders it was given, as a model does when it addresses the user by
name or quotes an address back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ingestguard import Guard, RedactionContext

PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*_[1-9][0-9]*>")


def echo_model(prompt: str) -> str:
    """A stand-in model: thanks the user by every placeholder in its prompt, in order."""
    named = PLACEHOLDER.findall(prompt)
    return "Thank you, " + " / ".join(named) + ". We will get back to you." if named else "Thank you."


def answer(question: str, guard: Guard, model: Callable[[str], str] = echo_model) -> str:
    """The model's answer to `question`; no sensitive value of it reaches the model."""
    context = RedactionContext()
    prompt = guard.redact_text(question, context=context)
    return guard.restore_text(model(prompt), context=context)


def main() -> None:
    guard = Guard()
    questions = [
        "Hi, I am Maria Lopez, please email me at maria.lopez@example.com about my order.",
        "This is John Smith; my address for the refund is john.smith@example.org.",
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for question, reply in zip(questions, pool.map(lambda q: answer(q, guard), questions), strict=True):
            print(f"user:  {question}\nmodel: {reply}\n")


if __name__ == "__main__":
    main()
