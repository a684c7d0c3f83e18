"""Running the application under uvicorn with conservative limits."""

from __future__ import annotations

import ipaddress

from llm_soc2.serve.app import ServeConfig, create_app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(config: ServeConfig, *, host: str = "127.0.0.1", port: int = 8787) -> bool:
    """Serve until interrupted (SIGINT/SIGTERM shut down gracefully). ``False`` if it never started
    (port in use, audit log unavailable: uvicorn has logged why)."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            server_header=False,
            proxy_headers=False,
            limit_concurrency=64,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=10,
            h11_max_incomplete_event_size=16 * 1024,
        )
    )
    server.run()
    return bool(server.started)
