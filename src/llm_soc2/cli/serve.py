"""``llm-soc2 serve``: the HTTP service for alert webhooks and on-demand reports (extra [serve])."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="HTTP service: Alertmanager/Grafana webhooks -> incidents; report generation",
        description="Every request but GET /healthz needs the token from LLM_SOC2_SERVE_TOKEN (or --token-file) "
        "as 'Authorization: Bearer <token>'.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port (default: 8787)")
    parser.add_argument(
        "--token-file", metavar="PATH", help="read the token from this file instead of the environment"
    )
    parser.add_argument(
        "--insecure-local",
        action="store_true",
        help="serve without a token; only allowed on a loopback address, for trying it out",
    )
    parser.add_argument(
        "--max-body", type=int, default=1024 * 1024, metavar="BYTES", help="largest accepted request body"
    )
    parser.add_argument(
        "--reports-dir", metavar="DIR", help="where generated reports go (default: DATA_DIR/reports)"
    )
    parser.add_argument(
        "--prometheus-url", metavar="URL", help="Prometheus the reports read, e.g. http://prometheus:9090"
    )
    parser.add_argument(
        "--grafana-url", metavar="URL", help="Grafana the reports read (default: GRAFANA_URL)"
    )
    parser.add_argument("--audit-url", metavar="URL", help="audit store (default: LLM_SOC2_AUDIT_URL)")
    parser.add_argument(
        "--log-id",
        metavar="ID",
        help="read only this audit log and record incidents in it (default: read every log, record in the "
        "service's)",
    )
    parser.set_defaults(handler=run)


def _token(args: argparse.Namespace) -> bytes | None:
    from llm_soc2.serve.auth import check_token
    from llm_soc2.serve.server import is_loopback

    if args.token_file:
        try:
            raw = Path(args.token_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"--token-file: {exc}") from exc
        source = args.token_file
    else:
        raw = os.environ.get("LLM_SOC2_SERVE_TOKEN", "")
        source = "LLM_SOC2_SERVE_TOKEN"
    if raw.strip():
        if args.insecure_local:
            raise ConfigurationError("--insecure-local and a token were both given; choose one")
        try:
            return check_token(raw)
        except ValueError as exc:
            raise ConfigurationError(f"{source}: {exc}") from None
    if not args.insecure_local:
        raise ConfigurationError(
            "refusing to serve without a token: set LLM_SOC2_SERVE_TOKEN (e.g. `openssl rand -hex 24`) or "
            "pass --token-file; --insecure-local serves without one on a loopback address"
        )
    if not is_loopback(args.host):
        raise ConfigurationError(f"--insecure-local is only allowed on a loopback address, not {args.host}")
    return None


def run(args: argparse.Namespace) -> int:
    try:
        from llm_soc2.serve import ServeConfig
        from llm_soc2.serve import run as serve
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            f"`serve` needs the extra: pip install 'llm-soc2[serve]' ({exc.name} missing)"
        ) from exc
    if not 0 < args.port < 65536:
        raise ConfigurationError(f"--port {args.port} is not a TCP port")
    if args.max_body < 1024:
        raise ConfigurationError("--max-body must be at least 1024 bytes")
    token = _token(args)
    settings = Settings.from_env()
    config = ServeConfig(
        settings=settings,
        token=token,
        audit_url=args.audit_url or "",
        log_id=args.log_id or "",
        reports_dir=Path(args.reports_dir) if args.reports_dir else None,
        max_body=args.max_body,
        prometheus_url=args.prometheus_url or "",
        grafana_url=args.grafana_url or "",
    )
    _probe_audit_log(config)
    if token is None:
        print(
            "llm-soc2 serve: WARNING: no token; anyone on this machine can use the service", file=sys.stderr
        )
    print(f"llm-soc2 serve: listening on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    if not serve(config, host=args.host, port=args.port):
        print(f"llm-soc2: error: could not serve on {args.host}:{args.port} (see above)", file=sys.stderr)
        return 2
    return 0


def _probe_audit_log(config: object) -> None:
    """Open and close the audit log once, so a wrong URL fails here with a clear message."""
    from llm_soc2.errors import StoreError
    from llm_soc2.governance._common import open_log
    from llm_soc2.serve import ServeConfig

    assert isinstance(config, ServeConfig)
    settings = config.settings
    url = config.audit_url or settings.resolved_audit_url
    try:
        log = open_log(url, log_id=config.log_id or None, settings=settings)
    except Exception as exc:
        raise StoreError(f"cannot open the audit log {url}: {exc}") from exc
    log.close()
