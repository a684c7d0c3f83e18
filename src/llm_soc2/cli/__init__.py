"""The ``llm-soc2`` command. Each subcommand lives in its own module with a ``register(subparsers)``
function; errors are printed as one clear line and turned into a non-zero exit status."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from llm_soc2 import __version__
from llm_soc2.errors import LLMSoc2Error

# Subcommand modules, in the order `--help` lists them.
_SUBCOMMANDS = ("demo", "audit", "drift", "report", "changes", "keys", "incident", "serve", "config")

EXIT_OK = 0
EXIT_FINDING = 1  # a check found something (verification failed, drift found)
EXIT_ERROR = 2  # bad input or an unreachable backend


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-soc2",
        description="SOC 2 evidence for LLM applications: audit log, drift, reports.",
    )
    parser.add_argument("--version", action="version", version=f"llm-soc2 {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(f"llm_soc2.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"llm_soc2.cli.{name}":
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(handler(args) or 0)
    except LLMSoc2Error as exc:
        print(f"llm-soc2: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("llm-soc2: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
