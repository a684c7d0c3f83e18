"""Authentication for ``llm-soc2 serve``: one shared token, compared in constant time.

Clients send ``Authorization: Bearer <token>`` (Alertmanager ``http_config.authorization``, Grafana's
webhook "Authorization header", curl). Browsers following a Grafana dashboard link get a Basic challenge
and may answer with any user name and the token as password. Requests authenticated the Basic way that
change state must come from the service's own pages (``Origin``/``Sec-Fetch-Site`` checked), so another
site cannot make a logged-in browser post to it. Only ``GET /healthz`` is served without a token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIN_TOKEN_LENGTH: Final = 16
PUBLIC_PATHS: Final = frozenset({"/healthz"})
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


def check_token(token: str) -> bytes:
    value = token.strip()
    if len(value) < MIN_TOKEN_LENGTH:
        raise ValueError(f"the serve token must be at least {MIN_TOKEN_LENGTH} characters long")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValueError("the serve token must not contain whitespace or control characters")
    return value.encode("utf-8")


def _presented(header: bytes | None) -> tuple[bytes, str]:
    """The credential a request presents and its scheme (``bearer``/``basic``/``""``)."""
    if not header:
        return b"", ""
    scheme, _, value = header.partition(b" ")
    scheme_name = scheme.strip().lower()
    if scheme_name == b"bearer":
        return value.strip(), "bearer"
    if scheme_name == b"basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return b"", ""
        _, sep, password = decoded.partition(b":")
        return (password, "basic") if sep else (b"", "")
    return b"", ""


class AuthMiddleware:
    """Rejects every request without the token (401) before routing, so nothing, not even which paths
    exist, is revealed without it; adds security headers to every response."""

    def __init__(self, app: ASGIApp, token: bytes | None) -> None:
        self.app = app
        self.token = token  # None: --insecure-local

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in SECURITY_HEADERS if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        path = scope.get("path", "")
        method = scope.get("method", "GET")
        if self.token is None or (path in PUBLIC_PATHS and method in ("GET", "HEAD")):
            await self.app(scope, receive, send_with_headers)
            return
        headers = dict(scope.get("headers") or [])
        presented, scheme = _presented(headers.get(b"authorization"))
        # compare_digest runs whatever was presented, so timing does not reveal the token's length/prefix
        valid = hmac.compare_digest(presented, self.token) and bool(scheme)
        if not valid:
            await _reject(send_with_headers, 401, "missing or invalid credentials")
            return
        if scheme == "basic" and method not in _SAFE_METHODS and not _same_origin(headers):
            await _reject(send_with_headers, 403, "cross-site request refused")
            return
        await self.app(scope, receive, send_with_headers)


def _same_origin(headers: dict[bytes, bytes]) -> bool:
    site = headers.get(b"sec-fetch-site")
    if site is not None and site not in (b"same-origin", b"none"):
        return False
    origin = headers.get(b"origin")
    if origin is None:
        return site is not None
    host = headers.get(b"host", b"")
    return origin.split(b"://", 1)[-1] == host


async def _reject(send: Send, status: int, reason: str) -> None:
    body = json.dumps({"error": reason}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="llm-soc2"'))
        headers.append((b"www-authenticate", b'Basic realm="llm-soc2", charset="UTF-8"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
