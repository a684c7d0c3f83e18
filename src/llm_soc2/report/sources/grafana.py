"""Raw evidence from Grafana's HTTP API through grafana-client.

Collected as answered (the raw JSON is written to ``evidence/grafana/``): alert-rule inventory,
contact points, the notification policy tree, alert state history (``/api/v1/rules/history``, not
wrapped by grafana-client, read with ``client.GET``), alert annotations, dashboards with their version
history (read with ``client.GET`` and explicit query parameters: grafana-client's own helper sends
``limit``/``start`` in the request body), service accounts with their tokens, users and teams.

A failure of the whole server (unreachable, bad token) raises :class:`SourceError`. An endpoint the
token may not read (403, 404 on an older Grafana) is recorded in ``errors`` and the checks that need it
say so.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from llm_soc2.errors import SourceError
from llm_soc2.report.evidence import Period, iso
from llm_soc2.report.sources import redact_url

PAGE: Final = 100
MAX_PAGES: Final = 1000
HISTORY_LIMIT: Final = 5000
ANNOTATION_LIMIT: Final = 5000
VERSION_LIMIT: Final = 100


@dataclass
class ApiCall:
    method: str
    path: str
    parameters: dict[str, Any]
    items: int
    error: str = ""


@dataclass
class GrafanaData:
    location: str
    version: str
    alert_rules: list[dict[str, Any]] = field(default_factory=list)
    contact_points: list[dict[str, Any]] = field(default_factory=list)
    policies: dict[str, Any] = field(default_factory=dict)
    state_history: list[dict[str, Any]] = field(default_factory=list)  # one dict per state change
    annotations: list[dict[str, Any]] = field(default_factory=list)
    dashboards: list[dict[str, Any]] = field(default_factory=list)  # search hits + "versions"
    service_accounts: list[dict[str, Any]] = field(default_factory=list)  # + "tokens"
    users: list[dict[str, Any]] = field(default_factory=list)
    org_users: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)  # + "members"
    errors: dict[str, str] = field(default_factory=dict)  # endpoint -> what went wrong
    calls: list[ApiCall] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    generated_at: datetime | None = None


class GrafanaSource:
    """Reads one Grafana with a service-account token (or user:password in the URL)."""

    def __init__(self, url: str, token: str | None, *, timeout: float = 30.0) -> None:
        try:
            from grafana_client.api import GrafanaApi
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise SourceError(f"grafana-client is not installed: {exc}") from exc
        if not url.startswith(("http://", "https://")):
            raise SourceError(f"Grafana URL {url!r} is not an http(s) URL (e.g. http://localhost:3000)")
        self.location = redact_url(url)
        self.api = GrafanaApi.from_url(url, credential=token or None, timeout=timeout)
        self.calls: list[ApiCall] = []

    def get(self, path: str, params: dict[str, Any] | None = None, *, fatal: bool = False) -> Any:
        """``GET /api{path}`` with the raw client (for endpoints grafana-client does not wrap)."""
        return self.call(path, params, lambda: self.api.client.GET(path, params=params), fatal=fatal)

    def call(
        self, path: str, params: dict[str, Any] | None, fn: Callable[[], Any], *, fatal: bool = False
    ) -> Any:
        """Run one grafana-client call reading ``GET /api{path}``. A 401 or an unreachable server raises
        SourceError; another HTTP error raises SourceError when ``fatal``, else ``_EndpointError``."""
        from grafana_client.client import (
            GrafanaClientError,
            GrafanaException,
            GrafanaServerError,
            GrafanaUnauthorizedError,
        )

        try:
            answer = fn()
        except GrafanaUnauthorizedError:
            raise SourceError(
                f"Grafana at {self.location} rejected the token (HTTP 401): set GRAFANA_TOKEN to a valid "
                "service-account token"
            ) from None
        except GrafanaClientError as exc:
            message = f"HTTP {exc.status_code}: {_message(exc)}"
            self.calls.append(ApiCall("GET", path, dict(params or {}), 0, message))
            if fatal:
                raise SourceError(f"Grafana at {self.location}: GET /api{path} failed ({message})") from None
            raise _EndpointError(message) from None
        except GrafanaServerError as exc:
            message = f"HTTP {exc.status_code}: {_message(exc)}"
            self.calls.append(ApiCall("GET", path, dict(params or {}), 0, message))
            if fatal:
                raise SourceError(f"Grafana at {self.location}: GET /api{path} failed ({message})") from None
            raise _EndpointError(message) from None
        except GrafanaException as exc:
            raise SourceError(f"Grafana at {self.location} is unreachable: {_message(exc)}") from None
        except Exception as exc:  # niquests connection errors are not wrapped by grafana-client
            name = type(exc).__name__
            if "Connection" in name or "Timeout" in name or isinstance(exc, OSError):
                raise SourceError(f"Grafana at {self.location} is unreachable: {exc}") from None
            if isinstance(exc, ValueError):  # not JSON: not a Grafana API
                raise SourceError(
                    f"{self.location} did not answer like Grafana (GET /api{path} is not JSON); check --grafana-url"
                ) from None
            raise
        items = len(answer) if isinstance(answer, list | dict) else 0
        self.calls.append(ApiCall("GET", path, dict(params or {}), items))
        return answer


class _EndpointError(Exception):
    pass


def _message(exc: Any) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "message" in response:
        return str(response["message"])
    return str(getattr(exc, "message", "") or exc)


def collect(
    source: GrafanaSource,
    period: Period,
    now: Callable[[], datetime],
    progress: Callable[[str], None] | None = None,
) -> GrafanaData:
    say = progress or (lambda _: None)
    health = source.get("/health", fatal=True)
    if not isinstance(health, dict) or ("version" not in health and "database" not in health):
        raise SourceError(f"{source.location} did not answer like Grafana (GET /api/health)")
    data = GrafanaData(location=source.location, version=str(health.get("version", "")))
    data.raw["health"] = health
    start_ms, end_ms = period.start_ns // 1_000_000, period.end_ns // 1_000_000

    def read(
        name: str, path: str, params: dict[str, Any] | None = None, fn: Callable[[], Any] | None = None
    ) -> Any:
        try:
            answer = source.call(path, params, fn) if fn else source.get(path, params)
        except _EndpointError as exc:
            data.errors[name] = f"GET /api{path}: {exc}"
            return None
        data.raw[name] = answer
        return answer

    say("grafana: alerting configuration")
    api = source.api
    rules = read(
        "alert_rules", "/v1/provisioning/alert-rules", None, api.alertingprovisioning.get_alertrules_all
    )
    data.alert_rules = list(rules) if isinstance(rules, list) else []
    points = read(
        "contact_points", "/v1/provisioning/contact-points", None, api.alertingprovisioning.get_contactpoints
    )
    data.contact_points = list(points) if isinstance(points, list) else []
    policies = read(
        "policies", "/v1/provisioning/policies", None, api.alertingprovisioning.get_notification_policy_tree
    )
    data.policies = dict(policies) if isinstance(policies, dict) else {}

    say("grafana: alert history")
    history = read(
        "state_history",
        "/v1/rules/history",
        {"from": start_ms // 1000, "to": end_ms // 1000, "limit": HISTORY_LIMIT},
    )
    data.state_history = _frame_rows(history)
    annotations = read(
        "annotations",
        "/annotations",
        {"from": start_ms, "to": end_ms, "type": "alert", "limit": ANNOTATION_LIMIT},
        lambda: api.annotations.find_annotations(
            time_from=start_ms, time_to=end_ms, ann_type="alert", limit=ANNOTATION_LIMIT
        ),
    )
    data.annotations = list(annotations) if isinstance(annotations, list) else []

    say("grafana: dashboards and versions")
    hits = read(
        "dashboards",
        "/search",
        {"type": "dash-db", "limit": 5000},
        lambda: api.search.search_dashboards(type_="dash-db", limit=5000),
    )
    dashboards = [h for h in hits if isinstance(h, dict)] if isinstance(hits, list) else []
    for hit in dashboards:
        uid = hit.get("uid")
        if not uid:
            continue
        versions = _versions(source, str(uid), data)
        hit = dict(hit)
        hit["versions"] = versions
        data.dashboards.append(hit)
    data.raw["dashboard_versions"] = {d["uid"]: d["versions"] for d in data.dashboards}

    say("grafana: accounts")
    accounts = _paged(source, data, "service_accounts", "/serviceaccounts/search", "serviceAccounts")
    for account in accounts:
        account = dict(account)
        sa_id = account.get("id")
        tokens = read(
            f"tokens:{sa_id}", f"/serviceaccounts/{sa_id}/tokens", None,
            functools.partial(api.serviceaccount.get_tokens, sa_id),
        )  # fmt: skip
        account["tokens"] = list(tokens) if isinstance(tokens, list) else []
        data.service_accounts.append(account)
    data.users = _paged(source, data, "users", "/users/search", "users")
    org_users = read("org_users", "/org/users", None, api.organization.get_current_organization_users)
    data.org_users = list(org_users) if isinstance(org_users, list) else []
    teams = _paged(source, data, "teams", "/teams/search", "teams")
    for team in teams:
        team = dict(team)
        team_id = team.get("id")
        members = read(
            f"team_members:{team_id}", f"/teams/{team_id}/members", None,
            functools.partial(api.teams.get_team_members, team_id),
        )  # fmt: skip
        team["members"] = list(members) if isinstance(members, list) else []
        data.teams.append(team)
    data.calls = list(source.calls)
    data.generated_at = now()
    return data


def _paged(source: GrafanaSource, data: GrafanaData, name: str, path: str, key: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pages: list[Any] = []
    for page in range(1, MAX_PAGES + 1):
        try:
            answer = source.get(path, {"perpage": PAGE, "page": page})
        except _EndpointError as exc:
            data.errors[name] = f"GET /api{path}: {exc}"
            return out
        pages.append(answer)
        items = answer.get(key, []) if isinstance(answer, dict) else []
        out.extend(i for i in items if isinstance(i, dict))
        total = answer.get("totalCount") if isinstance(answer, dict) else None
        if not items or len(items) < PAGE or (isinstance(total, int) and len(out) >= total):
            break
    data.raw[name] = pages
    return out


def _versions(source: GrafanaSource, uid: str, data: GrafanaData) -> list[dict[str, Any]]:
    """Every version of a dashboard, following Grafana's paging (``start`` or ``continueToken``)."""
    out: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": VERSION_LIMIT}
    for _ in range(MAX_PAGES):
        try:
            answer = source.get(f"/dashboards/uid/{uid}/versions", dict(params))
        except _EndpointError as exc:
            data.errors[f"versions:{uid}"] = f"GET /api/dashboards/uid/{uid}/versions: {exc}"
            return out
        if isinstance(answer, dict):  # Grafana 11+: {"versions": [...], "continueToken": "..."}
            items = answer.get("versions") or []
            token = answer.get("continueToken") or ""
        else:  # older: a plain list, paged with start
            items, token = (answer if isinstance(answer, list) else []), ""
        out.extend(i for i in items if isinstance(i, dict))
        if token:
            params = {"limit": VERSION_LIMIT, "continueToken": token}
        elif isinstance(answer, list) and len(items) == VERSION_LIMIT:
            params = {"limit": VERSION_LIMIT, "start": len(out)}
        else:
            break
    return out


def _frame_rows(answer: Any) -> list[dict[str, Any]]:
    """Rows of a Grafana data frame (``{"schema": {"fields": [...]}, "data": {"values": [[...], ...]}}``)."""
    if not isinstance(answer, dict):
        return []
    fields = [f.get("name", "") for f in answer.get("schema", {}).get("fields", []) if isinstance(f, dict)]
    columns = answer.get("data", {}).get("values", [])
    if not fields or not isinstance(columns, list) or len(columns) != len(fields):
        return []
    rows: list[dict[str, Any]] = []
    for values in zip(*columns, strict=False):
        row = dict(zip(fields, values, strict=True))
        line = row.get("line")
        if isinstance(line, str):
            with contextlib.suppress(ValueError):
                row["line"] = json.loads(line)
        rows.append(row)
    return rows


def describe_call(call: ApiCall) -> str:
    params = "&".join(f"{k}={v}" for k, v in call.parameters.items())
    return f"{call.method} /api{call.path}{'?' + params if params else ''}"


def window(period: Period) -> dict[str, str]:
    return {"from": iso(period.start), "to": iso(period.end)}
