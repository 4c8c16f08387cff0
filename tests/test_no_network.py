"""A full protect, through the Prefect flow, with the network cut off.

`tests/support/no_network/sitecustomize.py` makes every non-loopback
connection and name lookup fail and records it; the run must attempt none.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ingestguard.demo import write_demo

GUARD = Path(__file__).parent / "support" / "no_network"


def offline_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TLDEXTRACT_"))}
    env.update(
        {
            "PYTHONPATH": str(GUARD),
            "IG_NET_LOG": str(tmp_path / "net.log"),
            "PREFECT_HOME": str(tmp_path / "prefect"),
            "INGESTGUARD_HOME": str(tmp_path / "ig"),
            "HOME": str(tmp_path / "home"),  # no tldextract cache from earlier runs
        }
    )
    env.pop("DO_NOT_TRACK", None)
    return env


def test_the_guard_itself_catches_a_connection(tmp_path):
    env = offline_env(tmp_path)
    code = "import urllib.request\ntry:\n    urllib.request.urlopen('http://example.com', timeout=5)\nexcept OSError:\n    pass"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert "getaddrinfo example.com" in (tmp_path / "net.log").read_text()


def test_protect_through_the_flow_makes_no_network_call(tmp_path):
    src = write_demo(tmp_path / "in.parquet", rows=200, seed=3)
    exe = Path(sys.executable).with_name("ingestguard")
    proc = subprocess.run(
        [str(exe), "protect", str(src), str(tmp_path / "out.parquet")],
        env=offline_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "out.parquet").is_file()
    log = tmp_path / "net.log"
    assert not log.exists(), log.read_text()
    assert "Traceback" not in proc.stderr
    assert "telemetry" not in proc.stderr.lower()
