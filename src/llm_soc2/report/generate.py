"""``generate()``: sources -> evidence -> checks -> renderers -> signed bundle.

The audit log is streamed on the main thread while Prometheus and Grafana are queried on worker
threads (they wait on the network) and the log's verification runs in a second process. The bundle is
built in a temporary directory next to ``out_dir`` and moved into place only when complete and
verified, so a failed run never leaves a half-written bundle behind.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from llm_soc2 import __version__
from llm_soc2 import semconv as sc
from llm_soc2.audit.record import KIND_DRIFT
from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError, LLMSoc2Error, SourceError
from llm_soc2.report import bundle, exports
from llm_soc2.report.checks import Context, Objectives, evaluate, fmt_pct, pct
from llm_soc2.report.checks.incidents import incidents
from llm_soc2.report.checks.operations import by_model, latency
from llm_soc2.report.evidence import (
    DAY_NS,
    EvidenceItem,
    Period,
    Report,
    SourceStatus,
    from_ns,
    iso,
    utc,
)
from llm_soc2.report.progress import Progress
from llm_soc2.report.render import html as html_render
from llm_soc2.report.render import json as json_render
from llm_soc2.report.render import oscal as oscal_render
from llm_soc2.report.render import pdf as pdf_render
from llm_soc2.report.sources import audit as audit_source
from llm_soc2.report.sources import grafana as grafana_source
from llm_soc2.report.sources import prometheus as prometheus_source
from llm_soc2.report.sources import redact_url

INDEX = "index.html"
PDF = "report.pdf"
JSON = "report.json"
OSCAL = "oscal-assessment-results.json"


@dataclass
class ReportResult:
    """What :func:`generate` wrote. ``failures`` lists the sources that were requested and failed (their
    criteria are ``not evidenced``); the bundle is complete and verified either way."""

    out_dir: Path
    report_id: str
    period: Period
    report_type: int
    statuses: dict[str, str]  # criterion -> status
    status_counts: dict[str, int]
    failures: list[SourceStatus]
    sources: list[SourceStatus]
    records: int
    interactions: int
    html: Path
    json: Path
    oscal: Path
    pdf: Path | None
    manifest: Path
    verified: bool
    seconds: float
    key_source: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verified and not self.failures


def _prepare_out_dir(out_dir: Path, overwrite: bool) -> Path:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise ConfigurationError(f"--out {out_dir} exists and is not a directory")
        if any(out_dir.iterdir()):
            if not overwrite:
                raise ConfigurationError(
                    f"--out {out_dir} is not empty: choose a new directory or pass --overwrite to replace a "
                    "previous report"
                )
            if not (out_dir / bundle.MANIFEST).exists():
                raise ConfigurationError(
                    f"--out {out_dir} is not empty and is not a report bundle (no manifest.json): refusing to "
                    "replace it"
                )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}-{secrets.token_hex(3)}"
    staging.mkdir()
    return staging


def _check_period(period: Period) -> Period:
    if period.end <= period.start:
        raise ConfigurationError(
            f"the period is empty: --from {iso(period.start)} is not before --to {iso(period.end)}"
        )
    return period


def _settle(future: Future[Any] | None, name: str, location: str) -> tuple[Any, SourceStatus]:
    if future is None:
        return None, SourceStatus(name, requested=False, ok=False)
    try:
        value = future.result()
    except LLMSoc2Error as exc:
        return None, SourceStatus(name, requested=True, ok=False, location=location, error=str(exc))
    except Exception as exc:  # an unexpected client error must not lose the other sources' evidence
        return None, SourceStatus(
            name, requested=True, ok=False, location=location, error=f"{type(exc).__name__}: {exc}"
        )
    return value, SourceStatus(name, requested=True, ok=True, location=location)


def generate(
    source: Settings | str | None,
    start: datetime | None,
    end: datetime | None,
    out_dir: str | Path,
    *,
    report_type: int = 2,
    log_id: str | None = None,
    prometheus_url: str | None = None,
    prometheus_selector: str = "",
    grafana_url: str | None = None,
    grafana_token: str | None = None,
    settings: Settings | None = None,
    objectives: Objectives | None = None,
    pdf: bool | None = None,
    overwrite: bool = False,
    seed: str | None = None,
    signing_key: Path | None = None,
    trusted: Sequence[Path] | None = None,
    progress: bool | None = False,
    now: datetime | None = None,
) -> ReportResult:
    """Write a signed, verified SOC 2 evidence bundle for ``[start, end)`` to ``out_dir``.

    ``source`` is a :class:`Settings` (its audit URL is used) or an audit store URL (``sqlite:///...`` or
    ``postgresql://...``); ``None`` reads ``LLM_SOC2_*`` from the environment. ``start``/``end`` ``None``
    take the log's extent (first to last record by append order, whole seconds; convenient for a demo). Prometheus and Grafana
    are read only when their URL is given. ``pdf=None`` writes ``report.pdf`` when reportlab is
    installed; ``pdf=True`` requires it. Raises :class:`LLMSoc2Error` subclasses for bad input, an
    unreadable audit log or a period without data; a failing Prometheus or Grafana does not raise: the
    result lists it in ``failures`` and the criteria that needed it are ``not evidenced``.
    """
    started = time.monotonic()
    if isinstance(source, Settings):
        settings, url = source, None
    else:
        settings, url = settings or Settings.from_env(), source
    if report_type not in (1, 2):
        raise ConfigurationError(f"report type must be 1 or 2, not {report_type!r}")
    if start is not None and end is not None:
        _check_period(Period(utc(start), utc(end)))
    want_pdf = pdf_render.available() if pdf is None else pdf
    if want_pdf and not pdf_render.available():
        raise ConfigurationError(pdf_render.INSTALL_HINT)
    log = audit_source.open_log(url, settings, log_id)
    try:
        if start is None or end is None:
            span = audit_source.extent(log, log_id)
            if span is None:
                raise SourceError(
                    f"the audit log {redact_url(log.url)} is empty: there is nothing to report on"
                )
            start, end = start or span[0], end or span[1]
        period = _check_period(Period(utc(start), utc(end)))
        audit_source.count(log, period, log_id)  # a period without data fails before anything starts
        staging = _prepare_out_dir(Path(out_dir), overwrite)
    except BaseException:
        log.close()
        raise
    grafana_token = grafana_token if grafana_token is not None else (settings.grafana_token or None)
    objectives = objectives or Objectives(
        key_max_age_days=settings.key_max_age_days, retention_days=settings.retention_days
    )
    target = Path(out_dir)
    shown = Progress.auto(progress)
    seed_hex = seed or secrets.token_hex(16)
    generated_at = utc(now) if now is not None else datetime.now(UTC)
    report_id = f"{generated_at.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"
    trusted_paths = list(trusted) if trusted is not None else _default_trusted(settings)
    try:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="llm-soc2-report") as pool:
            prom_future: Future[prometheus_source.PrometheusData] | None = None
            grafana_future: Future[grafana_source.GrafanaData] | None = None
            prom_location = redact_url(prometheus_url) if prometheus_url else ""
            grafana_location = redact_url(grafana_url) if grafana_url else ""
            clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731
            if prometheus_url:
                url_p = prometheus_url

                def read_prometheus() -> prometheus_source.PrometheusData:
                    client = prometheus_source.PrometheusClient(url_p, selector=prometheus_selector)
                    return prometheus_source.collect(client, period, clock, shown.stage)

                prom_future = pool.submit(read_prometheus)
            if grafana_url:
                url_g = grafana_url

                def read_grafana() -> grafana_source.GrafanaData:
                    return grafana_source.collect(
                        grafana_source.GrafanaSource(url_g, grafana_token), period, clock, shown.stage
                    )

                grafana_future = pool.submit(read_grafana)
            shown.stage(f"reading the audit log {redact_url(log.url)}")
            try:
                facts = audit_source.collect(
                    log, period, staging, seed_hex=seed_hex, generated_at=generated_at, settings=settings,
                    log_id=log_id, trusted=trusted_paths, progress=shown.records,
                )  # fmt: skip
            finally:
                shown.close()
                log.close()
            prom: prometheus_source.PrometheusData | None
            grafana: grafana_source.GrafanaData | None
            prom, prom_status = _settle(prom_future, "prometheus", prom_location)
            grafana, grafana_status = _settle(grafana_future, "grafana", grafana_location)
        audit_status = SourceStatus(
            "audit", True, True, facts.location,
            detail={"records": facts.total_records, "log ids": ", ".join(facts.log_ids), "seconds": round(facts.seconds, 1)},
        )  # fmt: skip
        sources = {"audit": audit_status, "prometheus": prom_status, "grafana": grafana_status}
        for status in (prom_status, grafana_status):
            if status.failed:
                shown.stage(f"{status.name} failed: {status.error}")

        shown.stage("writing evidence")
        evidence: list[EvidenceItem] = exports.audit_items(facts, staging)
        if prom is not None:
            evidence += exports.prometheus_items(prom, staging, period)
        if grafana is not None:
            evidence += exports.grafana_items(grafana, staging, period)
        samples = exports.samples(facts, grafana, staging, report_type=report_type, seed=seed_hex)

        ctx = Context(period, report_type, objectives, facts, prom, grafana, sources)
        results = evaluate(ctx)
        signer, key_source = bundle.signing_key(settings, signing_key)
        report = Report(
            report_id=report_id,
            report_type=report_type,
            period=period,
            generated_at=generated_at,
            version=__version__,
            seed=seed_hex,
            system=_system(facts, objectives, settings, key_source, log_id),
            sources=list(sources.values()),
            criteria=results,
            evidence=evidence,
            samples=samples,
            integrity=_integrity(facts),
            charts=_charts(ctx),
        )

        shown.stage("rendering")
        (staging / JSON).write_text(json_render.render(report), encoding="utf-8")
        (staging / INDEX).write_text(html_render.render(report), encoding="utf-8")
        if want_pdf:
            pdf_render.render(report, staging / PDF)
        hashes = {
            rel: bundle.sha256_file(staging / rel, remember=True) for rel in bundle.bundle_files(staging)
        }
        (staging / OSCAL).write_text(
            json.dumps(oscal_render.render(report, hashes), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        bundle.write_manifest(
            staging, signer, report_id=report_id, created=generated_at, key_source=key_source
        )
        check = bundle.verify(staging, [signer.vkey])
        if not check.ok:  # pragma: no cover - would be a bug in this module
            raise SourceError(f"the bundle failed its own verification: {check.summary()}")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shown.stage(f"done: {target}")
    return ReportResult(
        out_dir=target,
        report_id=report_id,
        period=period,
        report_type=report_type,
        statuses={r.criterion.id: r.status for r in results},
        status_counts=report.status_counts(),
        failures=[s for s in sources.values() if s.failed],
        sources=list(sources.values()),
        records=facts.total_records,
        interactions=facts.interactions,
        html=target / INDEX,
        json=target / JSON,
        oscal=target / OSCAL,
        pdf=target / PDF if want_pdf else None,
        manifest=target / bundle.MANIFEST,
        verified=check.ok,
        seconds=time.monotonic() - started,
        key_source=key_source,
    )


def _default_trusted(settings: Settings) -> list[Path]:
    """Checkpoints held outside the store: the directory witness, when it has any."""
    witness = settings.resolved_witness_dir
    if witness.is_dir() and any(witness.rglob("*.checkpoint")):
        return [witness]
    return []


def _system(facts: audit_source.AuditFacts, objectives: Objectives, settings: Settings, key_source: str,
            log_id: str | None) -> dict[str, Any]:  # fmt: skip
    return {
        "services": [name or "(unnamed)" for name, _ in facts.services.most_common(10)],
        "log_ids": facts.log_ids,
        "log_id_filter": log_id,
        "audit_store": facts.location,
        "objectives": objectives.__dict__,
        "settings": {
            "retention_days": settings.retention_days,
            "key_max_age_days": settings.key_max_age_days,
            "checkpoint_every": settings.checkpoint_every,
            "checkpoint_interval_s": settings.checkpoint_interval,
            "prompt_registry": settings.prompt_registry,
        },
        "records_by_kind": dict(facts.kinds.most_common()),
        "signing_key": key_source,
        "audit_timings": {phase: round(at, 2) for phase, at in facts.timings.items()},
    }


def _integrity(facts: audit_source.AuditFacts) -> dict[str, Any]:
    logs = []
    for lid, info in sorted(facts.integrity.items()):
        entry: dict[str, Any] = {
            "log_id": lid,
            "first_seq": info.first_seq,
            "last_seq": info.last_seq,
            "records_in_period": info.records_in_period,
            "log_size": info.size,
            "verify_ok": info.verify_ok,
            "verify_error": info.verify_error,
            "verify": info.verify,
        }
        if info.covering is not None:
            entry["checkpoint_size"] = info.covering.size
            entry["checkpoint_time"] = iso(from_ns(info.covering.time_unix_nano))
            entry["checkpoint_note"] = info.covering.note
        logs.append(entry)
    return {"ok": all(log["verify_ok"] and "checkpoint_note" in log for log in logs), "logs": logs}


def _charts(ctx: Context) -> dict[str, Any]:
    facts = ctx.audit
    period = ctx.period
    days = max(1, int((period.end_ns - period.start_ns + DAY_NS - 1) // DAY_NS))
    daily = []
    for day in range(days):
        calls, errors, risk, pii = facts.daily.get(day, [0, 0, 0, 0])
        date = (period.start + timedelta(days=day)).date().isoformat()
        daily.append({"date": date, "ok": calls - errors, "errors": errors, "risk_events": risk, "pii": pii})
    models = []
    prom = ctx.prometheus
    for model, stats in by_model(ctx).items():
        p = latency(stats)
        availability = 1 - stats.errors / stats.calls if stats.calls else None
        availability_source = "audit log"
        if prom is not None and model in prom.models and prom.models[model].calls:
            availability = 1 - prom.models[model].errors / prom.models[model].calls
            availability_source = "Prometheus"
        models.append(
            {
                "model": model,
                "calls": stats.calls,
                "errors": stats.errors,
                "availability": availability,
                "availability_source": availability_source,
                "p50": p[0.5],
                "p95": p[0.95],
                "p99": p[0.99],
            }
        )
    alerts = []
    gaps = []
    if prom is not None:
        for episode in prom.episodes:
            alerts.append(
                {
                    "alertname": episode.alertname,
                    "state": episode.state,
                    "severity": episode.labels.get("severity", ""),
                    "start": iso(from_ns(int(episode.start * 1e9))),
                    "end": iso(from_ns(int(episode.end * 1e9))),
                    "active_at": iso(from_ns(int(episode.active_at * 1e9))) if episode.active_at else "",
                }
            )
        gaps = [
            {"start": iso(from_ns(int(g.start * 1e9))), "end": iso(from_ns(int(g.end * 1e9)))}
            for g in prom.gaps
        ]
    drift = [
        {
            "time": iso(from_ns(e.time_ns)),
            "model": str(e.attributes.get(sc.GEN_AI_REQUEST_MODEL, "")),
            "feature": str(e.attributes.get(sc.ATTR_DRIFT_FEATURE, "")),
        }
        for e in facts.events.get(KIND_DRIFT, [])
        if e.attributes.get(sc.DRIFT_STATE) == "detected"
    ]
    opened = [
        {
            "id": i.id,
            "title": i.title,
            "opened": iso(from_ns(i.opened_ns)),
            "resolved": iso(from_ns(i.resolved_ns)) if i.resolved_ns else "",
        }
        for i in incidents(ctx)
        if period.start_ns <= i.opened_ns < period.end_ns
    ]
    levels = [(level, facts.risk_levels.get(level, 0)) for level in ("low", "medium", "high", "critical")]
    verified = [i.verify_ok for i in facts.integrity.values()]
    return {
        "daily": daily,
        "models": models,
        "alerts": alerts,
        "gaps": gaps,
        "drift": drift,
        "incidents": opened,
        "pii_types": facts.pii_types.most_common(12),
        "risk_levels": [pair for pair in levels if pair[1]] if facts.risk_assessed else [],
        "totals": {
            "interactions": facts.interactions,
            "failure_rate": fmt_pct(pct(facts.errors, facts.interactions), 2),
            "risk_events": facts.risk_events,
            "pii_interactions": facts.pii_interactions,
            "models": len(models),
            "integrity": "passed" if verified and all(verified) else "FAILED",
        },
    }
