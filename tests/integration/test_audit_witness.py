"""The Grafana-annotation witness against a local HTTP server that mimics Grafana's
``POST /api/annotations`` (it records every request); a failing and a silent server are counted in
``llm_soc2.audit.witness.failures`` and never hold up the writer beyond the witness timeout."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit_support import interaction, make_settings, open_log

from llm_soc2 import semconv
from llm_soc2.audit import AuditWriter, SignedCheckpoint, Verifier
from llm_soc2.audit.witness import DirectoryWitness, GrafanaAnnotationWitness, WitnessDispatcher

pytestmark = pytest.mark.integration


class FakeGrafanaAnnotationsAPI(ThreadingHTTPServer):
    """Grafana's annotations endpoint as far as the witness uses it: ``POST /api/annotations`` with
    a JSON body answers ``200 {"message": "Annotation added", "id": n}``. ``mode`` makes it fail
    (``500``) or hang (answers after ``delay`` seconds)."""

    daemon_threads = True

    def __init__(self, mode: str = "ok", delay: float = 0.0) -> None:
        self.mode = mode
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeGrafanaAnnotationsAPI

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append(
            {"method": "POST", "path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
        )
        if self.server.mode == "slow":
            self.server.release.wait(self.server.delay)
        if self.server.mode == "fail" or self.path != "/api/annotations":
            self._reply(500, {"message": "Failed to save annotation"})
            return
        self._reply(200, {"message": "Annotation added", "id": len(self.server.requests)})

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the witness gave up and closed the connection
            pass

    def log_message(self, *_args: Any) -> None:
        pass


def _serve(mode: str, delay: float = 0.0) -> Iterator[FakeGrafanaAnnotationsAPI]:
    server = FakeGrafanaAnnotationsAPI(mode, delay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def grafana() -> Iterator[FakeGrafanaAnnotationsAPI]:
    yield from _serve("ok")


@pytest.fixture
def failing_grafana() -> Iterator[FakeGrafanaAnnotationsAPI]:
    yield from _serve("fail")


@pytest.fixture
def silent_grafana() -> Iterator[FakeGrafanaAnnotationsAPI]:
    yield from _serve("slow", delay=30.0)


def _witness_failures(reader: InMemoryMetricReader) -> dict[str, int]:
    data = reader.get_metrics_data()
    out: dict[str, int] = {}
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == semconv.METRIC_AUDIT_WITNESS_FAILURES:
                    for point in metric.data.data_points:  # type: ignore[union-attr]
                        out[str(point.attributes[semconv.ATTR_WITNESS])] = int(point.value)  # type: ignore[index, union-attr]
    return out


def test_grafana_witness_posts_the_checkpoint_as_an_annotation(
    grafana: FakeGrafanaAnnotationsAPI, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, grafana_url=grafana.url + "/", grafana_token="glsa_test")
    log = open_log(f"sqlite:///{tmp_path / 'a.db'}", settings)
    log.append([interaction(i) for i in range(5)])
    signed = log.checkpoint()
    dispatcher = WitnessDispatcher([GrafanaAnnotationWitness(settings.grafana_url, settings.grafana_token)])
    dispatcher.deliver(signed)
    assert dispatcher.failures == {"grafana": 0}
    [request] = grafana.requests
    assert (request["method"], request["path"]) == ("POST", "/api/annotations")
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Authorization"] == "Bearer glsa_test"
    body = request["json"]
    assert body["tags"] == ["llm-soc2", "checkpoint", "svc"]
    assert body["time"] == signed.time_unix_nano // 1_000_000
    # The annotation text is the signed note itself: an auditor can check it from Grafana alone.
    from_grafana = SignedCheckpoint.from_note(body["text"])
    from_grafana.verify([Verifier.from_vkey(log.signer().vkey)])
    assert (from_grafana.size, from_grafana.root) == (signed.size, signed.root)
    log.close()


def test_writer_hands_checkpoints_to_grafana_and_counts_a_failing_server(
    failing_grafana: FakeGrafanaAnnotationsAPI, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, grafana_url=failing_grafana.url, checkpoint_every=10)
    log = open_log(f"sqlite:///{tmp_path / 'a.db'}", settings)
    reader = InMemoryMetricReader()
    writer = AuditWriter(log, settings, meter_provider=MeterProvider(metric_readers=[reader]))
    assert [type(w).__name__ for w in writer.witnesses.witnesses] == [
        "DirectoryWitness",
        "OTLPLogWitness",
        "GrafanaAnnotationWitness",
    ]
    for i in range(25):
        writer.submit(interaction(i))
    assert writer.shutdown(10)
    assert failing_grafana.requests, "the writer never called Grafana"
    assert all(r["path"] == "/api/annotations" for r in failing_grafana.requests)
    failures = _witness_failures(reader)
    assert failures["grafana"] == len(failing_grafana.requests) >= 1
    assert failures["directory"] == 0
    # The directory witness still holds every checkpoint: one failing witness does not stop the others.
    assert (
        DirectoryWitness(settings.resolved_witness_dir).latest(f"llm-soc2/audit/{log.write_log_id}")
        is not None
    )
    assert log.verify().ok
    log.close()


def test_a_silent_grafana_costs_the_witness_thread_its_timeout_and_never_blocks_the_writer(
    silent_grafana: FakeGrafanaAnnotationsAPI, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, checkpoint_every=5)
    log = open_log(f"sqlite:///{tmp_path / 'a.db'}", settings)
    timeout = 0.5
    grafana = GrafanaAnnotationWitness(silent_grafana.url, timeout=timeout)
    reader = InMemoryMetricReader()
    writer = AuditWriter(
        log,
        settings,
        witnesses=[DirectoryWitness(settings.resolved_witness_dir), grafana],
        meter_provider=MeterProvider(metric_readers=[reader]),
    )
    worst = 0.0
    began = time.monotonic()
    for i in range(40):  # a checkpoint every 5 records: several checkpoints wait on the witness thread
        t0 = time.perf_counter()
        writer.submit(interaction(i))
        worst = max(worst, time.perf_counter() - t0)
        if i % 10 == 9:
            assert writer.flush(5)
    flushed = time.monotonic() - began
    assert worst < 0.05, f"submit took {worst:.3f}s"
    assert writer.stats.written == 40
    assert flushed < 5 * timeout * 4, f"the writer waited on the witness ({flushed:.2f}s)"
    # One delivery on its own is cut at the timeout.
    t0 = time.monotonic()
    WitnessDispatcher([grafana]).deliver(log.checkpoint())
    assert time.monotonic() - t0 < timeout + 1.0
    assert writer.shutdown(30)
    assert silent_grafana.requests
    failures = _witness_failures(reader)
    assert failures["grafana"] >= 1
    assert failures["grafana"] == writer.witnesses.failures["grafana"]
    assert failures["directory"] == 0
    log.close()
