"""``report.json``: the whole evidence model, machine-readable."""

from __future__ import annotations

import json
from typing import Any, Final

from llm_soc2.report.evidence import Report, to_jsonable

SCHEMA: Final = "llm-soc2-report/1"


def render(report: Report) -> str:
    document: dict[str, Any] = {"schema": SCHEMA, **to_jsonable(report)}
    document["status_counts"] = report.status_counts()
    return json.dumps(document, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"
