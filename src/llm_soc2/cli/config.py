"""``llm-soc2 config``: show the resolved settings or the README's variable table."""

from __future__ import annotations

import argparse
import dataclasses

from llm_soc2.config import Settings, markdown_table


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("config", help="show the resolved configuration")
    parser.add_argument("--markdown", action="store_true", help="print the table of every variable")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.markdown:
        print(markdown_table())
        return 0
    settings = Settings.from_env()
    for item in dataclasses.fields(settings):
        value = getattr(settings, item.name)
        if item.name in ("secret_key_hex", "content_key_hex", "grafana_token") and value:
            value = "(set)"
        print(f"{item.name} = {value}")
    return 0
