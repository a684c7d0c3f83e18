"""Counter increases from step values: resets and series created inside the period."""

from __future__ import annotations

from typing import Any

from llm_soc2.report.sources import prometheus as prom


def steps(values: list[float]) -> list[list[Any]]:
    return [[i * 60, str(v)] for i, v in enumerate(values)]


def test_increase_without_and_with_a_start_value() -> None:
    assert prom.counter_increase(steps([10, 12, 15]), None, started_before=True) == 5
    assert prom.counter_increase(steps([10, 12, 15]), None, started_before=False) == 15
    assert prom.counter_increase([], None, started_before=True) == 0


def test_a_reset_inside_a_step_counts_both_sides() -> None:
    # 12 at one step; the counter reached 14, restarted, and read 3 at the next step
    last, peak = steps([10, 12, 3, 5]), steps([10, 12, 14, 5])
    assert prom.counter_increase(last, peak, started_before=True) == (12 - 10) + (14 - 12) + 3 + (5 - 3)


def test_step_choice_respects_the_points_limit() -> None:
    assert prom.choose_step(86400) == 60
    assert prom.choose_step(180 * 86400) == 1800
    assert 180 * 86400 / prom.choose_step(180 * 86400) <= prom.MAX_POINTS
    assert 3650 * 86400 / prom.choose_step(3650 * 86400) <= prom.MAX_POINTS


def test_selector_and_url_handling() -> None:
    client = prom.PrometheusClient("http://reader:s3cret@prometheus:9090/", selector='{job="llm-app"}')
    assert client.location == "http://reader:***@prometheus:9090/"
    assert client.base == "http://prometheus:9090"
    assert client.sel("up", 'a="b"') == 'up{a="b", job="llm-app"}'
