"""Witnesses: copies of every signed checkpoint kept outside the operator's write reach of the store.

* :class:`DirectoryWitness`: ``<dir>/<origin-safe>/<size>.checkpoint``, created with ``O_EXCL`` and
  fsynced, never overwritten (mount a WORM bucket or a write-once volume there in production). A
  different note for a size already witnessed is a split view: the old file stays and it counts as a
  failure.
* :class:`OTLPLogWitness`: one OTLP log record per checkpoint through the global or a given
  ``LoggerProvider`` (event name ``llm_soc2.audit.checkpoint``, body the note text), so the
  checkpoints land in Loki or any log backend. OpenTelemetry is imported lazily.
* :class:`GrafanaAnnotationWitness`: ``POST {GRAFANA_URL}/api/annotations`` with tags
  ``llm-soc2``, ``checkpoint`` and the log id, text the note; a short timeout.

:class:`WitnessDispatcher` runs the witnesses on its own thread with a bounded queue, so a slow
witness never blocks the writer; every failure is counted (``llm_soc2.audit.witness.failures``).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Protocol

from llm_soc2 import semconv
from llm_soc2.audit.checkpoint import SignedCheckpoint

_log = logging.getLogger(__name__)
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


class Witness(Protocol):
    name: str

    def witness(self, checkpoint: SignedCheckpoint) -> None:
        """Record the checkpoint; raise on failure."""


def origin_dirname(origin: str) -> str:
    """A file-system-safe directory name for an origin (``llm-soc2/audit/svc`` -> ``llm-soc2_audit_svc``)."""
    return _UNSAFE.sub("_", origin).strip("._") or "origin"


class SplitViewError(RuntimeError):
    """A different checkpoint was already witnessed at this size."""


class DirectoryWitness:
    name = "directory"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, checkpoint: SignedCheckpoint) -> Path:
        return self.directory / origin_dirname(checkpoint.origin) / f"{checkpoint.size}.checkpoint"

    def witness(self, checkpoint: SignedCheckpoint) -> None:
        path = self.path_for(checkpoint)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name, then linked in: a process killed mid-write leaves a stray
        # temporary file, never a truncated checkpoint; link() fails if the name exists (no overwrite).
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            os.write(fd, checkpoint.note.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            existing = SignedCheckpoint.from_note(path.read_text(encoding="utf-8"))
            if existing.checkpoint != checkpoint.checkpoint:
                raise SplitViewError(
                    f"{path} already holds a different checkpoint at size {checkpoint.size}: split view"
                ) from None
            return  # the same tree head, possibly signed by another key or process
        finally:
            os.unlink(tmp)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def latest(self, origin: str) -> SignedCheckpoint | None:
        folder = self.directory / origin_dirname(origin)
        sizes = sorted((int(p.stem), p) for p in folder.glob("*.checkpoint") if p.stem.isdigit())
        if not sizes:
            return None
        return SignedCheckpoint.from_note(sizes[-1][1].read_text(encoding="utf-8"))


class OTLPLogWitness:
    name = "otlp"

    def __init__(self, logger_provider: Any = None) -> None:
        self._provider = logger_provider
        self._logger: Any = None

    def witness(self, checkpoint: SignedCheckpoint) -> None:
        if self._logger is None:
            from opentelemetry import _logs

            provider = self._provider or _logs.get_logger_provider()
            self._logger = provider.get_logger(semconv.INSTRUMENTATION_SCOPE)
        from opentelemetry._logs import SeverityNumber

        self._logger.emit(
            timestamp=checkpoint.time_unix_nano or time.time_ns(),
            severity_number=SeverityNumber.INFO,
            body=checkpoint.note,
            event_name=semconv.EVENT_CHECKPOINT,
            attributes={
                semconv.ATTR_AUDIT_LOG_ID: checkpoint.log_id,
                "llm_soc2.audit.checkpoint.origin": checkpoint.origin,
                "llm_soc2.audit.checkpoint.size": checkpoint.size,
            },
        )


class GrafanaAnnotationWitness:
    """Grafana's HTTP API: ``POST /api/annotations`` with ``{"time", "tags", "text"}``."""

    name = "grafana"

    def __init__(self, url: str, token: str = "", *, timeout: float = 3.0) -> None:
        self.url = url.rstrip("/") + "/api/annotations"
        self.token = token
        self.timeout = timeout

    def witness(self, checkpoint: SignedCheckpoint) -> None:
        payload = {
            "time": (checkpoint.time_unix_nano or time.time_ns()) // 1_000_000,
            "tags": ["llm-soc2", "checkpoint", checkpoint.log_id],
            "text": checkpoint.note,
        }
        request = urllib.request.Request(  # noqa: S310 - the operator configures an http(s) Grafana URL
            self.url,
            data=json.dumps(payload).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"GRAFANA_URL must be http(s): {self.url}")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            if response.status >= 300:
                raise urllib.error.HTTPError(
                    self.url, response.status, "annotation rejected", response.headers, None
                )


class WitnessDispatcher:
    """Hands checkpoints to witnesses on a background thread; counts failures per witness."""

    def __init__(self, witnesses: Sequence[Witness], *, queue_size: int = 256) -> None:
        self.witnesses = list(witnesses)
        self.failures: dict[str, int] = {w.name: 0 for w in self.witnesses}
        self.delivered = 0
        self._queue: queue.Queue[SignedCheckpoint | None] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _count_failure(self, name: str) -> None:
        with self._lock:
            self.failures[name] = self.failures.get(name, 0) + 1

    def submit(self, checkpoint: SignedCheckpoint) -> None:
        if not self.witnesses:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="llm-soc2-audit-witness", daemon=True)
            self._thread.start()
        try:
            self._queue.put_nowait(checkpoint)
        except queue.Full:
            for witness in self.witnesses:
                self._count_failure(witness.name)
            _log.warning("witness queue full: checkpoint at size %s not witnessed", checkpoint.size)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self.deliver(item)
            finally:
                self._queue.task_done()

    def deliver(self, checkpoint: SignedCheckpoint) -> None:
        """Synchronously hand ``checkpoint`` to every witness (each failure counted, never raised)."""
        for witness in self.witnesses:
            try:
                witness.witness(checkpoint)
            except Exception as exc:
                self._count_failure(witness.name)
                _log.warning(
                    "witness %s failed for checkpoint at size %s: %s", witness.name, checkpoint.size, exc
                )
        with self._lock:
            self.delivered += 1

    def flush(self, timeout: float) -> bool:
        """Wait until queued checkpoints are delivered (bounded)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self, timeout: float = 5.0) -> None:
        self.flush(timeout)
        if self._thread is not None:
            try:
                self._queue.put_nowait(None)
            except queue.Full:  # pragma: no cover
                return
            self._thread.join(timeout)
            self._thread = None
