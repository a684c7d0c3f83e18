"""Change management through the real span processor and a real SQLite audit log."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from governance_support import ENVIRONMENT, SERVICE, Pipeline, build_pipeline

from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.config import Settings
from llm_soc2.errors import ConfigurationError
from llm_soc2.governance.changes import (
    APPROVED,
    APPROVED_LATE,
    NOT_CHECKED,
    UNAPPROVED,
    approve,
    population,
    versions,
)
from llm_soc2.governance.period import NS_PER_S, Period
from llm_soc2.governance.registry import MODEL, PROMPT, Registry

HASH_A = "aaaaaaaaaaaaaaaa"
HASH_B = "bbbbbbbbbbbbbbbb"


def _span_attrs(template: str | None = HASH_A, model: str | None = "gpt-4o-2024-08-06") -> dict[str, object]:
    return {sc.PROMPT_TEMPLATE_HASH: template, sc.GEN_AI_RESPONSE_MODEL: model}


def _write_registry(settings: Settings, prompts: dict[str, str], models: dict[str, str]) -> None:
    lines = ["prompts:"] + [
        f"  {h}: {{approver: alice, ticket: {t}, date: '2025-01-01'}}" for h, t in prompts.items()
    ]
    lines += ["models:"] + [
        f"  {m}: {{approver: bob, ticket: {t}, date: '2025-01-01'}}" for m, t in models.items()
    ]
    Path(settings.prompt_registry).write_text("\n".join(lines) + "\n")


def test_versions_are_the_template_hash_and_the_response_model() -> None:
    assert versions(
        {sc.PROMPT_TEMPLATE_HASH: HASH_A, sc.GEN_AI_RESPONSE_MODEL: "m-1", sc.GEN_AI_REQUEST_MODEL: "m"}
    ) == [
        (PROMPT, HASH_A),
        (MODEL, "m-1"),
    ]
    assert versions({sc.GEN_AI_REQUEST_MODEL: "m"}) == [(MODEL, "m")]  # provider named no version
    assert versions({sc.GEN_AI_REQUEST_MODEL: "m", sc.ERROR_TYPE: "AuthenticationError"}) == []  # nothing ran


def test_without_a_registry_the_approval_attribute_is_absent(pipeline: Pipeline) -> None:
    span = pipeline.span(_span_attrs())
    assert sc.CHANGE_APPROVED not in (span.attributes or {})
    assert pipeline.metric(sc.METRIC_CHANGE_UNAPPROVED) == []
    changes = pipeline.kinds("change")
    assert {(r.attributes[sc.CHANGE_KIND], r.attributes[sc.CHANGE_ID]) for r in changes} == {
        (PROMPT, HASH_A),
        (MODEL, "gpt-4o-2024-08-06"),
    }
    assert all(sc.CHANGE_APPROVED not in r.attributes for r in changes)


def test_unapproved_versions_are_flagged_and_counted_and_approval_clears_future_spans(
    settings: Settings, tmp_path: Path
) -> None:
    _write_registry(settings, {HASH_A: "CHG-1"}, {"gpt-4o-2024-08-06": "CHG-2"})
    pipeline = build_pipeline(settings, registry_reload_interval=0.1)
    approved = pipeline.span(_span_attrs())
    assert approved.attributes is not None
    assert approved.attributes[sc.CHANGE_APPROVED] is True
    assert sc.CHANGE_UNAPPROVED_VERSIONS not in approved.attributes

    flagged = pipeline.span(_span_attrs(template=HASH_B))
    assert flagged.attributes is not None
    assert flagged.attributes[sc.CHANGE_APPROVED] is False
    assert flagged.attributes[sc.CHANGE_UNAPPROVED_VERSIONS] == (f"prompt:{HASH_B}",)
    [(labels, value)] = pipeline.metric(sc.METRIC_CHANGE_UNAPPROVED)
    assert value == 1
    assert labels[sc.PROMPT_TEMPLATE_HASH] == HASH_B

    approve(settings.prompt_registry, HASH_B, ticket="CHG-3", approver="carol")
    deadline = time.monotonic() + 5
    while True:  # the registry is reloaded on a background thread within the interval
        span = pipeline.span(_span_attrs(template=HASH_B))
        if span.attributes and span.attributes.get(sc.CHANGE_APPROVED) is True:
            break
        assert time.monotonic() < deadline, "the approval never reached the running processor"
        time.sleep(0.05)
    pipeline.tracer_provider.shutdown()


def test_each_version_is_recorded_once_with_service_environment_and_trace_link(pipeline: Pipeline) -> None:
    first = pipeline.span(_span_attrs())
    for _ in range(5):
        pipeline.span(_span_attrs())
    changes = pipeline.kinds("change")
    assert len(changes) == 2
    record = next(r for r in changes if r.attributes[sc.CHANGE_KIND] == PROMPT)
    assert record.service == SERVICE
    assert record.attributes[sc.DEPLOYMENT_ENVIRONMENT] == ENVIRONMENT
    assert record.trace_id == format(first.context.trace_id, "032x")
    assert record.span_id == format(first.context.span_id, "016x")
    assert record.time_unix_nano == first.end_time


def test_seeded_sightings_are_not_recorded_again(pipeline: Pipeline) -> None:
    pipeline.governance.changes.seed([(PROMPT, HASH_A, SERVICE, ENVIRONMENT)])
    pipeline.span(_span_attrs())
    assert [r.attributes[sc.CHANGE_ID] for r in pipeline.kinds("change")] == ["gpt-4o-2024-08-06"]


def test_change_records_are_bounded_per_process(settings: Settings) -> None:
    from llm_soc2.governance.changes import ChangeTracker

    pipeline = build_pipeline(settings)
    tracker: ChangeTracker = pipeline.governance.changes
    tracker._records_left = 3
    for i in range(10):
        pipeline.span(_span_attrs(template=f"{i:016x}", model=None))
    assert len(pipeline.kinds("change")) == 3  # template 0 + gpt-4o (first span), template 1, then no more


def _store(log: AuditLog, pipeline: Pipeline) -> None:
    log.append(pipeline.records)
    pipeline.records.clear()


def _interaction(span_attrs: dict[str, object], moment: int) -> AuditRecord:
    return AuditRecord(kind="interaction", time_unix_nano=moment, service=SERVICE, attributes=span_attrs)


def test_population_joins_first_sightings_to_approvals(settings: Settings, audit_log: AuditLog) -> None:
    _write_registry(settings, {HASH_A: "CHG-1"}, {})
    pipeline = build_pipeline(settings)
    span = pipeline.span(_span_attrs(template=HASH_A, model="m-1"))
    pipeline.span(_span_attrs(template=HASH_B, model="m-1"))
    _store(audit_log, pipeline)
    # the interactions the processor flagged, as the audit sink records them
    for flagged in pipeline.exporter.get_finished_spans():
        audit_log.append([_interaction(dict(flagged.attributes or {}), flagged.end_time or 0)])

    period = Period(0, time.time_ns() + NS_PER_S)
    result = population(audit_log, period, Registry.load(settings.prompt_registry))
    by_id = {c.id: c for c in result.changes}
    assert set(by_id) == {HASH_A, HASH_B, "m-1"}
    assert by_id[HASH_A].status == APPROVED  # approved on 2025-01-01, before first use
    assert by_id[HASH_B].status == UNAPPROVED
    assert by_id["m-1"].status == UNAPPROVED
    assert by_id[HASH_A].trace_id == format(span.context.trace_id, "032x")
    assert by_id[HASH_A].seq is not None
    assert by_id[HASH_B].unapproved_interactions == 1
    assert by_id["m-1"].unapproved_interactions == 2
    assert result.unapproved_interactions == {f"prompt:{HASH_B}": 1, "model:m-1": 2}

    approve(settings.prompt_registry, HASH_B, ticket="CHG-9", approver="dave", log=audit_log)
    late = population(audit_log, period, Registry.load(settings.prompt_registry))
    change = next(c for c in late.changes if c.id == HASH_B)
    assert change.status == APPROVED_LATE  # approved after it ran in production
    assert [a.ticket for a in change.approval_records] == ["CHG-9"]

    later = Period(time.time_ns() + NS_PER_S, time.time_ns() + 2 * NS_PER_S)
    assert population(audit_log, later, None).changes == []  # first seen before that period
    assert all(c.status == NOT_CHECKED for c in population(audit_log, period, None).changes)


def test_population_counts_the_earliest_sighting_across_restarts(
    settings: Settings, audit_log: AuditLog
) -> None:
    for _ in range(2):  # two processes, one after the other
        pipeline = build_pipeline(settings)
        pipeline.span(_span_attrs(model=None))
        _store(audit_log, pipeline)
    sightings = [r for r in audit_log.records(kinds={"change"}) if r.attributes[sc.CHANGE_ID] == HASH_A]
    assert len(sightings) == 2
    result = population(audit_log, Period(0, time.time_ns() + NS_PER_S), None)
    [change] = [c for c in result.changes if c.id == HASH_A]
    assert change.first_seen == min(r.time_unix_nano for r in sightings)


def test_approve_records_in_the_log_and_the_registry_together(
    settings: Settings, audit_log: AuditLog
) -> None:
    result = approve(
        settings.prompt_registry,
        HASH_A,
        ticket="CHG-1",
        approver="alice",
        note="v2",
        log=audit_log,
        service=SERVICE,
    )
    registry = Registry.load(settings.prompt_registry)
    assert registry.get(PROMPT, HASH_A) is not None
    assert registry.sha256 == result.registry_sha256
    [record] = list(audit_log.records(kinds={"approval"}))
    assert record.seq == result.seq
    assert record.attributes[sc.CHANGE_TICKET] == "CHG-1"
    assert record.attributes[sc.CHANGE_APPROVER] == "alice"
    assert record.attributes[sc.CHANGE_REGISTRY_SHA256] == registry.sha256

    with pytest.raises(ConfigurationError, match="already approved"):
        approve(settings.prompt_registry, HASH_A, ticket="CHG-2", approver="bob", log=audit_log)
    with pytest.raises(ConfigurationError, match="ticket"):
        approve(settings.prompt_registry, HASH_B, ticket=" ", approver="bob")
    with pytest.raises(ConfigurationError, match="not a prompt template hash"):
        approve(settings.prompt_registry, "xyz", ticket="T", approver="bob", kind=PROMPT)
    with pytest.raises(ConfigurationError, match="ISO date"):
        approve(settings.prompt_registry, "m", ticket="T", approver="bob", on="tomorrow")


def test_a_failed_audit_append_leaves_the_registry_untouched(settings: Settings) -> None:
    class Broken:
        def records(self, **_: object) -> list[AuditRecord]:
            return []

        def append(self, records: object, **_: object) -> list[int]:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        approve(settings.prompt_registry, HASH_A, ticket="T", approver="a", log=Broken())  # type: ignore[arg-type]
    assert not Path(settings.prompt_registry).exists()
    assert list(Path(settings.prompt_registry).parent.glob(".*.tmp")) == []
