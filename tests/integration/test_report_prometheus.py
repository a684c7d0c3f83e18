"""The report's Prometheus source against a real Prometheus holding 180 days of backfilled history
(``promtool tsdb create-blocks-from openmetrics``): figures equal what was generated."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from llm_soc2.config import Settings
from llm_soc2.errors import SourceError
from llm_soc2.report import generate, verify_bundle
from llm_soc2.report.evidence import Period
from llm_soc2.report.sources import prometheus as prom
from support.prometheus_history import History, expected_quantile_bounds

pytestmark = pytest.mark.integration


def _period(history: History) -> Period:
    return Period(datetime.fromtimestamp(history.start, UTC), datetime.fromtimestamp(history.end, UTC))


def _now() -> datetime:
    return datetime.now(UTC)


def test_availability_per_model_equals_the_generated_calls(prometheus_history: tuple[str, History]) -> None:
    url, history = prometheus_history
    data = prom.collect(prom.PrometheusClient(url), _period(history), _now)
    want = history.expected()
    assert set(data.models) == set(want)
    for model, counts in want.items():
        got = data.models[model]
        # counters reset once (an application restart) and one model's series are born mid-period
        assert got.calls == counts["calls"]
        assert got.errors == counts["errors"]
        assert 1 - got.errors / got.calls == 1 - counts["errors"] / counts["calls"]
        in_period = [c for c in history.in_period() if c.model == model]
        assert got.duration_sum == pytest.approx(sum(c.duration for c in in_period), abs=1e-6)
        for q in (0.5, 0.95):
            low, high = expected_quantile_bounds(history, model, q)
            value = got.quantiles[str(q)]
            assert value is not None
            assert low <= value <= high
    assert data.total_calls == sum(c["calls"] for c in want.values())


def test_alert_history_and_telemetry_gaps(prometheus_history: tuple[str, History]) -> None:
    url, history = prometheus_history
    data = prom.collect(prom.PrometheusClient(url), _period(history), _now)
    firing = [e for e in data.episodes if e.state == "firing"]
    assert len(firing) == len(history.episodes)
    for episode, made in zip(firing, sorted(history.episodes, key=lambda e: e.firing_at), strict=True):
        assert episode.alertname == made.alertname
        assert episode.start == made.firing_at
        assert episode.end == made.resolved_at - 60  # the last evaluation before it resolved
        assert episode.active_at == made.active_at
        assert episode.labels == dict(made.labels)
    # the one stretch without scrapes is found, inside the generated gap, at 15-minute resolution
    assert len(data.gaps) == 1
    gap = data.gaps[0]
    assert history.gap[0] <= gap.start < gap.end <= history.gap[1]
    assert (gap.end - gap.start) >= (history.gap[1] - history.gap[0]) - 2 * data.gap_resolution
    assert data.drift_present
    assert len(data.drift_gaps) == 1


def test_report_reconciles_audit_log_and_prometheus(
    prometheus_history: tuple[str, History], llm_history_log: Settings, tmp_path: Path
) -> None:
    url, history = prometheus_history
    period = _period(history)
    result = generate(
        llm_history_log, period.start, period.end, tmp_path / "out", prometheus_url=url, pdf=False
    )
    assert not result.failures
    assert result.verified
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    by_id = {c["criterion"]["id"]: c for c in report["criteria"]}
    want = history.expected()
    pi12 = by_id["PI1.2"]
    assert pi12["figures"]["interactions in the audit log"] == sum(c["calls"] for c in want.values())
    assert pi12["figures"]["LLM calls counted by Prometheus"] == sum(c["calls"] for c in want.values())
    assert pi12["figures"]["difference (audit log - Prometheus)"] == 0
    assert pi12["status"] == "effective"
    a11 = by_id["A1.1"]["figures"]
    for model, counts in want.items():
        assert (
            a11[f"{model}: availability (Prometheus)"]
            == f"{(1 - counts['errors'] / counts['calls']) * 100:.3f} %"
        )
    # the 6-hour gap is an exception of CC4.1 and A1.1
    assert by_id["CC4.1"]["status"] == "exceptions"
    assert any(e["reference"] == "telemetry gap" for e in by_id["A1.1"]["exceptions"])
    # one critical alert episode has no incident
    cc73 = by_id["CC7.3"]
    assert cc73["figures"]["critical alert episodes (Prometheus)"] == 4
    assert [e["reference"] for e in cc73["exceptions"]] == ["alert LLMErrorRateHigh"]
    evidence = {e["id"]: e for e in report["evidence"]}
    assert evidence["prometheus.calls"]["record_count"] == sum(c["calls"] for c in want.values())
    assert (
        "last_over_time(gen_ai_client_operation_duration_seconds_count[1800s])"
        in evidence["prometheus.calls"]["query"]
    )
    assert verify_bundle(result.out_dir).ok


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:9", "is unreachable"),
        ("ftp://prometheus:9090", "is not an http(s) URL"),
    ],
)
def test_unreachable_prometheus_marks_its_criteria_not_evidenced(
    url: str, message: str, llm_history: History, llm_history_log: Settings, tmp_path: Path
) -> None:
    period = _period(llm_history)
    result = generate(
        llm_history_log, period.start, period.end, tmp_path / "out", prometheus_url=url, pdf=False
    )
    assert [f.name for f in result.failures] == ["prometheus"]
    assert message in result.failures[0].error
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    by_id = {c["criterion"]["id"]: c for c in report["criteria"]}
    for criterion in ("CC4.1", "CC7.3", "A1.1", "PI1.2"):
        assert by_id[criterion]["status"] == "not evidenced"
        assert message in by_id[criterion]["reason"]
    assert by_id["CC2.1"]["status"] == "effective"  # the audit log's criteria are unaffected
    assert verify_bundle(result.out_dir).ok


def test_a_server_that_is_not_prometheus_is_named(tmp_path: Path, grafana_replay: Any) -> None:
    client = prom.PrometheusClient(grafana_replay.url)
    with pytest.raises(SourceError, match=r"refused the request \(HTTP 401\)"):
        client.buildinfo()
