"""Helpers shared by the ``changes``, ``keys`` and ``incident`` subcommands."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from typing import Any

from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError, LLMSoc2Error, StoreError
from llm_soc2.governance._common import open_log
from llm_soc2.governance.period import Period, parse_period, parse_time


def add_log_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--audit-url",
        metavar="URL",
        help="audit store (default: LLM_SOC2_AUDIT_URL or the SQLite file in the data dir)",
    )
    parser.add_argument(
        "--log-id",
        metavar="ID",
        help="read only this log and write to it (default: read every log, write to LLM_SOC2_AUDIT_LOG_ID or the service's)",
    )


def add_period_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--from",
        dest="start",
        metavar="TIME",
        help=f"start of the period ({what}); ISO date/time, Unix time or now-30d (default: the beginning)",
    )
    parser.add_argument(
        "--to",
        dest="end",
        metavar="TIME",
        help="end of the period (a bare date includes that day; default: now)",
    )


def period(args: argparse.Namespace, default_days: int | None = None) -> Period:
    try:
        return parse_period(args.start, args.end, default_days=default_days)
    except ValueError as exc:
        raise ConfigurationError(f"--from/--to: {exc}") from None


def time_arg(value: str, option: str, *, end_of_day: bool = False) -> int:
    try:
        return parse_time(value, end_of_day=end_of_day)
    except ValueError as exc:
        raise ConfigurationError(f"{option}: {exc}") from None


def open_cli_log(args: argparse.Namespace, settings: Settings) -> Any:
    url = args.audit_url or settings.resolved_audit_url
    try:
        return open_log(url, log_id=args.log_id or None, settings=settings)
    except LLMSoc2Error:
        raise
    except ModuleNotFoundError as exc:
        raise StoreError(f"cannot open the audit log {url}: {exc}") from exc
    except Exception as exc:
        raise StoreError(f"cannot open the audit log {url}: {exc}") from exc


def actor(value: str | None) -> str:
    if value:
        return value.strip()
    try:
        return getpass.getuser()
    except Exception:
        return ""


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, sort_keys=False)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell))
    for row in (list(headers), *rows):
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        print("  ".join([*cells, row[-1]]).rstrip())


def one_line(value: str, option: str, *, limit: int = 1000) -> str:
    text = value.strip()
    if len(text) > limit or any(ch in text for ch in "\r\n\x00"):
        raise ConfigurationError(f"{option} must be one line of at most {limit} characters")
    return text
