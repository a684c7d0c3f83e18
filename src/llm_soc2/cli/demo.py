"""``llm-soc2 demo [--out DIR]``: a sample application against a local fake provider, through the whole
pipeline, on embedded defaults (no external servers)."""

from __future__ import annotations

import argparse
from pathlib import Path

from llm_soc2.demo import DEFAULT_OUT


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("demo", help="run the demo on embedded defaults")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default: ./{DEFAULT_OUT})"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from llm_soc2.demo import run as run_demo
    from llm_soc2.demo.exporters import read_spans
    from llm_soc2.demo.summary import summarize

    out: Path = args.out
    print(f"llm-soc2 demo: writing to {out.resolve()}")
    result = run_demo(out, progress=lambda line: print("  " + line, flush=True))
    print()
    for line in summarize(read_spans(result.context.spans_path)):
        print(line)
    print()
    print(f"Spans:   {result.context.spans_path}")
    print(f"Metrics: {result.context.metrics_path}")
    print(f"Data:    {result.context.settings.data_dir}")
    return 0
