"""The Trust Services Criteria this report evidences, and the control each one tests.

Criterion titles are our own one-line paraphrases (2017 TSC, points of focus revised 2022): the report
never reproduces AICPA text. Users who hold the official text can read it beside the IDs.

Each criterion maps to exactly one control. A control states, as data, what is tested and how:
its rule (the test applied to every record of the population, or to the configuration), whether it is
automated or manual, how often it operates (which sets the sample size, see ``sampling.py``), which
sources it needs and which population it is sampled from. The checks in ``checks/`` implement the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Nature = Literal["automated", "manual"]
# How often a control operates. "occurrence" means once per event of its population; the frequency
# class is then derived from the population's rate over the period (sampling.frequency_for_rate).
Frequency = Literal[
    "annual", "quarterly", "monthly", "weekly", "daily", "multiple_per_day", "continuous", "occurrence"
]

SOURCE_AUDIT: Final = "audit"
SOURCE_PROMETHEUS: Final = "prometheus"
SOURCE_GRAFANA: Final = "grafana"
SOURCES: Final = (SOURCE_AUDIT, SOURCE_PROMETHEUS, SOURCE_GRAFANA)

# Population names: one evidence file (and one sample) each, written under evidence/.
POP_INTERACTIONS: Final = "interactions"
POP_RISK_EVENTS: Final = "risk-events"
POP_PII_FINDINGS: Final = "pii-findings"
POP_DRIFT: Final = "drift-events"
POP_CHANGES: Final = "changes"
POP_KEYS: Final = "key-events"
POP_INCIDENTS: Final = "incidents"
POP_DISPOSALS: Final = "disposals"
POP_CHECKPOINTS: Final = "checkpoints"
POP_ALERTS: Final = "alert-episodes"
POP_ACCOUNTS: Final = "grafana-accounts"


@dataclass(frozen=True)
class Criterion:
    id: str  # "CC6.1"
    group: str  # "Common criteria - logical access"
    title: str  # our paraphrase


@dataclass(frozen=True)
class Control:
    id: str  # "LLM-ACC-1"
    criterion: str
    title: str
    rule: str  # the test, as an auditor would read it
    nature: Nature
    frequency: Frequency
    population: str | None  # the population sampled for re-performance
    required: tuple[str, ...] = (SOURCE_AUDIT,)  # sources without which the control is not evidenced
    optional: tuple[str, ...] = ()  # sources that add evidence; a requested one that fails still blocks
    high_risk: bool = False  # sample at the top of the frequency's range


GROUPS: Final = {
    "CC2": "Common criteria: information and communication",
    "CC3": "Common criteria: risk assessment",
    "CC4": "Common criteria: monitoring activities",
    "CC6": "Common criteria: logical and physical access",
    "CC7": "Common criteria: system operations",
    "CC8": "Common criteria: change management",
    "CC9": "Common criteria: risk mitigation",
    "A1": "Availability",
    "PI1": "Processing integrity",
    "C1": "Confidentiality",
    "P4": "Privacy: use, retention and disposal",
    "P6": "Privacy: disclosure and notification",
}


def _c(cid: str, title: str) -> Criterion:
    group = cid.split(".")[0]
    return Criterion(cid, GROUPS[group], title)


CRITERIA: Final[tuple[Criterion, ...]] = (
    _c("CC2.1", "The entity produces and uses relevant information of good quality to support its controls."),
    _c("CC3.4", "The entity identifies and assesses changes that could significantly affect its controls."),
    _c(
        "CC4.1",
        "The entity runs ongoing or separate evaluations to confirm controls are present and working.",
    ),
    _c("CC6.1", "The entity restricts logical access to protected information assets with access controls."),
    _c(
        "CC6.2",
        "The entity registers and authorises users before granting access and removes access promptly.",
    ),
    _c("CC6.3", "The entity grants access by role and least privilege, considering segregation of duties."),
    _c("CC6.7", "The entity restricts and protects information moved or transmitted to other parties."),
    _c(
        "CC7.1",
        "The entity detects configuration changes and weaknesses that could introduce vulnerabilities.",
    ),
    _c(
        "CC7.2",
        "The entity monitors its system for anomalies that indicate malicious acts, errors or failures.",
    ),
    _c(
        "CC7.3", "The entity evaluates security events to decide whether they are incidents needing response."
    ),
    _c("CC7.4", "The entity responds to identified incidents with a defined response programme."),
    _c("CC7.5", "The entity identifies, develops and carries out activities to recover from incidents."),
    _c(
        "CC8.1", "The entity authorises, tests, approves and records changes to its system before they apply."
    ),
    _c("CC9.2", "The entity assesses and manages risks from vendors and business partners."),
    _c("A1.1", "The entity maintains, monitors and evaluates capacity to meet its availability objectives."),
    _c("PI1.2", "The entity's inputs to processing are complete and accurate."),
    _c("PI1.3", "The entity's processing is complete, accurate and timely."),
    _c("PI1.4", "The entity's outputs are complete, accurate, timely and delivered as intended."),
    _c("PI1.5", "The entity stores inputs, items in processing and outputs completely and accurately."),
    _c("C1.1", "The entity identifies and maintains confidential information."),
    _c("C1.2", "The entity disposes of confidential information when it is no longer needed."),
    _c("P4.2", "The entity retains personal information only as long as its objectives require."),
    _c("P4.3", "The entity disposes of personal information securely, including on request."),
    _c(
        "P6.1",
        "The entity discloses personal information to third parties only with the data subjects' consent.",
    ),
    _c("P6.2", "The entity keeps a complete and accurate record of authorised disclosures."),
    _c("P6.3", "The entity keeps a record of unauthorised disclosures and breaches."),
)

A = SOURCE_AUDIT
P = SOURCE_PROMETHEUS
G = SOURCE_GRAFANA

CONTROLS: Final[tuple[Control, ...]] = (
    Control(
        "LLM-LOG-1",
        "CC2.1",
        "Every LLM interaction is recorded in a tamper-evident log",
        "The audit log's Merkle tree is recomputed over the period and must match a signed checkpoint that "
        "covers the period's last record; the sequence of records must have no gap.",
        "automated",
        "continuous",
        POP_INTERACTIONS,
    ),
    Control(
        "LLM-CHG-1",
        "CC3.4",
        "Model, prompt and behaviour changes are identified and assessed",
        "Drift detections and first uses of new models or prompt templates are identified from the audit "
        "log; every drift detection must be followed by a baseline, change, approval or incident record.",
        "manual",
        "occurrence",
        POP_DRIFT,
    ),
    Control(
        "LLM-MON-1",
        "CC4.1",
        "LLM behaviour is evaluated continuously",
        "The drift monitor's gauges and the LLM call metrics must be present in Prometheus through the "
        "period, with no gap longer than one hour.",
        "automated",
        "continuous",
        POP_DRIFT,
        required=(A, P),
    ),
    Control(
        "LLM-ACC-1",
        "CC6.1",
        "Provider API keys in use are known and rotated",
        "Every API-key fingerprint used must be allow-listed or registered, and no key may be used more "
        "than the maximum key age after it was issued, nor after it was retired.",
        "automated",
        "continuous",
        POP_KEYS,
    ),
    Control(
        "LLM-ACC-2",
        "CC6.2",
        "Access to the monitoring stack is granted and removed promptly",
        "Grafana users not seen for more than 90 days must be disabled; every service-account token must "
        "have an expiry date and be younger than the maximum key age.",
        "manual",
        "quarterly",
        POP_ACCOUNTS,
        required=(G,),
    ),
    Control(
        "LLM-ACC-3",
        "CC6.3",
        "Administrative access to the monitoring stack is limited",
        "Service accounts must not hold the Admin role; every administrator is listed for review.",
        "manual",
        "quarterly",
        POP_ACCOUNTS,
        required=(G,),
    ),
    Control(
        "LLM-DAT-1",
        "CC6.7",
        "Personal data and secrets are removed before telemetry leaves the process",
        "Every interaction must carry the scrubber's findings summary; an interaction whose scrub failed "
        "must hold no stored content (fail closed). Provider destinations are inventoried.",
        "automated",
        "continuous",
        POP_PII_FINDINGS,
    ),
    Control(
        "LLM-CHG-2",
        "CC7.1",
        "Unapproved models and prompt templates are detected",
        "Every interaction is checked against the prompt/model registry; each interaction that used an "
        "unapproved version is an exception. Dashboard versions saved in the period are listed.",
        "automated",
        "continuous",
        POP_INTERACTIONS,
        optional=(G,),
    ),
    Control(
        "LLM-MON-2",
        "CC7.2",
        "Anomalies are alerted to an on-call contact point",
        "Alert rules must exist for the LLM error rate, risk and drift; no rule may be paused; every rule "
        "must route to a contact point. High and critical risk events are counted and sampled.",
        "automated",
        "continuous",
        POP_RISK_EVENTS,
        required=(A, G),
    ),
    Control(
        "LLM-INC-1",
        "CC7.3",
        "Alerts and high-risk events are evaluated as possible incidents",
        "Every firing critical alert must be followed within 24 hours by an incident naming it; when "
        "critical risk events occurred, an incident must have been opened in the period.",
        "manual",
        "occurrence",
        POP_RISK_EVENTS,
        optional=(P,),
        high_risk=True,
    ),
    Control(
        "LLM-INC-2",
        "CC7.4",
        "Incidents are triaged and resolved",
        "Every incident opened in the period must be acknowledged within 24 hours and resolved within 30 "
        "days (or still be inside those limits at the period end).",
        "manual",
        "occurrence",
        POP_INCIDENTS,
        high_risk=True,
    ),
    Control(
        "LLM-INC-3",
        "CC7.5",
        "Service recovers after incidents",
        "Every incident resolved in the period must record how service was restored (a resolution note); "
        "the time to recover is measured.",
        "manual",
        "occurrence",
        POP_INCIDENTS,
    ),
    Control(
        "LLM-CHG-3",
        "CC8.1",
        "Models and prompt templates are approved before use",
        "Every model and prompt template first used in the period must have an approval record dated no "
        "later than its first use (or be approved in the registry when first seen).",
        "manual",
        "occurrence",
        POP_CHANGES,
        high_risk=True,
    ),
    Control(
        "LLM-VEN-1",
        "CC9.2",
        "LLM providers are inventoried as subservice organisations",
        "Every interaction must name its provider; providers and models are inventoried with usage, error "
        "rate and the personal data sent to them.",
        "automated",
        "continuous",
        POP_INTERACTIONS,
    ),
    Control(
        "LLM-CAP-1",
        "A1.1",
        "Availability and latency meet their objectives",
        "Per model over the period, availability (1 - failed/total calls; from Prometheus when queried) "
        "must meet the objective and the 95th percentile latency must stay under its objective; telemetry "
        "gaps longer than one hour are exceptions.",
        "automated",
        "continuous",
        POP_INTERACTIONS,
        optional=(P,),
    ),
    Control(
        "LLM-PI-1",
        "PI1.2",
        "Every LLM call is captured",
        "The interaction count in the audit log must reconcile, per model, with the client operation "
        "counter in Prometheus; the log must verify with no missing record.",
        "automated",
        "continuous",
        POP_INTERACTIONS,
        optional=(P,),
    ),
    Control(
        "LLM-PI-2",
        "PI1.3",
        "Processing failures are recorded",
        "Every interaction must carry the span processor's results (scrub summary and risk assessment); "
        "scrub failures are exceptions; failed LLM calls are reported by error type.",
        "automated",
        "continuous",
        POP_INTERACTIONS,
    ),
    Control(
        "LLM-PI-3",
        "PI1.4",
        "Outputs are checked for completeness and validity",
        "Every interaction must carry a risk assessment; truncated, invalid, ungrounded and refused "
        "outputs are counted.",
        "automated",
        "continuous",
        POP_RISK_EVENTS,
    ),
    Control(
        "LLM-PI-4",
        "PI1.5",
        "Stored records are signed and verifiable",
        "Signed checkpoints must cover the period and the period's records must verify against them.",
        "automated",
        "continuous",
        POP_CHECKPOINTS,
    ),
    Control(
        "LLM-CON-1",
        "C1.1",
        "Confidential data in prompts and responses is identified",
        "Every interaction must carry the scrubber's findings summary; findings are classified by type "
        "and direction.",
        "automated",
        "continuous",
        POP_PII_FINDINGS,
    ),
    Control(
        "LLM-CON-2",
        "C1.2",
        "Stored content is disposed of after its retention period",
        "Records older than the retention period at the period end must hold no content, and a purge must "
        "have run in the period when content is stored.",
        "automated",
        "continuous",
        POP_DISPOSALS,
    ),
    Control(
        "LLM-PRV-1",
        "P4.2",
        "Personal data is kept no longer than the retention period",
        "No record older than the retention period may still hold content at the end of the period.",
        "automated",
        "continuous",
        POP_DISPOSALS,
    ),
    Control(
        "LLM-PRV-2",
        "P4.3",
        "Erasure requests are carried out",
        "Every erasure request in the period must be completed (the subject's data key destroyed).",
        "manual",
        "occurrence",
        POP_DISPOSALS,
    ),
    Control(
        "LLM-PRV-3",
        "P6.1",
        "Personal data sent to LLM providers is known",
        "Interactions whose input held personal data are counted per provider, by type and data subject.",
        "automated",
        "continuous",
        POP_PII_FINDINGS,
    ),
    Control(
        "LLM-PRV-4",
        "P6.2",
        "A record of disclosures to providers is kept",
        "The disclosure record (every interaction whose prompt held personal data) must be complete: "
        "every interaction carries a scrub summary.",
        "automated",
        "continuous",
        POP_PII_FINDINGS,
    ),
    Control(
        "LLM-PRV-5",
        "P6.3",
        "Possible unauthorised disclosures are recorded",
        "Responses holding personal data and data-leakage risk events are recorded; when any occurred, an "
        "incident must have been opened in the period to assess them.",
        "manual",
        "occurrence",
        POP_RISK_EVENTS,
        high_risk=True,
    ),
)

_BY_CRITERION: Final = {c.criterion: c for c in CONTROLS}
_CRITERIA_BY_ID: Final = {c.id: c for c in CRITERIA}


def criterion(cid: str) -> Criterion:
    return _CRITERIA_BY_ID[cid]


def control_for(cid: str) -> Control:
    return _BY_CRITERION[cid]
