"""``llm-soc2 drift``: fleet-wide drift checks over the audit log and frozen baselines.

    llm-soc2 drift check --reference 2026-01-01..2026-01-08 --current now-1h..now [--json FILE|-]
    llm-soc2 drift check --baseline launch --current now-30m..now
    llm-soc2 drift baseline save launch --reference 2026-01-01..2026-01-08
    llm-soc2 drift baseline show [launch] [--json]
    llm-soc2 drift baseline reset launch

Like ``diff``, ``check`` exits 1 when drift is found, 0 when not and 2 on an error (bad dates, an empty
window, an unreachable store). Baseline saves and resets are recorded in the audit log (kind
"baseline") and as an OpenTelemetry log record.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from llm_soc2 import semconv
from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_ERROR = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("drift", help="drift checks over the audit log, drift baselines")
    sub = parser.add_subparsers(dest="drift_command", metavar="ACTION")
    parser.set_defaults(handler=lambda args: _usage(parser))

    def store(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--url", help="audit store URL (default: LLM_SOC2_AUDIT_URL or the embedded SQLite file)"
        )
        p.add_argument("--log-id", help="read only this log id (default: every log in the store)")

    p = sub.add_parser(
        "check",
        help="test a current window of the audit log against a reference window or a baseline",
        description="Exit status: 0 no drift, 1 drift found, 2 error.",
    )
    ref = p.add_mutually_exclusive_group(required=True)
    ref.add_argument(
        "--reference", metavar="START..END", help="reference window: ISO dates/times, now, now-7d ..."
    )
    ref.add_argument("--baseline", metavar="NAME", help="a saved baseline instead of a reference window")
    p.add_argument("--current", required=True, metavar="START..END", help="the window to test")
    store(p)
    p.add_argument("--json", metavar="FILE|-", help="write machine-readable results to FILE (- for stdout)")
    p.add_argument("--alpha", type=float, help="false-discovery rate of the check (default 0.01)")
    p.add_argument(
        "--min-samples",
        type=int,
        metavar="N",
        help="minimum interactions per feature in each window (default 100 current, 200 reference)",
    )
    p.set_defaults(handler=_check)

    baseline = sub.add_parser("baseline", help="save, show or reset a frozen drift baseline")
    bsub = baseline.add_subparsers(dest="baseline_command", metavar="ACTION")
    baseline.set_defaults(handler=lambda args: _usage(baseline))

    p = bsub.add_parser("save", help="freeze a window of the audit log as a named baseline")
    p.add_argument("name", nargs="?", default="default")
    p.add_argument("--reference", required=True, metavar="START..END", help="the window to freeze")
    store(p)
    p.set_defaults(handler=_save)

    p = bsub.add_parser("show", help="describe one baseline, or list them")
    p.add_argument("name", nargs="?")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_show)

    p = bsub.add_parser("reset", help="delete a baseline (monitors fall back to a rolling reference)")
    p.add_argument("name", nargs="?", default="default")
    store(p)
    p.set_defaults(handler=_reset)


# --------------------------------------------------------------------------------------------------
def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_ERROR


def _redact(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _open(args: argparse.Namespace, settings: Settings) -> Any:
    from llm_soc2.audit import AuditLog

    return AuditLog.open(args.url, log_id=args.log_id, settings=settings)


def _policy(args: argparse.Namespace) -> Any:
    from llm_soc2.drift.detector import DriftPolicy

    values: dict[str, Any] = {}
    if getattr(args, "alpha", None) is not None:
        if not 0 < args.alpha < 1:
            raise ConfigurationError("--alpha must be between 0 and 1")
        values["alpha"] = args.alpha
    if getattr(args, "min_samples", None) is not None:
        if args.min_samples < 1:
            raise ConfigurationError("--min-samples must be >= 1")
        values["min_current"] = values["min_reference"] = args.min_samples
    return DriftPolicy(**values)


def _check(args: argparse.Namespace) -> int:
    from llm_soc2.drift.baseline import BaselineStore
    from llm_soc2.drift.check import check_log, parse_window

    settings = Settings.from_env()
    current = parse_window(args.current)
    reference = parse_window(args.reference) if args.reference else None
    policy = _policy(args)
    baseline = BaselineStore(settings.data_dir).load(args.baseline) if args.baseline else None
    log = _open(args, settings)
    try:
        report = check_log(
            log, current=current, reference=reference, baseline=baseline, policy=policy, log_id=args.log_id
        )
    finally:
        log.close()
    if args.json == "-":
        print(report.to_json())
        print(report.table(), file=sys.stderr)
    else:
        print(report.table())
        if args.json:
            try:
                Path(args.json).write_text(report.to_json() + "\n", encoding="utf-8")
            except OSError as exc:
                raise ConfigurationError(f"cannot write {args.json}: {exc}") from exc
    return EXIT_FINDING if report.drift else EXIT_OK


def _save(args: argparse.Namespace) -> int:
    from llm_soc2.drift.baseline import Baseline, BaselineStore, check_name
    from llm_soc2.drift.check import Accumulator, parse_window, read_records
    from llm_soc2.drift.detector import DriftPolicy
    from llm_soc2.drift.features import FeatureSpace

    check_name(args.name)
    settings = Settings.from_env()
    store = BaselineStore(settings.data_dir)
    start, end = parse_window(args.reference)
    space = FeatureSpace()
    policy = DriftPolicy()
    log = _open(args, settings)
    try:
        acc = Accumulator(space, policy.slot_seconds)
        start_ns, end_ns = int(start.timestamp() * 1e9), int(end.timestamp() * 1e9)
        read_records(
            log.records(since=start, until=end, kinds=["interaction"], log_id=args.log_id),
            acc,
            start_ns,
            end_ns,
        )
        if acc.count == 0:
            raise ConfigurationError(
                f"no interaction records between {start.isoformat()} and {end.isoformat()}"
            )
        baseline = Baseline(
            name=args.name,
            space=space,
            slot_seconds=policy.slot_seconds,
            profiles=dict(acc.profiles()),
            start_unix_nano=start_ns,
            end_unix_nano=end_ns,
            count=acc.count,
            source=f"audit log {_redact(log.url)}" + (f" log {args.log_id}" if args.log_id else ""),
        )
        action = "replace" if store.path(args.name).exists() else "save"
        _record_change(log, settings, action, args.name, baseline)
    finally:
        log.close()
    path = store.save(baseline)
    print(
        f"saved drift baseline {args.name!r} to {path}: {acc.count} interactions, {len(baseline.profiles)} "
        f"(service, model, operation) keys, sha256 {baseline.sha256}"
    )
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from llm_soc2.drift.baseline import BaselineStore

    store = BaselineStore(Settings.from_env().data_dir)
    if not args.name:
        names = list(store.names())
        if args.json:
            print(json.dumps(names))
        elif names:
            print("\n".join(names))
        else:
            print(f"no drift baselines in {store.directory}")
        return EXIT_OK
    summary = store.load(args.name).summary()
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
        return EXIT_OK
    print(f"baseline {summary['name']}  sha256 {summary['sha256']}")
    print(f"  window  {summary['start']} .. {summary['end']}  ({summary['count']} interactions)")
    print(f"  created {summary['created']}  from {summary['source']}")
    for key in summary["keys"]:
        print(
            f"  {key['service']}/{key['model']}/{key['operation']}: {key['interactions']:.0f} interactions, "
            f"{key['slots_covered']} of {86_400 // summary['slot_seconds']} half-hours of the day"
        )
    return EXIT_OK


def _reset(args: argparse.Namespace) -> int:
    from llm_soc2.drift.baseline import BaselineStore, check_name

    check_name(args.name)
    settings = Settings.from_env()
    store = BaselineStore(settings.data_dir)
    if not store.path(args.name).exists():
        raise ConfigurationError(f"no drift baseline named {args.name!r} in {store.directory}")
    previous = store.load(args.name)
    log = _open(args, settings)
    try:
        _record_change(log, settings, "reset", args.name, previous)
    finally:
        log.close()
    store.delete(args.name)
    print(
        f"reset drift baseline {args.name!r}; monitors using it fall back to a rolling reference at restart"
    )
    return EXIT_OK


def _record_change(log: Any, settings: Settings, action: str, name: str, baseline: Any) -> None:
    """Record a baseline change in the audit log (kind "baseline") and as a log record."""
    from llm_soc2.audit import AuditRecord
    from llm_soc2.drift.baseline import change_attributes
    from llm_soc2.drift.telemetry import emit_event

    now = time.time_ns()
    attributes = change_attributes(action, name, baseline, **{semconv.SERVICE_NAME: settings.service_name})
    log.append(
        [
            AuditRecord(
                kind="baseline", time_unix_nano=now, service=settings.service_name, attributes=attributes
            )
        ]
    )
    emit_event(semconv.EVENT_DRIFT_BASELINE, now, attributes, f"drift baseline {action}: {name}")
