"""Bounded cardinality for metric attributes whose values come from data (key fingerprints, template
hashes): a metric backend must never grow a new series per request."""

from __future__ import annotations

import threading
from typing import Final

OTHER: Final = "_other"


class LabelCap:
    """The first ``limit`` distinct values pass through; later ones become ``_other``."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, value: str) -> str:
        if value in self._seen:  # lock-free for values already admitted
            return value
        with self._lock:
            if len(self._seen) >= self._limit:
                return OTHER
            self._seen.add(value)
        return value
