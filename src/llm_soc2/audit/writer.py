"""``AuditWriter``: takes audit records from the application thread and makes them durable.

The processor calls :meth:`AuditWriter.submit` on the application thread. ``submit`` is a bounded
``deque`` append (no I/O, no lock on the fast path, never raises). A background thread takes batches
(``LLM_SOC2_AUDIT_BATCH_SIZE``, at least every ``LLM_SOC2_AUDIT_FLUSH_INTERVAL`` seconds) and appends
each batch to the log in one transaction.

When the store fails, the batch goes to the local spill file (``spill.py``, fsync per batch) and
the writer retries the store with exponential back-off; while anything is spilled, new batches are
spilled behind it, and replay feeds the store in spill order once it answers again. When the queue is
full (``LLM_SOC2_AUDIT_QUEUE_SIZE``), ``submit`` waits a bounded time for room and then spills the
record itself. A record is *lost* only when even the spill file refuses it (disk full): it is counted
(``llm_soc2.audit.records{llm_soc2.audit.outcome="lost"}``) and logged, never silently dropped.

Acknowledgement: when :meth:`flush` returns True, every record submitted before the call is in the
store or in an fsynced spill file. :meth:`shutdown` flushes, signs a final checkpoint and hands it to
the witnesses. Checkpoints are signed every ``LLM_SOC2_CHECKPOINT_EVERY`` records or
``LLM_SOC2_CHECKPOINT_INTERVAL`` seconds.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from llm_soc2.audit import crypto
from llm_soc2.audit.checkpoint import SignedCheckpoint
from llm_soc2.audit.log import AuditLog
from llm_soc2.audit.record import AuditRecord
from llm_soc2.audit.spill import SpillCorrupt, SpillFile
from llm_soc2.audit.witness import (
    DirectoryWitness,
    GrafanaAnnotationWitness,
    OTLPLogWitness,
    Witness,
    WitnessDispatcher,
)
from llm_soc2.config import Settings
from llm_soc2.errors import VerificationError

_log = logging.getLogger(__name__)

SUBMIT_WAIT_S: Final = 0.002  # bounded wait for room in a full queue before spilling
RETRY_MIN_S: Final = 0.5
RETRY_MAX_S: Final = 30.0


@dataclass
class WriterStats:
    """Counters (monotonic) and gauges, read by the metrics adapter and ``llm-soc2 audit status``."""

    written: int = 0
    spilled: int = 0
    replayed: int = 0
    lost: int = 0
    checkpoints: int = 0
    checkpoint_failures: int = 0
    checkpoint_size: int = 0
    checkpoint_time: float = 0.0
    store_failures: int = 0


class AuditWriter:
    """Background writer of one log. Create once, ``submit`` from any thread, ``shutdown`` at exit."""

    def __init__(
        self,
        log: AuditLog,
        settings: Settings,
        *,
        meter_provider: Any = None,
        logger_provider: Any = None,
        witnesses: list[Witness] | None = None,
        start: bool = True,
    ) -> None:
        self.log = log
        self.settings = settings
        self.log_id = log.write_log_id
        self.stats = WriterStats()
        self._queue: deque[AuditRecord] = deque()
        self._max = max(1, settings.audit_queue_size)
        self._batch = max(1, settings.audit_batch_size)
        self._interval = settings.audit_flush_interval
        self._wake = threading.Event()
        self._room = threading.Condition()
        self._state = threading.Condition()
        self._flush_requested = 0
        self._flush_done = 0
        self._stopping = False
        self._stopped = False
        self._healthy = True
        self._retry_at = 0.0
        self._backoff = RETRY_MIN_S
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        self._last_checkpoint_size = -1
        self._stats_lock = threading.Lock()
        master = crypto.master_key(settings.content_key_hex) if settings.content_key_hex else None
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", self.log_id) or "log"
        self.spill = SpillFile(
            settings.data_dir / "spill" / safe, crypto.spill_key(master) if master else None
        )
        if witnesses is None:
            witnesses = [DirectoryWitness(settings.resolved_witness_dir), OTLPLogWitness(logger_provider)]
            if settings.grafana_url:
                witnesses.append(GrafanaAnnotationWitness(settings.grafana_url, settings.grafana_token))
        self.witnesses = WitnessDispatcher(witnesses)
        self._thread = threading.Thread(target=self._run, name="llm-soc2-audit-writer", daemon=True)
        if meter_provider is not None:
            from llm_soc2.audit.otel import register_writer_metrics

            register_writer_metrics(self, meter_provider)
        if start:
            self._thread.start()

    # ----------------------------------------------------------------------------------------------
    # Application thread
    # ----------------------------------------------------------------------------------------------
    def submit(self, record: AuditRecord) -> bool:
        """Hand a record over. Never raises; returns False only if the record had to be counted lost."""
        try:
            queue = self._queue
            if len(queue) < self._max and not self._stopped:
                queue.append(record)
                if len(queue) >= self._batch:
                    self._wake.set()
                return True
            return self._submit_slow(record)
        except Exception:  # never break the host application
            self._count("lost", 1)
            _log.exception("audit record lost")
            return False

    def _submit_slow(self, record: AuditRecord) -> bool:
        if not self._stopped:
            self._wake.set()
            deadline = time.monotonic() + SUBMIT_WAIT_S
            with self._room:
                while len(self._queue) >= self._max:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._room.wait(remaining)
                if len(self._queue) < self._max:
                    self._queue.append(record)
                    return True
        try:
            self.spill.append([record], sync=self._stopped)
        except Exception:
            self._count("lost", 1)
            _log.exception("audit record lost: queue full and the spill file refused it")
            return False
        self._count("spilled", 1)
        return True

    # ----------------------------------------------------------------------------------------------
    # Control
    # ----------------------------------------------------------------------------------------------
    @property
    def backlog(self) -> int:
        """Records handed over but not yet in the store (queued + spilled)."""
        return len(self._queue) + self.spill.pending

    def flush(self, timeout: float = 10.0) -> bool:
        """Make everything submitted so far durable (store or fsynced spill). True when done in time."""
        if self._stopped or not self._thread.is_alive():
            return self._drain_inline()
        with self._state:
            self._flush_requested += 1
            target = self._flush_requested
        self._wake.set()
        deadline = time.monotonic() + timeout
        with self._state:
            while self._flush_done < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._state.wait(remaining)
        return True

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Flush, sign a final checkpoint, hand it to the witnesses and stop. Idempotent."""
        if self._stopped:
            return True
        deadline = time.monotonic() + timeout
        ok = self.flush(timeout)
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(max(0.0, deadline - time.monotonic()))
        self._stopped = True
        ok = self._drain_inline() and ok
        if self._healthy:
            self._checkpoint(force=True)
        self.witnesses.close(max(0.1, deadline - time.monotonic()))
        self.spill.close()
        return ok

    # ----------------------------------------------------------------------------------------------
    # Background thread
    # ----------------------------------------------------------------------------------------------
    def _count(self, outcome: str, n: int) -> None:
        with self._stats_lock:
            setattr(self.stats, outcome, getattr(self.stats, outcome) + n)

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            with self._state:
                requested = self._flush_requested
            try:
                self._cycle(flush=requested > self._flush_done)
            except Exception:  # pragma: no cover - the loop must survive anything
                _log.exception("audit writer cycle failed")
            if requested > self._flush_done:
                with self._state:
                    self._flush_done = max(self._flush_done, requested)
                    self._state.notify_all()
            if self._stopping and not self._queue:
                return

    def _drain_inline(self) -> bool:
        try:
            self._cycle(flush=True)
        except Exception:  # pragma: no cover
            _log.exception("audit writer drain failed")
            return False
        return not self._queue

    def _cycle(self, *, flush: bool) -> None:
        self._replay()
        while self._queue:
            batch: list[AuditRecord] = []
            queue = self._queue
            while queue and len(batch) < self._batch:
                batch.append(queue.popleft())
            with self._room:
                self._room.notify_all()
            self._write(batch)
            self._maybe_checkpoint()
        if flush:
            try:
                self.spill.sync()
            except OSError:
                _log.exception("cannot fsync the audit spill file")
        self._maybe_checkpoint()

    def _write(self, batch: list[AuditRecord]) -> None:
        if self._healthy and self.spill.pending == 0:
            try:
                self.log.append(batch)
            except Exception as exc:
                self._store_failed(exc)
            else:
                self._count("written", len(batch))
                self._since_checkpoint += len(batch)
                return
        try:
            self.spill.append(batch, sync=True)
        except Exception:
            self._count("lost", len(batch))
            _log.exception("%d audit records lost: the store and the spill file both failed", len(batch))
            return
        self._count("spilled", len(batch))

    def _store_failed(self, exc: BaseException) -> None:
        self._count("store_failures", 1)
        if self._healthy:
            _log.warning("audit store failed (%s); spilling to %s until it is back", exc, self.spill.path)
        self._healthy = False
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(RETRY_MAX_S, self._backoff * 2)

    def _replay(self) -> None:
        if self.spill.pending == 0:
            self._healthy = self._healthy or time.monotonic() >= self._retry_at
            return
        if not self._healthy and time.monotonic() < self._retry_at:
            return
        while self.spill.pending:
            try:
                records, end = self.spill.read_batch(self._batch)
            except SpillCorrupt as exc:
                lost = self.spill.quarantine()
                self._count("lost", lost)
                _log.error(
                    "audit spill file corrupt (%s): %d records moved aside and counted lost", exc, lost
                )
                return
            if not records:
                lost = self.spill.quarantine()
                self._count("lost", lost)
                return
            try:
                self.log.append(records)
            except Exception as exc:
                self._store_failed(exc)
                return
            self.spill.commit(end, len(records))
            self._count("replayed", len(records))
            self._since_checkpoint += len(records)
            self._healthy = True
            self._backoff = RETRY_MIN_S
            self._maybe_checkpoint()
        _log.info("audit spill replayed; writing to the store again")

    def _maybe_checkpoint(self) -> None:
        due = self._since_checkpoint >= self.settings.checkpoint_every or (
            self._since_checkpoint > 0
            and time.monotonic() - self._last_checkpoint >= self.settings.checkpoint_interval
        )
        if due and self._healthy:
            self._checkpoint(force=False)

    def _checkpoint(self, *, force: bool) -> SignedCheckpoint | None:
        if not force and self._since_checkpoint == 0:
            return None
        try:
            signed = self.log.checkpoint()
        except VerificationError:
            self._count("checkpoint_failures", 1)
            _log.exception(
                "refusing to sign an audit checkpoint: the log is inconsistent with an earlier one"
            )
            return None
        except Exception as exc:
            self._count("checkpoint_failures", 1)
            _log.warning("cannot sign an audit checkpoint: %s", exc)
            return None
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        with self._stats_lock:
            self.stats.checkpoints += 1
            self.stats.checkpoint_size = signed.size
            self.stats.checkpoint_time = signed.time_unix_nano / 1e9 if signed.time_unix_nano else time.time()
        if signed.size != self._last_checkpoint_size or force:
            self._last_checkpoint_size = signed.size
            self.witnesses.submit(signed)
        return signed


def spill_dir(settings: Settings, log_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", log_id) or "log"
    return settings.data_dir / "spill" / safe
