"""The background writer against real stores: batching, checkpoints and witnesses, spilling while the
store is down or slow, exactly-once replay in order, order under overload, shutdown, crash recovery
(SIGKILL, also during an outage), concurrent processes, and erasure seen by another process."""

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

from audit_support import interaction, make_settings, open_log, store_url

from llm_soc2.audit import AuditRecord, AuditWriter, load_trusted_checkpoints
from llm_soc2.audit.spill import SpillFile
from llm_soc2.audit.witness import DirectoryWitness
from llm_soc2.audit.writer import spill_dir

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


# --------------------------------------------------------------------------------------------------
# Exactly-once replay, order under overload, a crash during an outage, erasure seen by other processes
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_replay_killed_between_commit_and_offset_save_duplicates_nothing(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = store_url(request, kind, tmp_path)
    settings = make_settings(tmp_path, audit_batch_size=64)
    log = open_log(url, settings)
    log.signer()  # seq 0: the key record
    # What an outage leaves behind: 300 records in the spill file, one batch of them with the id of
    # its failed store transaction (outcome unknown), the others spilled while the store was down.
    spill = SpillFile(spill_dir(settings, log.write_log_id), None)
    spill.append([interaction(i) for i in range(0, 40)], sync=True, batch_id="failed-tx-1")
    spill.append([interaction(i) for i in range(40, 300)], sync=True)
    spill.close()
    proc = subprocess.run(
        [sys.executable, WORKER, "replay-until-killed", url, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "COMMITTED 41" in proc.stdout  # the failed batch's 40 records are in; the offset is not saved
    assert log.size() == 41
    writer = AuditWriter(log, settings)  # the restart replays the same spill from the old offset
    _wait(lambda: writer.backlog == 0, timeout=60)
    assert writer.shutdown(10)
    assert writer.stats.duplicates_skipped == 40
    assert writer.stats.replayed == 260
    assert writer.stats.lost == 0
    assert [r.attributes["n"] for r in log.records(kinds={"interaction"})] == list(range(300))
    assert not writer.spill.path.exists()
    report = log.verify(trusted=load_trusted_checkpoints([settings.resolved_witness_dir]))
    assert report.ok, report.reason
    log.close()


def test_overload_keeps_each_threads_submission_order(tmp_path: Path) -> None:
    db = tmp_path / "order.db"
    settings = make_settings(tmp_path, audit_queue_size=20, audit_batch_size=10)
    log = open_log(f"sqlite:///{db}", settings)
    log.signer()
    writer = AuditWriter(log, settings)
    blocker = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # the store is slow: the queue fills and submit parks records
    release = threading.Timer(0.4, lambda: blocker.execute("ROLLBACK"))
    release.start()

    def produce(thread: int) -> None:
        for i in range(150):
            record = interaction(i)
            writer.submit(
                AuditRecord(
                    kind="interaction",
                    time_unix_nano=record.time_unix_nano,
                    service="svc",
                    attributes={"thread": thread, "i": i},
                )
            )
            if i % 25 == 0:
                time.sleep(0.01)  # let the writer drain a little: records go to the queue and to overflow

    threads = [threading.Thread(target=produce, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    release.join()
    _wait(lambda: writer.backlog == 0, timeout=60)
    assert writer.shutdown(10)
    blocker.close()
    assert writer.stats.spilled > 0, "the queue never overflowed: the test proves nothing"
    assert writer.stats.lost == 0
    seen: dict[int, list[int]] = {t: [] for t in range(4)}
    for r in log.records(kinds={"interaction"}):
        seen[r.attributes["thread"]].append(r.attributes["i"])
    for thread, order in seen.items():
        assert order == list(range(150)), f"thread {thread}: stored out of submission order"
    assert log.verify().ok
    log.close()


def test_writer_killed_while_the_store_is_down_loses_and_duplicates_nothing(
    postgres_server: Any, tmp_path: Path
) -> None:
    name = postgres_server.create_database("down")
    url = postgres_server.dsn(name)
    proc = subprocess.Popen(
        [sys.executable, WORKER, "writer", url, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    acked = 0
    down_at = None
    try:
        for line in proc.stdout:
            if not line.startswith("ACK "):
                continue
            acked = int(line.split()[1])
            if down_at is None and acked >= 300:
                # The store goes away: no new connections, the writer's connection is killed.
                postgres_server.admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                postgres_server.admin(
                    f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                )
                down_at = acked
            elif down_at is not None and acked >= down_at + 900:
                break  # hundreds of acknowledged records exist only in the spill file
        time.sleep(0.05)  # keep writing: the kill lands while spilling
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        postgres_server.admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert down_at is not None
    assert acked >= down_at + 900
    settings = make_settings(tmp_path)
    spilled = SpillFile(spill_dir(settings, "svc"), None)
    assert spilled.pending > 0
    spilled.close()
    log = open_log(url, settings)
    stored_before = log.count(kinds={"interaction"})
    # Everything acknowledged is in the store or in the spill file (the pipe's lag means the outage
    # began somewhat after record `down_at`).
    assert stored_before + spilled.pending >= acked
    writer = AuditWriter(log, settings)  # restart with the store back: replay
    _wait(lambda: writer.backlog == 0, timeout=120)
    assert writer.shutdown(20)
    assert writer.stats.lost == 0
    ns = [r.attributes["n"] for r in log.records(kinds={"interaction"})]
    assert len(ns) == len(set(ns)), "a record was stored twice"
    assert set(range(acked)) <= set(ns), "an acknowledged record is missing"
    assert ns == sorted(ns)  # one writer: submission order, across the outage and the crash
    report = log.verify(trusted=load_trusted_checkpoints([settings.resolved_witness_dir]))
    assert report.ok, report.reason
    log.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_erase_in_another_process_takes_effect_without_a_restart(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = store_url(request, kind, tmp_path)
    settings = make_settings(tmp_path)
    log = open_log(url, settings)
    [before] = log.append([interaction(1, subject="alice", raw=True)])  # caches alice's data key
    old_key = log.record(before).sealed_key_id  # type: ignore[union-attr]
    proc = subprocess.run(
        [sys.executable, WORKER, "erase", url, str(tmp_path), "alice"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    [after] = log.append([interaction(2, subject="alice", raw=True)])
    record = log.record(after)
    assert record is not None
    assert record.sealed_key_id != old_key, "sealed under the erased key: unreadable from the start"
    assert log.raw_content(after) == {"input": "raw question 2 from jane2@example.com"}
    assert log.raw_content(before) is None  # shredded
    report = log.verify()
    assert report.ok, report.reason
    log.close()


def test_writers_sharing_a_data_dir_spill_apart_and_adopt_what_a_dead_one_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llm_soc2.audit import writer as writer_module

    monkeypatch.setattr(writer_module, "ADOPT_EVERY_S", 0.0)
    settings = make_settings(tmp_path)
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    log_a, log_b = open_log(url, settings), open_log(url, settings)
    first = AuditWriter(log_a, settings)
    second = AuditWriter(log_b, settings, start=False)  # e.g. another worker process of the same app
    assert first.spill.path.parent == spill_dir(settings, "svc")
    assert second.spill.path.parent.parent == spill_dir(settings, "svc")  # a directory of its own
    # The second writer spills during an outage, then dies before replaying.
    second.spill.append([interaction(i) for i in range(100, 140)], sync=True, batch_id="b-1")
    second.overflow.append([interaction(i) for i in range(140, 150)], sync=True)
    for claim in second._claims:
        claim.close()  # what the kernel does when the process dies
    for i in range(10):
        first.submit(interaction(i))
    _wait(lambda: first.backlog == 0 and first.stats.replayed == 50, timeout=30)
    assert first.shutdown(10)
    ns = [r.attributes["n"] for r in log_a.records(kinds={"interaction"})]
    assert sorted(ns) == [*range(10), *range(100, 150)]
    assert [n for n in ns if n >= 100] == list(range(100, 150))  # its spill before its overflow
    assert log_a.verify().ok
    log_a.close()
    log_b.close()
