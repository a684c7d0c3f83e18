"""Points in time and periods as the CLI, the HTTP service and Grafana links give them.

Accepted forms (all converted to integer nanoseconds since the Unix epoch, UTC):

* ISO 8601: ``2025-06-30``, ``2025-06-30T12:00:00Z``, ``2025-06-30T12:00:00+02:00`` (no offset = UTC);
* Unix time: seconds (``1751284800``, fractions allowed) or milliseconds (13 digits, as Grafana's
  ``${__from}``/``${__to}`` give them);
* Grafana relative time: ``now``, ``now-15m``, ``now-7d`` (units s, m, h, d, w, M = 30 d, y = 365 d).

An end given as a bare date means the end of that day, so ``--from 2025-06-01 --to 2025-06-30`` covers
all of June.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

NS_PER_S = 1_000_000_000
_RELATIVE = re.compile(r"^now(?:-(\d{1,9})([smhdwMy]))?$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400, "y": 365 * 86400}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^\d{1,16}(?:\.\d{1,9})?$")


def now_ns() -> int:
    return time.time_ns()


def parse_time(text: str, *, end_of_day: bool = False, now: int | None = None) -> int:
    """Parse one point in time (see the module docstring). Raises ``ValueError`` saying what is wrong."""
    value = text.strip()
    if not value:
        raise ValueError("empty time")
    current = now_ns() if now is None else now
    match = _RELATIVE.match(value)
    if match:
        amount, unit = match.groups()
        if amount is None:
            return current
        return current - int(amount) * _UNIT_SECONDS[unit] * NS_PER_S
    if _NUMBER.match(value):
        whole = value.split(".", 1)[0]
        if len(whole) >= 13 and "." not in value:  # milliseconds (Grafana)
            return int(value) * 1_000_000
        seconds, _, fraction = value.partition(".")
        return int(seconds) * NS_PER_S + int((fraction or "0").ljust(9, "0")[:9])
    if _DATE.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a valid date") from exc
        if end_of_day:
            day += timedelta(days=1)
        return _datetime_ns(datetime(day.year, day.month, day.day, tzinfo=UTC))
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is not a time: use an ISO 8601 date or time (2025-06-30, 2025-06-30T12:00:00Z), "
            "Unix seconds or milliseconds, or now / now-7d"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return _datetime_ns(parsed)


def _datetime_ns(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000


def parse_rfc3339(text: str) -> int | None:
    """An RFC 3339 timestamp from Alertmanager/Grafana/PagerDuty, or ``None`` for Go's zero time or
    an unparseable value (nanosecond fractions are cut to microseconds)."""
    if not isinstance(text, str) or not text or text.startswith("0001-01-01"):
        return None
    value = text.strip()
    match = re.match(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d+)(.*)$", value)
    if match:  # Python 3.11 reads at most 6 fractional digits reliably
        value = f"{match.group(1)}.{match.group(2)[:6].ljust(6, '0')}{match.group(3)}"
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return _datetime_ns(parsed)


def format_ns(value: int | None) -> str:
    """ISO 8601 UTC with seconds (``2025-06-30T12:00:00Z``), or ``-`` for ``None``."""
    if value is None:
        return "-"
    moment = datetime.fromtimestamp(value // NS_PER_S, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_duration(seconds: float | None) -> str:
    """``1d 2h``, ``3h 05m``, ``4m 10s``, ``12s``; ``-`` for ``None``."""
    if seconds is None:
        return "-"
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


@dataclass(frozen=True)
class Period:
    """A half-open interval ``[start, end)`` in Unix nanoseconds."""

    start: int
    end: int

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, int) and self.start <= moment < self.end

    def to_json(self) -> dict[str, str]:
        return {"from": format_ns(self.start), "to": format_ns(self.end)}


def parse_period(start: str | None, end: str | None, *, default_days: int | None = None) -> Period:
    """A period from optional ``from``/``to`` texts. Without ``from``: ``default_days`` before the end,
    or the beginning of time. Without ``to``: now. Raises ``ValueError`` when ``from`` is not before
    ``to``."""
    current = now_ns()
    stop = parse_time(end, end_of_day=True, now=current) if end else current
    if start:
        begin = parse_time(start, now=current)
    elif default_days is not None:
        begin = stop - default_days * 86400 * NS_PER_S
    else:
        begin = 0
    if begin >= stop:
        raise ValueError(f"the period is empty: from {format_ns(begin)} is not before to {format_ns(stop)}")
    return Period(begin, stop)
