"""Drift detection benchmark: false alarms, detection delays and speed, against Evidently's defaults.

    .venv/bin/python bench/bench_drift.py                # 30 simulated days + every shift (~10-20 min)
    .venv/bin/python bench/bench_drift.py --days 7       # shorter stationary run
    .venv/bin/python bench/bench_drift.py --no-evidently # ours only

Streams (``llm_soc2.drift.simulate``): one model at 1 request/s, daily cycle, day/hour level noise,
heavy-tailed latency. Day 1 is the reference for both detectors (frozen). Then:

* stationary: days 2..(1+DAYS), no change -- every alert is a false alarm;
* latency +0.5 sigma, response length +0.5 sigma, response-length variance x2, finish-reason
  ``tool_calls`` share +10 points: step changes on day 2 at 10:00 UTC; stationary until then;
* latency ramp: +1 sigma reached linearly over day 2 (00:00 -> 24:00).

Ours: ``DriftMonitor`` with default settings (60 s checks, 30-minute windows) fed through
``observe()`` on simulated time. Evidently 0.7.23 (installed into ``bench/.venv-drift`` with pandas
2.3.3, which it needs): its
default stattest per column (``get_stattest(..., stattest_func=None)``: with a reference over 1,000 rows
Wasserstein/std >= 0.1 for numeric columns, Jensen-Shannon >= 0.1 for categorical ones) on the same
columns, reference day 1 against the last 30 minutes; every 30 minutes on the stationary stream (as in
the reference measurement), every minute around the shifts.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from array import array
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent
BENCH_VENV = ROOT / ".venv-drift"
EVIDENTLY = ("evidently==0.7.23", "pandas==2.3.3")  # evidently 0.7.23 imports names pandas 3 removed
DAY = 86_400.0
SHIFT_AT = DAY + 10 * 3600

NUMERIC = ("latency", "time_to_first_chunk", "prompt_tokens", "response_tokens", "prompt_chars", "response_chars",
           "risk_score")  # fmt: skip
CATEGORICAL = ("finish_reason", "error_type", "pii", "refusal", "risk_categories")
SCENARIOS: dict[str, dict[str, Any]] = {
    "latency +0.5 sd": {"kind": "latency_mean", "size": 0.5, "start": SHIFT_AT, "columns": ["latency"]},
    "length +0.5 sd": {"kind": "length_mean", "size": 0.5, "start": SHIFT_AT, "columns": ["response_tokens"]},
    "length variance x2": {"kind": "length_variance", "size": 2.0, "start": SHIFT_AT, "columns": ["response_tokens"]},
    "category +10 points": {"kind": "category_share", "size": 0.10, "start": SHIFT_AT, "columns": ["finish_reason"]},
    "latency ramp 1 sd/day": {"kind": "latency_ramp", "size": 1.0, "start": DAY, "duration": DAY,
                              "columns": ["latency"]},
}  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Our monitor on a simulated stream (runs in a worker process)
# --------------------------------------------------------------------------------------------------
def run_ours(
    name: str, days: float, seed: int, columns_out: str | None, freeze: bool = True
) -> dict[str, Any]:
    from llm_soc2 import semconv as sc
    from llm_soc2.config import Settings
    from llm_soc2.drift import DriftMonitor
    from llm_soc2.drift.simulate import Shift, Traffic

    spec = SCENARIOS.get(name)
    shifts = []
    if spec is not None:
        shifts.append(Shift(spec["kind"], spec["start"], spec["size"], spec.get("duration", 0.0)))
    traffic = Traffic(seed, shifts=shifts)
    now = [traffic.start_unix]
    with tempfile.TemporaryDirectory() as tmp:
        monitor = DriftMonitor(
            Settings(service_name="bench", data_dir=Path(tmp)), clock=lambda: now[0], telemetry=False
        )
        end_at = (1 + days) * DAY if spec is None else (spec["start"] + spec.get("duration", 0.0) + 4 * 3600)
        cols = Columns()
        check_seconds = 0.0
        checks = 0
        started = time.perf_counter()
        for end, items in traffic.stream(0, end_at):
            for attributes, text, time_ns in items:
                monitor.observe(attributes, text, time_ns)
                if columns_out:
                    cols.add(attributes, time_ns, sc)
            now[0] = traffic.start_unix + end
            t0 = time.perf_counter()
            results = monitor.run_once()
            if results is not None:
                check_seconds += time.perf_counter() - t0
                checks += 1
            if end == DAY and freeze:
                monitor.freeze_baseline("day1", save=False)
        elapsed = time.perf_counter() - started
        if columns_out:
            cols.save(columns_out, traffic.start_unix)
    events = [
        {
            "seconds": e.time_unix_nano / 1e9 - traffic.start_unix,
            "feature": e.result.feature,
            "effect": f"{e.result.effect_name} {e.result.effect:.3f}",
        }
        for e in monitor.events
        if e.state == "detected"
    ]
    return {
        "name": name,
        "events": events,
        "checks": monitor.counters["checks"],
        "check_ms": 1000 * check_seconds / max(checks, 1),
        "elapsed": elapsed,
        "memory_bytes": monitor.memory_bytes,
        "observed": monitor.counters["observed"],
    }


class Columns:
    """The stream as compact columns (float64 numbers, int16 category codes) for Evidently."""

    def __init__(self) -> None:
        self.numbers = {name: array("d") for name in ("t", *NUMERIC)}
        self.codes = {name: array("h") for name in CATEGORICAL}
        self.names: dict[str, dict[str, int]] = {name: {} for name in CATEGORICAL}

    def _code(self, column: str, value: str) -> int:
        names = self.names[column]
        return names.setdefault(value, len(names))

    def add(self, a: dict[str, Any], time_ns: int, sc: Any) -> None:
        self.numbers["t"].append(time_ns / 1e9)
        for name, attr in (("latency", sc.DURATION), ("time_to_first_chunk", sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK),
                           ("prompt_tokens", sc.GEN_AI_USAGE_INPUT_TOKENS),
                           ("response_tokens", sc.GEN_AI_USAGE_OUTPUT_TOKENS), ("prompt_chars", sc.PROMPT_CHARS),
                           ("response_chars", sc.RESPONSE_CHARS), ("risk_score", sc.RISK_SCORE)):  # fmt: skip
            value = a.get(attr)
            self.numbers[name].append(np.nan if value is None else float(value))
        reasons = a.get(sc.GEN_AI_RESPONSE_FINISH_REASONS) or ["none"]
        categories = a.get(sc.RISK_CATEGORIES) or []
        self.codes["finish_reason"].append(self._code("finish_reason", reasons[0]))
        self.codes["error_type"].append(self._code("error_type", a.get(sc.ERROR_TYPE, "none")))
        self.codes["pii"].append(self._code("pii", "yes" if a.get(sc.PII_COUNT, 0) else "no"))
        self.codes["refusal"].append(self._code("refusal", "yes" if sc.RISK_REFUSAL in categories else "no"))
        self.codes["risk_categories"].append(
            self._code("risk_categories", ",".join(sorted(categories)) or "none")
        )

    def save(self, path: str, start_unix: float) -> None:
        arrays: dict[str, Any] = {k: np.frombuffer(v, dtype=np.float64) for k, v in self.numbers.items()}
        for name, codes in self.codes.items():
            names = sorted(self.names[name], key=self.names[name].__getitem__)
            arrays[name] = np.frombuffer(codes, dtype=np.int16)
            arrays[f"{name}__names"] = np.asarray(names)
        np.savez(path, start_unix=start_unix, **arrays)


# --------------------------------------------------------------------------------------------------
# Evidently (runs in bench/.venv-drift)
# --------------------------------------------------------------------------------------------------
EVIDENTLY_WORKER = r"""
import json, sys, warnings
import numpy as np, pandas as pd
warnings.filterwarnings("ignore")
from evidently.legacy.calculations.stattests.registry import get_stattest
from evidently.legacy.core import ColumnType
import evidently
path, spec = sys.argv[1], json.loads(sys.argv[2])
data = np.load(path, allow_pickle=False)
t = data["t"] - float(data["start_unix"])
ref_mask = t < 86400.0
columns = {name: (ColumnType.Numerical if name in spec["numeric"] else ColumnType.Categorical) for name in spec["numeric"] + spec["categorical"]}
def values(name, selection):
    if columns[name] == ColumnType.Numerical:
        return pd.Series(data[name][selection]).dropna()
    return pd.Series(data[name + "__names"][data[name][selection]].astype(object))
