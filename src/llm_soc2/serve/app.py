"""The HTTP application of ``llm-soc2 serve`` (Starlette).

=======  =============================  ====================================================================
Method   Path                           What
=======  =============================  ====================================================================
GET      /healthz                       ``ok`` (no token needed, nothing else said)
POST     /api/webhooks/alertmanager     Alertmanager webhook (payload version 4) -> incident opened/updated/resolved
POST     /api/webhooks/grafana          Grafana webhook contact point -> same
GET      /api/incidents                 incidents (``?from=&to=&state=``) as JSON
GET      /api/incidents/{id}            one incident with its history and linked records
GET      /report                        a page with one button: generate the report for ``?from=&to=``
POST     /api/report                    generate the SOC 2 report for ``?from=&to=`` -> its id and files
GET      /reports/{id}/{path}           a file of a generated report bundle (``/reports/{id}/``: its index)
=======  =============================  ====================================================================

Every path but ``/healthz`` needs the token (:mod:`llm_soc2.serve.auth`). Request bodies are limited
(``max_body`` bytes, 413 beyond), must be JSON (415 otherwise) and well formed (400 with the reason).
The audit log is used from one worker thread; report generation runs one at a time on another (409
while one is running).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError, LLMSoc2Error
from llm_soc2.governance._common import open_log
from llm_soc2.governance.alerts import PayloadError, parse_alertmanager, parse_grafana
from llm_soc2.governance.incidents import STATES, IncidentDesk, IncidentError
from llm_soc2.governance.period import Period, format_ns, parse_period
from llm_soc2.serve.auth import AuthMiddleware

_log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_MAX_BODY: Final = 1024 * 1024
_REPORT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# Writes the report for a period into a new directory; returns a JSON-able summary (or None).
ReportGenerator = Callable[[Period, Path, "ServeConfig"], Mapping[str, Any] | None]


@dataclass
class ServeConfig:
    settings: Settings
    token: bytes | None  # None only with --insecure-local on loopback
    audit_url: str = ""
    log_id: str = ""
    reports_dir: Path | None = None
    max_body: int = DEFAULT_MAX_BODY
    prometheus_url: str = ""
    grafana_url: str = ""
    generator: ReportGenerator | None = None

    @property
    def resolved_reports_dir(self) -> Path:
        return self.reports_dir or (self.settings.data_dir / "reports")


def _datetime(ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)


def default_generator(period: Period, out_dir: Path, config: ServeConfig) -> Mapping[str, Any] | None:
    """Generate through ``llm_soc2.report.generate`` (``LookupError`` when it is not installed)."""
    try:
        from llm_soc2.report import generate
    except ImportError as exc:
        raise LookupError(f"the report module cannot be loaded ({exc})") from exc
    settings = config.settings
    result = generate(
        config.audit_url or settings,
        _datetime(period.start),
        _datetime(period.end),
        out_dir,
        log_id=config.log_id or None,
        prometheus_url=config.prometheus_url or None,
        grafana_url=config.grafana_url or settings.grafana_url or None,
        settings=settings,
        progress=False,
    )
    return {
        "report_id": result.report_id,
        "verified": result.verified,
        "status_counts": result.status_counts,
        "failures": [getattr(f, "name", str(f)) for f in result.failures],
        "records": result.records,
        "interactions": result.interactions,
    }


class _Service:
    """State shared by the handlers: the audit log, its worker thread, the report lock."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.audit = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-soc2-serve-audit")
        self.reports = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-soc2-serve-report")
        self.report_busy = asyncio.Lock()
        self.log: Any = None
        self.desk: IncidentDesk | None = None

    def open(self) -> None:
        settings = self.config.settings
        url = self.config.audit_url or settings.resolved_audit_url
        self.log = open_log(url, log_id=self.config.log_id or None, settings=settings)
        self.desk = IncidentDesk(self.log, service=settings.service_name, log_id=self.config.log_id or None)

    def close(self) -> None:
        if self.log is not None:
            with contextlib.suppress(Exception):
                self.log.close()
            self.log = None

    async def on_audit(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.audit, work)


