"""Run a function on a short-lived background thread, at most once per interval.

The app thread only compares two monotonic clock readings; when the interval has passed, it starts one
daemon thread that does the I/O (stat a file, read the audit log) and exits. No long-lived thread, so
nothing to shut down and nothing lost across ``fork()``: the next poke in the child starts a new one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable

_log = logging.getLogger(__name__)
_instances: weakref.WeakSet[Throttled] = weakref.WeakSet()


class Throttled:
    """``poke()`` runs ``work`` in the background if ``interval`` seconds passed since the last run and
    no run is in flight. ``run_now()`` runs it on the calling thread (start-up, tests, CLI)."""

    def __init__(self, work: Callable[[], None], interval: float, *, name: str) -> None:
        self._work = work
        self._interval = max(0.0, interval)
        self._name = name
        self._next = time.monotonic() + self._interval
        self._busy = threading.Lock()
        self._failed_once = False
        _instances.add(self)

    def poke(self) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        if not self._busy.acquire(blocking=False):
            return
        self._next = now + self._interval
        try:
            threading.Thread(target=self._run_and_release, name=self._name, daemon=True).start()
        except RuntimeError:  # interpreter shutting down, or no more threads
            self._busy.release()

    def run_now(self) -> None:
        with self._busy:
            self._call()
        self._next = time.monotonic() + self._interval

    def _run_and_release(self) -> None:
        try:
            self._call()
        finally:
            self._busy.release()

    def _call(self) -> None:
        try:
            self._work()
        except Exception:
            if not self._failed_once:
                self._failed_once = True
                _log.warning("llm-soc2: background task %s failed (logged once)", self._name, exc_info=True)


def _after_fork_in_child() -> None:
    # A run in flight in the parent holds its lock; the thread does not exist in the child.
    for instance in list(_instances):
        instance._busy = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
