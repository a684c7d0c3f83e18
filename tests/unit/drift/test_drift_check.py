"""The offline check over records: windows, empty windows, and the same verdicts as the monitor."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from llm_soc2.audit import AuditRecord
from llm_soc2.drift.check import check_log, parse_time, parse_window, response_text
from llm_soc2.drift.detector import DriftPolicy
from llm_soc2.drift.simulate import DAY, Shift, Traffic
from llm_soc2.errors import ConfigurationError

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


class ListLog:
    """Records in memory, read like AuditLog.records."""

    def __init__(self, records: list[AuditRecord]) -> None:
        self.items = records

    def records(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Collection[str] | None = None,
        log_id: str | None = None,
    ) -> Iterator[AuditRecord]:
        lo = int(since.timestamp() * 1e9) if since else 0
        hi = int(until.timestamp() * 1e9) if until else 2**63
        for r in self.items:
            if lo <= r.time_unix_nano < hi and (kinds is None or r.kind in kinds):
                yield r


def _records(traffic: Traffic, begin: float, end: float) -> list[AuditRecord]:
    out = []
    for _, items in traffic.stream(begin, end, step=900):
        for attributes, text, time_ns in items:
            content = (
                {"output": [{"role": "assistant", "parts": [{"type": "text", "content": text}]}]}
                if text
                else None
            )
            out.append(AuditRecord("interaction", time_ns, "svc", attributes=attributes, content=content))
    return out


def _at(traffic: Traffic, seconds: float) -> datetime:
    return datetime.fromtimestamp(traffic.start_unix + seconds, UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("-30m", NOW - timedelta(minutes=30)),
        ("-2h", NOW - timedelta(hours=2)),
        ("-7d", NOW - timedelta(days=7)),
        ("-1w", NOW - timedelta(weeks=1)),
        ("now-90m", NOW - timedelta(minutes=90)),
        ("NOW-1d", NOW - timedelta(days=1)),
        ("2026-01-01", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T10:30Z", datetime(2026, 1, 1, 10, 30, tzinfo=UTC)),
        ("2026-01-01T10:30+02:00", datetime(2026, 1, 1, 8, 30, tzinfo=UTC)),
    ],
)
def test_times(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01..now", "now", "now..-1h", "..now", "-1h.."])
def test_bad_windows_are_configuration_errors(text: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_window(text, NOW)


def test_response_text_from_message_parts() -> None:
    content: dict[str, Any] = {
        "output": [{"role": "assistant", "parts": [{"type": "text", "content": "hello there"}]}]
    }
    assert response_text(content) == "hello there"
    assert response_text({"output": "plain"}) == "plain"
    assert response_text(None) is None
    assert response_text({"input": "only input"}) is None


@pytest.fixture(scope="module")
def reference_day() -> list[AuditRecord]:
    return _records(Traffic(21, rate=0.5), 0, DAY)


def test_check_finds_a_shift_and_not_stationary_traffic(reference_day: list[AuditRecord]) -> None:
    shift = Shift("length_mean", DAY + 12 * 3600, 0.5)
    traffic = Traffic(21, rate=0.5, shifts=[shift])
    current_ok = _records(traffic, DAY + 11 * 3600, DAY + 12 * 3600)
    current_shifted = _records(traffic, DAY + 12 * 3600, DAY + 13 * 3600)
    log = ListLog(reference_day + current_ok + current_shifted)
    reference = (_at(traffic, 0), _at(traffic, DAY))

    calm = check_log(
        log, reference=reference, current=(_at(traffic, DAY + 11 * 3600), _at(traffic, DAY + 12 * 3600))
    )
    assert not calm.drift, calm.table()
    assert calm.current.records == len(current_ok)

    drifted = check_log(
        log, reference=reference, current=(_at(traffic, DAY + 12 * 3600), _at(traffic, DAY + 13 * 3600))
    )
    assert drifted.drift, drifted.table()
    assert {"response.tokens", "response.chars"} <= {r.feature for r in drifted.flagged}
    assert "DRIFT" in drifted.table()
    data = drifted.to_dict()
    assert data["drift"] is True
    assert data["flagged"] == len(drifted.flagged)
    assert all(r["status"] for r in data["results"])


def test_empty_windows_are_errors(reference_day: list[AuditRecord]) -> None:
    log = ListLog(reference_day)
    traffic = Traffic(21)
    with pytest.raises(ConfigurationError, match="current window"):
        check_log(
            log,
            reference=(_at(traffic, 0), _at(traffic, DAY)),
            current=(_at(traffic, 5 * DAY), _at(traffic, 6 * DAY)),
        )
    with pytest.raises(ConfigurationError, match="reference window"):
        check_log(
            log,
            reference=(_at(traffic, 5 * DAY), _at(traffic, 6 * DAY)),
            current=(_at(traffic, 0), _at(traffic, DAY)),
        )


def test_only_interaction_records_count(reference_day: list[AuditRecord]) -> None:
    traffic = Traffic(21)
    noise = [AuditRecord("drift", r.time_unix_nano, "svc", attributes={"x": 1}) for r in reference_day[:100]]
    log = ListLog(reference_day + noise)
    report = check_log(
        log,
        reference=(_at(traffic, 0), _at(traffic, DAY / 2)),
        current=(_at(traffic, DAY / 2), _at(traffic, DAY)),
        policy=DriftPolicy(),
    )
    assert report.reference.records + report.current.records == len(reference_day)
