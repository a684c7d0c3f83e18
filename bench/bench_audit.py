"""Audit log benchmark: prints figures and their ratio to the goals; not a timed test.

    .venv/bin/python bench/bench_audit.py [--records 1000000] [--append 50000] [--no-postgres]

* appends/s into SQLite and into a private PostgreSQL server (started like the tests do), batches of 500
  with scrubbed content (goals: >= 20,000/s SQLite, >= 5,000/s PostgreSQL);
* full verification of a log of ``--records`` records (goal: 1,000,000 in <= 20 s);
* inclusion proof generation at that size (goal: <= 1 ms);
* the application thread's cost of ``AuditWriter.submit`` (goal: <= 5 us).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from llm_soc2.audit import AuditLog, AuditRecord, AuditWriter, merkle
from llm_soc2.config import Settings


def record(i: int, *, content: bool = True) -> AuditRecord:
    return AuditRecord(
        kind="interaction",
        time_unix_nano=1_800_000_000_000_000_000 + i * 1_000_000,
        service="bench",
        trace_id=f"{i:032x}",
        span_id=f"{i:016x}",
        subject=f"{i % 97:016x}",
        attributes={
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.provider.name": "openai",
            "gen_ai.operation.name": "chat",
            "gen_ai.usage.input_tokens": 120 + i % 50,
            "gen_ai.usage.output_tokens": 300 + i % 70,
            "llm_soc2.risk.score": (i % 10) / 10,
            "llm_soc2.risk.level": "low",
            "llm_soc2.api_key.fingerprint": "a1b2c3d4e5f60718",
            "llm_soc2.prompt.template_hash": "0f1e2d3c4b5a6978",
        },
        content={"input": "What is the capital of France?", "output": "Paris."} if content else None,
    )


def line(name: str, value: float, unit: str, goal: float, higher_is_better: bool) -> None:
    ratio = value / goal if higher_is_better else goal / value if value else float("inf")
    verdict = "meets" if ratio >= 1 else "MISSES"
    print(f"{name:<44} {value:>12,.2f} {unit:<10} goal {goal:>10,} {unit:<8} x{ratio:5.2f} {verdict}")


def bench_append(url: str, settings: Settings, n: int, batch: int = 500) -> float:
    log = AuditLog.open(url, settings=settings)
    records = [record(i) for i in range(n)]
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        log.append(records[start : start + batch])
    elapsed = time.perf_counter() - t0
    log.close()
    return n / elapsed


def bench_verify_and_prove(url: str, settings: Settings, n: int) -> tuple[float, float, float]:
    log = AuditLog.open(url, settings=settings)
    t0 = time.perf_counter()
    batch = [record(i, content=False) for i in range(5000)]
    for _ in range(n // len(batch)):
        log.append(batch)
    build = time.perf_counter() - t0
    print(f"  (built a log of {log.size():,} records in {build:.1f} s)")
    checkpoint = log.checkpoint()
    t0 = time.perf_counter()
    report = log.verify(trusted=[checkpoint])
    verify_s = time.perf_counter() - t0
    assert report.ok, report.reason
    rng = random.Random(1)
    seqs = [rng.randrange(checkpoint.size) for _ in range(300)]
    times = []
    for seq in seqs:  # the Merkle part: plan, fetch nodes from the store, fold
        t1 = time.perf_counter()
        planned = merkle.plan(merkle.inclusion_ranges(seq, checkpoint.size))
        nodes = log.store.get_nodes(log.write_log_id, [n for part in planned for n in part])
        merkle.resolve(planned, nodes)
        times.append(time.perf_counter() - t1)
    full = []
    for seq in seqs[:100]:  # the whole InclusionProof, including the record body and a self-check
        t1 = time.perf_counter()
        log.prove(seq, checkpoint=checkpoint)
        full.append(time.perf_counter() - t1)
    log.close()
    return verify_s, statistics.median(times) * 1e3, statistics.median(full) * 1e3


def bench_submit(settings: Settings, url: str, n: int = 200_000) -> float:
    log = AuditLog.open(url, settings=settings)
    writer = AuditWriter(log, settings, witnesses=[])
    records = [record(i) for i in range(n)]
    submit = writer.submit
    samples = []
    for chunk in range(0, n, 10_000):
        part = records[chunk : chunk + 10_000]
        t0 = time.perf_counter_ns()
        for item in part:
            submit(item)
        samples.append((time.perf_counter_ns() - t0) / len(part))
        writer.flush(60)
    writer.shutdown(60)
    assert writer.stats.lost == 0
    log.close()
    return statistics.median(samples) / 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000, help="log size for verify/prove")
    parser.add_argument("--append", type=int, default=50_000, help="records per append benchmark")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="llm-soc2-bench-"))
    settings = Settings(data_dir=tmp / "data", service_name="bench", audit_queue_size=20_000)
    print(f"llm-soc2 audit benchmark ({args.append:,} appends, {args.records:,}-record log)")

    rate = bench_append(f"sqlite:///{tmp / 'append.db'}", settings, args.append)
    line("SQLite appends (batches of 500)", rate, "rec/s", 20_000, True)

    if not args.no_postgres:
        from support.postgres import PostgresServer, find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is None:
            print("PostgreSQL: not installed (tests/setup/system-deps.sh); skipped")
        else:
            server = PostgresServer(bin_dir).start()
            try:
                rate = bench_append(server.dsn(server.create_database("bench")), settings, args.append)
                line("PostgreSQL appends (batches of 500, COPY)", rate, "rec/s", 5_000, True)
            finally:
                server.stop()

    verify_s, proof_ms, full_ms = bench_verify_and_prove(
        f"sqlite:///{tmp / 'big.db'}", settings, args.records
    )
    line(f"verify {args.records:,} records (SQLite)", verify_s, "s", 20, False)
    line(f"inclusion proof at {args.records:,} leaves", proof_ms, "ms", 1, False)
    print(f"{'  whole prove() incl. body + self-check':<44} {full_ms:>12,.2f} ms")

    submit_us = bench_submit(settings, f"sqlite:///{tmp / 'submit.db'}")
    line("AuditWriter.submit() on the app thread", submit_us, "us", 5, False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
