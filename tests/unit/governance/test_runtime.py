"""``Governance`` learns what the audit log already knows, on a background thread."""

from __future__ import annotations

from governance_support import ENVIRONMENT, SERVICE, build_pipeline, wait_for

from llm_soc2 import semconv as sc
from llm_soc2.audit import AuditLog, AuditRecord
from llm_soc2.config import Settings
from llm_soc2.governance import IncidentDesk
from llm_soc2.governance.access import REGISTER, key_record

HASH = "aaaaaaaaaaaaaaaa"
FP = "00000000000000aa"


def test_sightings_registrations_and_open_incidents_are_learned(
    settings: Settings, audit_log: AuditLog
) -> None:
    audit_log.append(
        [
            AuditRecord(
                kind="change",
                time_unix_nano=1,
                service=SERVICE,
                attributes={
                    sc.CHANGE_KIND: "prompt",
                    sc.CHANGE_ID: HASH,
                    sc.DEPLOYMENT_ENVIRONMENT: ENVIRONMENT,
                },
            ),
            key_record(REGISTER, FP),
        ]
    )
    desk = IncidentDesk(audit_log)
    desk.open("one")
    desk.resolve(desk.open("two").id)

    pipeline = build_pipeline(settings, audit_url=settings.resolved_audit_url)
    wait_for(lambda: pipeline.metric(sc.METRIC_INCIDENTS_OPEN) == [({}, 1)])
    span = pipeline.span({sc.PROMPT_TEMPLATE_HASH: HASH, sc.API_KEY_FINGERPRINT: FP})
    assert (span.attributes or {})[sc.API_KEY_KNOWN] is True  # registered with `keys register`
    assert [r.attributes[sc.CHANGE_ID] for r in pipeline.kinds("change")] == ["gpt-4o"]  # the hash was known
    pipeline.tracer_provider.shutdown()


def test_without_an_audit_log_nothing_is_read(settings: Settings) -> None:
    pipeline = build_pipeline(settings, audit_url="")
    pipeline.governance.refresh()  # a no-op
    assert pipeline.metric(sc.METRIC_INCIDENTS_OPEN) == []
    pipeline.tracer_provider.shutdown()


def test_disposed_content_is_counted_from_purge_and_erasure_records(
    settings: Settings, audit_log: AuditLog
) -> None:
    from datetime import timedelta

    subject = "ab" * 8
    audit_log.append(
        [
            AuditRecord(
                kind="interaction",
                time_unix_nano=1,
                service=SERVICE,
                subject=subject,
                attributes={sc.GEN_AI_OPERATION_NAME: "chat"},
                content={"input": "hello"},
            ),
            AuditRecord(kind="interaction", time_unix_nano=2, service=SERVICE, content={"input": "old"}),
        ]
    )
    assert audit_log.erase(subject) == 1
    assert audit_log.purge(timedelta(days=1)) == 1  # the remaining (ancient) record's content

    pipeline = build_pipeline(settings, audit_url=settings.resolved_audit_url)
    log_id = audit_log.write_log_id
    wait_for(
        lambda: (
            sorted(pipeline.metric(sc.METRIC_AUDIT_CONTENT_DISPOSED), key=str)
            == sorted(
                [
                    ({sc.ATTR_AUDIT_LOG_ID: log_id, sc.ATTR_AUDIT_DISPOSAL: "erasure"}, 1),
                    ({sc.ATTR_AUDIT_LOG_ID: log_id, sc.ATTR_AUDIT_DISPOSAL: "retention"}, 1),
                ],
                key=str,
            )
        )
    )
    pipeline.tracer_provider.shutdown()
