"""Subprocess body for the crash and multi-process audit tests (run with ``python audit_worker.py ...``)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_support import interaction, make_settings

from llm_soc2.audit import AuditLog, AuditWriter
from llm_soc2.audit.spill import SpillFile


def writer_until_killed(url: str, data: str) -> None:
    """Submit records forever through an AuditWriter; after each flush print the acknowledged count."""
    settings = make_settings(Path(data), audit_batch_size=64, checkpoint_every=200)
    log = AuditLog.open(url, settings=settings)
    writer = AuditWriter(log, settings)
    n = 0
    while True:
        for _ in range(37):
            writer.submit(interaction(n))
            n += 1
        if writer.flush(30):
            print(f"ACK {n}", flush=True)


def append_batches(url: str, data: str, worker: int, batches: int, size: int) -> None:
    settings = make_settings(Path(data))
    log = AuditLog.open(url, settings=settings)
    for b in range(batches):
        log.append([interaction(worker * 1_000_000 + b * size + i) for i in range(size)])
    log.close()
    print(json.dumps({"worker": worker, "appended": batches * size}), flush=True)


def replay_until_killed(url: str, data: str) -> None:
    """Replay the spill left in ``data`` and die by SIGKILL right after the first replayed batch
    commits, before the replay offset is saved (the window that used to duplicate a batch)."""
    settings = make_settings(Path(data), audit_batch_size=64)
    log = AuditLog.open(url, settings=settings)
    writer = AuditWriter(log, settings, start=False, witnesses=[])

    def die(*_args: object, **_kwargs: object) -> None:
        print(f"COMMITTED {log.size()}", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    SpillFile.commit = die  # type: ignore[method-assign]
    writer._replay(writer.spill)
    print("NOT KILLED", flush=True)


def erase(url: str, data: str, subject: str) -> None:
    settings = make_settings(Path(data))
    with AuditLog.open(url, settings=settings) as log:
        print(json.dumps({"removed": log.erase(subject)}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "writer":
        writer_until_killed(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "replay-until-killed":
        replay_until_killed(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "erase":
        erase(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        append_batches(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    time.sleep(0)
