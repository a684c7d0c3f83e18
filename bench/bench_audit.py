"""Audit log benchmark: prints figures and their ratio to the goals; not a timed test.

    .venv/bin/python bench/bench_audit.py [--records 1000000] [--append 50000] [--runs 3] [--no-postgres]

* appends/s into SQLite and into a private PostgreSQL server (started like the tests do), batches of 500
  with scrubbed content (goals: >= 20,000/s SQLite, >= 5,000/s PostgreSQL);
* full verification of a log of ``--records`` records with scrubbed content (goal: 1,000,000 in <= 20 s),
  with as many processes as ``AuditLog.verify`` uses by default (one per core);
* inclusion proof generation at that size (goal: <= 1 ms);
* the application thread's cost of ``AuditWriter.submit`` (goal: <= 5 us).

Every figure is measured ``--runs`` times: the best and the median are printed, with the wall clock
and the CPU time this process (and its verification children) spent. On a loaded machine the wall
figures depend on the load, printed with them; the CPU figures much less. A PostgreSQL append's CPU
figure counts the client only (the server's work is in its own processes).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
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


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} on {os.cpu_count()} cores"


def cpu() -> float:
    """CPU seconds of this process and its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def line(
    name: str, values: list[float], unit: str, goal: float, higher_is_better: bool, note: str = ""
) -> None:
    best = max(values) if higher_is_better else min(values)
    median = statistics.median(values)
    ratio = best / goal if higher_is_better else goal / best if best else float("inf")
    verdict = "meets" if ratio >= 1 else "MISSES"
    print(
        f"{name:<46} best {best:>10,.2f} median {median:>10,.2f} {unit:<6} goal {goal:>8,} "
        f"x{ratio:5.2f} {verdict}{'  ' + note if note else ''}"
    )


def runs(n: int, measure: Callable[[int], tuple[float, float]]) -> tuple[list[float], list[float]]:
    """``measure(run)`` returns (wall figure, CPU figure); both lists, one value per run."""
    walls, cpus = [], []
    for run in range(n):
        wall, cpu_figure = measure(run)
        walls.append(wall)
        cpus.append(cpu_figure)
    return walls, cpus


def bench_append(
    url_for: Callable[[int], str], settings: Settings, n: int, batch: int = 500
) -> Callable[[int], tuple[float, float]]:
    records = [record(i) for i in range(n)]

    def measure(run: int) -> tuple[float, float]:
        log = AuditLog.open(url_for(run), settings=settings)
        t0, c0 = time.perf_counter(), cpu()
        for start in range(0, n, batch):
            log.append(records[start : start + batch])
        elapsed, spent = time.perf_counter() - t0, cpu() - c0
        log.close()
        return n / elapsed, n / spent

    return measure


def build(url: str, settings: Settings, n: int) -> None:
    log = AuditLog.open(url, settings=settings)
    t0 = time.perf_counter()
    for start in range(0, n, 5000):
        log.append([record(i) for i in range(start, min(n, start + 5000))])
    log.checkpoint()
    print(
        f"  (built a log of {log.size():,} records with content in {time.perf_counter() - t0:.1f} s; {load()})"
    )
    log.close()


def bench_verify(url: str, settings: Settings) -> Callable[[int], tuple[float, float]]:
    def measure(_run: int) -> tuple[float, float]:
        log = AuditLog.open(url, settings=settings)
        checkpoint = log.latest_checkpoint()
        assert checkpoint is not None
        t0, c0 = time.perf_counter(), cpu()
        report = log.verify(trusted=[checkpoint])
        elapsed, spent = time.perf_counter() - t0, cpu() - c0
        assert report.ok, report.reason
        assert report.records_checked == log.size()
        log.close()
        return elapsed, spent

    return measure


def bench_prove(url: str, settings: Settings) -> tuple[float, float]:
    log = AuditLog.open(url, settings=settings)
    checkpoint = log.latest_checkpoint()
    assert checkpoint is not None
    rng = random.Random(1)
    seqs = [rng.randrange(checkpoint.size) for _ in range(300)]
    times = []
    for seq in seqs:  # the Merkle part: plan, fetch nodes from the store (small ones from leaves), fold
        t1 = time.perf_counter()
        planned = merkle.plan(merkle.inclusion_ranges(seq, checkpoint.size))
        ids = [n for part in planned for n in part]
        fetched = log.store.get_nodes(log.write_log_id, merkle.fetch_ids(ids))
        merkle.resolve(planned, merkle.assemble(ids, fetched))
        times.append(time.perf_counter() - t1)
    full = []
    for seq in seqs[:100]:  # the whole InclusionProof, including the record body and a self-check
        t1 = time.perf_counter()
        log.prove(seq, checkpoint=checkpoint)
        full.append(time.perf_counter() - t1)
    log.close()
    return statistics.median(times) * 1e3, statistics.median(full) * 1e3


def bench_submit(settings: Settings, tmp: Path, n: int = 200_000) -> Callable[[int], tuple[float, float]]:
    records = [record(i) for i in range(n)]

    def measure(run: int) -> tuple[float, float]:
        log = AuditLog.open(f"sqlite:///{tmp / f'submit{run}.db'}", settings=settings)
        writer = AuditWriter(log, settings, witnesses=[])
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
        median = statistics.median(samples) / 1000
        return median, median

    return measure


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000, help="log size for verify/prove")
    parser.add_argument("--append", type=int, default=50_000, help="records per append benchmark")
    parser.add_argument("--runs", type=int, default=3, help="measurements per figure")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="llm-soc2-bench-"))
    settings = Settings(data_dir=tmp / "data", service_name="bench", audit_queue_size=20_000)
    print(
        f"llm-soc2 audit benchmark ({args.append:,} appends, {args.records:,}-record log, {args.runs} runs; {load()})"
    )

    walls, cpus = runs(
        args.runs, bench_append(lambda r: f"sqlite:///{tmp / f'append{r}.db'}", settings, args.append)
    )
    line("SQLite appends (batches of 500), wall", walls, "rec/s", 20_000, True, load())
    line("SQLite appends, per CPU second", cpus, "rec/s", 20_000, True)

    if not args.no_postgres:
        from support.postgres import PostgresServer, find_bin_dir

        bin_dir = find_bin_dir()
        if bin_dir is None:
            print("PostgreSQL: not installed (tests/setup/system-deps.sh); skipped")
        else:
            server = PostgresServer(bin_dir).start()
            try:
                walls, cpus = runs(
                    args.runs,
                    bench_append(
                        lambda _r: server.dsn(server.create_database("bench")), settings, args.append
                    ),
                )
                line("PostgreSQL appends (batches of 500), wall", walls, "rec/s", 5_000, True, load())
                line("PostgreSQL appends, per client CPU second", cpus, "rec/s", 5_000, True)
            finally:
                server.stop()

    url = f"sqlite:///{tmp / 'big.db'}"
    build(url, settings, args.records)
    walls, cpus = runs(args.runs, bench_verify(url, settings))
    line(f"verify {args.records:,} records (SQLite), wall", walls, "s", 20, False, load())
    line("  the same, CPU seconds (all processes)", cpus, "s", 20, False)
    proof_ms, full_ms = bench_prove(url, settings)
    line(f"inclusion proof at {args.records:,} leaves", [proof_ms], "ms", 1, False)
    print(f"{'  whole prove() incl. body + self-check':<46} {full_ms:>15,.2f} ms")

    walls, _ = runs(args.runs, bench_submit(settings, tmp))
    line("AuditWriter.submit() on the app thread", walls, "us", 5, False, load())
    return 0


if __name__ == "__main__":
    sys.exit(main())
