"""Drift detection for LLM traffic: the same tests online (a background monitor in the process) and
fleet-wide (``llm-soc2 drift check`` over the audit log).

Online::

    from llm_soc2.drift import DriftMonitor

    monitor = DriftMonitor(settings, meter_provider=mp, logger_provider=lp, record_sink=audit_writer.submit)
    monitor.start()
    processor.add_sink(monitor.observe_interaction)   # one O(1) hand-off per GenAI span
    ...
    monitor.shutdown()

Fleet-wide::

    llm-soc2 drift check --reference 2026-01-01..2026-01-08 --current now-1h..now --json drift.json

What is measured per (service, model, operation): prompt and response length (tokens, characters),
latency, time to first chunk, risk score, risk-category mix, PII rate, refusal rate, finish-reason mix,
error-type mix and the hashed-unigram distribution of response text (:mod:`.features`). How a change
is decided -- KS + Brown-Forsythe, Wasserstein, chi-square, Cohen's h, Jensen-Shannon, a reference
matched to the time of day, Benjamini-Hochberg, effect-size floors and persistence -- is explained in
:mod:`.detector`. Baselines (frozen references) are in :mod:`.baseline`; the simulator used by the
tests, the benchmark and the demo in :mod:`.simulate` and :mod:`.demo`.

The statistics, window and baseline modules import no OpenTelemetry; :mod:`.telemetry` is the adapter.
"""

from __future__ import annotations

from llm_soc2.drift.baseline import Baseline, BaselineStore
from llm_soc2.drift.check import CheckReport, check_log, parse_window
from llm_soc2.drift.detector import DriftPolicy, FeatureResult
from llm_soc2.drift.features import FEATURES, Feature, FeatureSpace
from llm_soc2.drift.monitor import DriftEvent, DriftMonitor

__all__ = [
    "FEATURES",
    "Baseline",
    "BaselineStore",
    "CheckReport",
    "DriftEvent",
    "DriftMonitor",
    "DriftPolicy",
    "Feature",
    "FeatureResult",
    "FeatureSpace",
    "check_log",
    "parse_window",
]
