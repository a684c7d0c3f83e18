"""``llm-soc2 incident``: open, acknowledge, resolve and list incidents (CC7.3-CC7.5).

Alert-driven incidents arrive through ``llm-soc2 serve`` (Alertmanager/Grafana webhooks) or
``incident sync --pagerduty``; this command handles the human side and the listing.
"""

from __future__ import annotations

import argparse
import contextlib
from typing import TYPE_CHECKING, Any

from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError
from llm_soc2.governance import _cli
from llm_soc2.governance.period import format_duration, format_ns

if TYPE_CHECKING:
    from llm_soc2.governance.incidents import Incident, IncidentDesk

STATES = ("open", "acknowledged", "resolved")  # llm_soc2.governance.incidents.STATES


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("incident", help="incidents: open, ack, resolve, list (CC7.3-CC7.5)")
    commands = parser.add_subparsers(dest="incident_command", metavar="COMMAND", required=True)

    opening = commands.add_parser("open", help="open an incident by hand")
    opening.add_argument("--title", required=True, help="what happened, in one line")
    opening.add_argument("--severity", default="", help="e.g. critical, high, warning")
    opening.add_argument("--note", default="", help="a free-text note")
    opening.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="link records matching this attribute (Prometheus label form, e.g. gen_ai_request_model=gpt-4o)",
    )
    _cli.add_period_options(opening, "the window of records to link; default: the last 15 minutes")
    opening.add_argument("--by", metavar="WHO", help="who opens it (default: the current user)")
    _cli.add_log_options(opening)
    opening.set_defaults(handler=run_open)

    for name, helptext in (("ack", "acknowledge an incident"), ("resolve", "resolve an incident")):
        command = commands.add_parser(name, help=helptext)
        command.add_argument("id", metavar="INCIDENT_ID")
        command.add_argument("--note", default="", help="a free-text note")
        command.add_argument("--by", metavar="WHO", help="who does it (default: the current user)")
        _cli.add_log_options(command)
        command.set_defaults(handler=run_transition, transition=name)

    listing = commands.add_parser("list", help="incidents open at some point in a period, with durations")
    _cli.add_period_options(listing, "incidents open at any time in the period")
    listing.add_argument("--state", choices=STATES, help="only incidents in this state")
    listing.add_argument("--json", action="store_true", help="print JSON (with links and history)")
    _cli.add_log_options(listing)
    listing.set_defaults(handler=run_list)

    showing = commands.add_parser("show", help="one incident with its history and linked records")
    showing.add_argument("id", metavar="INCIDENT_ID")
    showing.add_argument("--json", action="store_true", help="print JSON")
    _cli.add_log_options(showing)
    showing.set_defaults(handler=run_show)

    syncing = commands.add_parser("sync", help="import incidents from PagerDuty (extra [pagerduty])")
    syncing.add_argument(
        "--pagerduty", action="store_true", required=True, help="sync from PagerDuty's REST API"
    )
    syncing.add_argument(
        "--service-id", action="append", default=[], metavar="ID", help="only these services"
    )
    syncing.add_argument("--api-url", default="https://api.pagerduty.com", help=argparse.SUPPRESS)
    _cli.add_period_options(syncing, "default: the last 30 days")
    _cli.add_log_options(syncing)
    syncing.set_defaults(handler=run_sync)


def _desk(args: argparse.Namespace, settings: Settings) -> tuple[IncidentDesk, Any]:
    from llm_soc2.governance.incidents import IncidentDesk

    log = _cli.open_cli_log(args, settings)
    return IncidentDesk(log, service=settings.service_name, log_id=args.log_id), log


