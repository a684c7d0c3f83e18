"""``AuditWriter``: takes audit records from the application thread and makes them durable.

The processor calls :meth:`AuditWriter.submit` on the application thread. ``submit`` is a bounded
``deque`` append under an uncontended lock (no I/O, never raises). A background thread takes batches
(``LLM_SOC2_AUDIT_BATCH_SIZE``, at least every ``LLM_SOC2_AUDIT_FLUSH_INTERVAL`` seconds) and appends
each batch to the log in one transaction, with a batch id stored in that transaction.

When the store fails, the batch goes to the local spill file ``records.spill`` (``spill.py``, fsync
per batch) and the writer retries the store with exponential back-off; while anything is spilled, new
batches are spilled behind it. When the queue is full (``LLM_SOC2_AUDIT_QUEUE_SIZE``), ``submit``
waits a bounded time for room and then parks the record in ``overflow.spill``; from then on every
record goes there, behind it, until the writer has stored all of it. Replay is exactly-once: a
batch whose id the store already holds is not appended again (see ``spill.py``). A record is *lost*
only when even the spill file refuses it (disk full): it is counted
(``llm_soc2.audit.records{llm_soc2.audit.outcome="lost"}``) and logged, never silently dropped.

Order: one writer stores records in the order their ``submit`` calls took effect -- a call that
returned before another began is stored before it, so the records of one thread keep their
submission order, also across an outage or an overload. Records are stored in ``records.spill``,
queue, ``overflow.spill`` order, and each of the three only ever holds records newer than the one
before it. Nothing orders records by ``time_unix_nano`` (the caller's timestamps), and records that
other code appends with :meth:`AuditLog.append` directly, or that other processes write, interleave
with them.

Acknowledgement: when :meth:`flush` returns True, every record submitted before the call is in the
store or in an fsynced spill file. :meth:`shutdown` flushes, signs a final checkpoint and hands it to
the witnesses. Checkpoints are signed every ``LLM_SOC2_CHECKPOINT_EVERY`` records or
``LLM_SOC2_CHECKPOINT_INTERVAL`` seconds.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
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

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

_log = logging.getLogger(__name__)
ADOPT_EVERY_S: Final = 30.0  # how often a writer looks for spill files of writers that are gone

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
    duplicates_skipped: int = 0  # spilled records found already stored on replay (not appended again)


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
        key = crypto.spill_key(master) if master else None
        # The spill directory belongs to one live writer (an flock on writer.lock); another writer of
        # the same log and data directory gets a directory of its own beside it. Files left by writers
        # that are gone are adopted and replayed (see _adopt).
        self._key = key
        self._base = spill_dir(settings, self.log_id)
        self._claims: list[Any] = []
        directory = self._base
        claim = _claim(directory)
        if claim is None:
            directory = self._base / f"writer-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            claim = _claim(directory)
        self._claims.append(claim)
        self.spill = SpillFile(directory, key)  # batches the writer could not store: oldest
        self.overflow = SpillFile(directory, key, name="overflow")  # parked by submit: newest
        self._orphans: list[SpillFile] = []
        self._adopted: set[Path] = {directory}
        self._next_adopt = 0.0
        self._adopt()
        self._submit_lock = threading.Lock()
        # While set, submit parks every record in the overflow file (it holds older ones).
        self._overflowing = self.overflow.pending > 0
        if witnesses is None:
            witnesses = default_witnesses(settings, logger_provider)
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
            with self._submit_lock:
                if not self._overflowing and len(queue) < self._max and not self._stopped:
                    queue.append(record)
                    queued = True
                else:
                    queued = False
            if queued:
                if len(queue) >= self._batch and not self._wake.is_set():
                    self._wake.set()
                return True
            return self._submit_slow(record)
        except Exception:  # never break the host application
            self._count("lost", 1)
            _log.exception("audit record lost")
            return False

    def _submit_slow(self, record: AuditRecord) -> bool:
        if not self._stopped and not self._overflowing:
            self._wake.set()
            deadline = time.monotonic() + SUBMIT_WAIT_S
            with self._room:
                while len(self._queue) >= self._max and not self._overflowing:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._room.wait(remaining)
        with self._submit_lock:  # the queue-or-overflow decision and the write are one step
            if not self._overflowing and len(self._queue) < self._max and not self._stopped:
                self._queue.append(record)
                return True
            self._overflowing = True
            try:
                self.overflow.append([record], sync=self._stopped)
            except Exception:
                self._count("lost", 1)
                _log.exception("audit record lost: queue full and the spill file refused it")
                return False
        self._count("spilled", 1)
        self._wake.set()
        return True

    # ----------------------------------------------------------------------------------------------
    # Control
    # ----------------------------------------------------------------------------------------------
    @property
    def backlog(self) -> int:
        """Records handed over but not yet in the store (queued + spilled)."""
        orphans = sum(f.pending for f in self._orphans)
        return len(self._queue) + self.spill.pending + self.overflow.pending + orphans

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
        self.overflow.close()
        for orphan in self._orphans:
            orphan.close()
        for claim in self._claims:
            claim.close()  # releases the flock
        self._claims = []
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

    def _adopt(self) -> None:
        """Take over the spill files of writers of this log that are gone (their lock is free)."""
        now = time.monotonic()
        if now < self._next_adopt:
            return
        self._next_adopt = now + ADOPT_EVERY_S
        try:
            candidates = [self._base, *sorted(self._base.glob("writer-*"))]
        except OSError:
            return
        for directory in candidates:
            if directory in self._adopted or not directory.is_dir():
                continue
            claim = _claim(directory)
            if claim is None:
                continue  # its writer is alive
            self._claims.append(claim)
            self._adopted.add(directory)
            for name in ("records", "overflow"):  # that writer's order: its spill, then its overflow
                orphan = SpillFile(directory, self._key, name=name)
                if orphan.pending:
                    _log.info("adopting %d spilled audit records from %s", orphan.pending, orphan.path)
                    self._orphans.append(orphan)

    def _cycle(self, *, flush: bool) -> None:
        # Spill files of writers that are gone (other processes' records: no order between them).
        self._adopt()
        for orphan in list(self._orphans):
            self._replay(orphan)
            if orphan.pending == 0:
                self._orphans.remove(orphan)
        # Oldest first: the writer's spill, then the queue, then what submit parked in overflow.
        self._replay(self.spill)
        while self._queue:
            batch: list[AuditRecord] = []
            queue = self._queue
            while queue and len(batch) < self._batch:
                batch.append(queue.popleft())
            with self._room:
                self._room.notify_all()
            self._write(batch)
            self._maybe_checkpoint()
        if self._overflowing and not self._queue and self.spill.pending == 0:
            self._replay(self.overflow)
            with self._submit_lock:  # submit writes the overflow file under this lock too
                if self.overflow.pending == 0 and not self._queue:
                    self._overflowing = False
            with self._room:
                self._room.notify_all()
        if flush:
            for spill in (self.spill, self.overflow):
                try:
                    spill.sync()
                except OSError:
                    _log.exception("cannot fsync the audit spill file %s", spill.path)
        self._maybe_checkpoint()

    def _write(self, batch: list[AuditRecord]) -> None:
        batch_id = uuid.uuid4().hex
        if self._healthy and self.spill.pending == 0:
            try:
                self.log.append_batch(batch, batch_id=batch_id)
            except Exception as exc:
                self._store_failed(exc)
            else:
                self._count("written", len(batch))
                self._since_checkpoint += len(batch)
                return
        else:
            batch_id = ""  # never sent to the store: replay gives it a spill batch id
        try:
            # A failed transaction's outcome can be unknown (a lost connection during COMMIT): its
            # frames keep its id, so replay appends them only if it did not commit.
            self.spill.append(batch, sync=True, batch_id=batch_id or None)
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

    def _replay(self, spill: SpillFile) -> None:
        if spill.pending == 0:
            self._healthy = self._healthy or time.monotonic() >= self._retry_at
            return
        if not self._healthy and time.monotonic() < self._retry_at:
            return
        while spill.pending:
            try:
                batch = spill.read_batch(self._batch)
            except SpillCorrupt as exc:
                lost = spill.quarantine()
                self._count("lost", lost)
                _log.error(
                    "audit spill file corrupt (%s): %d records moved aside and counted lost", exc, lost
                )
                return
            if not batch.records:
                lost = spill.quarantine()
                self._count("lost", lost)
                return
            try:
                seqs, fresh = self.log.append_batch(batch.records, batch_id=batch.batch_id)
            except Exception as exc:
                self._store_failed(exc)
                return
            if len(seqs) > len(batch.records):  # stored by a replay that read more frames at once
                batch = spill.read_batch(len(seqs))
            done = min(len(seqs), len(batch.records))
            spill.commit(batch.ends[done - 1], done)
            if fresh:
                self._count("replayed", done)
                self._since_checkpoint += done
            else:
                self._count("duplicates_skipped", done)
            self._healthy = True
            self._backoff = RETRY_MIN_S
            self._maybe_checkpoint()
        _log.info("audit spill %s replayed", spill.path.name)

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


def _claim(directory: Path) -> Any:
    """An open ``writer.lock`` in ``directory`` holding an exclusive flock, or None when another live
    writer holds it. The kernel releases the lock when its holder exits, however it exits."""
    directory.mkdir(parents=True, exist_ok=True)
    handle = open(directory / "writer.lock", "a+b")  # noqa: SIM115 - held for the writer's life
    if fcntl is None:  # pragma: no cover - not POSIX: no sharing detection
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def default_witnesses(settings: Settings, logger_provider: Any = None) -> list[Witness]:
    """The witnesses a writer hands checkpoints to: the directory, OTLP logs and, with
    ``GRAFANA_URL``, Grafana annotations."""
    witnesses: list[Witness] = [
        DirectoryWitness(settings.resolved_witness_dir),
        OTLPLogWitness(logger_provider),
    ]
    if settings.grafana_url:
        witnesses.append(GrafanaAnnotationWitness(settings.grafana_url, settings.grafana_token))
    return witnesses


def spill_dir(settings: Settings, log_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", log_id) or "log"
    return settings.data_dir / "spill" / safe
