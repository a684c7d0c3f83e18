"""Access: CC6.1 (API keys known and rotated), CC6.2 (accounts and tokens), CC6.3 (least privilege)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from llm_soc2 import semconv as sc
from llm_soc2.audit.record import KIND_KEY
from llm_soc2.report.checks import Context, Outcome, check, decide, not_evidenced
from llm_soc2.report.evidence import DAY_NS, ExceptionItem, from_ns, iso
from llm_soc2.report.sources.audit import events


@dataclass
class KeyLife:
    fingerprint: str
    issued_ns: int | None = None  # registration (API_KEY_REGISTERED_AT) or first use, the earlier
    retired_ns: int | None = None
    owner: str = ""


def key_lives(ctx: Context) -> dict[str, KeyLife]:
    lives: dict[str, KeyLife] = {}
    for event in events(ctx.audit, (KIND_KEY,), history=True):
        a = event.attributes
        kind, fp = a.get(sc.API_KEY_EVENT), a.get(sc.API_KEY_FINGERPRINT)
        if not isinstance(kind, str) or not isinstance(fp, str):
            continue  # the audit log's own checkpoint-key records
        life = lives.setdefault(fp, KeyLife(fp))
        if kind == "retire":
            life.retired_ns = (
                event.time_ns if life.retired_ns is None else min(life.retired_ns, event.time_ns)
            )
            continue
        issued = a.get(sc.API_KEY_REGISTERED_AT)
        moment = issued if isinstance(issued, int) and not isinstance(issued, bool) else event.time_ns
        life.issued_ns = moment if life.issued_ns is None else min(life.issued_ns, moment)
        life.owner = str(a.get(sc.API_KEY_OWNER, "") or life.owner)
    return lives


@check("CC6.1")
def keys_known_and_rotated(ctx: Context) -> Outcome:
    audit = ctx.audit
    keys = audit.keys
    lives = key_lives(ctx)
    max_age = ctx.objectives.key_max_age_days
    figures: dict[str, Any] = {
        "API keys used": len(keys),
        "interactions with a key fingerprint": sum(u.calls for u in keys.values()),
        "keys registered or first used (key records)": len(lives),
        "maximum key age (days)": max_age,
    }
    if not keys:
        return not_evidenced(
            "no interaction carries an API-key fingerprint (llm_soc2.api_key.fingerprint)",
            figures=figures, evidence=["audit.keys"],
        )  # fmt: skip
    if audit.key_flagged == 0 and not any(lv.issued_ns for lv in lives.values()):
        return not_evidenced(
            "no key policy: no allow-list (LLM_SOC2_KEY_ALLOWLIST) and no registered key, so whether a key "
            "should be in use cannot be decided",
            figures=figures,
            evidence=["audit.keys", "audit.key-events"],
        )
    exceptions: list[ExceptionItem] = []
    for fp, usage in sorted(keys.items()):
        if usage.flagged_false:
            exceptions.append(
                ExceptionItem(
                    f"key {fp} is not allow-listed or registered and was used {usage.flagged_false:,} times",
                    f"key {fp}",
                    from_ns(usage.first_ns),
                    count=usage.flagged_false,
                )
            )
        life = lives.get(fp)
        issued = life.issued_ns if life and life.issued_ns is not None else usage.first_ns
        age_days = (usage.last_ns - issued) / DAY_NS
        if age_days > max_age:
            exceptions.append(
                ExceptionItem(
                    f"key {fp} was still used {age_days:.0f} days after it was issued {iso(from_ns(issued))} "
                    f"(maximum {max_age})",
                    f"key {fp}",
                    from_ns(usage.last_ns),
                )
            )
        if life and life.retired_ns is not None and usage.last_ns > life.retired_ns:
            exceptions.append(
                ExceptionItem(
                    f"key {fp} was used after it was retired {iso(from_ns(life.retired_ns))}",
                    f"key {fp}",
                    from_ns(usage.last_ns),
                )
            )
    summary = f"{len(keys)} API keys used in {figures['interactions with a key fingerprint']:,} interactions."
    return decide(
        exceptions, summary, figures=figures, evidence=["audit.keys", "audit.key-events"],
        tested=figures["interactions with a key fingerprint"],
    )  # fmt: skip


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value or value.startswith("0001-"):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _users(ctx: Context) -> tuple[list[dict[str, Any]], str]:
    """Users with admin/disabled flags (server-admin search) or, failing that, the org's users."""
    grafana = ctx.grafana
    assert grafana is not None
    if "users" not in grafana.errors and grafana.users:
        roles = {u.get("userId"): u.get("role") for u in grafana.org_users}
        return [{**u, "role": roles.get(u.get("id"), u.get("role", ""))} for u in grafana.users], "users"
    if "org_users" not in grafana.errors:
        return [{**u, "id": u.get("userId")} for u in grafana.org_users], "org_users"
    return [], ""


