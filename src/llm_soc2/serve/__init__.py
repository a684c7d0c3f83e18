"""``llm-soc2 serve``: alert webhooks in, SOC 2 reports out, over authenticated HTTP.

::

    LLM_SOC2_SERVE_TOKEN=$(openssl rand -hex 24) llm-soc2 serve --host 0.0.0.0 --port 8787

Point Alertmanager's ``webhook_configs`` (``url: http://llm-soc2:8787/api/webhooks/alertmanager``,
``http_config.authorization.credentials: <token>``) or a Grafana webhook contact point
(``/api/webhooks/grafana``, Authorization header ``Bearer <token>``) at it, and add a dashboard link to
``/report`` with the time range included: the report for the dashboard's period is one click away.
"""

from __future__ import annotations

from llm_soc2.serve.app import DEFAULT_MAX_BODY, ServeConfig, create_app
from llm_soc2.serve.server import is_loopback, run

__all__ = ["DEFAULT_MAX_BODY", "ServeConfig", "create_app", "is_loopback", "run"]
