"""Worker processes that exit when their parent does.

A forked NER worker holds a copy of the models (about 380 MB). When its parent
is SIGKILLed it gets no message: its siblings keep the task pipe open, so it
would wait on it for ever, an orphan. Two guards, from the worker's side:

- Linux's PR_SET_PDEATHSIG has the kernel SIGKILL the worker when the *thread*
  that forked it ends. That is the parent's death only when the main thread
  forked it; a pool started from a task runner's thread would die with the
  task, so then it is not set.
- A daemon thread compares the parent's pid with the one the worker was
  forked from, twice a second, and exits on a change (the fallback, and the
  only guard off Linux).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
POLL_SECONDS = 0.5


def exit_with_parent(parent: int, forked_by_main_thread: bool) -> None:
    """Call first thing in a worker forked from process `parent`."""
    if forked_by_main_thread and sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the death signal was set
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(1)
