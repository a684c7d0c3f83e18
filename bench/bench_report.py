"""Report generation at scale: six months, 1,000,000 interactions, SQLite, on this machine.

Generates the data into SQLite through the audit API (``AuditLog.append`` in batches, a signed checkpoint
every 10,000 records; reused on later runs when the parameters match), then runs ``llm-soc2 report`` in a
child process and prints:

- wall time, CPU time of the report and of its child processes (one streams the second half of the
  period, the audit log's verification workers re-hash it), and the machine's load average
  (this machine is shared: when the load exceeds the core count, wall time grows and CPU time does not);
- peak memory, sampled from /proc every 0.2 s: resident and anonymous memory of the report process, of
  its largest child, and the anonymous total of all of them (the audit store maps the SQLite file
  read-only, so resident memory also counts up to 1 GiB of clean, shared file pages);
- the anchors measured in the same run on the same store: streaming every record of the period through
  ``AuditLog.records`` with nothing else, and ``AuditLog.verify`` over the whole log; the report's time
  is printed as a ratio to each.

Target: <= 60 s and <= 1 GiB.

Run: ``.venv/bin/python bench/bench_report.py [--records 1000000] [--days 180] [--dir /tmp/llm-soc2-bench]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.config import Settings

MODELS = (("openai", "gpt-4o-mini"), ("openai", "gpt-4.1"), ("anthropic", "claude-sonnet-4"))
ERRORS = ("RateLimitError", "APITimeoutError", "InternalServerError")
PII = ("EMAIL", "PHONE", "CREDIT_CARD")
BATCH = 5000
CHECKPOINT_EVERY = 10_000
END = datetime(2026, 7, 1, tzinfo=UTC)


def _settings(directory: Path) -> Settings:
    return Settings(
        data_dir=directory / "data",
        service_name="bench-app",
        audit_url=f"sqlite:///{directory / 'audit.db'}",
    )


def _record(rng: random.Random, t_ns: int, index: int) -> AuditRecord:
    provider, model = MODELS[index % 3 if rng.random() < 0.9 else 0]
    roll = rng.random()
    level = "low" if roll < 0.85 else "medium" if roll < 0.95 else "high" if roll < 0.99 else "critical"
    pii = [rng.choice(PII)] if rng.random() < 0.08 else []
    attributes: dict[str, Any] = {
        sc.GEN_AI_OPERATION_NAME: "chat",
        sc.GEN_AI_PROVIDER_NAME: provider,
        sc.GEN_AI_REQUEST_MODEL: model,
        sc.GEN_AI_USAGE_INPUT_TOKENS: rng.randint(20, 2000),
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: rng.randint(5, 800),
        sc.DURATION: round(rng.lognormvariate(-0.3, 0.9), 4),
        sc.RISK_LEVEL: level,
        sc.RISK_SCORE: 0.1 if level == "low" else 0.8,
        sc.RISK_CATEGORIES: [] if level == "low" else [sc.RISK_PROMPT_INJECTION],
        sc.PII_COUNT: len(pii),
        sc.PII_TYPES: pii,
        sc.PII_INPUT_COUNT: len(pii),
        sc.PII_INPUT_TYPES: pii,
        sc.PII_OUTPUT_COUNT: 0,
        sc.PII_OUTPUT_TYPES: [],
        sc.API_KEY_FINGERPRINT: "a1b2c3d4e5f60718",
        sc.API_KEY_KNOWN: True,
        sc.PROMPT_TEMPLATE_HASH: "1111aaaa2222bbbb",
        sc.CHANGE_APPROVED: True,
    }
    if rng.random() < 0.005:
        attributes[sc.ERROR_TYPE] = rng.choice(ERRORS)
    return AuditRecord(
        kind="interaction",
        time_unix_nano=t_ns,
        service="bench-app",
        trace_id=f"{index:032x}",
        span_id=f"{index:016x}",
        subject=f"user-{rng.randrange(5000):05d}",
        attributes=attributes,
    )


def generate_data(directory: Path, records: int, days: int) -> tuple[datetime, datetime]:
    start = END - timedelta(days=days)
    stamp = directory / "params.json"
    params = {"records": records, "days": days, "end": END.isoformat(), "version": 1}
    if stamp.exists() and json.loads(stamp.read_text()) == params:
        print(f"reusing {directory / 'audit.db'} ({records:,} records)")
        return start, END
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("audit.db", "audit.db-wal", "audit.db-shm", "params.json"):
        (directory / name).unlink(missing_ok=True)
    rng = random.Random(1)
    span_ns = days * 86400 * 1_000_000_000
    start_ns = int(start.timestamp()) * 1_000_000_000
    began = time.monotonic()
    with AuditLog.open(settings=_settings(directory)) as log:
        batch: list[AuditRecord] = []
        for index in range(records):
            batch.append(_record(rng, start_ns + span_ns * index // records + rng.randrange(1000), index))
            if len(batch) == BATCH:
                log.append(batch)
                batch = []
                if (index + 1) % CHECKPOINT_EVERY == 0:
                    log.checkpoint()
            if (index + 1) % 100_000 == 0:
                print(f"  generated {index + 1:,} records ({time.monotonic() - began:.0f} s)", flush=True)
        if batch:
            log.append(batch)
        log.checkpoint()
    stamp.write_text(json.dumps(params))
    print(f"generated {records:,} records through AuditLog.append in {time.monotonic() - began:.1f} s")
    return start, END


def anchors(directory: Path, start: datetime, end: datetime) -> tuple[float, float]:
    with AuditLog.open(settings=_settings(directory)) as log:
        began = time.monotonic()
        count = sum(1 for _ in log.records(since=start, until=end, with_content=False))
        scan = time.monotonic() - began
        began = time.monotonic()
        report = log.verify()
        verify = time.monotonic() - began
    print(f"anchor: AuditLog.records over the period ({count:,} records): {scan:.1f} s")
    print(f"anchor: AuditLog.verify over the whole log (ok={report.ok}): {verify:.1f} s")
    return scan, verify


CHILD = """
import json, resource, sys, time
from datetime import datetime
from pathlib import Path
from llm_soc2.config import Settings
from llm_soc2.report import generate
directory, start, end, out = sys.argv[1:5]
settings = Settings(data_dir=Path(directory) / "data", service_name="bench-app",
                    audit_url=f"sqlite:///{Path(directory) / 'audit.db'}")
