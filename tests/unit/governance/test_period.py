from __future__ import annotations

import pytest

from llm_soc2.governance.period import (
    NS_PER_S,
    format_duration,
    format_ns,
    parse_period,
    parse_rfc3339,
    parse_time,
)

NOW = 1_750_000_000 * NS_PER_S  # 2025-06-15T15:06:40Z


def test_iso_dates_times_and_offsets_are_utc_nanoseconds() -> None:
    assert parse_time("2025-06-15") == 1_749_945_600 * NS_PER_S
    assert parse_time("2025-06-15", end_of_day=True) == (1_749_945_600 + 86400) * NS_PER_S
    assert parse_time("2025-06-15T15:06:40Z") == NOW
    assert parse_time("2025-06-15T17:06:40+02:00") == NOW
    assert parse_time("2025-06-15T15:06:40") == NOW  # no offset: UTC


def test_unix_seconds_milliseconds_and_grafana_relative_times() -> None:
    assert parse_time("1750000000") == NOW
    assert parse_time("1750000000.5") == NOW + NS_PER_S // 2
    assert parse_time("1750000000000") == NOW  # ${__from} in milliseconds
    assert parse_time("now", now=NOW) == NOW
    assert parse_time("now-15m", now=NOW) == NOW - 900 * NS_PER_S
    assert parse_time("now-7d", now=NOW) == NOW - 7 * 86400 * NS_PER_S


@pytest.mark.parametrize("text", ["", "yesterday", "2025-13-01", "now+1d", "now-1q", "12:00"])
def test_bad_times_say_what_is_accepted(text: str) -> None:
    with pytest.raises(ValueError, match=r"time|date"):
        parse_time(text)


def test_a_period_must_not_be_empty() -> None:
    period = parse_period("2025-06-01", "2025-06-30")
    assert format_ns(period.start) == "2025-06-01T00:00:00Z"
    assert format_ns(period.end) == "2025-07-01T00:00:00Z"  # the whole last day
    with pytest.raises(ValueError, match="empty"):
        parse_period("2025-07-01", "2025-06-01")


def test_rfc3339_from_go_with_nanoseconds_and_zero_time() -> None:
    assert parse_rfc3339("2025-06-15T15:06:40.123456789Z") == NOW + 123_456_000
    assert parse_rfc3339("0001-01-01T00:00:00Z") is None
    assert parse_rfc3339("garbage") is None


def test_durations_read_naturally() -> None:
    assert format_duration(None) == "-"
    assert format_duration(42) == "42s"
    assert format_duration(125) == "2m 05s"
    assert format_duration(3 * 3600 + 60) == "3h 01m"
    assert format_duration(2 * 86400 + 3600) == "2d 1h"
