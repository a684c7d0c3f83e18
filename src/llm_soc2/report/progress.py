"""A progress line on stderr: stages, and a bar while the audit log streams. Off unless asked for
(``--progress``) or stderr is a terminal."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    def __init__(self, enabled: bool, stream: TextIO | None = None) -> None:
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self._lock = threading.Lock()
        self._bar = False
        self._started = time.monotonic()

    @classmethod
    def auto(cls, flag: bool | None) -> Progress:
        """On with ``flag``; off with ``flag=False``; otherwise on when stderr is a terminal."""
        if flag is None:
            flag = sys.stderr.isatty()
        return cls(bool(flag))

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr never stops the report
            self.enabled = False

    def stage(self, text: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            prefix = "\n" if self._bar else ""
            self._bar = False
            self._write(f"{prefix}llm-soc2 report [{time.monotonic() - self._started:6.1f}s] {text}\n")

    def records(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        with self._lock:
            share = done / total if total else 1.0
            filled = int(share * 30)
            self._write(
                f"\r  audit log [{'#' * filled}{'.' * (30 - filled)}] {share * 100:5.1f} % "
                f"{done:,}/{total:,} records"
            )
            self._bar = True

    def close(self) -> None:
        if self.enabled and self._bar:
            with self._lock:
                self._write("\n")
                self._bar = False
