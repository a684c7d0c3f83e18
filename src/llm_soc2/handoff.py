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
import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import Final, Generic, TypeVar

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_instances: weakref.WeakSet[Handoff[object]] = weakref.WeakSet()


class Handoff(Generic[_T]):
    """``submit(item)`` queues ``handle(item)`` for the background thread named ``name``.

    ``submit`` takes no lock the thread holds: a ``SimpleQueue`` put wakes the thread if it waits, and
    the thread never blocks the submitter (a condition variable shared by both made every submit wait
    for the thread to release it, a GIL hand-off each time).
    """

    def __init__(self, handle: Callable[[_T], None], *, capacity: int, name: str) -> None:
        self._handle = handle
        self._capacity = max(1, capacity)
        self._name = name
        self._reset()
        _instances.add(self)  # type: ignore[arg-type]

    def _reset(self) -> None:
        self._queue: queue.SimpleQueue[_T | _Marker | object] = queue.SimpleQueue()
        self._busy = 0  # 1 while the thread handles an item (set by the thread only)
        self._lock = threading.Lock()  # submit and close: no item is queued behind the stop mark
        self._thread: threading.Thread | None = None
        self._closed = False
        self._failed_once = False

    @property
    def pending(self) -> int:
        """Items queued or being handled."""
        return self._queue.qsize() + self._busy

    def submit(self, item: _T) -> bool:
        """Queue ``item``; False (nothing queued) when full or closed: the caller handles it itself."""
        with self._lock:
            if self._closed or self._queue.qsize() + self._busy >= self._capacity:
                return False
            if self._thread is None and not self._start():
                return False
            self._queue.put(item)
        return True

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every item submitted so far is handled; False if ``timeout`` seconds ran out."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return True
            if self._closed:  # close() handed the rest out; the thread ends after its current item
                marker = None
            else:
                marker = _Marker()
                self._queue.put(marker)  # behind every item submitted so far
        if marker is None:
            thread.join(timeout)
            return not thread.is_alive()
        return marker.wait(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stop taking items, let the thread finish the queue, and handle here what it did not reach
        within ``timeout`` (nothing handed over is dropped)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(_STOP)
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        stop = False
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                stop = True
            elif isinstance(item, _Marker):
                item.set()
            else:
                self._run_one(item)  # type: ignore[arg-type]
        if stop and thread is not None and thread.is_alive():
            self._queue.put(_STOP)  # the thread is still on an item: it stops after it

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
        get, empty = self._queue.get, self._queue.empty
        while True:
            if empty():
                # Caught up: pause before waiting, so the items of the next moments are taken in one go
                # instead of each waking the thread (a wake-up costs the submitting thread a GIL switch).
                time.sleep(_COALESCE_S)
            item = get()
            if item is _STOP:
                return
            if isinstance(item, _Marker):
                item.set()
                continue
            self._busy = 1
            self._run_one(item)  # type: ignore[arg-type]
            self._busy = 0

    def _run_one(self, item: _T) -> None:
        try:
            self._handle(item)
        except Exception:  # the handler is expected to contain its own failures; this is the backstop
            if not self._failed_once:
                self._failed_once = True
                _log.exception("llm-soc2: background %s failed on an item", self._name)


class _Marker(threading.Event):
    """Queued by ``flush``: set when the thread reaches it, so everything before it is handled."""


_STOP: Final = object()
_COALESCE_S: Final = 0.01


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
