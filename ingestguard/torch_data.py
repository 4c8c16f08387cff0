"""A PyTorch IterableDataset of protected texts, without depending on torch.

The class iterates by itself (`__iter__`); it subclasses
`torch.utils.data.IterableDataset` only when torch is installed, so a
DataLoader takes it and nothing here needs the 500 MB wheel. Import this
module only where torch is wanted: it imports torch when torch is there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ingestguard.errors import StreamNotFinishedError

if TYPE_CHECKING:
    from ingestguard.guard import Guard
    from ingestguard.reports.evidence import Evidence

try:
    from torch.utils.data import IterableDataset, get_worker_info
except ImportError:  # torch is optional
    IterableDataset, get_worker_info = object, lambda: None  # type: ignore[assignment,misc]


class ProtectedTextDataset(IterableDataset):  # type: ignore[misc,valid-type]
    """Every string of `texts` (a list, or anything iterable more than once for
    several epochs), protected in order through `Guard.iter_protected`.

    Each pass is one protect run; `evidence` is the last finished pass's. With
    DataLoader workers, worker k of n protects items k, k+n, k+2n, ... (each its
    own run), so no item is yielded twice.
    """

    def __init__(self, guard: Guard, texts: Iterable[str], batch_size: int = 1000) -> None:
        self.guard = guard
        self.texts = texts
        self.batch_size = batch_size
        self._evidence: Evidence | None = None

    def __iter__(self) -> Iterator[str]:
        worker = get_worker_info()
        texts = self.texts
        if worker is not None:
            texts = (t for i, t in enumerate(texts) if i % worker.num_workers == worker.id)
        protected = self.guard.iter_protected(texts, self.batch_size)
        yield from protected
        self._evidence = protected.evidence.result()

    @property
    def evidence(self) -> Evidence:
        """The evidence of the last pass read to its end."""
        if self._evidence is None:
            raise StreamNotFinishedError("no pass over the dataset was read to its end yet")
        return self._evidence
