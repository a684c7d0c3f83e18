"""``llm-soc2 changes``: the change-management population (CC8.1) and the approval registry."""

from __future__ import annotations

import argparse
import contextlib
import sys

from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError
from llm_soc2.governance import _cli
from llm_soc2.governance.period import format_ns
from llm_soc2.governance.registry import KINDS, Registry


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "changes",
        help="prompt-template and model-version changes and their approvals (CC8.1)",
        description="Changes are the prompt templates and model versions seen in production; approvals "
        "live in the registry file (LLM_SOC2_PROMPT_REGISTRY, default llm-soc2.prompts.yaml).",
    )
    commands = parser.add_subparsers(dest="changes_command", metavar="COMMAND", required=True)

    listing = commands.add_parser("list", help="the changes first seen in a period, with their approvals")
    _cli.add_period_options(listing, "first seen at or after")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument(
        "--registry", metavar="PATH", help="approval registry (default: LLM_SOC2_PROMPT_REGISTRY)"
    )
    _cli.add_log_options(listing)
    listing.set_defaults(handler=run_list)

    approving = commands.add_parser("approve", help="approve a prompt template hash or a model version")
    approving.add_argument(
        "id", metavar="HASH_OR_MODEL", help="a template hash (16 hex characters) or a model version"
    )
    approving.add_argument("--ticket", required=True, help="the change ticket, e.g. CHG-123")
    approving.add_argument("--approver", required=True, help="who approved the change")
    approving.add_argument("--note", default="", help="a free-text note")
    approving.add_argument("--kind", choices=KINDS, help="force the kind (default: a 16-hex id is a prompt)")
    approving.add_argument("--date", metavar="YYYY-MM-DD", help="approval date (default: today)")
    approving.add_argument(
        "--registry", metavar="PATH", help="approval registry (default: LLM_SOC2_PROMPT_REGISTRY)"
    )
    approving.add_argument(
        "--registry-only",
        action="store_true",
        help="update the registry without recording the approval in the audit log (no access to it here)",
    )
    _cli.add_log_options(approving)
    approving.set_defaults(handler=run_approve)

    checking = commands.add_parser("check", help="validate the registry file")
    checking.add_argument(
        "--registry", metavar="PATH", help="approval registry (default: LLM_SOC2_PROMPT_REGISTRY)"
    )
    checking.set_defaults(handler=run_check)


def _registry_path(args: argparse.Namespace, settings: Settings) -> str:
    return str(args.registry or settings.prompt_registry)


def run_list(args: argparse.Namespace) -> int:
    from llm_soc2.governance.changes import APPROVED, NOT_CHECKED, population

    settings = Settings.from_env()
    period = _cli.period(args)
    path = _registry_path(args, settings)
    try:
        registry: Registry | None = Registry.load(path)
    except FileNotFoundError:
        registry = None
    log = _cli.open_cli_log(args, settings)
    try:
        result = population(log, period, registry, log_id=args.log_id)
    finally:
        log.close()
    if args.json:
        _cli.print_json(result.to_json())
        return 0
    if registry is None:
        print(f"# no registry at {path}: changes are not checked against approvals")
    print(f"# changes first seen {format_ns(period.start)} .. {format_ns(period.end)}: {len(result.changes)}")
    rows = []
    for change in result.changes:
        approval = change.registry_approval
        rows.append(
            [
                format_ns(change.first_seen),
                change.kind,
                change.id,
                change.service or "-",
                change.environment or "-",
                change.status,
                f"{approval.ticket} {approval.approver} {approval.date}" if approval else "-",
                str(change.unapproved_interactions),
                change.trace_id or "-",
            ]
        )
    _cli.print_table(
        ["FIRST SEEN", "KIND", "ID", "SERVICE", "ENV", "STATUS", "APPROVAL", "UNAPPROVED", "TRACE"], rows
    )
    exceptions = [c for c in result.changes if c.status not in (APPROVED, NOT_CHECKED)]
    if exceptions:
        print(f"# exceptions: {len(exceptions)} change(s) unapproved or approved after first use")
    if result.unapproved_interactions:
        total = sum(result.unapproved_interactions.values())
        print(f"# interactions in the period using unapproved versions: {total}")
    return 0


def run_approve(args: argparse.Namespace) -> int:
    from llm_soc2.governance.changes import approve

    settings = Settings.from_env()
    path = _registry_path(args, settings)
    log = None if args.registry_only else _cli.open_cli_log(args, settings)
    try:
        result = approve(
            path,
            args.id,
            ticket=_cli.one_line(args.ticket, "--ticket", limit=200),
            approver=_cli.one_line(args.approver, "--approver", limit=200),
            kind=args.kind,
            on=args.date,
            note=_cli.one_line(args.note, "--note"),
            log=log,
            service=settings.service_name,
            log_id=args.log_id,
        )
    finally:
        if log is not None:
            with contextlib.suppress(Exception):
                log.close()
    approval = result.approval
    print(
        f"approved {approval.kind} {approval.id} ({approval.ticket}, {approval.approver}, {approval.date}) "
        f"in {result.registry_path}"
    )
    if result.seq is not None:
        print(f"recorded in the audit log at seq {result.seq}")
    else:
        print("not recorded in the audit log (--registry-only)", file=sys.stderr)
    print("commit the registry file so the running application picks it up", file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    path = _registry_path(args, settings)
    try:
        registry = Registry.load(path)
    except FileNotFoundError:
        raise ConfigurationError(f"no registry at {path}") from None
    prompts = sum(1 for kind, _ in registry.approvals if kind == "prompt")
    print(f"{path}: valid; {prompts} prompt template(s), {len(registry) - prompts} model version(s) approved")
    return 0
