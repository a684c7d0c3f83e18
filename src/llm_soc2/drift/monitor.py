"""The online drift monitor: the app thread hands over one tuple per interaction, a background thread
does everything else.

App thread (``observe``): one bounded ``deque.append`` of a tuple of references ``(attributes, text,
time_unix_nano, service, start)`` -- a few hundred nanoseconds, no allocation beyond the tuple, no
locks, never raises; when the buffer is full the oldest entries are overwritten. (Slicing the text to
the 2,048 characters the text feature reads would copy it on the app thread; the background thread
does it, within a second.)

Background thread, every second: drains the buffer (at most ``max_rate`` interactions per second of
traffic, sampled evenly beyond that), extracts features, adds them to the bounded per-key windows
(:mod:`llm_soc2.drift.window`); every ``drift_interval`` seconds: tests every key's current window
against its reference (:mod:`llm_soc2.drift.detector`), updates the alerts (persistence), publishes the
gauges and emits drift events. Nothing it does can raise into the application; failures are logged
(rate-limited) and the loop goes on.

Memory is bounded whatever the traffic: the buffer (``buffer_size`` tuples; they reference the
processor's attribute mapping and scrubbed response text, which the span holds anyway until it is
exported: at most ``buffer_size`` x ``LLM_SOC2_MAX_CONTENT_BYTES`` kept alive for up to a second),
``max_keys`` keys (about 0.7 MB each; a key idle for ``key_idle_days`` gives way to a new one,
otherwise new keys are counted and dropped, so a flood of model names cannot evict the state of
established keys), and the results of the last check.
"""

from __future__ import annotations

import collections
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from llm_soc2 import semconv
from llm_soc2.config import Settings
from llm_soc2.drift.baseline import ROLLING, Baseline, BaselineStore, change_attributes, check_name
from llm_soc2.drift.detector import (
    TESTED,
    DriftPolicy,
    FeatureResult,
    Key,
    compare,
    decide,
)
from llm_soc2.drift.features import TEXT_CHARS, FeatureSpace, key_of
from llm_soc2.drift.window import KeyState

if TYPE_CHECKING:
    from opentelemetry._logs import LoggerProvider
    from opentelemetry.metrics import MeterProvider

    from llm_soc2.audit import AuditRecord
    from llm_soc2.drift.telemetry import DriftTelemetry

_log = logging.getLogger(__name__)

DETECTED: Final = "detected"
RESOLVED: Final = "resolved"
KIND_DRIFT: Final = "drift"
KIND_BASELINE: Final = "baseline"

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class DriftEvent:
    """A drift alert raised or cleared for one feature of one key."""

    state: str  # detected | resolved
    result: FeatureResult
    time_unix_nano: int
    baseline: str  # baseline name or "rolling"
    window_seconds: float
    alpha: float
    persistence: int

    def attributes(self) -> dict[str, Any]:
        r = self.result
        return {
            semconv.ATTR_DRIFT_FEATURE: r.feature,
            semconv.ATTR_DRIFT_TEST: r.effect_name,
            semconv.SERVICE_NAME: r.service,
            semconv.GEN_AI_REQUEST_MODEL: r.model,
            semconv.GEN_AI_OPERATION_NAME: r.operation,
            semconv.DRIFT_STATE: self.state,
            semconv.DRIFT_SCORE: r.effect,
            semconv.DRIFT_THRESHOLD: r.threshold,
            semconv.DRIFT_SIGNIFICANCE_TEST: r.test,
            semconv.DRIFT_STATISTIC: r.statistic,
            semconv.DRIFT_P_VALUE: r.p_value,
            semconv.DRIFT_P_VALUE_ADJUSTED: r.p_adjusted,
            semconv.DRIFT_ALPHA: self.alpha,
            semconv.DRIFT_PERSISTENCE: self.persistence,
            semconv.DRIFT_REFERENCE_COUNT: round(r.n_reference, 1),
            semconv.DRIFT_CURRENT_COUNT: r.n_current,
            semconv.DRIFT_REFERENCE_KIND: r.reference_kind,
            semconv.DRIFT_WINDOW: self.window_seconds,
            semconv.DRIFT_BASELINE: self.baseline,
            semconv.DRIFT_TOP_CATEGORIES: list(r.top),
        }

    def describe(self) -> str:
        r = self.result
        head = f"drift {self.state}: {r.feature} of {r.service}/{r.model}/{r.operation}"
        detail = f"{r.effect_name} {r.effect:.3f} (threshold {r.threshold:g}), {r.test} p={r.p_value:.2g}"
        top = f"; {', '.join(r.top)}" if r.top else ""
        return f"{head}: {detail}{top}"