# ------------------------------------------------------------------------------------------------------
# Request helpers
# ------------------------------------------------------------------------------------------------------
def _error(status: int, reason: str) -> HTTPException:
    return HTTPException(status_code=status, detail=reason)


async def read_json(request: Request, limit: int) -> Any:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise _error(415, "the body must be application/json")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise _error(400, "invalid Content-Length")
        if int(declared) > limit:
            raise _error(413, f"the body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _error(413, f"the body is larger than {limit} bytes")
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _error(400, f"the body is not valid JSON: {exc}") from None


def _period(request: Request, default_days: int | None = None) -> Period:
    try:
        return parse_period(
            request.query_params.get("from") or None,
            request.query_params.get("to") or None,
            default_days=default_days,
        )
    except ValueError as exc:
        raise _error(400, f"from/to: {exc}") from None


# ------------------------------------------------------------------------------------------------------
# Handlers
# ------------------------------------------------------------------------------------------------------
async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")


def _webhook(parse: Callable[[Any], Any]) -> Callable[[Request], Any]:
    async def receive(request: Request) -> Response:
        service: _Service = request.app.state.service
        payload = await read_json(request, service.config.max_body)
        try:
            notification = parse(payload)
        except PayloadError as exc:
            raise _error(400, str(exc)) from None
        desk = service.desk
        assert desk is not None
        outcome = await service.on_audit(lambda: desk.handle(notification))
        return JSONResponse(
            {"incident": outcome.incident.id, "event": outcome.event, "state": outcome.incident.state}
        )

    return receive


async def list_incidents(request: Request) -> Response:
    service: _Service = request.app.state.service
    period = _period(request)
    state = request.query_params.get("state") or None
    if state is not None and state not in STATES:
        raise _error(400, f"state must be one of {', '.join(STATES)}")
    desk = service.desk
    assert desk is not None
    incidents = await service.on_audit(lambda: desk.list(period, state))
    return JSONResponse({"period": period.to_json(), "incidents": [i.to_json() for i in incidents]})


async def get_incident(request: Request) -> Response:
    service: _Service = request.app.state.service
    incident_id = request.path_params["incident_id"]
    desk = service.desk
    assert desk is not None
    try:
        incident = await service.on_audit(lambda: desk.get(incident_id))
    except IncidentError:
        raise _error(404, "no such incident") from None
    return JSONResponse(incident.to_json())


_FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>llm-soc2 report</title>
<style>body{{font:16px system-ui,sans-serif;margin:3rem auto;max-width:40rem}}button{{font-size:1.1rem;padding:.5rem 1rem}}</style>
</head><body>
<h1>SOC 2 evidence report</h1>
<p>Period: <strong>{start}</strong> to <strong>{end}</strong> (UTC).</p>
<form method="post" action="/api/report?from={qs_from}&amp;to={qs_to}"><button type="submit">Generate the report</button></form>
</body></html>
"""


async def report_form(request: Request) -> Response:
    period = _period(request, default_days=90)
    page = _FORM.format(
        start=html.escape(format_ns(period.start)),
        end=html.escape(format_ns(period.end)),
        qs_from=period.start // 1_000_000,
        qs_to=period.end // 1_000_000,
    )
    return HTMLResponse(
        page,
        headers={
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
        },
    )


async def create_report(request: Request) -> Response:
    service: _Service = request.app.state.service
    period = _period(request, default_days=90)
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in ("", "application/x-www-form-urlencoded", "application/json"):
        raise _error(415, "this request takes no body")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > 4096):
        raise _error(413, "this request takes no body")
    if service.report_busy.locked():
        raise _error(409, "a report is being generated; try again when it is done")
    async with service.report_busy:
        moment = datetime.now(tz=UTC)
        report_id = f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
        out_dir = service.config.resolved_reports_dir / report_id
        generator = service.config.generator or default_generator
        config = service.config

        def run() -> Mapping[str, Any] | None:
            out_dir.parent.mkdir(parents=True, exist_ok=True)
            return generator(period, out_dir, config)

        loop = asyncio.get_running_loop()
        try:
            summary = await loop.run_in_executor(service.reports, run)
        except LookupError as exc:
            raise _error(503, f"report generation is unavailable: {exc}") from None
        except ConfigurationError as exc:
            raise _error(400, f"report generation refused: {exc}") from None
        except LLMSoc2Error as exc:
            raise _error(502, f"report generation failed: {exc}") from None
    listed = _listing(out_dir) if out_dir.is_dir() else []
    url = f"/reports/{report_id}/"
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(url, status_code=303)
    return JSONResponse(
        {"id": report_id, "period": period.to_json(), "url": url, "files": listed, "summary": summary},
        status_code=201,
        headers={"location": url},
    )


def _listing(directory: Path) -> list[str]:
    root = directory.resolve()
    listed: list[str] = []
    for path in directory.rglob("*"):
        full = path.resolve()
        if full.is_file() and full.is_relative_to(root):
            listed.append(full.relative_to(root).as_posix())
    return sorted(listed)


async def report_file(request: Request) -> Response:
    service: _Service = request.app.state.service
    report_id = request.path_params["report_id"]
    if not _REPORT_ID.match(report_id):
        raise _error(404, "no such report")
    root = (service.config.resolved_reports_dir / report_id).resolve()
    if not root.is_dir():
        raise _error(404, "no such report")
    relative = request.path_params.get("path", "")
    if "\x00" in relative:
        raise _error(400, "invalid path")
    target = (root / relative).resolve()
    if not target.is_relative_to(root):
        raise _error(404, "no such file")
    if target.is_dir():
        index = target / "index.html"
        if index.is_file():
            return FileResponse(index, headers=_REPORT_HEADERS)
        return JSONResponse({"id": report_id, "files": _listing(target)})
    if not target.is_file():
        raise _error(404, "no such file")
    return FileResponse(target, headers=_REPORT_HEADERS)


# Generated reports are our own files; still, keep them from running scripts or being framed.
_REPORT_HEADERS: Final = {
    "content-security-policy": "default-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; script-src 'none'; frame-ancestors 'none'"
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    reason = exc.detail if isinstance(exc.detail, str) else "error"
    return JSONResponse({"error": reason}, status_code=exc.status_code, headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    _log.exception("llm-soc2 serve: %s %s failed", request.method, request.url.path)
    return JSONResponse({"error": "internal error"}, status_code=500)


async def _incident_error(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=409)


def create_app(config: ServeConfig) -> Any:
    """The ASGI application: Starlette routes behind :class:`AuthMiddleware`."""
    service = _Service(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.on_audit(service.open)
        try:
            yield
        finally:
            await service.on_audit(service.close)
            service.audit.shutdown(wait=False)
            service.reports.shutdown(wait=False)

    app = Starlette(
        routes=[
            Route("/healthz", health, methods=["GET"]),
            Route("/api/webhooks/alertmanager", _webhook(parse_alertmanager), methods=["POST"]),
            Route("/api/webhooks/grafana", _webhook(parse_grafana), methods=["POST"]),
            Route("/api/incidents", list_incidents, methods=["GET"]),
            Route("/api/incidents/{incident_id}", get_incident, methods=["GET"]),
            Route("/report", report_form, methods=["GET"]),
            Route("/api/report", create_report, methods=["POST"]),
            Route("/reports/{report_id}/", report_file, methods=["GET"]),
            Route("/reports/{report_id}/{path:path}", report_file, methods=["GET"]),
        ],
        exception_handlers={
            HTTPException: _http_error,
            IncidentError: _incident_error,
            Exception: _server_error,
        },
        lifespan=lifespan,
    )
    app.state.service = service
    return AuthMiddleware(app, config.token)
