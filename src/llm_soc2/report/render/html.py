"""``index.html``: one self-contained, print-friendly page. Charts first, details after."""

from __future__ import annotations

import json
from html import escape
from typing import Final

from llm_soc2.report.evidence import CriterionResult, EvidenceItem, Report, Sample, iso
from llm_soc2.report.render import charts, svg

CSS: Final = """
:root{--ink:#1f2933;--muted:#5f6b7a;--line:#dde3ea;--bg:#f6f8fa;--green:#2e7d32;--orange:#b8640f;--grey:#6b7785}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--ink);background:#fff}
main{max-width:1040px;margin:0 auto;padding:28px 28px 60px}
h1{font-size:28px;margin:0 0 4px}h2{font-size:21px;margin:40px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:17px;margin:0}
.meta{color:var(--muted);margin:0 0 18px}
.lead{display:flex;gap:28px;align-items:center;flex-wrap:wrap;margin:18px 0}
.legend div{margin:4px 0}.dot{display:inline-block;width:11px;height:11px;border-radius:50%;margin-right:7px;vertical-align:-1px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:12px;flex:1}
.tile{background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.tile b{display:block;font-size:22px}.tile span{color:var(--muted);font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(235px,1fr));gap:10px}
.card{display:block;border:1px solid var(--line);border-left:6px solid var(--grey);border-radius:6px;padding:8px 12px;
color:inherit;text-decoration:none;break-inside:avoid}
.card.effective{border-left-color:var(--green)}.card.exceptions{border-left-color:var(--orange)}
.card small{display:block;color:var(--muted);font-size:12.5px;line-height:1.35}
.badge{display:inline-block;font-size:12px;font-weight:600;padding:1px 8px;border-radius:10px;color:#fff;background:var(--grey);
white-space:nowrap}
.badge.effective{background:var(--green)}.badge.exceptions{background:var(--orange)}
.chart{margin:10px 0 22px;break-inside:avoid}.chart h3{font-size:15px;margin:0 0 4px;color:var(--ink)}
.criterion{border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin:14px 0;break-inside:avoid-page}
.criterion header{display:flex;justify-content:space-between;gap:12px;align-items:baseline;flex-wrap:wrap}
.rule{color:var(--muted);font-size:14px;margin:6px 0}
.reason{background:#fff6e8;border-left:4px solid var(--orange);padding:6px 10px;margin:8px 0}
.criterion.not-evidenced .reason{background:#f1f3f5;border-left-color:var(--grey)}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:13.5px}
th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid var(--line)}
th{background:var(--bg);font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:10px;white-space:pre-wrap;word-break:break-all}
.hash{font:11.5px ui-monospace,monospace;word-break:break-all;color:var(--muted)}
.note{color:var(--muted);font-size:13.5px}
footer{margin-top:40px;color:var(--muted);font-size:13px;border-top:1px solid var(--line);padding-top:12px}
@media print{main{padding:0;max-width:none}h2{break-after:avoid}.criterion,.chart,.card,table tr{break-inside:avoid}
a{color:inherit;text-decoration:none}@page{margin:16mm 14mm}}
"""

STATUS_TEXT: Final = {"effective": "effective", "exceptions": "exceptions", "not evidenced": "not evidenced"}


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _cls(status: str) -> str:
    return status.replace(" ", "-")