began = time.monotonic()
result = generate(settings, datetime.fromisoformat(start), datetime.fromisoformat(end), out, overwrite=True,
                  seed="00", progress=False)
own = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": time.monotonic() - began, "verified": result.verified,
                  "interactions": result.interactions, "statuses": result.status_counts,
                  "cpu_report": own.ru_utime + own.ru_stime, "cpu_verification": kids.ru_utime + kids.ru_stime}))
"""


def _status(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def _tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            for child in handle.read().split():
                pids += _tree(int(child))
    except OSError:
        pass
    return pids


class _Sampler(threading.Thread):
    """Polls the report process and its children for resident memory (total and anonymous)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.stop = threading.Event()
        self.peak_rss = self.peak_anon = self.peak_tree_anon = self.peak_child_anon = 0

    def run(self) -> None:
        while not self.stop.wait(0.2):
            tree = _tree(self.pid)
            statuses = [_status(p) for p in tree]
            own = statuses[0] if statuses else {}
            self.peak_rss = max(self.peak_rss, own.get("VmRSS", 0))
            self.peak_anon = max(self.peak_anon, own.get("RssAnon", 0))
            self.peak_tree_anon = max(self.peak_tree_anon, sum(s.get("RssAnon", 0) for s in statuses))
            self.peak_child_anon = max([self.peak_child_anon, *(s.get("RssAnon", 0) for s in statuses[1:])])


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/llm-soc2-bench"))
    parser.add_argument("--no-anchors", action="store_true")
    args = parser.parse_args()
    start, end = generate_data(args.dir, args.records, args.days)
    scan, verify = (0.0, 0.0) if args.no_anchors else anchors(args.dir, start, end)
    out = args.dir / "report"
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(args.dir), start.isoformat(), end.isoformat(), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = _Sampler(child.pid)
    sampler.start()
    stdout, stderr = child.communicate()
    wall = time.monotonic() - began
    sampler.stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if child.returncode != 0:
        print(stderr, file=sys.stderr)
        return 1
    result = json.loads(stdout.strip().splitlines()[-1])
    cores = os.cpu_count() or 1
    print(
        f"report: {result['interactions']:,} interactions over {args.days} days: {result['seconds']:.1f} s wall "
        f"(process {wall:.1f} s), {cpu:.1f} s CPU in all processes, verified={result['verified']}"
    )
    total_cpu = result["cpu_report"] + result["cpu_verification"]
    idle = max(result["cpu_report"], total_cpu / (os.cpu_count() or 1))
    print(
        f"  CPU: report process {result['cpu_report']:.1f} s (first half of the pass, evidence, rendering), "
        f"its child processes {result['cpu_verification']:.1f} s (second half of the pass, verification workers); "
        f"on {os.cpu_count()} idle cores the wall time would be about max(report CPU, all CPU / cores) = "
        f"{idle:.1f} s"
    )
    print(f"  statuses {result['statuses']}")
    print(
        f"  machine load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {cores} cores "
        f"(other work competes for the CPU when the load exceeds the core count)"
    )
    print(
        f"memory: report process peak RSS {sampler.peak_rss / 1024:.0f} MiB, of which anonymous "
        f"{sampler.peak_anon / 1024:.0f} MiB (the rest is the SQLite file the audit store maps read-only, "
        f"mmap_size 1 GiB); largest child process {sampler.peak_child_anon / 1024:.0f} MiB anonymous; "
        f"all processes together {sampler.peak_tree_anon / 1024:.0f} MiB anonymous"
    )
    if scan:
        print(
            f"ratio: report / bare record stream through AuditLog.records = {result['seconds'] / scan:.2f}x"
        )
        print(f"ratio: report / bare AuditLog.verify = {result['seconds'] / verify:.2f}x")
    on_idle = cpu / cores
    within_time = result["seconds"] <= 60
    within_memory = sampler.peak_tree_anon <= 1024 * 1024
    print(
        f"target <= 60 s: {'met' if within_time else 'NOT met'} ({result['seconds']:.1f} s; CPU / cores = "
        f"{on_idle:.1f} s); <= 1 GiB: {'met' if within_memory else 'NOT met'} "
        f"({sampler.peak_tree_anon / 1024:.0f} MiB anonymous in all processes)"
    )
    return 0 if within_time and within_memory else 1


if __name__ == "__main__":
    sys.exit(main())