RecordSink = Callable[["AuditRecord"], object]
EventCallback = Callable[[DriftEvent], object]


class DriftMonitor:
    """Online drift detection for one process. Build it, ``start()`` it, call ``observe`` per
    interaction, ``shutdown()`` at exit::

        monitor = DriftMonitor(settings, meter_provider=mp, logger_provider=lp, record_sink=audit.submit)
        monitor.start()
        monitor.observe(record_attributes, response_text, span.end_time, service_name)  # per GenAI span
        monitor.shutdown()

    ``clock`` (unix seconds) is injectable so simulations can run days of traffic in seconds: do not
    ``start()`` the thread then, call :meth:`run_once` after feeding each simulated step.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        meter_provider: MeterProvider | None = None,
        logger_provider: LoggerProvider | None = None,
        record_sink: RecordSink | None = None,
        on_event: EventCallback | None = None,
        clock: Callable[[], float] = time.time,
        policy: DriftPolicy | None = None,
        baseline: Baseline | str | None = None,
        max_keys: int = 32,
        key_idle_days: float = 7.0,
        buffer_size: int = 8_192,
        max_rate: float = 2_000.0,
        telemetry: bool = True,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.policy = policy or DriftPolicy()
        self.space = FeatureSpace()
        self.interval = float(self.settings.drift_interval)
        self.window = float(self.settings.drift_window)
        self._clock = clock
        self._record_sink = record_sink
        self._on_event = on_event
        self._max_keys = max(1, max_keys)
        self._key_idle = key_idle_days * 86_400.0
        self._buffer_size = max(1, buffer_size)
        self._max_rate = max_rate
        self._buffer: collections.deque[tuple[Any, ...]] = collections.deque(maxlen=self._buffer_size)
        self._append = self._buffer.append
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._keys: dict[Key, KeyState] = {}
        self._streaks: dict[tuple[Key, str], int] = {}
        self._active: set[tuple[Key, str]] = set()
        self._results: tuple[FeatureResult, ...] = ()
        self.events: collections.deque[DriftEvent] = collections.deque(maxlen=1000)
        self._last_drain: float | None = None
        self._tokens = float(max_rate)
        self._next_check: float | None = None
        self._last_failure_log = 0.0
        self.counters: dict[str, int] = collections.Counter()
        self._telemetry: DriftTelemetry | None = None
        if telemetry:
            from llm_soc2.drift.telemetry import DriftTelemetry

            self._telemetry = DriftTelemetry(meter_provider, logger_provider)
        self._baseline: Baseline | None = None
        self._empty_profile: FloatArray | None = None
        if isinstance(baseline, Baseline):
            self._set_baseline(baseline)
        else:
            name = baseline if isinstance(baseline, str) else self.settings.drift_baseline
            if name and name != ROLLING:
                try:
                    self._set_baseline(BaselineStore(self.settings.data_dir).load(name, self.space))
                except Exception as exc:
                    _log.warning("drift: cannot load baseline %r (%s); using a rolling reference", name, exc)

    # ----------------------------------------------------------------------------------------------
    # App thread
    # ----------------------------------------------------------------------------------------------
    def observe(
        self,
        attributes: Mapping[str, Any],
        text: str | None = None,
        time_unix_nano: int = 0,
        service: str | None = None,
    ) -> None:
        """Hand one interaction to the monitor. Cheap, lock-free, never raises.

        ``attributes``: the interaction's flat attributes by semconv name (the audit record's: model,
        operation, usage, ``llm_soc2.duration``, risk, PII, finish reasons, error type, and
        ``llm_soc2.prompt.chars``/``llm_soc2.response.chars``); not mutated afterwards.
        ``text``: the scrubbed response text, or None. ``time_unix_nano``: the span's end time (0: now).
        ``service``: the service name (default: the settings' ``service.name``).
        """
        try:  # noqa: SIM105 - contextlib.suppress costs more than try on this path
            self._append((attributes, text, time_unix_nano, service, 0))
        except Exception:  # noqa: S110 - never raise into the app
            pass

    def observe_interaction(self, interaction: Any) -> None:
        """The span processor's sink: ``LLMSpanProcessor.add_sink(monitor.observe_interaction)``.

        Reads ``interaction.attributes`` (scrubbed, by semconv name), ``interaction.response_text``
        (scrubbed) and ``interaction.span``'s start and end times (the duration, when the attributes do
        not carry ``llm_soc2.duration``). Cheap, lock-free, never raises."""
        try:
            span = interaction.span
            self._append(
                (
                    interaction.attributes,
                    interaction.response_text or None,
                    span.end_time or 0,
                    None,
                    span.start_time or 0,
                )
            )
        except Exception:  # noqa: S110 - never raise into the app
            pass

    # ----------------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------------
    def start(self) -> DriftMonitor:
        """Start the background thread (idempotent)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="llm-soc2-drift", daemon=True)
                self._thread.start()
        return self

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the background thread and wait for it (at most ``timeout`` seconds)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def __enter__(self) -> DriftMonitor:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        tick = min(1.0, self.interval)
        while not self._stop.wait(tick):
            try:
                self.run_once()
            except Exception:
                self.counters["failures"] += 1
                now = time.monotonic()
                if now - self._last_failure_log > 60.0:
                    self._last_failure_log = now
                    _log.exception("drift monitor step failed; continuing")

    # ----------------------------------------------------------------------------------------------
    # Background work
    # ----------------------------------------------------------------------------------------------
    def run_once(self, now: float | None = None) -> list[FeatureResult] | None:
        """Drain the buffer, and run a check when one is due. Returns the check's results, if any."""
        now = self._clock() if now is None else now
        with self._lock:
            self.drain(now)
            if self._next_check is None:
                self._next_check = now + self.interval
                return None
            if now < self._next_check:
                return None
            while self._next_check <= now:
                self._next_check += self.interval
            return self.check(now)

    def drain(self, now: float | None = None) -> int:
        """Move buffered interactions into the windows; returns how many were processed."""
        now = self._clock() if now is None else now
        with self._lock:
            buffer = self._buffer
            pending = len(buffer)
            if not pending:
                self._last_drain = now
                return 0
            if pending >= self._buffer_size:
                self.counters["buffer_full"] += 1
            # A token bucket: max_rate interactions per second of clock time, bursts up to one second's.
            elapsed = max(now - self._last_drain, 0.0) if self._last_drain is not None else 0.0
            self._last_drain = now
            self._tokens = min(self._tokens + elapsed * self._max_rate, self._max_rate)
            budget = max(1, int(self._tokens))
            items = [buffer.popleft() for _ in range(pending)]
            if len(items) > budget:
                step = len(items) / budget
                self.counters["sampled_out"] += len(items) - budget
                items = [items[int(i * step)] for i in range(budget)]
            self._tokens = max(self._tokens - len(items), 0.0)
            self._ingest(items, now)
            return len(items)

    def _ingest(self, items: Sequence[tuple[Any, ...]], now: float) -> None:
        space = self.space
        bucket_seconds = self.window / 30
        slot_seconds = self.policy.slot_seconds
        groups: dict[tuple[Key, int, int], list[int]] = {}
        sizes: collections.Counter[tuple[Key, int, int]] = collections.Counter()
        default_service = self.settings.service_name
        for item in items:
            try:
                attributes, text, t_ns, service, start_ns = item
                if not isinstance(attributes, Mapping):
                    raise TypeError("attributes must be a mapping")
                if isinstance(text, str):
                    length = len(text)
                    text = text[:TEXT_CHARS]
                else:
                    text, length = None, -1
                valid_end = isinstance(t_ns, int) and not isinstance(t_ns, bool) and t_ns > 0
                seconds = t_ns / 1e9 if valid_end else now
                duration = (
                    (t_ns - start_ns) / 1e9
                    if valid_end and isinstance(start_ns, int) and start_ns > 0
                    else -1.0
                )
                if not math.isfinite(seconds):
                    seconds = now
                seconds = min(seconds, now)
                key = key_of(attributes, service if isinstance(service, str) and service else default_service)
                group = (key, int(seconds // bucket_seconds), int(seconds // slot_seconds))
                extracted = space.extract(attributes, text, length, None, duration)
                bins = groups.get(group)
                if bins is None:
                    groups[group] = extracted
                else:
                    bins.extend(extracted)
                sizes[group] += 1
            except Exception:
                self.counters["invalid"] += 1
        for group, bins in groups.items():
            key, bucket, slot = group
            state = self._state_for(key, now)
            if state is None:
                self.counters["dropped_key_limit"] += sizes[group]
                continue
            seconds = max(bucket * bucket_seconds, slot * slot_seconds)
            if state.add(seconds, space.histogram(bins), now):
                self.counters["observed"] += sizes[group]
            else:
                self.counters["too_old"] += sizes[group]

    def _state_for(self, key: Key, now: float) -> KeyState | None:
        state = self._keys.get(key)
        if state is not None:
            return state
        if len(self._keys) >= self._max_keys:
            idle_key, idle = min(self._keys.items(), key=lambda item: item[1].last_seen)
            if idle.last_seen >= now - self._key_idle:
                if self.counters["dropped_key_limit"] == 0:
                    _log.warning(
                        "drift: more than %d (service, model, operation) keys; new keys are not monitored",
                        self._max_keys,
                    )
                return None
            self._forget(idle_key)
        state = KeyState(
            self.space.size,
            self.space.w2_columns,
            window_seconds=self.window,
            policy=self.policy,
            frozen=self._frozen_for(key),
        )
        self._keys[key] = state
        return state

    def _forget(self, key: Key) -> None:
        self._keys.pop(key, None)
        for item in [k for k in self._streaks if k[0] == key]:
            self._streaks.pop(item, None)
            self._active.discard(item)

    def _frozen_for(self, key: Key) -> FloatArray | None:
        if self._baseline is None:
            return None
        profile = self._baseline.profile(key)
        if profile is not None:
            return profile
        if self._empty_profile is None:
            self._empty_profile = np.zeros((self.policy.slots, self.space.size), dtype=np.float64)
        return self._empty_profile

    # ----------------------------------------------------------------------------------------------
    # Checks
    # ----------------------------------------------------------------------------------------------
    def check(self, now: float | None = None) -> list[FeatureResult]:
        """Test every key's current window now; update alerts, gauges and events."""
        now = self._clock() if now is None else now
        with self._lock:
            results: list[FeatureResult] = []
            for key, state in self._keys.items():
                current = state.current(now)
                if not current:
                    continue
                results.extend(compare(self.space, key, state.reference(), current, self.policy))
            results = decide(results, self.policy)
            self.counters["checks"] += 1
            events = self._update_alerts(results, now)
            self._results = tuple(results)
            if self._telemetry is not None:
                self._telemetry.publish(self._results, self._active)
        for event in events:
            self._emit(event)
        return results

    def _update_alerts(self, results: Sequence[FeatureResult], now: float) -> list[DriftEvent]:
        events = []
        persistence = self.policy.persistence
        for r in results:
            if r.status != TESTED:
                continue
            item = (r.key, r.feature)
            streak = self._streaks.get(item, 0)
            streak = max(streak, 0) + 1 if r.flagged else min(streak, 0) - 1
            self._streaks[item] = streak
            if item not in self._active and streak >= persistence:
                self._active.add(item)
                events.append(self._event(DETECTED, r, now))
            elif item in self._active and streak <= -persistence:
                self._active.discard(item)
                events.append(self._event(RESOLVED, r, now))
        return events

    def _event(self, state: str, result: FeatureResult, now: float) -> DriftEvent:
        return DriftEvent(
            state=state,
            result=result,
            time_unix_nano=int(now * 1e9),
            baseline=self._baseline.name if self._baseline is not None else ROLLING,
            window_seconds=self.window,
            alpha=self.policy.alpha,
            persistence=self.policy.persistence,
        )

    def _emit(self, event: DriftEvent) -> None:
        self.events.append(event)
        attributes = event.attributes()
        self._deliver(
            semconv.EVENT_DRIFT,
            KIND_DRIFT,
            event.time_unix_nano,
            event.result.service,
            attributes,
            event.describe(),
        )
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                _log.exception("drift: on_event callback failed")

    def _deliver(
        self,
        event_name: str,
        kind: str,
        time_unix_nano: int,
        service: str,
        attributes: dict[str, Any],
        body: str,
    ) -> None:
        if self._telemetry is not None:
            try:
                self._telemetry.emit(event_name, time_unix_nano, attributes, body)
            except Exception:
                _log.exception("drift: cannot emit %s log record", event_name)
        if self._record_sink is not None:
            try:
                from llm_soc2.audit import AuditRecord

                self._record_sink(
                    AuditRecord(
                        kind=kind, time_unix_nano=time_unix_nano, service=service, attributes=attributes
                    )
                )
            except Exception:
                _log.exception("drift: cannot record a %s audit record", kind)

    # ----------------------------------------------------------------------------------------------
    # Introspection
    # ----------------------------------------------------------------------------------------------
    @property
    def results(self) -> tuple[FeatureResult, ...]:
        """The results of the last check."""
        return self._results

    @property
    def detected(self) -> frozenset[tuple[Key, str]]:
        """The (key, feature) pairs whose drift alert is raised."""
        return frozenset(self._active)

    @property
    def keys(self) -> list[Key]:
        with self._lock:
            return sorted(self._keys)

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the per-key windows (the buffer's tuples are not counted)."""
        with self._lock:
            return sum(state.nbytes for state in self._keys.values())

    @property
    def baseline(self) -> Baseline | None:
        return self._baseline

    # ----------------------------------------------------------------------------------------------
    # Baselines
    # ----------------------------------------------------------------------------------------------
    def freeze_baseline(self, name: str, *, save: bool = True) -> Baseline:
        """Freeze what the monitor has seen so far (its rolling reference plus the last day) as the
        baseline ``name``, save it under the data dir (unless ``save`` is false) and compare with it
        from now on. Recorded as a baseline change."""
        check_name(name)
        now = self._clock()
        with self._lock:
            self.drain(now)
            profiles = {key: state.observed() for key, state in self._keys.items()}
            starts = [s.first_seen for s in self._keys.values() if s.first_seen]
            ends = [s.last_seen for s in self._keys.values() if s.last_seen]
            from llm_soc2.drift.baseline import summarise_keys

            baseline = Baseline(
                name=name,
                space=self.space,
                slot_seconds=self.policy.slot_seconds,
                profiles=profiles,
                start_unix_nano=int(min(starts, default=now) * 1e9),
                end_unix_nano=int(max(ends, default=now) * 1e9),
                count=summarise_keys(profiles, self.space),
                source=f"drift monitor of {self.settings.service_name}",
            )
            if save:
                BaselineStore(self.settings.data_dir).save(baseline)
            self._set_baseline(baseline)
        self._record_change("save", baseline.name, baseline, now)
        return baseline

    def use_baseline(self, baseline: Baseline | None) -> None:
        """Compare with ``baseline`` from now on, or with a rolling reference (``None``; it warms up
        over a day). Recorded as a baseline change."""
        now = self._clock()
        with self._lock:
            self.drain(now)
            self._set_baseline(baseline)
        if baseline is None:
            self._record_change("reset", ROLLING, None, now)
        else:
            self._record_change("use", baseline.name, baseline, now)

    def _set_baseline(self, baseline: Baseline | None) -> None:
        if baseline is not None and baseline.slot_seconds != self.policy.slot_seconds:
            raise ValueError("the baseline's slot length differs from the policy's")
        if baseline is not None and baseline.space is not self.space:
            baseline = Baseline.from_json(baseline.to_json(), self.space)
        self._baseline = baseline
        # windows restart against the new reference; alert states restart with them
        for key, state in list(self._keys.items()):
            fresh = KeyState(
                self.space.size,
                self.space.w2_columns,
                window_seconds=self.window,
                policy=self.policy,
                frozen=self._frozen_for(key),
            )
            fresh.ring[:] = state.ring
            fresh.ring_ids[:] = state.ring_ids
            fresh.last_seen = state.last_seen
            fresh.first_seen = state.first_seen
            self._keys[key] = fresh
        self._streaks.clear()
        self._active.clear()

    def _record_change(self, action: str, name: str, baseline: Baseline | None, now: float) -> None:
        attributes = change_attributes(
            action, name, baseline, **{semconv.SERVICE_NAME: self.settings.service_name}
        )
        self._deliver(
            semconv.EVENT_DRIFT_BASELINE,
            KIND_BASELINE,
            int(now * 1e9),
            self.settings.service_name,
            attributes,
            f"drift baseline {action}: {name}",
        )
