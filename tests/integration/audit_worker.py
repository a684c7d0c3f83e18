"""Subprocess body for the crash and multi-process audit tests (run with ``python audit_worker.py ...``)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_support import interaction, make_settings

from llm_soc2.audit import AuditLog, AuditWriter


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


if __name__ == "__main__":
    if sys.argv[1] == "writer":
        writer_until_killed(sys.argv[2], sys.argv[3])
    else:
        append_batches(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
    time.sleep(0)
