"""Governance evidence: change management (CC8.1), access control (CC6), incident response (CC7.3-7.5).

At run time, two enrichers of the span processor add ``llm_soc2.change.approved`` and
``llm_soc2.api_key.known`` to GenAI spans, count unapproved changes and unknown keys, and write
``change`` and ``key`` audit records the first time a prompt template, model version or API key is seen::

    from llm_soc2.governance import Governance

    governance = Governance(settings, submit=audit_writer.submit, meter_provider=meter_provider)
    for enricher in governance.enrichers:
        span_processor.add_enricher(enricher)

Offline (the CLI, the HTTP service, the report), the same records answer the auditor's questions::

    from llm_soc2.governance import IncidentDesk, inventory, parse_period, population, read_registry

    period = parse_period("2025-01-01", "2025-06-30")
    changes = population(audit_log, period, read_registry("llm-soc2.prompts.yaml"))
    keys = inventory(audit_log, period, max_age_days=90)
    incidents = IncidentDesk(audit_log).list(period)

Record shapes (all attributes flat, names in ``llm_soc2.semconv``):

``change``    first sighting of a version: ``llm_soc2.change.kind`` (prompt|model), ``llm_soc2.change.id``,
              ``deployment.environment.name``, ``gen_ai.provider.name``, ``gen_ai.request.model``,
              ``gen_ai.response.model``, ``llm_soc2.prompt.template_hash``, ``llm_soc2.change.approved``
              (absent without a registry); ``service``, ``trace_id``, ``span_id`` of the first span.
``approval``  ``llm_soc2.change.kind``, ``.id``, ``.approver``, ``.ticket``, ``.approved_on``, ``.note``,
              ``.registry.sha256`` (of the registry file after the change), ``.first_seen`` (if seen before).
``key``       ``llm_soc2.api_key.event`` (first_use|register|retire), ``llm_soc2.api_key.fingerprint``;
              first_use: provider/models, ``deployment.environment.name``, ``llm_soc2.api_key.known``,
              trace link; register: ``.registered_at``, ``.replaces``, ``.owner``, ``.note``; retire: ``.note``.
``incident``  one per state change: ``llm_soc2.incident.id``, ``.event``, ``.state``, ``.at`` ... (see
              :mod:`llm_soc2.governance.incidents`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Public name -> defining module, imported on first use (the CLI's --help stays fast).
_EXPORTS = {
    "AccessTracker": "access",
    "Inventory": "access",
    "KeyEntry": "access",
    "KeyPolicyState": "access",
    "auth_error": "access",
    "inventory": "access",
    "Notification": "alerts",
    "PayloadError": "alerts",
    "parse_alertmanager": "alerts",
    "parse_grafana": "alerts",
    "Change": "changes",
    "ChangeTracker": "changes",
    "Population": "changes",
    "approve": "changes",
    "population": "changes",
    "versions": "changes",
    "Incident": "incidents",
    "IncidentDesk": "incidents",
    "IncidentError": "incidents",
    "Outcome": "incidents",
    "fold": "incidents",
    "link": "incidents",
    "Period": "period",
    "format_ns": "period",
    "parse_period": "period",
    "parse_time": "period",
    "Approval": "registry",
    "Registry": "registry",
    "RegistryWatcher": "registry",
    "read_registry": "registry",
    "Governance": "runtime",
}

__all__ = [
    "AccessTracker",
    "Approval",
    "Change",
    "ChangeTracker",
    "Governance",
    "Incident",
    "IncidentDesk",
    "IncidentError",
    "Inventory",
    "KeyEntry",
    "KeyPolicyState",
    "Notification",
    "Outcome",
    "PayloadError",
    "Period",
    "Population",
    "Registry",
    "RegistryWatcher",
    "approve",
    "auth_error",
    "fold",
    "format_ns",
    "inventory",
    "link",
    "parse_alertmanager",
    "parse_grafana",
    "parse_period",
    "parse_time",
    "population",
    "read_registry",
    "versions",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llm_soc2.governance' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"llm_soc2.governance.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from llm_soc2.governance.access import (
        AccessTracker,
        Inventory,
        KeyEntry,
        KeyPolicyState,
        auth_error,
        inventory,
    )
    from llm_soc2.governance.alerts import Notification, PayloadError, parse_alertmanager, parse_grafana
    from llm_soc2.governance.changes import Change, ChangeTracker, Population, approve, population, versions
    from llm_soc2.governance.incidents import Incident, IncidentDesk, IncidentError, Outcome, fold, link
    from llm_soc2.governance.period import Period, format_ns, parse_period, parse_time
    from llm_soc2.governance.registry import Approval, Registry, RegistryWatcher, read_registry
    from llm_soc2.governance.runtime import Governance
