"""Evidence files and evidence items: what each source produced, written under ``evidence/`` and
described with the query, parameters, period, record count, generation time and SHA-256."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from llm_soc2.report import criteria as cat
from llm_soc2.report.bundle import sha256_file
from llm_soc2.report.checks.operations import latency
from llm_soc2.report.evidence import EvidenceItem, FileRef, Period, Sample, from_ns, iso
from llm_soc2.report.sampling import SizeDecision, sample_size, select
from llm_soc2.report.sources import grafana as gsrc
from llm_soc2.report.sources.audit import AuditFacts
from llm_soc2.report.sources.grafana import GrafanaData
from llm_soc2.report.sources.prometheus import PrometheusData

POPULATION_TITLES = {
    cat.POP_INTERACTIONS: "LLM interactions",
    cat.POP_RISK_EVENTS: "High and critical risk events",
    cat.POP_PII_FINDINGS: "Interactions with personal data or secrets",
    cat.POP_DRIFT: "Drift detections, resolutions and baselines",
    cat.POP_CHANGES: "Changes (first use of a model or prompt version) and approvals",
    cat.POP_KEYS: "API-key and signing-key events",
    cat.POP_INCIDENTS: "Incident records",
    cat.POP_DISPOSALS: "Erasures and purges",
    cat.POP_CHECKPOINTS: "Signed checkpoints",
}


def ref(root: Path, rel: str, rows: int | None = None, media_type: str = "text/csv") -> FileRef:
    path = root / rel
    return FileRef(rel, sha256_file(path, remember=True), path.stat().st_size, rows, media_type)


def write_json(root: Path, rel: str, value: Any) -> FileRef:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False) + "\n")
    return ref(root, rel, None, "application/json")


def write_csv(root: Path, rel: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> FileRef:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return ref(root, rel, count)


def audit_items(facts: AuditFacts, root: Path) -> list[EvidenceItem]:
    items: list[EvidenceItem] = []
    period = facts.period
    for name, info in facts.populations.items():
        items.append(
            EvidenceItem(
                id=f"audit.{name}",
                title=POPULATION_TITLES.get(name, name),
                source="audit",
                location=facts.location,
                query=info.query,
                parameters=info.parameters,
                period=period,
                record_count=info.rows,
                generated_at=facts.generated_at,
                files=[ref(root, info.path, info.rows)],
            )
        )

    def usage_rows(usages: Iterable[Any]) -> Iterable[list[Any]]:
        for u in sorted(usages, key=lambda x: x.first_ns):
            yield [u.id, iso(from_ns(u.first_ns)), iso(from_ns(u.last_ns)), u.calls, ";".join(sorted(u.models)),
                   u.flagged_true, u.flagged_false]  # fmt: skip

    models = write_csv(
        root, "evidence/audit/models.csv",
        ["provider", "model", "calls", "failed", "input_tokens", "output_tokens", "first_use", "last_use",
         "error_types", "prompts_with_personal_data", "data_subjects_with_personal_data", "destinations",
         "latency_p50_s", "latency_p95_s", "latency_p99_s"],
        (
            [s.provider, s.model, s.calls, s.errors, s.input_tokens, s.output_tokens, iso(from_ns(s.first_ns)),
             iso(from_ns(s.last_ns)), json.dumps(dict(s.error_types), sort_keys=True), s.pii_input_calls,
             len(s.pii_subjects), json.dumps(dict(s.hosts), sort_keys=True),
             *(("" if v is None else round(v, 6)) for v in latency(s).values())]
            for (_, _), s in sorted(facts.models.items())
        ),
    )  # fmt: skip
    keys = write_csv(
        root, "evidence/audit/keys.csv",
        ["api_key_fingerprint", "first_use", "last_use", "calls", "models", "calls_known", "calls_unknown"],
        usage_rows(facts.keys.values()),
    )  # fmt: skip
    templates = write_csv(
        root, "evidence/audit/templates.csv",
        ["template_hash", "first_use", "last_use", "calls", "models", "calls_approved", "calls_unapproved"],
        usage_rows(facts.templates.values()),
    )  # fmt: skip
    inventory_query = "aggregated from the interactions population (same filter)"
    base = {"since": iso(period.start), "until": iso(period.end), "log_id": facts.log_id_filter or "(all)"}
    for ident, title, fref in (
        ("audit.models", "Vendor and model inventory", models),
        ("audit.keys", "API-key fingerprint inventory", keys),
        ("audit.templates", "Prompt-template inventory", templates),
    ):
        items.append(
            EvidenceItem(
                ident,
                title,
                "audit",
                facts.location,
                inventory_query,
                dict(base),
                period,
                fref.rows or 0,
                facts.generated_at,
                [fref],
            )
        )

    logs = []
    for lid, log in sorted(facts.integrity.items()):
        entry: dict[str, Any] = {
            "log_id": lid,
            "first_seq": log.first_seq,
            "last_seq": log.last_seq,
            "records_in_period": log.records_in_period,
            "log_size": log.size,
            "verify_ok": log.verify_ok,
            "verify_error": log.verify_error,
            "verify": log.verify,
        }
        if log.covering is not None:
            entry["checkpoint"] = log.covering.to_json()
        logs.append(entry)
    verification = write_json(root, "evidence/audit/verification.json", {"logs": logs})
    items.append(
        EvidenceItem(
            "audit.verification",
            "Audit log verification bound to the covering checkpoint",
            "audit",
            facts.location,
            "AuditLog.verify(start=first_seq, end=last_seq + 1): every record of the range re-hashed and "
            "decoded, leaf hashes outside it, every Merkle root compared with the signed checkpoints",
            {lid: {"start": i.first_seq, "end": i.last_seq + 1} for lid, i in facts.integrity.items()},
            period,
            sum(int(i.verify.get("records_checked", 0)) for i in facts.integrity.values()),
            facts.generated_at,
            [verification],
        )
    )
    return items


def prometheus_items(data: PrometheusData, root: Path, period: Period) -> list[EvidenceItem]:
    queries = [q.__dict__ for q in data.queries]
    calls = write_json(
        root, "evidence/prometheus/calls.json",
        {"step_seconds": data.step, "models": {m: c.__dict__ for m, c in data.models.items()},
         "total_calls": data.total_calls, "total_errors": data.total_errors, "raw": {
             k: data.raw.get(k) for k in ("count_last", "count_max", "sum_last", "sum_max")}},
    )  # fmt: skip
    latency = write_json(root, "evidence/prometheus/latency.json", data.raw.get("quantiles", {}))
    alerts = write_json(
        root, "evidence/prometheus/alerts.json",
        {"episodes": [e.__dict__ for e in data.episodes], "raw": data.raw.get("alerts", [])},
    )  # fmt: skip
    gaps = write_json(
        root, "evidence/prometheus/gaps.json",
        {"resolution_seconds": data.gap_resolution, "gaps": [g.__dict__ for g in data.gaps],
         "drift_gaps": [g.__dict__ for g in data.drift_gaps], "raw": data.raw.get("presence"),
         "raw_drift": data.raw.get("drift_presence")},
    )  # fmt: skip
    log = write_json(root, "evidence/prometheus/queries.json", queries)

    def pick(prefixes: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
        chosen = [q for q in data.queries if q.query.startswith(prefixes)]
        text = " ; ".join(dict.fromkeys(q.query for q in chosen))
        params = chosen[0].parameters if chosen else {}
        return text, {**params, "queries": len(chosen)}

    out = []
    for ident, title, prefixes, count, files in (
        ("prometheus.calls", "LLM calls and failures per model (counter increases)",
         ("last_over_time", "max_over_time"), round(data.total_calls), [calls, log]),
        ("prometheus.latency", "Latency quantiles per model", ("histogram_quantile",),
         len(data.models), [latency]),
        ("prometheus.alerts", "Alert history (ALERTS, ALERTS_FOR_STATE)", ("ALERTS",), len(data.episodes), [alerts]),
        ("prometheus.gaps", "Telemetry gaps (LLM call metrics and drift gauges)", ("count(count_over_time",),
         len(data.gaps) + len(data.drift_gaps), [gaps]),
    ):  # fmt: skip
        query, params = pick(prefixes)
        out.append(
            EvidenceItem(
                ident,
                title,
                "prometheus",
                data.location,
                query,
                params,
                period,
                count,
                data.generated_at,
                files,
            )
        )
    return out


def grafana_items(data: GrafanaData, root: Path, period: Period) -> list[EvidenceItem]:
    generated = data.generated_at or datetime.now().astimezone()
    spec = (
        ("grafana.alert-rules", "Alert-rule inventory", "alert_rules", data.alert_rules, "/v1/provisioning/alert-rules"),
        ("grafana.contact-points", "Contact points", "contact_points", data.contact_points,
         "/v1/provisioning/contact-points"),
        ("grafana.policies", "Notification policy tree", "policies", [data.policies] if data.policies else [],
         "/v1/provisioning/policies"),
        ("grafana.state-history", "Alert state history", "state_history", data.state_history, "/v1/rules/history"),
        ("grafana.annotations", "Alert annotations", "annotations", data.annotations, "/annotations"),
        ("grafana.dashboards", "Dashboards and version history", "dashboards", data.dashboards, "/search"),
        ("grafana.service-accounts", "Service accounts and token ages", "service_accounts", data.service_accounts,
         "/serviceaccounts/search"),
        ("grafana.users", "Users", "users", data.users or data.org_users, "/users/search"),
        ("grafana.teams", "Teams and members", "teams", data.teams, "/teams/search"),
    )  # fmt: skip
    out = []
    for ident, title, name, records, path in spec:
        calls = [c for c in data.calls if c.path.startswith(path) or (name == "users" and c.path == "/org/users")
                 or (name == "dashboards" and "/versions" in c.path)
                 or (name == "service_accounts" and "/tokens" in c.path)
                 or (name == "teams" and "/members" in c.path)]  # fmt: skip
        fref = write_json(
            root,
            f"evidence/grafana/{ident.split('.', 1)[1]}.json",
            {"records": records, "calls": [c.__dict__ for c in calls], "error": data.errors.get(name, "")},
        )
        query = " ; ".join(dict.fromkeys(gsrc.describe_call(c) for c in calls[:3])) + (
            f" ; ... ({len(calls)} calls)" if len(calls) > 3 else ""
        )
        out.append(
            EvidenceItem(
                ident,
                title,
                "grafana",
                data.location,
                query or f"GET /api{path}",
                calls[0].parameters if calls else {},
                period,
                len(records),
                generated,
                [fref],
                description=data.errors.get(name, ""),
            )
        )
    return out


def samples(
    facts: AuditFacts,
    grafana: GrafanaData | None,
    root: Path,
    *,
    report_type: int,
    seed: str,
) -> list[Sample]:
    """One sample per population used by a control, sized for its most demanding control."""
    period = facts.period
    out: list[Sample] = []
    controls_by_population: dict[str, list[cat.Control]] = {}
    for control in cat.CONTROLS:
        if control.population:
            controls_by_population.setdefault(control.population, []).append(control)
    for population, controls in controls_by_population.items():
        if population == cat.POP_ACCOUNTS:
            members = _grafana_members(grafana)
            size_of = len(members)
        elif population == cat.POP_CHECKPOINTS:
            covering = [(lid, i.covering) for lid, i in facts.integrity.items() if i.covering is not None]
            rows = facts.populations[population].rows
            rel = f"evidence/samples/{population}.json"
            fref = write_json(
                root, rel,
                {"population": population, "population_file": facts.populations[population].path,
                 "population_size": rows, "method": "the covering checkpoint of each log (not random): every "
                 "inclusion proof in this bundle is checked against it",
                 "members": [{"log_id": lid, "checkpoint": c.to_json()} for lid, c in covering]},
            )  # fmt: skip
            out.append(
                Sample(population, rows, len(covering), seed, "continuous",
                       "the checkpoint the period is bound to (one per log)", [lid for lid, _ in covering], fref)
            )  # fmt: skip
            continue
        else:
            info = facts.populations.get(population)
            size_of = info.rows if info else 0
        decisions = [(sample_size(c, size_of, period.days, report_type), c) for c in controls]
        decision, sized_for = max(decisions, key=lambda pair: pair[0].size)
        decision = SizeDecision(
            decision.size, decision.frequency, f"sized for {sized_for.id}: {decision.rationale}"
        )
        rel = f"evidence/samples/{population}.json"
        doc: dict[str, Any] = {
            "population": population,
            "population_size": size_of,
            "size": decision.size,
            "seed": seed,
            "frequency": decision.frequency,
            "rationale": decision.rationale,
            "controls": [c.id for c in controls],
            "method": Sample.method,
        }
        if population == cat.POP_ACCOUNTS:
            ids = select(seed, list(members), decision.size)
            doc["population_file"] = "evidence/grafana/users.json, evidence/grafana/service-accounts.json"
            doc["reperform"] = (
                "sorted(member_ids, key=lambda m: sha256(f'{seed}:{m}'.encode()).digest())[:size]"
            )
            doc["members"] = [{"member_id": m, "record": members[m]} for m in ids]
        else:
            info = facts.populations[population]
            chosen = facts.samples.get(population, [])[: decision.size]
            ids = [s.member_id for s in chosen]
            doc["population_file"] = info.path
            doc["reperform"] = (
                f"rows = list(csv.DictReader(open('{info.path}'))); "
                "rows.sort(key=lambda r: hashlib.sha256(f\"{seed}:{r['log_id']}:{r['seq']}\".encode()).digest()); "
                "sample = rows[:size]"
            )
            doc["members"] = [
                {"member_id": s.member_id, "record": s.record, "inclusion_proof": s.proof, "note": s.note}
                for s in chosen
            ]
        fref = write_json(root, rel, doc)
        out.append(Sample(population, size_of, decision.size, seed, decision.frequency, decision.rationale,
                          ids, fref))  # fmt: skip
    return out


def _grafana_members(grafana: GrafanaData | None) -> dict[str, dict[str, Any]]:
    if grafana is None:
        return {}
    members: dict[str, dict[str, Any]] = {}
    for user in grafana.users or grafana.org_users:
        members[f"user:{user.get('login') or user.get('email') or user.get('id')}"] = user
    for account in grafana.service_accounts:
        for token in account.get("tokens", []):
            members[f"token:{account.get('name')}:{token.get('name') or token.get('id')}"] = {
                "service_account": {k: v for k, v in account.items() if k != "tokens"},
                "token": token,
            }
    return members
