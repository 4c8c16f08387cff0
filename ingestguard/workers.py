"""Worker processes for the CPU-bound work of a run (plan and protect).

Why processes: the work is Python holding the GIL, so threads do not add
cores; and a process is the one thing that can be stopped mid-task. A task
past its timeout has its worker killed (pebble terminates it, then SIGKILLs
it) and replaced; the caller removes what the dead worker had staged.

One pool per process and size: the flow's process for `--workers N`, or each
Dask worker process for a cluster. Workers are spawned (not forked: the parent
runs threads and an event loop), live for the whole pool, and load their
engine (models, recognizers, keys) once, on their first task.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from pebble import ProcessExpired, ProcessPool

from ingestguard.detectors.parent_death import exit_with_parent
from ingestguard.errors import IngestGuardError, ScanError

T = TypeVar("T")

_pools: dict[int, ProcessPool] = {}
_lock = threading.Lock()


def default_workers() -> int:
    """One worker per core this process may use."""
    return len(os.sched_getaffinity(0))


def pool(workers: int) -> ProcessPool:
    """This process's pool of `workers` processes, started on first use."""
    if multiprocessing.current_process().daemon:
        raise ScanError(
            "this process is daemonic and may not start worker processes (a Dask worker under a nanny): "
            "start the Dask workers with DASK_DISTRIBUTED__WORKER__DAEMON=False"
        )
    with _lock:
        found = _pools.get(workers)
        if found is None or not found.active:
            found = ProcessPool(
                max_workers=workers,
                initializer=_init_worker,
                initargs=(workers,),
                context=multiprocessing.get_context("spawn"),
            )
            _pools[workers] = found
        return found


def shutdown() -> None:
    """Stop every pool of this process (their workers exit)."""
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for p in pools:
        p.stop()
        p.join()


def _init_worker(workers: int) -> None:
    # Pools start from task runners' threads: the parent-pid watch, not the death signal.
    exit_with_parent(os.getppid(), forked_by_main_thread=False)
    from ingestguard import pipeline
    from ingestguard.io import overlap

    # The pool's other workers use the other cores: no NER sub-processes here,
    # and read-ahead and write-behind threads only while a core is left for them.
    pipeline.MAX_NER_PROCESSES = 1
    overlap.use_threads(workers < default_workers())


def run(
    function: Callable[..., T],
    args: tuple,
    workers: int,
    timeout: float | None,
    what: str,
    on_stop: Callable[[], None] | None = None,
) -> T:
    """`function(*args)` in a worker process; the result, or its typed error.

    `timeout`: seconds after which the worker is killed; `on_stop` then removes
    what it left (its staged output) and a ScanError names `what`. Errors keep
    their type and message only: the worker's traceback is not passed on.
    """
    future = pool(workers).schedule(function, args=args, timeout=timeout)
    try:
        return future.result()
    except FutureTimeout:
        if on_stop:
            on_stop()
        raise ScanError(
            f"{what} did not finish within {timeout:g} s; its worker was stopped and nothing was written "
            "(raise the timeout for larger files)"
        ) from None
    except ProcessExpired as exc:
        if on_stop:
            on_stop()
        raise ScanError(
            f"the worker protecting {what} died (exit code {exc.exitcode}, e.g. out of memory); nothing was written"
        ) from None
    except (IngestGuardError, OSError) as exc:
        exc.__cause__ = None  # pebble's RemoteTraceback: the worker's frames, not ours to log
        raise exc from None
    except Exception as exc:  # a stage function types its errors; this is a last guard
        raise ScanError(f"internal error ({type(exc).__name__}) in {what}; nothing was written") from None
    except BaseException:
        future.cancel()  # interrupted here: stop the worker's task too
        raise
