"""``python -m llm_soc2.provisioning [--out DIR] [--check]``: write or check the generated files."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from llm_soc2.provisioning import stale, write


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m llm_soc2.provisioning",
        description="Write the llm-soc2 Grafana dashboards, alert rules and provisioning files.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path.cwd(), help="directory to write dashboards/ and alert_rules/ into"
    )
    parser.add_argument(
        "--check", action="store_true", help="only report files that are missing or out of date"
    )
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale(args.out)
        for relative in outdated:
            print(f"out of date: {relative}", file=sys.stderr)
        if outdated:
            print("run: python -m llm_soc2.provisioning", file=sys.stderr)
        return 1 if outdated else 0
    for path in write(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
