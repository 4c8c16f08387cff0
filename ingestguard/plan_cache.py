"""Column plans kept on disk, so an unchanged file is not profiled again.

A plan depends on the input's bytes, the policy and the detectors (models and
their versions, and this package's version); its key is the digest of all
three. Plans hold column names, classes, entity types, actions, counts and
reasons, never a value, so they may sit beside the outputs.

Why a library cache and not Prefect's task cache: the plan is used inside the
protect work (in a worker process), Prefect would persist it as a pickled
result under PREFECT_HOME, and the CLI's in-process path gains the cache too.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ingestguard.detectors.columns import ColumnClass, ColumnPlan
from ingestguard.policy import Action


def detector_version(model_info: dict[str, str]) -> str:
    """This package's version and the detectors' models, as one string."""
    try:
        package = version("ingestguard")
    except PackageNotFoundError:
        package = "unknown"
    return json.dumps({"ingestguard": package, "models": model_info}, sort_keys=True)


def plan_key(input_sha256: str, policy_sha256: str, detectors: str) -> str:
    return hashlib.sha256(f"{input_sha256}\n{policy_sha256}\n{detectors}".encode()).hexdigest()


class PlanCache:
    """Plans by key, one JSON file each, written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def get(self, key: str) -> list[ColumnPlan] | None:
        try:
            entries = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # absent or unreadable: profile again
        try:
            return [
                ColumnPlan(
                    **{**e, "column_class": ColumnClass(e["column_class"]), "action": Action(e["action"])}
                )
                for e in entries
            ]
        except (TypeError, KeyError, ValueError):
            return None  # written by another version of ColumnPlan: profile again

    def put(self, key: str, plans: list[ColumnPlan]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(key)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
        entries = [
            {**asdict(p), "column_class": p.column_class.value, "action": p.action.value} for p in plans
        ]
        tmp.write_text(json.dumps(entries), encoding="utf-8")
        os.replace(tmp, path)
