"""The background writer against real stores: batching, checkpoints and witnesses, spilling while the
store is down or slow, replay in order, shutdown, crash recovery (SIGKILL) and concurrent processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_support import interaction, make_settings, open_log

from llm_soc2.audit import AuditRecord, AuditWriter, load_trusted_checkpoints
from llm_soc2.audit.witness import DirectoryWitness

pytestmark = pytest.mark.integration
WORKER = str(Path(__file__).resolve().parent / "audit_worker.py")


def _wait(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_writer_batches_checkpoints_witnesses_and_shuts_down(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, audit_batch_size=50, checkpoint_every=100)
    log = open_log(f"sqlite:///{tmp_path / 'a.db'}", settings)
    writer = AuditWriter(log, settings)
    for i in range(333):
        assert writer.submit(interaction(i)) is True
    assert writer.flush(10)
    assert writer.stats.written == 333
    assert writer.shutdown(10)
    assert writer.stats.lost == 0
    assert writer.stats.spilled == 0
    assert [r.attributes["n"] for r in log.records(kinds={"interaction"})] == list(range(333))
    witnessed = load_trusted_checkpoints([settings.resolved_witness_dir])
    assert witnessed
    assert max(c.size for c in witnessed) == log.size()
    assert writer.witnesses.failures == {"directory": 0, "otlp": 0}
    report = log.verify(trusted=witnessed)
    assert report.ok, report.reason
    assert writer.submit(interaction(999)) is True  # after shutdown: spilled for the next run, not lost
    assert writer.stats.spilled == 1
    assert writer.stats.lost == 0
    log.close()


def test_store_down_spills_then_replays_in_order(postgres_server: Any, tmp_path: Path) -> None:
    name = postgres_server.create_database("outage")
    url = postgres_server.dsn(name)
    settings = make_settings(tmp_path, audit_batch_size=40)
    log = open_log(url, settings)
    log.signer()
    writer = AuditWriter(log, settings)
    for i in range(50):
        writer.submit(interaction(i))
    assert writer.flush(10)
    assert writer.stats.written == 50
    # Outage: no new connections, existing ones killed.
    postgres_server.admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    postgres_server.admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    for i in range(50, 250):
        writer.submit(interaction(i))
    assert writer.flush(20)  # acknowledged: in the fsynced spill file
    assert writer.stats.spilled == 200
    assert writer.backlog == 200
    assert writer.spill.path.exists()
    postgres_server.admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    for i in range(250, 300):  # arrive after the store is back: must queue behind the spill
        writer.submit(interaction(i))
    _wait(lambda: writer.backlog == 0 and writer.stats.written + writer.stats.replayed == 300, timeout=60)
    assert writer.shutdown(10)
    stats = writer.stats
    assert (stats.lost, stats.replayed) == (0, stats.spilled)
    assert stats.store_failures >= 1
    assert [r.attributes["n"] for r in log.records(kinds={"interaction"})] == list(range(300))
    assert not writer.spill.path.exists()
    assert log.verify(trusted=load_trusted_checkpoints([settings.resolved_witness_dir])).ok
    log.close()


def test_full_queue_with_a_slow_store_spills_on_the_app_thread_within_a_bounded_wait(tmp_path: Path) -> None:
    db = tmp_path / "slow.db"
    settings = make_settings(tmp_path, audit_queue_size=20, audit_batch_size=10)
    log = open_log(f"sqlite:///{db}", settings)
    log.signer()
    writer = AuditWriter(log, settings)
    blocker = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock: the store is slow
    worst = 0.0
    for i in range(200):
        t0 = time.perf_counter()
        assert writer.submit(interaction(i))
        worst = max(worst, time.perf_counter() - t0)
    assert worst < 0.25, f"submit blocked {worst:.3f}s"
    assert writer.stats.spilled > 0
    threading.Timer(0.3, lambda: blocker.execute("ROLLBACK")).start()
    _wait(lambda: writer.backlog == 0, timeout=40)
    assert writer.shutdown(10)
    blocker.close()
    assert writer.stats.lost == 0
    assert writer.stats.written + writer.stats.replayed == 200
    assert sorted(r.attributes["n"] for r in log.records(kinds={"interaction"})) == list(range(200))
    assert log.verify().ok
    log.close()


def test_submit_never_raises_on_odd_records(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    log = open_log(f"sqlite:///{tmp_path / 'odd.db'}", settings)
    writer = AuditWriter(log, settings)
    odd = [
        AuditRecord(kind="interaction", time_unix_nano=1.5e18, attributes={"x": object(), "y": float("nan")}),  # type: ignore[arg-type]
        AuditRecord(kind="interaction", time_unix_nano="yesterday", attributes={"b": b"\xff"}),  # type: ignore[arg-type]
        AuditRecord(kind="interaction", time_unix_nano=1, content={"input": ["a", {"k": set()}]}),
    ]
    for record in odd:
        assert writer.submit(record) is True
    assert writer.shutdown(10)
    assert writer.stats.lost == 0
    assert writer.stats.written == 3
    assert log.verify().ok
    log.close()


def test_writer_killed_mid_batch_loses_no_acknowledged_record(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    data = str(tmp_path)
    proc = subprocess.Popen([sys.executable, WORKER, "writer", url, data], stdout=subprocess.PIPE, text=True)
    acked = 0
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("ACK "):
            acked = int(line.split()[1])
            if acked >= 1500:
                break
    time.sleep(0.05)  # keep writing: the kill lands mid-batch
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert acked >= 1500
    settings = make_settings(tmp_path)
    log = open_log(url, settings)
    report = log.verify(trusted=load_trusted_checkpoints([settings.resolved_witness_dir]))
    assert report.ok, report.reason
    present = {r.attributes["n"] for r in log.records(kinds={"interaction"})}
    assert set(range(acked)) <= present
    # A restarted writer carries on from the same log and the log keeps verifying.
    writer = AuditWriter(log, settings)
    writer.submit(interaction(10**6))
    assert writer.shutdown(10)
    assert writer.stats.lost == 0
    assert log.verify(trusted=load_trusted_checkpoints([settings.resolved_witness_dir])).ok
    log.close()


def test_four_processes_append_concurrently_to_postgres(postgres_server: Any, tmp_path: Path) -> None:
    name = postgres_server.create_database("fleet")
    url = postgres_server.dsn(name)
    open_log(url, make_settings(tmp_path)).close()  # create the schema once
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, "append", url, str(tmp_path / f"w{w}"), str(w), "30", "25"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert sum(json.loads(o.strip().splitlines()[-1])["appended"] for o in outputs) == 3000
    log = open_log(url, make_settings(tmp_path))
    assert log.size() == 3000
    assert log.count() == 3000
    assert [r.seq for r in log.records()] == list(range(3000))
    witness = DirectoryWitness(tmp_path / "witness")
    witness.witness(log.checkpoint())
    report = log.verify(trusted=load_trusted_checkpoints([witness.directory]))
    assert report.ok, report.reason
    ns = sorted(r.attributes["n"] for r in log.records(kinds={"interaction"}))
    assert ns == sorted(w * 1_000_000 + i for w in range(4) for i in range(750))
    log.close()