@check("CC6.2")
def access_removed(ctx: Context) -> Outcome:
    grafana = ctx.grafana
    assert grafana is not None
    users, source = _users(ctx)
    if not source:
        return not_evidenced(
            f"Grafana users could not be read: {grafana.errors.get('users', '')}; {grafana.errors.get('org_users', '')}",
            evidence=["grafana.users"],
        )
    if "service_accounts" in grafana.errors:
        return not_evidenced(
            f"Grafana service accounts could not be read: {grafana.errors['service_accounts']}",
            evidence=["grafana.service-accounts"],
        )
    end = ctx.period.end
    inactive_days = ctx.objectives.inactive_user_days
    max_age = ctx.objectives.key_max_age_days
    exceptions: list[ExceptionItem] = []
    tokens = 0
    for user in users:
        if user.get("isDisabled"):
            continue
        seen = _time(user.get("lastSeenAt"))
        login = user.get("login") or user.get("email") or user.get("id")
        if seen is not None and (end - seen).days > inactive_days:
            exceptions.append(
                ExceptionItem(
                    f"user {login} last seen {iso(seen)} ({(end - seen).days} days before the period end) "
                    "is still enabled",
                    f"user {login}",
                    seen,
                )
            )
    for account in grafana.service_accounts:
        if account.get("isDisabled"):
            continue
        for token in account.get("tokens", []):
            tokens += 1
            name = f"token {token.get('name', token.get('id'))} of service account {account.get('name')}"
            if token.get("isRevoked") or token.get("hasExpired"):
                continue
            if not token.get("expiration"):
                exceptions.append(ExceptionItem(f"{name} never expires", name))
            created = _time(token.get("created"))
            if created is not None and (end - created).days > max_age:
                exceptions.append(
                    ExceptionItem(
                        f"{name} was created {iso(created)}, {(end - created).days} days before the period end "
                        f"(maximum {max_age})",
                        name,
                        created,
                    )
                )
    figures: dict[str, Any] = {
        "users": len(users),
        "disabled users": sum(1 for u in users if u.get("isDisabled")),
        "service accounts": len(grafana.service_accounts),
        "service-account tokens": tokens,
        "inactivity limit (days)": inactive_days,
        "token age limit (days)": max_age,
    }
    summary = f"{len(users)} Grafana users and {tokens} service-account tokens reviewed at the period end."
    return decide(
        exceptions, summary, figures=figures, evidence=["grafana.users", "grafana.service-accounts"],
        tested=len(users) + tokens,
    )  # fmt: skip


@check("CC6.3")
def least_privilege(ctx: Context) -> Outcome:
    grafana = ctx.grafana
    assert grafana is not None
    users, source = _users(ctx)
    if not source or "service_accounts" in grafana.errors:
        why = "; ".join(
            grafana.errors.get(k, "")
            for k in ("users", "org_users", "service_accounts")
            if k in grafana.errors
        )
        return not_evidenced(f"Grafana accounts could not be read: {why}", evidence=["grafana.users"])
    admins = [
        str(u.get("login") or u.get("email"))
        for u in users
        if not u.get("isDisabled")
        and (u.get("isAdmin") or u.get("isGrafanaAdmin") or u.get("role") == "Admin")
    ]
    exceptions = [
        ExceptionItem(
            f"service account {a.get('name')} holds the Admin role", f"service account {a.get('name')}"
        )
        for a in grafana.service_accounts
        if a.get("role") == "Admin" and not a.get("isDisabled")
    ]
    figures: dict[str, Any] = {
        "administrators": ", ".join(sorted(admins)) or "(none)",
        "users": len(users),
        "teams": len(grafana.teams),
        "team memberships": sum(len(t.get("members", [])) for t in grafana.teams),
        "service accounts": len(grafana.service_accounts),
    }
    summary = (
        f"{len(admins)} of {len(users)} users are administrators; "
        f"{len(exceptions)} service account(s) hold the Admin role."
    )
    return decide(
        exceptions, summary, figures=figures,
        evidence=["grafana.users", "grafana.teams", "grafana.service-accounts"],
        tested=len(users) + len(grafana.service_accounts),
    )  # fmt: skip
