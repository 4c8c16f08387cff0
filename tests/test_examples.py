"""The worked examples run as written, and do what they say."""

from __future__ import annotations

import importlib.util
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ingestguard import Guard

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FIRST = ["Maria", "John", "Aisha", "Peter", "Laura", "David", "Sofia", "Michael",
         "Emma", "Robert", "Olivia", "James", "Hannah", "Thomas", "Grace", "Daniel"]  # fmt: skip
LAST = ["Lopez", "Smith", "Khan", "Novak", "Fischer", "Miller", "Rossi", "Brown",
        "Wilson", "Taylor", "Moore", "Clark", "Walker", "Young", "Allen", "Wright"]  # fmt: skip


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _home(monkeypatch, tmp_path):
    monkeypatch.setenv("INGESTGUARD_HOME", str(tmp_path / "home"))


def test_concurrent_requests_each_get_back_exactly_their_own_values():
    inference = load("inference")
    guard = Guard()  # one guard, shared by every request and thread
    people = [(f"{f} {last}", f"{f.lower()}.{last.lower()}{i}@example.com") for i, (f, last) in enumerate(zip(FIRST, LAST, strict=True))]
    seen: list[str] = []
    lock = threading.Lock()

    def recording_model(prompt: str) -> str:
        with lock:
            seen.append(prompt)
        return inference.echo_model(prompt)

    def request(person: tuple[str, str]) -> str:
        name, email = person
        question = f"Hello, my name is {name}. Please send the invoice to {email} today."
        return inference.answer(question, guard, recording_model)

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(request, people))

    assert len(seen) == 16
    every_value = [v for person in people for v in person]
    assert not [v for prompt in seen for v in every_value if v in prompt]  # the model saw no raw value
    for (name, email), reply in zip(people, answers, strict=True):
        assert reply == f"Thank you, {name} / {email}. We will get back to you."
        others = [v for person in people if person != (name, email) for v in person]
        assert not [v for v in others if v in reply]


def test_the_example_script_runs(capsys):
    load("inference").main()
    printed = capsys.readouterr().out
    assert "model: Thank you, Maria Lopez / maria.lopez@example.com." in printed
