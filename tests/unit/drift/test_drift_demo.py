"""The demo's drift step: the scripted traffic shifts half-way and both hooks detect it."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime, timedelta

from llm_soc2 import semconv
from llm_soc2.audit import AuditRecord
from llm_soc2.drift.demo import demo_turns, detect_shift, simulate_shift
from llm_soc2.risk import classify


class ListLog:
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
        yield from (r for r in self.items if lo <= r.time_unix_nano < hi)


def test_turns_shift_half_way() -> None:
    turns = demo_turns(400, seed=3)
    first, second = turns[:200], turns[200:]
    assert not any(t.shifted for t in first)
    assert all(t.shifted for t in second)
    mean = lambda ts: sum(len(t.answer) for t in ts) / len(ts)  # noqa: E731
    assert mean(second) > 1.8 * mean(first)
    assert demo_turns(400, seed=3) == turns  # seeded
    assert turns[0].reply().text == turns[0].answer


def test_detect_shift_over_audit_records() -> None:
    """Records as the processor would write them for the demo's turns (risk from the real classifier)."""
    turns = demo_turns(600, seed=11)
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    records = []
    split = None
    for i, turn in enumerate(turns):
        at = start + timedelta(seconds=i * 0.5)
        if i == len(turns) // 2:
            split = at
        assessment = classify(turn.prompt, turn.answer)
        attributes = {
            semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
            semconv.GEN_AI_OPERATION_NAME: "chat",
            semconv.GEN_AI_USAGE_INPUT_TOKENS: len(turn.prompt) // 4 + 1,
            semconv.GEN_AI_USAGE_OUTPUT_TOKENS: len(turn.answer) // 4 + 1,
            semconv.RESPONSE_CHARS: len(turn.answer),
            semconv.PROMPT_CHARS: len(turn.prompt),
            semconv.DURATION: turn.latency + 0.001,
            semconv.RISK_SCORE: assessment.score,
            semconv.RISK_CATEGORIES: list(assessment.categories),
            semconv.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"],
        }
        records.append(
            AuditRecord(
                "interaction",
                int(at.timestamp() * 1e9),
                "demo",
                attributes=attributes,
                content={"output": turn.answer},
            )
        )
    assert split is not None
    report = detect_shift(ListLog(records), split, end=start + timedelta(hours=1))
    flagged = {r.feature for r in report.flagged}
    assert {"response.chars", "response.tokens"} <= flagged, report.table()
    assert "risk.categories" in flagged or "refusal.rate" in flagged, report.table()


def test_simulate_shift_detects_within_the_hour() -> None:
    result = simulate_shift(seed=5)
    assert result.events, "no detection"
    assert all(m >= 0 for m in result.minutes)  # nothing before the change
    assert min(result.minutes) <= 30
    features = {e.result.feature for e in result.events}
    assert features & {"response.tokens", "response.chars", "risk.categories"}
    assert result.lines()[0].startswith("+")