def _num(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return _e(value)


def _tile(value: object, label: str) -> str:
    return f'<div class="tile"><b>{_num(value)}</b><span>{_e(label)}</span></div>'


def _title(report: Report) -> str:
    kind = "Type I (design)" if report.report_type == 1 else "Type II (operating effectiveness)"
    services = ", ".join(report.system.get("services", [])) or "LLM application"
    return f"SOC 2 {kind} evidence: {services}"


def render(report: Report) -> str:
    period = report.period
    counts = report.status_counts()
    system = report.system
    figures = report.charts.get("totals", {})
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(_title(report))}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{_e(_title(report))}</h1>",
        f'<p class="meta">Period {_e(iso(period.start))} to {_e(iso(period.end))} '
        f"{'(design as of the end of the period)' if report.report_type == 1 else ''} · generated "
        f"{_e(iso(report.generated_at))} by llm-soc2 {_e(report.version)} · report {_e(report.report_id)}</p>",
        '<div class="lead">',
        charts.status(report),
        '<div class="legend">',
    ]
    for name in ("effective", "exceptions", "not evidenced"):
        parts.append(
            f'<div><span class="dot" style="background:{svg.STATUS_COLOURS[name]}"></span>'
            f"<b>{counts[name]}</b> {STATUS_TEXT[name]}</div>"
        )
    parts.append('</div><div class="tiles">')
    parts += [
        _tile(figures.get("interactions", 0), "LLM interactions"),
        _tile(figures.get("failure_rate", "n/a"), "failed calls"),
        _tile(figures.get("risk_events", 0), "high/critical risk events"),
        _tile(figures.get("pii_interactions", 0), "interactions with personal data"),
        _tile(figures.get("models", 0), "models in use"),
        _tile(figures.get("integrity", "n/a"), "audit log verification"),
    ]
    parts.append("</div></div>")

    parts.append('<h2>Criteria at a glance</h2><div class="grid">')
    for result in report.criteria:
        parts.append(
            f'<a class="card {_cls(result.status)}" href="#{_e(result.criterion.id)}">'
            f'<b>{_e(result.criterion.id)}</b> <span class="badge {_cls(result.status)}">{_e(result.status)}</span>'
            f"<small>{_e(result.control.title)}</small></a>"
        )
    parts.append("</div>")

    parts.append("<h2>Activity over the period</h2>")
    unit = "day" if len(report.charts.get("daily", [])) <= 92 else "week"
    parts.append(_chart(f"LLM interactions per {unit}", charts.interactions(report)))
    parts.append(_chart(f"Risk events and personal data per {unit}", charts.risk_and_pii(report)))
    parts.append(_chart("Alerts, telemetry gaps, drift and incidents", charts.events(report)))
    if report.charts.get("models"):
        parts.append("<h2>Availability and latency</h2>")
        parts.append(_chart("Availability per model (red line: objective)", charts.availability(report)))
        parts.append(
            _chart("95th percentile latency per model (red line: objective)", charts.latency(report))
        )
    pii = report.charts.get("pii_types", [])
    risk = report.charts.get("risk_levels", [])
    if pii or risk:
        parts.append("<h2>Personal data and risk</h2>")
        if pii:
            title = "Interactions with each type of personal data or secret"
            parts.append(_chart(title, charts.counts(title, [(p[0], p[1]) for p in pii], svg.PURPLE)))
        if risk:
            title = "Interactions by risk level"
            parts.append(_chart(title, charts.counts(title, [(r[0], r[1]) for r in risk], svg.ORANGE)))

    parts.append(
        "<h2>Sources</h2><table><tr><th>Source</th><th>Status</th><th>Location</th><th>Detail</th></tr>"
    )
    for source in report.sources:
        state = "not queried" if not source.requested else ("read" if source.ok else "FAILED")
        detail = source.error or ", ".join(f"{k}: {v}" for k, v in source.detail.items())
        parts.append(
            f"<tr><td>{_e(source.name)}</td><td>{_e(state)}</td><td><code>{_e(source.location or '-')}</code></td>"
            f"<td>{_e(detail)}</td></tr>"
        )
    parts.append("</table>")

    parts.append(_integrity(report))
    parts.append("<h2>Criteria in detail</h2>")
    evidence = report.evidence_by_id()
    for result in report.criteria:
        parts.append(_criterion(report, result, evidence))
    parts.append(_evidence_table(report))
    parts.append(_samples(report.samples))
    parts.append(
        "<footer>"
        f"<p>Objectives used by the rules: <code>{_e(json.dumps(system.get('objectives', {}), sort_keys=True))}</code></p>"
        "<p>Every file of this bundle is listed with its SHA-256 in <code>manifest.json</code>, signed in "
        "<code>manifest.sig</code>. Check it with <code>llm-soc2 report verify &lt;directory&gt;</code>. "
        "Criterion titles are short paraphrases of the 2017 Trust Services Criteria (revised points of focus, "
        "2022), not the AICPA text.</p></footer>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _chart(title: str, drawing: str) -> str:
    return f'<div class="chart"><h3>{_e(title)}</h3>{drawing}</div>'


def _integrity(report: Report) -> str:
    integrity = report.integrity
    rows = []
    for log in integrity.get("logs", []):
        verify = log.get("verify", {})
        rows.append(
            f'<tr><td><code>{_e(log["log_id"])}</code></td><td class="num">{_num(log["records_in_period"])}</td>'
            f"<td>{_e(log['first_seq'])}..{_e(log['last_seq'])}</td>"
            f"<td>{'passed' if log.get('verify_ok') else 'FAILED'}"
            f"{': ' + _e(verify.get('reason') or log.get('verify_error', '')) if not log.get('verify_ok') else ''}</td>"
            f"<td>{_e(log.get('checkpoint_size', '-'))}</td><td>{_e(log.get('checkpoint_time', '-'))}</td></tr>"
        )
    notes = "".join(
        f'<p class="note">Checkpoint of <code>{_e(log["log_id"])}</code> the period is bound to:</p>'
        f"<pre>{_e(log['checkpoint_note'])}</pre>"
        for log in integrity.get("logs", [])
        if log.get("checkpoint_note")
    )
    return (
        "<h2>Integrity of the audit log</h2>"
        "<p>The log was re-hashed over the period's sequence range and every Merkle root compared with the signed "
        "checkpoints; the result is bound to the first checkpoint that covers the period's last record. Each "
        "sampled record carries an inclusion proof against that checkpoint.</p>"
        "<table><tr><th>Log</th><th>Records in period</th><th>Sequence</th><th>Verification</th>"
        "<th>Checkpoint size</th><th>Signed</th></tr>" + "".join(rows) + "</table>" + notes
    )


def _criterion(report: Report, result: CriterionResult, evidence: dict[str, EvidenceItem]) -> str:
    cid = result.criterion.id
    out = [
        f'<section class="criterion {_cls(result.status)}" id="{_e(cid)}"><header>'
        f"<h3>{_e(cid)} · {_e(result.control.title)}</h3>"
        f'<span class="badge {_cls(result.status)}">{_e(result.status)}</span></header>',
        f'<p class="rule"><b>Criterion:</b> {_e(result.criterion.title)}<br>'
        f"<b>Control {_e(result.control.id)}</b> ({_e(result.control.nature)}, "
        f"{_e(result.control.frequency.replace('_', ' '))}): {_e(result.control.rule)}</p>",
        f"<p>{_e(result.summary)}</p>",
    ]
    if result.reason:
        out.append(f'<div class="reason">{_e(result.reason)}</div>')
    if result.figures:
        out.append("<table>")
        for label, value in result.figures.items():
            out.append(f'<tr><th style="width:45%">{_e(label)}</th><td>{_num(value)}</td></tr>')
        out.append("</table>")
    if result.exceptions:
        shown = len(result.exceptions)
        items = result.exception_items or shown
        covering = (
            f", covering {result.exceptions_total:,} records" if result.exceptions_total > items else ""
        )
        listed = f"; the first {shown} are listed, all are in the evidence files" if items > shown else ""
        out.append(f"<p><b>{items:,} exception{'s' if items != 1 else ''}</b>{covering}{listed}.</p>")
        out.append("<table><tr><th>Exception</th><th>Reference</th><th>Time</th><th>Records</th></tr>")
        for item in result.exceptions:
            out.append(
                f"<tr><td>{_e(item.description)}</td><td><code>{_e(item.reference)}</code></td>"
                f'<td>{_e(iso(item.time))}</td><td class="num">{item.count:,}</td></tr>'
            )
        out.append("</table>")
    sample = report.sample_for(result.sample)
    if sample is not None and sample.size:
        out.append(
            f'<p class="note">Sample: {sample.size} of {sample.population_size:,} from <code>{_e(sample.population)}</code> '
            f"({_e(sample.rationale)}); seed <code>{_e(sample.seed)}</code>; "
            f"{f'records in <code>{_e(sample.file.path)}</code>' if sample.file else ''}.</p>"
        )
    refs = [evidence[e] for e in result.evidence if e in evidence]
    if refs:
        links = ", ".join(f'<a href="#ev-{_e(item.id)}">{_e(item.title)}</a>' for item in refs)
        out.append(f'<p class="note">Evidence: {links}. Population tested: {result.tested:,}.</p>')
    for note in result.notes:
        out.append(f'<p class="note">{_e(note)}</p>')
    out.append("</section>")
    return "".join(out)


def _evidence_table(report: Report) -> str:
    out = [
        "<h2>Evidence</h2><p>Each item says how it was produced, so the information the system generated can be "
        "relied on: source, query and parameters, period, record count, generation time and file hashes.</p>"
    ]
    for item in report.evidence:
        files = "".join(
            f"<div><code>{_e(f.path)}</code> · {f.size:,} bytes{f' · {f.rows:,} rows' if f.rows is not None else ''}"
            f'<div class="hash">sha256 {_e(f.sha256)}</div></div>'
            for f in item.files
        )
        params = json.dumps(item.parameters, sort_keys=True, default=str)
        out.append(
            f'<section class="criterion" id="ev-{_e(item.id)}"><header><h3>{_e(item.title)}</h3>'
            f"<code>{_e(item.id)}</code></header>"
            f'<table><tr><th style="width:22%">Source</th><td>{_e(item.source)} <code>{_e(item.location)}</code></td></tr>'
            f"<tr><th>Query</th><td><code>{_e(item.query)}</code></td></tr>"
            f"<tr><th>Parameters</th><td><code>{_e(params)}</code></td></tr>"
            f"<tr><th>Period</th><td>{_e(iso(item.period.start))} to {_e(iso(item.period.end))}</td></tr>"
            f"<tr><th>Records</th><td>{item.record_count:,}</td></tr>"
            f"<tr><th>Generated</th><td>{_e(iso(item.generated_at))}</td></tr>"
            f"<tr><th>Files</th><td>{files or '-'}</td></tr></table>"
            + (f'<p class="note">{_e(item.description)}</p>' if item.description else "")
            + "</section>"
        )
    return "".join(out)


def _samples(samples: list[Sample]) -> str:
    out = [
        "<h2>Samples</h2><p>Each population's sample is reproducible from its seed: order the population's members "
        "by SHA-256 of <code>seed:member_id</code> (member_id = <code>log_id:seq</code> for audit records) and take "
        "the first <i>n</i>. The sample files hold the full records and, for audit records, inclusion proofs.</p>",
        "<table><tr><th>Population</th><th>Size</th><th>Sample</th><th>Why this size</th><th>Seed</th><th>File</th></tr>",
    ]
    for sample in samples:
        out.append(
            f'<tr><td>{_e(sample.population)}</td><td class="num">{sample.population_size:,}</td>'
            f'<td class="num">{sample.size}</td><td>{_e(sample.rationale)}</td><td><code>{_e(sample.seed)}</code></td>'
            f"<td><code>{_e(sample.file.path if sample.file else '-')}</code></td></tr>"
        )
    out.append("</table>")
    return "".join(out)