def _labels(pairs: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigurationError(f"--label {pair!r}: expected NAME=VALUE")
        labels[name.strip()] = value.strip()
    return labels


def run_open(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    title = _cli.one_line(args.title, "--title", limit=200)
    if not title:
        raise ConfigurationError("--title is empty")
    labels = _labels(args.label)
    window = None
    if args.start or args.end:
        period = _cli.period(args)
        window = (period.start, period.end)
    desk, log = _desk(args, settings)
    try:
        incident = desk.open(
            title,
            severity=_cli.one_line(args.severity, "--severity", limit=40),
            actor=_cli.actor(args.by),
            note=_cli.one_line(args.note, "--note"),
            labels=labels,
            window=window,
        )
    finally:
        with contextlib.suppress(Exception):
            log.close()
    print(f"opened {incident.id}: {incident.title} ({incident.linked_count} linked record(s))")
    return 0


def run_transition(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    desk, log = _desk(args, settings)
    try:
        who, note = _cli.actor(args.by), _cli.one_line(args.note, "--note")
        if args.transition == "ack":
            incident = desk.acknowledge(args.id, actor=who, note=note)
            print(f"acknowledged {incident.id} after {format_duration(incident.tta_seconds)}")
        else:
            incident = desk.resolve(args.id, actor=who, note=note)
            print(f"resolved {incident.id} after {format_duration(incident.ttr_seconds)}")
    finally:
        with contextlib.suppress(Exception):
            log.close()
    return 0


def run_list(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    period = _cli.period(args)
    desk, log = _desk(args, settings)
    try:
        incidents = desk.list(period, args.state)
    finally:
        with contextlib.suppress(Exception):
            log.close()
    if args.json:
        _cli.print_json({"period": period.to_json(), "incidents": [i.to_json() for i in incidents]})
        return 0
    _cli.print_table(
        ["ID", "STATE", "SOURCE", "SEVERITY", "OPENED", "TTA", "TTR", "LINKED", "TITLE"],
        [incident.summary_row() for incident in incidents],
    )
    return 0


def run_show(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    desk, log = _desk(args, settings)
    try:
        incident = desk.get(args.id)
    finally:
        with contextlib.suppress(Exception):
            log.close()
    if args.json:
        _cli.print_json(incident.to_json())
        return 0
    _print_incident(incident)
    return 0


def _print_incident(incident: Incident) -> None:
    print(f"{incident.id}  {incident.state}  {incident.title}")
    print(
        f"  source {incident.source}  severity {incident.severity or '-'}  opened {format_ns(incident.opened_at)}"
    )
    print(
        f"  time to acknowledge {format_duration(incident.tta_seconds)}  "
        f"time to resolve {format_duration(incident.ttr_seconds)}"
    )
    if incident.alert_names:
        print(f"  alerts {', '.join(incident.alert_names)}")
    if incident.url:
        print(f"  url {incident.url}")
    if incident.window_start is not None:
        print(f"  window {format_ns(incident.window_start)} .. {format_ns(incident.window_end)}")
    print(f"  linked records {incident.linked_count}: seqs {incident.linked_seqs[-10:]}")
    for trace in incident.linked_trace_ids[-10:]:
        print(f"    trace {trace}")
    for entry in incident.history:
        note = f"  {entry.note}" if entry.note else ""
        print(f"  {format_ns(entry.at)}  seq {entry.seq}  {entry.event} by {entry.actor or '-'}{note}")


def run_sync(args: argparse.Namespace) -> int:
    import os

    from llm_soc2.governance.pagerduty import sync

    token = os.environ.get("LLM_SOC2_PAGERDUTY_TOKEN", "").strip()
    if not token:
        raise ConfigurationError("set LLM_SOC2_PAGERDUTY_TOKEN to a PagerDuty REST API token")
    settings = Settings.from_env()
    period = _cli.period(args, default_days=30)
    desk, log = _desk(args, settings)
    try:
        counts = sync(desk, token, period, service_ids=args.service_id, api_url=args.api_url)
    finally:
        with contextlib.suppress(Exception):
            log.close()
    print(
        f"PagerDuty: {counts['seen']} incident(s) in the period; recorded {counts['opened']} opened, "
        f"{counts['acknowledged']} acknowledged, {counts['resolved']} resolved"
    )
    return 0
