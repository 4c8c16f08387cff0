"""Commands that do not scan start without the scanning stack.

Each command runs in a fresh interpreter and the test reads which heavy
packages it imported: a module list, not a stopwatch (timings belong in
benchmarks/RESULTS.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingestguard.demo import write_demo

HEAVY = ("presidio_analyzer", "spacy", "onnxruntime", "prefect", "pandas", "faker", "pyarrow")
KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="

# Runs one CLI command in-process and prints its exit code and the heavy
# packages it left in sys.modules, as JSON on the last line.
PROBE = """
import json, sys
from typer.testing import CliRunner
from ingestguard.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
loaded = [m for m in {heavy!r} if m in sys.modules]
print(json.dumps({{"exit": result.exit_code, "heavy": loaded}}))
"""


def _probe(args: list[str], env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """One real protect run (in a subprocess, so this process stays as it was),
    for the commands that read its evidence and ledger."""
    root = tmp_path_factory.mktemp("fast")
    env = {**os.environ, "INGESTGUARD_HOME": str(root / "home"), "INGESTGUARD_KEY": KEY}
    src = write_demo(root / "in.parquet", rows=20)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from ingestguard.cli import app; app()",
            "protect",
            str(src),
            str(root / "out.parquet"),
            "--no-orchestrator",
            "--evidence-dir",
            str(root / "evidence"),
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return root, env


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["policy", "show"],
        ["policy", "schema"],
        ["keys", "new"],
        ["keys", "list"],
        ["keys", "export-public"],
        ["controls"],
        ["report", "{evidence}"],
        ["report", "{evidence}", "--format", "html"],
        ["verify", "{ledger}", "--evidence", "{evidence_dir}"],
    ],
    ids=lambda a: " ".join(a),
)
def test_command_starts_without_the_scanning_stack(finished_run, args):
    root, env = finished_run
    [evidence] = (root / "evidence").glob("*.evidence.json")
    names = {
        "evidence": evidence,
        "ledger": root / "evidence" / "ledger.jsonl",
        "evidence_dir": evidence.parent,
    }
    probe = _probe([a.format(**names) for a in args], env)
    assert probe["exit"] == 0
    assert probe["heavy"] == []


def test_help_loads_neither_the_policy_models_nor_the_control_catalog(finished_run):
    """Their pydantic models cost about 170 ms to build: only commands that read them pay it."""
    _, env = finished_run
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=("pydantic", "ingestguard.reports.controls")), "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert probe == {"exit": 0, "heavy": []}


def test_the_public_names_load_on_first_use():
    code = (
        "import sys, ingestguard\n"
        "before = 'spacy' in sys.modules\n"
        "guard = ingestguard.Guard\n"
        "print(before, 'ingestguard.guard' in sys.modules, guard.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True", "Guard"]


def test_a_patterns_only_protect_loads_no_ner(tmp_path):
    """No NER module or names model for a policy without names or places
    (spaCy itself still comes in with Presidio's recognizers)."""
    src = write_demo(tmp_path / "in.parquet", rows=20)
    policy = tmp_path / "policy.yaml"
    policy.write_text("entities: [EMAIL_ADDRESS, PHONE_NUMBER, US_SSN, CREDIT_CARD, IP_ADDRESS]\n")
    env = {**os.environ, "INGESTGUARD_HOME": str(tmp_path / "home"), "INGESTGUARD_KEY": KEY}
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from ingestguard.cli import app\n"
        "result = CliRunner().invoke(app, sys.argv[1:])\n"
        "loaded = [m for m in ('ingestguard.detectors.ner', 'onnxruntime') if m in sys.modules]\n"
        "print(result.exit_code, 'presidio_analyzer' in sys.modules, loaded)\n"
    )
    args = [src, tmp_path / "out.parquet", "--no-orchestrator", "--policy", policy]
    done = subprocess.run(
        [sys.executable, "-c", code, "protect", *map(str, args), "--evidence-dir", str(tmp_path / "ev")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "0 True []"
