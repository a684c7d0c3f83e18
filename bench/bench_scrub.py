"""Scrub latency: llm-soc2's Scrubber against Presidio's regex recognizers, on the same texts, in one run.

    .venv/bin/python bench/bench_scrub.py                  # ours + Presidio (bench/.venv-pii, made on first run)
    .venv/bin/python bench/bench_scrub.py --skip-presidio  # ours only

Texts: English prose (the docstrings of a few standard-library modules, whitespace normalised) cut to
2 KB ("clean-2k"); the same length with five PII values woven in ("pii-2k": an email address, a phone
number, a card number, an SSN, an IP address); and both together ("mixed-4k"). Ours runs in this
process (``Scrubber.scrub``: scan and redaction); Presidio runs in the bench virtualenv as
``AnalyzerEngine.analyze`` with its predefined recognizers and a no-op NLP engine (regex only, no
anonymization: it does less work than ``scrub``). Each figure is the median and 90th percentile of
timed runs after warm-up; Presidio and ours then take turns in short slices (``alternating``), and the
ratio is the median of the slices' ratios (Presidio's median over ours), with its quartiles.

The ReDoS inputs ``'a.' * 2000`` and ``'a.' * 4000`` are timed once each; Presidio's in a subprocess of its
own, killed after ``--redos-timeout`` seconds.
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from eval_pii import ensure_bench_venv, presidio_analyzer  # noqa: E402

PII_VALUES = (
    "Contact me at jane.doe@example.com",
    "or call +1 415-555-2671 after six",
    "my card is 4111 1111 1111 1111",
    "and my SSN is 536-22-1234",
    "I logged in from 203.0.113.7",
)
REDOS = {"a.*2000": "a." * 2000, "a.*4000": "a." * 4000}


def prose(chars: int) -> str:
    import collections
    import http.client
    import json as json_module
    import logging
    import string
    import textwrap
    import urllib.parse

    modules = (collections, json_module, logging, http.client, textwrap, string, urllib.parse)
    text = " ".join(" ".join((inspect.getdoc(m) or "").split()) for m in modules)
    return text[:chars]


def texts() -> dict[str, str]:
    clean = prose(2048)
    filler = prose(2048 - sum(len(v) + 2 for v in PII_VALUES))
    step = len(filler) // len(PII_VALUES)
    parts = []
    for i, value in enumerate(PII_VALUES):
        parts.append(filler[i * step : (i + 1) * step])
        parts.append(f" {value} ")
    parts.append(filler[len(PII_VALUES) * step :])
    with_pii = "".join(parts)
    return {"clean-2k": clean, "pii-2k": with_pii, "mixed-4k": clean + with_pii}


def timed(fn: Any, text: str, runs: int, warmup: int) -> dict[str, float]:
    for _ in range(warmup):
        fn(text)
    samples = []
    for _ in range(runs):
        start = time.thread_time_ns()  # CPU time of this thread: other work on the machine does not count
        fn(text)
        samples.append(time.thread_time_ns() - start)
    samples.sort()
    return {
        "median_us": statistics.median(samples) / 1000,
        "p90_us": samples[int(0.9 * (len(samples) - 1))] / 1000,
    }


# --------------------------------------------------------------------------------------------------
# Presidio (runs inside bench/.venv-pii)
# --------------------------------------------------------------------------------------------------
def worker_serve() -> None:
    """Answer timing requests, one JSON line each (``{"texts": {name: text}, "runs": n}``), with one JSON
    line of ``timed`` figures per text: a caller can alternate Presidio's runs with its own."""
    analyzer = presidio_analyzer()

    def analyze(text: str) -> object:
        return analyzer.analyze(text=text, language="en")

    for line in sys.stdin:
        request = json.loads(line)
        texts, runs = request["texts"], int(request["runs"])
        print(
            json.dumps({name: timed(analyze, text, runs, warmup=1) for name, text in texts.items()}),
            flush=True,
        )


