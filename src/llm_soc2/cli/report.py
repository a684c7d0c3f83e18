"""``llm-soc2 report``: write a signed SOC 2 evidence bundle; ``llm-soc2 report verify DIR``: check one.

Exit status: 0 done; 1 ``verify`` found a changed, added or missing file or a bad signature; 2 bad
input, an unreadable audit log, a period without data, or a requested Prometheus/Grafana that failed
(the bundle is still written, with the criteria that needed it marked ``not evidenced``).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_ERROR = 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write a signed SOC 2 evidence bundle (HTML, PDF, JSON, OSCAL) for a period",
        description=(
            "Read the audit log (and Prometheus and Grafana when given) for a period and write a signed "
            "evidence bundle to --out. `llm-soc2 report verify DIR` checks a bundle."
        ),
    )
    parser.add_argument(
        "--from", dest="start", metavar="DATE", help="start of the period (2026-01-01, ISO time, now-30d)"
    )
    parser.add_argument(
        "--to", dest="end", metavar="DATE", help="end of the period; a bare date includes that day"
    )
    parser.add_argument("--out", metavar="DIR", help="output directory (new or empty; see --overwrite)")
    parser.add_argument(
        "--type",
        dest="report_type",
        type=int,
        choices=(1, 2),
        default=2,
        help="1: design at the end of the period; 2: operating effectiveness over it (default)",
    )
    parser.add_argument(
        "--url", help="audit store URL (default: LLM_SOC2_AUDIT_URL or the data directory's SQLite)"
    )
    parser.add_argument("--log-id", help="only this audit log id (default: every log in the store)")
    parser.add_argument(
        "--prometheus-url", metavar="URL", help="Prometheus base URL, e.g. http://prometheus:9090"
    )
    parser.add_argument(
        "--prometheus-selector",
        metavar="MATCHERS",
        default="",
        help='label matchers added to every query, e.g. job="llm-app"',
    )
    parser.add_argument(
        "--grafana-url",
        metavar="URL",
        help="Grafana base URL (default: GRAFANA_URL); the token comes from GRAFANA_TOKEN",
    )
    parser.add_argument(
        "--trusted",
        metavar="PATH",
        action="append",
        type=Path,
        help="checkpoint file or directory held outside the store (default: the witness directory)",
    )
    parser.add_argument(
        "--signing-key",
        metavar="PATH",
        type=Path,
        help="Ed25519 key file (note format) to sign the manifest with",
    )
    parser.add_argument(
        "--availability", type=float, default=0.995, help="availability objective (default 0.995)"
    )
    parser.add_argument(
        "--latency-p95", type=float, default=10.0, help="p95 latency objective in seconds (default 10)"
    )
    parser.add_argument("--seed", help="sampling seed (hex; default: random, recorded in the report)")
    parser.add_argument("--no-pdf", action="store_true", help="do not write report.pdf")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing report bundle in --out")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress on stderr (default: when stderr is a terminal)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)
    commands = parser.add_subparsers(dest="report_command", metavar="verify")
    verify = commands.add_parser("verify", help="check a report bundle's files and signature")
    verify.add_argument("directory", type=Path, help="the report's output directory")
    verify.add_argument(
        "--public-key",
        action="append",
        default=[],
        metavar="VKEY",
        help="trusted signer key (<name>+<hash>+<base64>); repeat for several",
    )
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.set_defaults(handler=run_verify)  # fmt: skip


def _time(text: str | None, flag: str, *, end: bool) -> datetime:
    if not text:
        raise ConfigurationError(f"{flag} is required (e.g. {flag} 2026-01-01)")
    from llm_soc2.governance.period import parse_time

    try:
        ns = parse_time(text, end_of_day=end)
    except ValueError as exc:
        raise ConfigurationError(f"{flag}: {exc}") from None
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(microsecond=(ns % 1_000_000_000) // 1000)


def run(args: argparse.Namespace) -> int:
    from llm_soc2.report import Objectives, generate

    if not args.out:
        raise ConfigurationError("--out DIR is required (where the bundle is written)")
    start = _time(args.start, "--from", end=False)
    end = _time(args.end, "--to", end=True)
    if not 0 < args.availability <= 1:
        raise ConfigurationError(f"--availability must be in (0, 1], not {args.availability}")
    if args.latency_p95 <= 0:
        raise ConfigurationError(f"--latency-p95 must be positive, not {args.latency_p95}")
    if args.seed is not None:
        try:
            bytes.fromhex(args.seed)
        except ValueError:
            raise ConfigurationError(f"--seed must be hexadecimal, not {args.seed!r}") from None
    settings = Settings.from_env()
    objectives = Objectives(
        availability=args.availability,
        latency_p95=args.latency_p95,
        key_max_age_days=settings.key_max_age_days,
        retention_days=settings.retention_days,
    )
    result = generate(
        args.url,
        start,
        end,
        Path(args.out),
        settings=settings,
        report_type=args.report_type,
        log_id=args.log_id,
        prometheus_url=args.prometheus_url,
        prometheus_selector=args.prometheus_selector,
        grafana_url=args.grafana_url or settings.grafana_url or None,
        objectives=objectives,
        pdf=not args.no_pdf,
        overwrite=args.overwrite,
        seed=args.seed,
        signing_key=args.signing_key,
        trusted=args.trusted,
        progress=args.progress,
    )
    counts = result.status_counts
    if args.json:
        print(json.dumps(_result_json(result), indent=2))
    else:
        print(f"report written to {result.out_dir} ({'verified' if result.verified else 'NOT verified'})")
        print(
            f"  {sum(counts.values())} criteria: {counts['effective']} effective, {counts['exceptions']} with "
            f"exceptions, {counts['not evidenced']} not evidenced"
        )
        print(
            f"  {result.interactions:,} interactions of {result.records:,} audit records, {result.seconds:.1f} s"
        )
        print(f"  open {result.html}")
    for failure in result.failures:
        print(
            f"llm-soc2: error: {failure.error} (the criteria that need {failure.name} are marked not evidenced)",
            file=sys.stderr,
        )
    return EXIT_ERROR if result.failures else EXIT_OK


def _result_json(result: Any) -> dict[str, Any]:
    return {
        "out_dir": str(result.out_dir),
        "report_id": result.report_id,
        "verified": result.verified,
        "status_counts": result.status_counts,
        "statuses": result.statuses,
        "failures": [{"source": f.name, "error": f.error} for f in result.failures],
        "records": result.records,
        "interactions": result.interactions,
        "seconds": round(result.seconds, 2),
        "files": {
            "html": str(result.html),
            "pdf": str(result.pdf) if result.pdf else None,
            "json": str(result.json),
            "oscal": str(result.oscal),
            "manifest": str(result.manifest),
        },
    }


def run_verify(args: argparse.Namespace) -> int:
    from llm_soc2.report import verify_bundle

    check = verify_bundle(args.directory, list(args.public_key))
    if args.json:
        print(json.dumps(check.__dict__, indent=2))
    elif check.ok:
        print(check.summary())
    else:
        print(f"{args.directory}: {check.summary()}", file=sys.stderr)
    return EXIT_OK if check.ok else EXIT_FINDING
