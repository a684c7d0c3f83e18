"""``oscal-assessment-results.json``: the report as OSCAL Assessment Results (OSCAL 1.1.2 / 1.2.x).

One result for the period: the reviewed controls are the criteria, one observation per evidence item
(with its files as back-matter resources carrying SHA-256 hashes), one finding per criterion (target
``<criterion>_obj``; ``effective`` -> satisfied, otherwise not-satisfied with the reason), one risk per
criterion with exceptions. No assessment plan exists outside the report: ``import-ap`` points at a
back-matter resource that says so and names ``report.json``.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Final

from llm_soc2.report.evidence import EFFECTIVE, NOT_EVIDENCED, Report, iso

OSCAL_VERSION: Final = "1.1.2"
NS: Final = "https://github.com/llm-soc2/llm-soc2/ns/oscal"


def control_id(criterion: str) -> str:
    """``CC6.1`` -> ``cc6.1`` (OSCAL control ids are lower-case tokens by convention)."""
    return criterion.lower()


def _prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": str(value)}


def render(report: Report, file_hashes: dict[str, str]) -> dict[str, Any]:
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:llm-soc2:report:{report.report_id}")

    def uid(*parts: object) -> str:
        digest = hashlib.sha256(namespace.bytes + ":".join(str(p) for p in parts).encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))  # derived, in the v4 form OSCAL tools expect

    resources: list[dict[str, Any]] = []
    resource_ids: dict[str, str] = {}
    for path in sorted(file_hashes):
        resource_ids[path] = uid("file", path)
        resources.append(
            {
                "uuid": resource_ids[path],
                "title": path,
                "rlinks": [{"href": path, "hashes": [{"algorithm": "SHA-256", "value": file_hashes[path]}]}],
            }
        )
    plan = uid("plan")
    resources.append(
        {
            "uuid": plan,
            "title": "Assessment plan: the control catalogue of llm-soc2",
            "description": (
                "No separate assessment plan exists. The controls, their rules, sources and sample sizes are "
                "part of the report (report.json, index.html) and of llm_soc2.report.criteria."
            ),
            "rlinks": [{"href": "report.json"}],
        }
    )

    observations: list[dict[str, Any]] = []
    observation_ids: dict[str, str] = {}
    for item in report.evidence:
        observation_ids[item.id] = uid("observation", item.id)
        evidence = [
            {"href": f"#{resource_ids[f.path]}" if f.path in resource_ids else f.path, "description": f.path}
            for f in item.files
        ] or [{"description": f"{item.source}: {item.query}"}]
        observations.append(
            {
                "uuid": observation_ids[item.id],
                "title": item.title,
                "description": f"{item.query} (parameters: {item.parameters}) from {item.source} at {item.location}",
                "props": [
                    _prop("evidence-id", item.id),
                    _prop("record-count", item.record_count),
                    _prop("period-start", iso(item.period.start)),
                    _prop("period-end", iso(item.period.end)),
                ],
                "methods": ["TEST"],
                "types": ["finding"],
                "collected": iso(item.generated_at),
                "relevant-evidence": evidence,
            }
        )

    for sample in report.samples:
        if sample.file is None:
            continue
        observations.append(
            {
                "uuid": uid("sample", sample.population),
                "title": f"Sample of {sample.population}",
                "description": (
                    f"{sample.size} of {sample.population_size} members of {sample.population} ({sample.rationale}); "
                    f"seed {sample.seed}. {sample.method}"
                ),
                "props": [_prop("population", sample.population), _prop("sample-size", sample.size)],
                "methods": ["TEST"],
                "types": ["finding"],
                "collected": iso(report.generated_at),
                "relevant-evidence": [
                    {"href": f"#{resource_ids[sample.file.path]}", "description": sample.file.path}
                    if sample.file.path in resource_ids
                    else {"href": sample.file.path, "description": sample.file.path}
                ],
            }
        )
    referenced = {
        e["href"][1:]
        for o in observations
        for e in o["relevant-evidence"]
        if e.get("href", "").startswith("#")
    }
    documents = [
        {"href": f"#{rid}", "rel": "reference", "text": path}
        for path, rid in resource_ids.items()
        if rid not in referenced
    ]

    risks: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    for result in report.criteria:
        cid = result.criterion.id
        related_risks = []
        if result.exceptions_total:
            risk_id = uid("risk", cid)
            related_risks.append({"risk-uuid": risk_id})
            listed = "; ".join(e.description for e in result.exceptions[:10])
            risks.append(
                {
                    "uuid": risk_id,
                    "title": f"{cid}: {result.exceptions_total} exception(s) to {result.control.id}",
                    "description": result.summary,
                    "statement": listed or result.reason or result.summary,
                    "status": "open",
                }
            )
        satisfied = result.status == EFFECTIVE
        reason = "pass" if satisfied else ("other" if result.status == NOT_EVIDENCED else "fail")
        finding: dict[str, Any] = {
            "uuid": uid("finding", cid),
            "title": f"{cid}: {result.control.title}",
            "description": f"{result.control.rule} Result: {result.summary}",
            "props": [_prop("status", result.status.replace(" ", "-")), _prop("control", result.control.id)],
            "target": {
                "type": "objective-id",
                "target-id": f"{control_id(cid)}_obj",
                "title": result.criterion.title,
                "status": {"state": "satisfied" if satisfied else "not-satisfied", "reason": reason},
            },
        }
        if result.status == NOT_EVIDENCED:
            finding["target"]["status"]["remarks"] = f"not evidenced: {result.reason}"
        related = [{"observation-uuid": observation_ids[e]} for e in result.evidence if e in observation_ids]
        if related:
            finding["related-observations"] = related
        if related_risks:
            finding["related-risks"] = related_risks
        findings.append(finding)

    kind = "Type I" if report.report_type == 1 else "Type II"
    result_doc: dict[str, Any] = {
        "uuid": uid("result"),
        "title": f"SOC 2 {kind} evidence for {iso(report.period.start)} to {iso(report.period.end)}",
        "description": (
            "Automated tests of LLM-application controls over the audit log, metrics and monitoring "
            "configuration, generated by llm-soc2."
        ),
        "start": iso(report.period.start),
        "end": iso(report.period.end),
        "props": [_prop("report-type", kind), _prop("sample-seed", report.seed)],
        "links": documents or [{"href": f"#{plan}", "rel": "reference"}],
        "reviewed-controls": {
            "control-selections": [
                {"include-controls": [{"control-id": control_id(r.criterion.id)} for r in report.criteria]}
            ]
        },
        "findings": findings,
    }
    if observations:
        result_doc["observations"] = observations
    if risks:
        result_doc["risks"] = risks
    return {
        "assessment-results": {
            "uuid": uid("assessment-results"),
            "metadata": {
                "title": f"SOC 2 {kind} evidence: {', '.join(report.system.get('services', [])) or 'LLM application'}",
                "last-modified": iso(report.generated_at),
                "version": report.report_id,
                "oscal-version": OSCAL_VERSION,
                "props": [_prop("generator", f"llm-soc2 {report.version}")],
                "remarks": "Criterion titles are paraphrases of the 2017 Trust Services Criteria, not AICPA text.",
            },
            "import-ap": {"href": f"#{plan}"},
            "results": [result_doc],
            "back-matter": {"resources": resources},
        }
    }