refs = {name: values(name, ref_mask) for name in columns}
flags = []
for at in spec["checks"]:
    lo, hi = np.searchsorted(t, [at - 1800.0, at])
    drifted = []
    for name, kind in columns.items():
        cur = values(name, slice(lo, hi))
        if len(cur) == 0:
            continue
        test = get_stattest(refs[name], cur, kind, None)
        result = test(refs[name], cur, kind, None)
        if result.drifted:
            drifted.append(name)
    flags.append(drifted)
print(json.dumps({"version": evidently.__version__, "flags": flags}))
"""


def ensure_evidently() -> Path | None:
    python = BENCH_VENV / "bin" / "python"
    if python.exists():
        probe = subprocess.run([str(python), "-c", "import evidently"], capture_output=True, check=False)
        if probe.returncode == 0:
            return python
    print(f"creating {BENCH_VENV} with {' '.join(EVIDENTLY)} ...", file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *EVIDENTLY], check=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"cannot install {' '.join(EVIDENTLY)}: {exc}", file=sys.stderr)
        return None
    return python


def run_evidently(python: Path, npz: str, checks: list[float]) -> dict[str, Any]:
    spec = {"numeric": list(NUMERIC), "categorical": list(CATEGORICAL), "checks": checks}
    out = subprocess.run(
        [str(python), "-c", EVIDENTLY_WORKER, npz, json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------------------------------
# Speed
# --------------------------------------------------------------------------------------------------
def bench_feed() -> dict[str, float]:
    import gc

    from llm_soc2 import semconv as sc
    from llm_soc2.config import Settings
    from llm_soc2.drift import DriftMonitor

    monitor = DriftMonitor(Settings(service_name="bench"), telemetry=False, buffer_size=4096)
    attributes = {sc.GEN_AI_REQUEST_MODEL: "gpt-4o-mini", sc.GEN_AI_OPERATION_NAME: "chat", sc.DURATION: 1.2,
                  sc.GEN_AI_USAGE_OUTPUT_TOKENS: 300, sc.RISK_CATEGORIES: [], sc.RISK_SCORE: 0.1}  # fmt: skip
    text = "The refund policy for annual plans allows a full refund within 30 days. " * 40
    calls = 200_000
    best = {}
    gc.disable()
    try:
        for label, args in (("observe(attributes, text, t)", (attributes, text, 1_767_225_600_000_000_000)),
                            ("observe(attributes)", (attributes,))):  # fmt: skip
            times = []
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(calls):
                    monitor.observe(*args)
                times.append((time.perf_counter() - start) / calls)
            best[label] = min(times) * 1e9
    finally:
        gc.enable()
    return best


def bench_check_speed(features: int = 20, samples: int = 10_000, repeats: int = 30) -> dict[str, float]:
    """One check of ``features`` features (14 numeric, 6 categorical) on two ``samples``-row windows:
    binning both windows from raw arrays, the tests, Benjamini-Hochberg."""
    from llm_soc2.drift.detector import DriftPolicy, compare, decide
    from llm_soc2.drift.features import Feature, FeatureSpace, Kind

    numeric = 14
    specs = [Feature(f"num{i}", Kind.NUMERIC, "", lo=2.0**-10, hi=2.0**20) for i in range(numeric)]
    specs += [Feature(f"cat{i}", Kind.CATEGORICAL, "", categories=tuple(f"c{j}" for j in range(8)), capacity=8)
              for i in range(features - numeric)]  # fmt: skip
    space = FeatureSpace(specs)
    policy = DriftPolicy(slot_seconds=86_400)
    rng = np.random.default_rng(1)
    windows = []
    for shift in (0.0, 0.1):
        raw_num = [rng.lognormal(shift + i * 0.1, 0.6, samples) for i in range(numeric)]
        shares = (
            [0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05]
            if not shift
            else [0.35, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05]
        )
        raw_cat = [rng.choice(8, samples, p=shares) for _ in range(features - numeric)]
        windows.append((raw_num, raw_cat))

    def histogram(raw_num: list[np.ndarray], raw_cat: list[np.ndarray]) -> np.ndarray:
        hist = np.zeros(space.size)
        for i, values in enumerate(raw_num):
            f = space.features[i]
            hist[space.span(i)] = np.bincount(f.bins(values), minlength=f.size)
            hist[space.n_columns[i]] = hist[space.w2_columns[i]] = values.size
        for j, codes in enumerate(raw_cat):
            i = numeric + j
            hist[space.span(i)] = np.bincount(codes, minlength=8)
            hist[space.n_columns[i]] = hist[space.w2_columns[i]] = codes.size
        return hist

    times = []
    tests_only = []
    for _ in range(repeats):
        start = time.perf_counter()
        reference = histogram(*windows[0])[None, :]
        current = histogram(*windows[1])
        middle = time.perf_counter()
        results = decide(compare(space, ("s", "m", "o"), reference, {0: current}, policy), policy)
        end = time.perf_counter()
        times.append(end - start)
        tests_only.append(end - middle)
    assert len(results) == features
    return {"check_ms_median": 1000 * float(np.median(times)), "tests_only_ms_median": 1000 * float(np.median(tests_only)),
            "flagged": float(sum(r.flagged for r in results))}  # fmt: skip


# --------------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=float, default=30.0, help="stationary days after the reference day")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-evidently", action="store_true")
    parser.add_argument(
        "--no-rolling", action="store_true", help="skip the stationary run with a rolling reference"
    )
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--json", type=Path, help="write the figures as JSON")
    args = parser.parse_args()

    figures: dict[str, Any] = {"seed": args.seed, "days": args.days}
    print("== speed")
    feed = bench_feed()
    for label, ns in feed.items():
        print(f"  app-thread feed {label:32s} {ns:7.0f} ns/call   (budget 2000 ns)")
    speed = bench_check_speed()
    print(f"  check, 20 features x 10,000-sample windows: {speed['check_ms_median']:.1f} ms "
          f"(binning + tests + BH; tests alone {speed['tests_only_ms_median']:.1f} ms; budget 50 ms)")  # fmt: skip
    figures["feed_ns"] = feed
    figures["check_speed"] = speed

    evidently_python = None if args.no_evidently else ensure_evidently()
    workdir = Path(tempfile.mkdtemp(prefix="bench-drift-"))
    jobs = [("stationary", args.days)] + [(name, 0.0) for name in SCENARIOS]
    if not args.no_rolling:
        jobs.append(("rolling", args.days))
    print(f"\n== simulating {len(jobs)} streams at 1 request/s on {args.workers} processes ...", flush=True)
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        pending = {
            name: pool.apply_async(
                run_ours,
                (
                    "stationary" if name == "rolling" else name,
                    days,
                    args.seed,
                    str(workdir / f"{i}.npz") if evidently_python and name != "rolling" else None,
                    name != "rolling",
                ),
            )
            for i, (name, days) in enumerate(jobs)
        }
        ours = {name: job.get() for name, job in pending.items()}

    evidently: dict[str, Any] = {}
    if evidently_python is not None:
        print("== Evidently defaults on the same streams ...", flush=True)
        for i, (name, days) in enumerate(jobs):
            if name == "rolling":
                continue
            npz = str(workdir / f"{i}.npz")
            if name == "stationary":
                checks = [DAY + 1800 * k for k in range(1, int(days * 48) + 1)]
            else:
                spec = SCENARIOS[name]
                first = spec["start"] - 3 * 3600
                last = spec["start"] + spec.get("duration", 0.0) + 2 * 3600
                step = 600.0 if spec.get("duration") else 60.0
                checks = list(np.arange(first + step, last + 1, step))
            evidently[name] = {"checks": checks, **run_evidently(evidently_python, npz, checks)}

    # ---------------------------------------------------------------------------------------------
    stationary = ours["stationary"]
    print(f"\n== (a) stationary, {args.days:g} days after the reference day")
    print(f"  ours:      {len(stationary['events'])} drift alerts in {stationary['checks']} checks "
          f"(every 60 s; {stationary['observed']} interactions; {stationary['elapsed']:.0f} s; "
          f"{stationary['check_ms']:.2f} ms per check)")  # fmt: skip
    for e in stationary["events"]:
        print(f"             day {e['seconds'] / DAY:5.2f}: {e['feature']} ({e['effect']})")
    if "stationary" in evidently:
        flags = evidently["stationary"]["flags"]
        any_col = sum(1 for f in flags if f)
        latency = sum(1 for f in flags if "latency" in f)
        print(f"  Evidently {evidently['stationary']['version']} defaults: {any_col} of {len(flags)} checks (every 30 min) "
              f"flag drift in some column; latency alone {latency} of {len(flags)}")  # fmt: skip
    if "rolling" in ours:
        rolling = ours["rolling"]
        print(
            f"  ours, rolling reference (the default: previous days at the same time of day, no frozen "
            f"baseline; day 1 warms up): {len(rolling['events'])} drift alerts in {rolling['checks']} checks"
        )
        for e in rolling["events"]:
            print(f"             day {e['seconds'] / DAY:5.2f}: {e['feature']} ({e['effect']})")
        figures["stationary_rolling"] = {
            "ours_alerts": len(rolling["events"]),
            "ours_checks": rolling["checks"],
        }
    figures["stationary"] = {"ours_alerts": len(stationary["events"]), "ours_checks": stationary["checks"],
                             "ours_events": stationary["events"]}  # fmt: skip
    if "stationary" in evidently:
        figures["stationary"]["evidently_any_column"] = any_col
        figures["stationary"]["evidently_latency"] = latency
        figures["stationary"]["evidently_checks"] = len(flags)

    print("\n== (b, c) shifts: delay to the first alert after the change (alerts before it are false alarms)")
    header = f"  {'shift':24s} {'ours: delay':>12s} {'feature':>22s} {'before':>7s}   {'Evidently: delay':>17s} {'flagged before':>15s}"
    print(header)
    figures["shifts"] = {}
    for name, spec in SCENARIOS.items():
        result = ours[name]
        after = [e for e in result["events"] if e["seconds"] >= spec["start"]]
        before = [e for e in result["events"] if e["seconds"] < spec["start"]]
        delay = (after[0]["seconds"] - spec["start"]) / 60 if after else None
        row = f"  {name:24s} {_minutes(delay):>12s} {after[0]['feature'] if after else '-':>22s} {len(before):>7d}"
        entry: dict[str, Any] = {"ours_delay_min": delay, "ours_feature": after[0]["feature"] if after else None,
                                 "ours_false_before": len(before)}  # fmt: skip
        if name in evidently:
            checks = evidently[name]["checks"]
            flags = evidently[name]["flags"]
            pre = [f for c, f in zip(checks, flags, strict=True) if c < spec["start"]]
            post = [(c, f) for c, f in zip(checks, flags, strict=True) if c >= spec["start"]]
            hit = next((c for c, f in post if set(f) & set(spec["columns"])), None)
            ev_delay = (hit - spec["start"]) / 60 if hit is not None else None
            pre_rate = sum(1 for f in pre if f) / max(len(pre), 1)
            row += f"   {_minutes(ev_delay):>17s} {pre_rate:>14.0%}"
            entry.update({"evidently_delay_min": ev_delay, "evidently_flagged_before": pre_rate})
        print(row)
        figures["shifts"][name] = entry
    print(
        "  (Evidently 'delay': first check after the change that flags the changed column; 'flagged before':"
    )
    print("   share of the checks in the 3 hours before the change that already flagged some column)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=float) + "\n")
    return 0


def _minutes(value: float | None) -> str:
    return "not detected" if value is None else f"{value:.0f} min"


if __name__ == "__main__":
    sys.exit(main())
