"""The report's Grafana source through grafana-client: against the local replay of responses written in
the shape of Grafana's documented API (``tests/support/grafana_api.py``, NOT recorded from a live
server), and against a real Grafana when ``GRAFANA_URL`` is set."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llm_soc2.config import Settings
from llm_soc2.report import generate, verify_bundle
from llm_soc2.report.evidence import Period
from llm_soc2.report.sources import grafana as gsrc
from support.grafana_api import TOKEN, GrafanaReplay
from support.prometheus_history import History

pytestmark = pytest.mark.integration


def _period(history: History) -> Period:
    return Period(datetime.fromtimestamp(history.start, UTC), datetime.fromtimestamp(history.end, UTC))


def _report(out: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((out / "report.json").read_text())
    report["by_id"] = {c["criterion"]["id"]: c for c in report["criteria"]}
    return report


def test_collects_every_grafana_record_type(llm_history: History) -> None:
    period = _period(llm_history)
    with GrafanaReplay(anchor=period.end) as replay:
        data = gsrc.collect(gsrc.GrafanaSource(replay.url, TOKEN), period, lambda: datetime.now(UTC))
        assert data.version == "11.6.0"
        assert [r["uid"] for r in data.alert_rules] == [
            "llm-error-rate",
            "llm-high-risk",
            "llm-drift",
            "llm-pii-leak",
        ]
        assert {p["name"] for p in data.contact_points} == {"pagerduty-soc2", "soc2-team-email"}
        assert data.policies["receiver"] == "pagerduty-soc2"
        assert [row["line"]["current"] for row in data.state_history][:2] == ["Pending", "Alerting"]
        assert len(data.annotations) == 2
        versions = {d["uid"]: len(d["versions"]) for d in data.dashboards}
        assert versions == {"llm-soc2-overview": 3, "llm-soc2-evidence": 130}
        # dashboard versions are paged with query parameters (not a GET body): two pages of 100
        pages = [q for m, p, q in replay.requests if p.endswith("llm-soc2-evidence/versions")]
        assert pages == [{"limit": ["100"]}, {"limit": ["100"], "continueToken": ["100"]}]
        history = next(q for m, p, q in replay.requests if p == "/api/v1/rules/history")
        assert history["from"] == [str(period.start_ns // 1_000_000_000)]
        assert [len(a["tokens"]) for a in data.service_accounts] == [1, 2, 1]
        assert [u["login"] for u in data.users] == ["admin", "alice", "bob", "carol"]
        assert {t["name"]: len(t["members"]) for t in data.teams} == {"llm-oncall": 2, "compliance": 1}
        assert data.errors == {}


def test_report_with_grafana_finds_the_scenarios_exceptions(
    llm_history: History, llm_history_log: Settings, tmp_path: Path
) -> None:
    period = _period(llm_history)
    with GrafanaReplay(anchor=period.end) as replay:
        result = generate(
            llm_history_log, period.start, period.end, tmp_path / "out",
            grafana_url=replay.url, grafana_token=TOKEN, pdf=False,
        )  # fmt: skip
    assert not result.failures
    by_id = _report(tmp_path / "out")["by_id"]
    cc72 = by_id["CC7.2"]
    assert cc72["status"] == "exceptions"
    described = [e["description"] for e in cc72["exceptions"]]
    assert "rule llm-drift (LLM behaviour drift detected) is paused" in described
    assert (
        "rule llm-pii-leak (Personal data in LLM responses) routes to 'slack-old', which is not a contact point"
        in described
    )
    assert len(described) == 2  # the rule without a receiver is routed by the default policy
    assert cc72["figures"]["alert rules"] == 4
    cc62 = by_id["CC6.2"]
    refs = sorted(e["reference"] for e in cc62["exceptions"])
    assert refs == [
        "token deploy-2025 of service account ci-deployer",
        "token deploy-forever of service account ci-deployer",
        "user bob",
    ]  # the disabled account's old token and the disabled user are not exceptions
    assert cc62["figures"]["users"] == 4
    assert cc62["figures"]["service-account tokens"] == 3
    cc63 = by_id["CC6.3"]
    assert [e["reference"] for e in cc63["exceptions"]] == ["service account ci-deployer"]
    assert cc63["figures"]["administrators"] == "admin"
    saved = 0
    with GrafanaReplay(anchor=period.end) as replay:
        for uid in ("llm-soc2-overview", "llm-soc2-evidence"):
            answer = replay.load(f"/api/dashboards/uid/{uid}/versions")
            for version in answer if isinstance(answer, list) else answer["versions"]:
                created = datetime.fromisoformat(version["created"].replace("Z", "+00:00"))
                saved += period.start <= created < period.end
    assert by_id["CC7.1"]["figures"]["dashboard versions saved in the period"] == saved
    assert verify_bundle(result.out_dir).ok


def test_bad_token_and_missing_permissions_are_named(
    llm_history: History, llm_history_log: Settings, tmp_path: Path
) -> None:
    period = _period(llm_history)
    with GrafanaReplay(anchor=period.end) as replay:
        bad = generate(
            llm_history_log, period.start, period.end, tmp_path / "bad",
            grafana_url=replay.url, grafana_token="glsa_wrong", pdf=False,
        )  # fmt: skip
    assert [f.name for f in bad.failures] == ["grafana"]
    assert "rejected the token (HTTP 401)" in bad.failures[0].error
    by_id = _report(tmp_path / "bad")["by_id"]
    for criterion in ("CC6.2", "CC6.3", "CC7.2"):
        assert by_id[criterion]["status"] == "not evidenced"
        assert "rejected the token" in by_id[criterion]["reason"]
    assert by_id["CC7.1"]["status"] == "not evidenced"  # Grafana was requested for it and failed

    forbidden = frozenset({"/api/users/search", "/api/org/users", "/api/serviceaccounts/search"})
    with GrafanaReplay(anchor=period.end, forbidden=forbidden) as replay:
        partial = generate(
            llm_history_log, period.start, period.end, tmp_path / "partial",
            grafana_url=replay.url, grafana_token=TOKEN, pdf=False,
        )  # fmt: skip
    assert not partial.failures  # the server works; two endpoints are not readable with this token
    by_id = _report(tmp_path / "partial")["by_id"]
    assert by_id["CC6.2"]["status"] == "not evidenced"
    assert "HTTP 403" in by_id["CC6.2"]["reason"]
    assert by_id["CC7.2"]["status"] == "exceptions"  # alerting could be read


def test_unreachable_grafana_is_a_failure_with_a_report(
    llm_history: History, llm_history_log: Settings, tmp_path: Path
) -> None:
    period = _period(llm_history)
    result = generate(
        llm_history_log, period.start, period.end, tmp_path / "out",
        grafana_url="http://127.0.0.1:9", grafana_token=TOKEN, pdf=False,
    )  # fmt: skip
    assert [f.name for f in result.failures] == ["grafana"]
    assert "is unreachable" in result.failures[0].error
    assert verify_bundle(result.out_dir).ok


@pytest.mark.skipif(
    not os.environ.get("GRAFANA_URL"), reason="set GRAFANA_URL (and GRAFANA_TOKEN) to test a real Grafana"
)
def test_real_grafana(llm_history: History) -> None:
    period = _period(llm_history)
    source = gsrc.GrafanaSource(os.environ["GRAFANA_URL"], os.environ.get("GRAFANA_TOKEN"))
    data = gsrc.collect(source, period, lambda: datetime.now(UTC))
    assert data.version
    assert isinstance(data.alert_rules, list)
    assert isinstance(data.dashboards, list)
    for dashboard in data.dashboards:
        assert isinstance(dashboard["versions"], list)
