"""Hand work to one background thread, so the application thread pays a queue append, not the work.

The GenAI span processor scrubs, classifies and audits on such a thread instead of the thread that ended
the span (the one serving a request); the instrumentation records its histograms on another.
Bounded: past ``capacity`` waiting items ``submit`` returns False and the caller does the work itself,
so a burst slows the application down rather than losing a span or an audit record. ``flush`` waits
until everything handed over is done; ``close`` drains what is left. Fork-safe: the child of a
``fork()`` forgets what its parent had queued (the parent handles it) and starts its own thread on its
first ``submit``.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Final, Generic, TypeVar

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_instances: weakref.WeakSet[Handoff[object]] = weakref.WeakSet()


class Handoff(Generic[_T]):
    """``submit(item)`` queues ``handle(item)`` for the background thread named ``name``."""

    def __init__(self, handle: Callable[[_T], None], *, capacity: int, name: str) -> None:
        self._handle = handle
        self._capacity = max(1, capacity)
        self._name = name
        self._reset()
        _instances.add(self)  # type: ignore[arg-type]

    def _reset(self) -> None:
        self._items: deque[_T] = deque()
        self._pending = 0  # queued or being handled
        lock = threading.Lock()
        self._ready = threading.Condition(lock)  # the thread waits here for items
        self._idle = threading.Condition(lock)  # flush() waits here for the queue to empty
        self._thread: threading.Thread | None = None
        self._closed = False
        self._failed_once = False

    @property
    def pending(self) -> int:
        return self._pending

    def submit(self, item: _T) -> bool:
        """Queue ``item``; False (nothing queued) when full or closed: the caller handles it itself."""
        with self._ready:
            if self._closed or self._pending >= self._capacity:
                return False
            if self._thread is None and not self._start():
                return False
            self._items.append(item)
            self._pending += 1
            self._ready.notify()
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every item submitted so far is handled; False if ``timeout`` seconds ran out."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stop taking items, let the thread finish the queue, and handle here what it did not reach
        within ``timeout`` (nothing handed over is dropped)."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        while True:
            with self._ready:
                if not self._items:
                    return
                item = self._items.popleft()
            self._run_one(item)

    def _start(self) -> bool:
        try:
            thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            thread.start()
        except RuntimeError:  # interpreter shutting down, or no more threads
            return False
        self._thread = thread
        _flush_at_exit()
        return True

    def _loop(self) -> None:
        ready = self._ready
        while True:
            with ready:
                while not self._items and not self._closed:
                    ready.wait()
                if not self._items:
                    return
                item = self._items.popleft()
            self._run_one(item)

    def _run_one(self, item: _T) -> None:
        try:
            self._handle(item)
        except Exception:  # the handler is expected to contain its own failures; this is the backstop
            if not self._failed_once:
                self._failed_once = True
                _log.exception("llm-soc2: background %s failed on an item", self._name)
        finally:
            with self._idle:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.notify_all()


def flush_all(timeout: float) -> bool:
    """Wait until every hand-off in this process is idle, within ``timeout`` seconds overall (before
    the providers their work reports through are flushed or shut down)."""
    deadline = time.monotonic() + timeout
    flushed = [h.flush(max(0.0, deadline - time.monotonic())) for h in list(_instances)]
    return all(flushed)


_EXIT_FLUSH_S: Final = 5.0
_exit_flush_registered = False


def _flush_at_exit() -> None:
    # Registered at the first thread start, so it runs before the atexit shutdown of providers created
    # earlier (atexit is last in, first out): what is queued reaches them.
    global _exit_flush_registered
    if not _exit_flush_registered:
        _exit_flush_registered = True
        atexit.register(flush_all, _EXIT_FLUSH_S)


def _after_fork_in_child() -> None:
    for handoff in list(_instances):
        handoff._reset()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
