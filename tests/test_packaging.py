"""The four top-level folders install only as subpackages of `ingestguard`."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = ["detectors", "detectors/recognizers", "transforms", "reports", "flows"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    [whl] = out.glob("ingestguard-*.whl")
    return whl


def test_wheel_holds_only_the_ingestguard_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"ingestguard"}
    for sub in SUBPACKAGES:
        assert f"ingestguard/{sub}/__init__.py" in names
    assert "ingestguard/py.typed" in names


def test_wheel_imports_from_its_own_files(wheel, tmp_path):
    zipfile.ZipFile(wheel).extractall(tmp_path)
    code = (
        "import ingestguard, ingestguard.detectors.analyzer, ingestguard.flows.protect, "
        "ingestguard.reports.render, ingestguard.transforms.columns; print(ingestguard.__file__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == str(tmp_path / "ingestguard" / "__init__.py")


def test_editable_install_resolves_subpackages_to_the_source_folders():
    import ingestguard.detectors
    import ingestguard.flows
    import ingestguard.reports
    import ingestguard.transforms

    assert Path(ingestguard.detectors.__file__).parent == ROOT / "detectors"
    assert Path(ingestguard.transforms.__file__).parent == ROOT / "transforms"
    assert Path(ingestguard.reports.__file__).parent == ROOT / "reports"
    assert Path(ingestguard.flows.__file__).parent == ROOT / "flows"
