"""Where a run's time goes: seconds per stage, and the rows and bytes each stage
got through per second, recorded in the evidence of every file.

Rates are of the input (its rows, and the in-memory Arrow size of the batches
read), so the stages of one file compare directly: a stage with the lowest
rate is where the time goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from time import perf_counter


@dataclass
class StageClock:
    """Seconds per stage (plan, protect, verify, write; plan and scan for a scan),
    and the input rows and Arrow bytes that went through them."""

    seconds: dict[str, float] = field(default_factory=dict)
    rows: int = 0
    bytes: int = 0

    @contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        start = perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + perf_counter() - start

    def count(self, rows: int, nbytes: int) -> None:
        self.rows += rows
        self.bytes += nbytes

    def to_dict(self) -> dict[str, dict[str, float | int]]:
        """Per stage: seconds, rows, bytes, and rows and bytes per second (0 when
        a stage took no measurable time, e.g. a plan read from the plan cache)."""
        out: dict[str, dict[str, float | int]] = {}
        for stage, seconds in self.seconds.items():
            out[stage] = {
                "seconds": round(seconds, 6),
                "rows": self.rows,
                "bytes": self.bytes,
                "rows_per_second": round(self.rows / seconds, 1) if seconds > 0 else 0.0,
                "bytes_per_second": round(self.bytes / seconds, 1) if seconds > 0 else 0.0,
            }
        return out

    def __add__(self, other: StageClock) -> StageClock:
        """The clocks of a file's parts, taken in different workers, as one."""
        seconds = dict(self.seconds)
        for stage, s in other.seconds.items():
            seconds[stage] = seconds.get(stage, 0.0) + s
        return StageClock(seconds, self.rows + other.rows, self.bytes + other.bytes)
