"""``llm-soc2 keys``: API keys in use (CC6) by fingerprint, registration, retirement and rotation."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError
from llm_soc2.fingerprint import FINGERPRINT_HEX_CHARS, fingerprint
from llm_soc2.governance import _cli
from llm_soc2.governance.period import format_ns

REGISTER, RETIRE = "register", "retire"  # llm_soc2.governance.access key events

_MAX_KEY = 4096


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "keys",
        help="API-key fingerprints in use, their age and rotation (CC6)",
        description="Keys are identified by their fingerprint (a keyed HMAC under the deployment key, as in "
        "llm_soc2.api_key.fingerprint); raw keys are read only to compute one and never stored or printed.",
    )
    commands = parser.add_subparsers(dest="keys_command", metavar="COMMAND", required=True)

    listing = commands.add_parser("list", help="keys used or changed in a period, end-user activity")
    _cli.add_period_options(listing, "default: the last 30 days")
    listing.add_argument("--json", action="store_true", help="print JSON (includes every end-user hash)")
    listing.add_argument(
        "--users", type=int, default=10, metavar="N", help="show the N most active end users"
    )
    _cli.add_log_options(listing)
    listing.set_defaults(handler=run_list)

    for name, helptext in (
        ("register", "register a key (its age then counts from --created)"),
        ("retire", "record that a key was retired (revoked)"),
    ):
        command = commands.add_parser(name, help=helptext)
        _add_key_source(command)
        command.add_argument("--note", default="", help="a free-text note")
        if name == "register":
            command.add_argument("--created", metavar="DATE", help="when the key was issued (default: now)")
            command.add_argument("--owner", default="", help="team or person responsible for the key")
            command.add_argument("--replaces", metavar="FINGERPRINT", help="the key this one rotates out")
        _cli.add_log_options(command)
        command.set_defaults(handler=run_register if name == "register" else run_retire)

    printing = commands.add_parser("fingerprint", help="print a key's fingerprint (needs the deployment key)")
    _add_key_source(printing)
    printing.set_defaults(handler=run_fingerprint)


def _add_key_source(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("fingerprint", nargs="?", metavar="FINGERPRINT", help="the key's fingerprint")
    source.add_argument("--key-stdin", action="store_true", help="read the raw key from standard input")
    source.add_argument("--key-env", metavar="VAR", help="read the raw key from this environment variable")


def _fingerprint(args: argparse.Namespace, settings: Settings) -> str:
    from llm_soc2.governance.access import is_fingerprint

    if getattr(args, "fingerprint", None):
        value = str(args.fingerprint).strip().lower()
        if not is_fingerprint(value):
            raise ConfigurationError(
                f"{args.fingerprint!r} is not a key fingerprint ({FINGERPRINT_HEX_CHARS} hex characters); "
                "pass the raw key with --key-stdin or --key-env to compute it"
            )
        return value
    if args.key_stdin:
        raw = sys.stdin.readline(_MAX_KEY + 1).strip()
        where = "standard input"
    else:
        raw = os.environ.get(args.key_env, "").strip()
        where = f"${args.key_env}"
    if not raw:
        raise ConfigurationError(f"no key on {where}")
    if len(raw) > _MAX_KEY:
        raise ConfigurationError(f"the key on {where} is longer than {_MAX_KEY} characters")
    try:
        key = settings.deployment_key()
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read the deployment key: {exc}") from exc
    return fingerprint(raw, key, purpose="api_key")


def run_fingerprint(args: argparse.Namespace) -> int:
    print(_fingerprint(args, Settings.from_env()))
    return 0


def run_register(args: argparse.Namespace) -> int:
    from llm_soc2.governance.access import is_fingerprint, key_record

    settings = Settings.from_env()
    fp = _fingerprint(args, settings)
    created = _cli.time_arg(args.created, "--created") if args.created else None
    replaces = ""
    if args.replaces:
        replaces = args.replaces.strip().lower()
        if not is_fingerprint(replaces):
            raise ConfigurationError(f"--replaces {args.replaces!r} is not a key fingerprint")
        if replaces == fp:
            raise ConfigurationError("--replaces names the key being registered")
    record = key_record(
        REGISTER,
        fp,
        service=settings.service_name,
        registered_at=created,
        replaces=replaces,
        owner=_cli.one_line(args.owner, "--owner", limit=200),
        note=_cli.one_line(args.note, "--note"),
    )
    seq = _append(args, settings, record, fp, REGISTER)
    print(f"registered key {fp} at seq {seq}" + (f" (replaces {replaces})" if replaces else ""))
    return 0


def run_retire(args: argparse.Namespace) -> int:
    from llm_soc2.governance.access import key_record

    settings = Settings.from_env()
    fp = _fingerprint(args, settings)
    record = key_record(RETIRE, fp, service=settings.service_name, note=_cli.one_line(args.note, "--note"))
    seq = _append(args, settings, record, fp, RETIRE)
    print(f"retired key {fp} at seq {seq}")
    return 0


def _append(args: argparse.Namespace, settings: Settings, record: object, fp: str, event: str) -> int:
    from llm_soc2.audit.record import KIND_KEY
    from llm_soc2.governance._common import read_records
    from llm_soc2.governance.access import KeyPolicyState

    log = _cli.open_cli_log(args, settings)
    try:
        state = KeyPolicyState.from_records(read_records(log, kinds=(KIND_KEY,), log_id=args.log_id))
        if event == RETIRE and fp in state.retired:
            raise ConfigurationError(f"key {fp} is already retired")
        if event == REGISTER and fp in state.registered_at and fp not in state.retired:
            raise ConfigurationError(
                f"key {fp} is already registered (since {format_ns(state.registered_at[fp])})"
            )
        return int(log.append([record])[0])
    finally:
        with contextlib.suppress(Exception):
            log.close()


def run_list(args: argparse.Namespace) -> int:
    from llm_soc2.governance.access import inventory

    settings = Settings.from_env()
    if args.users < 0:
        raise ConfigurationError("--users must be 0 or more")
    period = _cli.period(args, default_days=30)
    log = _cli.open_cli_log(args, settings)
    try:
        result = inventory(
            log,
            period,
            max_age_days=settings.key_max_age_days,
            allowlist=settings.key_allowlist,
            log_id=args.log_id,
        )
    finally:
        log.close()
    if args.json:
        _cli.print_json(result.to_json())
        return 0
    print(
        f"# API keys {format_ns(period.start)} .. {format_ns(period.end)}; rotation policy "
        f"{result.max_age_days} days; key policy: {result.policy}"
    )
    rows = []
    for key in result.keys:
        errors = ",".join(f"{code}x{n}" for code, n in sorted(key.auth_errors.items())) or "-"
        rows.append(
            [
                key.fingerprint,
                key.status + (" OVERDUE" if key.overdue else ""),
                "-" if key.known is None else ("yes" if key.known else "NO"),
                format_ns(key.first_use),
                format_ns(key.last_use),
                "-" if key.age_days is None else f"{key.age_days:.1f}",
                str(key.interactions),
                errors,
                ",".join(sorted(key.services)) or "-",
                ",".join(sorted(key.models)) or "-",
            ]
        )
    _cli.print_table(
        [
            "FINGERPRINT",
            "STATUS",
            "KNOWN",
            "FIRST USE",
            "LAST USE",
            "AGE(d)",
            "CALLS",
            "401/403",
            "SERVICES",
            "MODELS",
        ],
        rows,
    )
    for event in result.events:
        extra = f" (replaces {event.replaces})" if event.replaces else ""
        print(f"# {format_ns(event.time_unix_nano)} {event.event} {event.fingerprint}{extra}")
    print(f"# end users active: {len(result.end_users)} distinct hashed ids")
    top = sorted(result.end_users.items(), key=lambda item: (-item[1], item[0]))[: args.users]
    for user, count in top:
        print(f"#   {user}  {count}")
    if result.unattributed_interactions:
        print(f"# interactions without a key fingerprint: {result.unattributed_interactions}")
    return 0
