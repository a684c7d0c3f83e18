"""The demo's governance and evidence steps: approved changes, a key rotation, an unapproved prompt
change and its approval, an incident opened by an alert, then the sealed audit log and the SOC 2 report.

Everything goes through the same public pieces a deployment uses: the approval registry, key
registration records, the Alertmanager webhook payload (version 4) handled by the incident desk,
``AuditLog.verify`` and ``llm_soc2.report.generate``.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_soc2.demo.app import ANTHROPIC_MODEL, OPENAI_MODEL, SUPPORT_PROMPT
from llm_soc2.fingerprint import fingerprint, template_hash

if TYPE_CHECKING:
    from llm_soc2.audit import AuditLog
    from llm_soc2.config import Settings
    from llm_soc2.demo import DemoContext

EMBEDDING_MODEL = "text-embedding-3-small"
NEW_PROMPT = SUPPORT_PROMPT + " Answer in at most two sentences."


def seed_registry(settings: Settings) -> None:
    """Before the application starts: the support prompt and the models in use are approved changes."""
    from llm_soc2.audit import AuditLog
    from llm_soc2.governance import approve

    path = Path(settings.prompt_registry)
    if path.exists():
        return
    log = AuditLog.open(log_id=settings.resolved_audit_log_id, settings=settings)
    try:
        approve(
            path,
            template_hash(SUPPORT_PROMPT),
            kind="prompt",
            ticket="CHG-100",
            approver="alice",
            note="support assistant system prompt",
            log=log,
            service=settings.service_name,
        )
        for number, model in enumerate((OPENAI_MODEL, ANTHROPIC_MODEL, EMBEDDING_MODEL), start=101):
            approve(path, model, kind="model", ticket=f"CHG-{number}", approver="bob", log=log)
    finally:
        log.close()


def _log(settings: Settings) -> AuditLog:
    from llm_soc2.audit import AuditLog

    return AuditLog.open(log_id=settings.resolved_audit_log_id, settings=settings)


def traffic_shift(ctx: DemoContext) -> str:
    """600 support questions; half-way the answers get ~2.5x longer and injections and refusals more
    frequent. The fleet-wide check over the audit log (``llm-soc2 drift check``) compares the halves,
    and the online monitor runs the same change on simulated time to show its detection delay."""
    from llm_soc2.drift.demo import demo_turns, detect_shift, simulate_shift

    turns = demo_turns(600, seed=7)
    split = datetime.now(UTC)
    for number, turn in enumerate(turns):
        if number == len(turns) // 2:
            ctx.pipeline.force_flush()
            split = datetime.now(UTC)
        ctx.fake.openai.script(turn.reply())
        ctx.openai.chat.completions.create(
            model=OPENAI_MODEL,
            messages=[
                {"role": "system", "content": SUPPORT_PROMPT},
                {"role": "user", "content": turn.prompt},
            ],
        )
    ctx.pipeline.force_flush()
    log = _log(ctx.settings)
    try:
        report = detect_shift(log, split)
    finally:
        log.close()
    (ctx.out / "drift-check.json").write_text(report.to_json())
    flagged = sorted({result.feature for result in report.flagged})
    online = simulate_shift(seed=7)
    first = f"{online.minutes[0]:.0f} min after the change" if online.minutes else "not detected"
    return (
        f"600 calls; drift check flags {', '.join(flagged) or 'nothing'} (drift-check.json); "
        f"the online monitor, on simulated time, alerts {first}"
    )


def key_rotation(ctx: DemoContext) -> str:
    """The OpenAI key in use was issued 120 days ago (over the 90-day policy): rotate it."""
    import openai

    from llm_soc2.governance.access import key_record

    settings = ctx.settings
    deployment_key = settings.deployment_key()
    old = fingerprint(ctx.openai_key, deployment_key, purpose="api_key")
    new_key = "sk-demo-" + secrets.token_hex(16)
    new = fingerprint(new_key, deployment_key, purpose="api_key")
    issued = datetime.now(UTC) - timedelta(days=120)
    log = _log(settings)
    try:
        log.append(
            [
                key_record("register", old, registered_at=int(issued.timestamp() * 1e9), owner="platform"),
                key_record("register", new, replaces=old, owner="platform", note="quarterly rotation"),
            ]
        )
        # The application switches to the new key; the old one is revoked.
        ctx.openai.close()
        ctx.openai = openai.OpenAI(base_url=ctx.fake.openai.base_url, api_key=new_key, max_retries=0)
        ctx.openai_key = new_key
        ctx.fake.openai.script("Your refund was issued today.")
        ctx.openai.chat.completions.create(
            model=OPENAI_MODEL,
            messages=[
                {"role": "system", "content": SUPPORT_PROMPT},
                {"role": "user", "content": "Was my refund issued?"},
            ],
        )
        log.append([key_record("retire", old, note="rotated: replaced by " + new)])
    finally:
        log.close()
    return f"key {old} (120 days old) rotated to {new} and retired"


def prompt_change(ctx: DemoContext) -> str:
    """A new system prompt reaches production before its approval, then gets approved (CHG-110)."""
    from llm_soc2 import semconv as sc
    from llm_soc2.governance import approve

    def ask() -> None:
        ctx.fake.openai.script("Your trip is booked.")
        ctx.openai.chat.completions.create(
            model=OPENAI_MODEL,
            messages=[
                {"role": "system", "content": NEW_PROMPT},
                {"role": "user", "content": "Is my trip booked?"},
            ],
        )

    ask()
    new_hash = template_hash(NEW_PROMPT)
    log = _log(ctx.settings)
    try:
        approve(
            ctx.settings.prompt_registry,
            new_hash,
            kind="prompt",
            ticket="CHG-110",
            approver="alice",
            note="shorter answers",
            log=log,
            service=ctx.settings.service_name,
        )
    finally:
        log.close()
    # The running application picks the registry change up off the request path (mtime check).
    deadline = time.monotonic() + 15
    approved: Any = None
    while time.monotonic() < deadline:
        time.sleep(0.5)
        ask()
        ctx.pipeline.force_flush()
        approved = _last_span_attribute(ctx, sc.CHANGE_APPROVED)
        if approved is True:
            break
    state = "approved" if approved is True else "still unapproved"
    return f"prompt {new_hash} used unapproved, then approved under CHG-110 ({state} on later calls)"


def _last_span_attribute(ctx: DemoContext, key: str) -> Any:
    from llm_soc2.demo.exporters import read_spans

    spans = read_spans(ctx.spans_path)
    return spans[-1].get("attributes", {}).get(key) if spans else None


def incident_from_alert(ctx: DemoContext) -> str:
    """Alertmanager posts a prompt-injection alert; on-call acknowledges and resolves it with a note; the
    alert's own resolved notification then finds it closed."""
    from llm_soc2.governance import IncidentDesk
    from llm_soc2.governance.alerts import parse_alertmanager

    started = datetime.now(UTC) - timedelta(minutes=5)
    alert = {
        "status": "firing",
        "labels": {
            "alertname": "LLMPromptInjectionBurst",
            "severity": "critical",
            "soc2_criterion": "CC7.2",
            "gen_ai_request_model": OPENAI_MODEL,
        },
        "annotations": {"summary": "Prompt-injection attempts above the burst threshold"},
        "startsAt": started.isoformat().replace("+00:00", "Z"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example/graph",
        "fingerprint": "3c0a91f2d4e5b6a7",
    }
    payload: dict[str, Any] = {
        "version": "4",
        "groupKey": '{}:{alertname="LLMPromptInjectionBurst"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "llm-soc2",
        "groupLabels": {"alertname": "LLMPromptInjectionBurst"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager.example",
        "alerts": [alert],
    }
    log = _log(ctx.settings)
    try:
        desk = IncidentDesk(log, service=ctx.settings.service_name)
        incident = desk.handle(parse_alertmanager(payload)).incident
        desk.acknowledge(incident.id, actor="on-call", note="blocked the source; reviewing transcripts")
        desk.resolve(
            incident.id, actor="on-call", note="source blocked at the gateway; no data left the system"
        )
        resolved = {
            **alert,
            "status": "resolved",
            "endsAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        desk.handle(parse_alertmanager({**payload, "status": "resolved", "alerts": [resolved]}))
        final = desk.get(incident.id)
    finally:
        log.close()
    return f"incident {final.id} ({final.state}) linked to {final.linked_count} interaction(s)"


def retention_and_erasure(ctx: DemoContext) -> str:
    """A customer's erasure request (crypto-shredding) and the scheduled retention purge."""
    settings = ctx.settings
    subject = fingerprint("customer-3301", settings.deployment_key(), purpose="end_user")
    ctx.pipeline.force_flush()  # the customer's interactions are in the log before the request
    log = _log(settings)
    try:
        erased = log.erase(subject, reason="GDPR Art. 17 request DSR-42")
        purged = log.purge(timedelta(days=settings.retention_days))
    finally:
        log.close()
    return (
        f"erased end user {subject} ({erased} content blob(s) shredded); "
        f"retention purge ({settings.retention_days} days) removed {purged}"
    )


def seal_audit_log(ctx: DemoContext) -> str:
    """Stop the application side (the writer signs its final checkpoint), then verify the whole log."""
    ctx.pipeline.shutdown()
    log = _log(ctx.settings)
    try:
        report = log.verify()
        checkpoint = log.latest_checkpoint()
    finally:
        log.close()
    ctx.results["audit_ok"] = report.ok
    if not report.ok:
        return "VERIFICATION FAILED: " + report.summary()
    size = checkpoint.checkpoint.size if checkpoint is not None else 0
    return f"{report.summary()}; latest signed checkpoint covers {size} records"


def write_report(ctx: DemoContext) -> str:
    """The SOC 2 report of everything the demo recorded, as a signed and verified bundle."""
    from llm_soc2.report import generate

    result = generate(ctx.settings, None, None, ctx.out / "report", overwrite=True)
    ctx.results["report"] = result
    counts = ", ".join(f"{n} {status}" for status, n in sorted(result.status_counts.items()))
    verified = "verified" if result.verified else "NOT verified"
    return f"{result.out_dir / 'index.html'} ({counts}; bundle {verified})"