def alternating(
    ours: Callable[[str], float], samples: dict[str, str], slices: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Presidio (``worker_serve``) and we take turns in short slices: per slice, Presidio's median of 3
    runs on each text, then ``ours(name)``, our median µs for that text. Per text: Presidio's slice
    medians and the slice ratios (Presidio over ours). This machine's speed drifts within seconds;
    figures taken a fraction of a second apart drift together, so the median of the slice ratios
    measures the code and not the drift."""
    server = presidio_server()
    assert server.stdin is not None
    assert server.stdout is not None
    request = json.dumps({"texts": samples, "runs": 3}) + "\n"
    theirs: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    try:
        for _ in range(slices):
            server.stdin.write(request)
            server.stdin.flush()
            presidio = json.loads(server.stdout.readline())
            for name in samples:
                theirs.setdefault(name, []).append(presidio[name]["median_us"])
                ratios.setdefault(name, []).append(presidio[name]["median_us"] / ours(name))
    finally:
        server.stdin.close()
        server.wait(timeout=60)
    return theirs, ratios


def presidio_server() -> subprocess.Popen[str]:
    """A Presidio worker (``worker_serve``) in the bench venv; close its stdin to end it."""
    python = ensure_bench_venv()
    return subprocess.Popen(
        [str(python), str(Path(__file__).resolve()), "--worker-serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def worker_redos(name: str) -> None:
    analyzer = presidio_analyzer()
    analyzer.analyze(text="warm up jane@example.com", language="en")
    start = time.perf_counter()
    analyzer.analyze(text=REDOS[name], language="en")
    print(json.dumps({"seconds": time.perf_counter() - start}))


def run_worker(*args: str, stdin: str | None = None, timeout: float | None = None) -> str:
    python = ensure_bench_venv()
    done = subprocess.run(
        [str(python), str(Path(__file__).resolve()), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"Presidio worker {args} failed:\n{done.stderr[-4000:]}")
    return done.stdout


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3000, help="timed runs per text for llm-soc2")
    parser.add_argument(
        "--slices", type=int, default=30, help="alternating Presidio/ours slices for the ratio"
    )
    parser.add_argument("--redos-timeout", type=float, default=30.0)
    parser.add_argument("--skip-presidio", action="store_true")
    parser.add_argument("--worker-redos", choices=sorted(REDOS), help=argparse.SUPPRESS)
    parser.add_argument("--worker-serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_serve:
        worker_serve()
        return
    if args.worker_redos:
        worker_redos(args.worker_redos)
        return

    from llm_soc2.config import Settings
    from llm_soc2.fingerprint import SecretRegistry
    from llm_soc2.scrub import DetectorRegistry, Scrubber

    scrubber = Scrubber(
        Settings(scrub_timeout_ms=60_000.0),
        registry=DetectorRegistry(plugins=False),
        key=b"\x00" * 32,
        known_secrets=SecretRegistry(),
    )
    samples = texts()
    for name, text in samples.items():
        result = scrubber.scrub(text)
        print(f"# {name}: {len(text)} chars, found {list(result.entities)}", file=sys.stderr)
    ours = {name: timed(scrubber.scrub, text, args.runs, warmup=200) for name, text in samples.items()}
    theirs: dict[str, list[float]] = {}
    ratios: dict[str, list[float]] = {}
    if not args.skip_presidio:
        theirs, ratios = alternating(
            lambda name: timed(scrubber.scrub, samples[name], 100, warmup=5)["median_us"],
            samples,
            args.slices,
        )

    print(f"{'text':<10}{'chars':>7}  {'llm-soc2 median':>16}{'p90':>12}  {'presidio median':>16}  "
          f"{'ratio':>7} (slice quartiles)")  # fmt: skip
    for name, text in samples.items():
        row = f"{name:<10}{len(text):>7}  {ours[name]['median_us']:>13.1f} us{ours[name]['p90_us']:>9.1f} us"
        if name in ratios:
            ordered = sorted(ratios[name])
            quartiles = ordered[len(ordered) // 4], ordered[3 * len(ordered) // 4]
            row += (f"  {statistics.median(theirs[name]):>13.1f} us  {statistics.median(ordered):>6.0f}x "
                    f"({quartiles[0]:.0f}-{quartiles[1]:.0f}x)")  # fmt: skip
        print(row)

    print(f"\n{'ReDoS input':<12}{'chars':>7}  {'llm-soc2':>12}  {'presidio':>14}")
    for name, text in REDOS.items():
        mine = float("inf")
        for _ in range(5):  # best of five: one scan is short enough for a stray context switch to dominate
            start = time.perf_counter()
            scrubber.scrub(text)
            mine = min(mine, time.perf_counter() - start)
        cell = "skipped"
        if not args.skip_presidio:
            try:
                cell = f"{json.loads(run_worker('--worker-redos', name, timeout=args.redos_timeout))['seconds']:.2f} s"
            except subprocess.TimeoutExpired:
                cell = f"> {args.redos_timeout:.0f} s (killed)"
        print(f"{name:<12}{len(text):>7}  {mine * 1e6:>9.0f} us  {cell:>14}")


if __name__ == "__main__":
    main()
