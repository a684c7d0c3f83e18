"""Real OTLP receivers for the tests: what an exporter puts on the wire, decoded with opentelemetry-proto.

* ``OTLPHttpReceiver``: HTTP on a free loopback port, ``POST /v1/traces|metrics|logs`` with
  ``application/x-protobuf`` bodies (gzip accepted), answering 200 with an empty export response;
* ``OTLPGrpcReceiver``: the gRPC ``TraceService`` on a free loopback port.

Both keep the raw request bodies (to check that a secret never reaches the wire) and decode spans into
``ReceivedSpan`` records with plain Python attribute values.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {item.key: any_value(item.value) for item in value.kvlist_value.values}
    return getattr(value, kind)


@dataclass
class ReceivedSpan:
    name: str
    scope: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str
    status_code: int
    attributes: dict[str, Any]
    resource: dict[str, Any]


def decode_spans(request: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    spans = []
    for resource_spans in request.resource_spans:
        resource = {kv.key: any_value(kv.value) for kv in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        name=span.name,
                        scope=scope_spans.scope.name,
                        kind=span.kind,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        status_code=span.status.code,
                        attributes={kv.key: any_value(kv.value) for kv in span.attributes},
                        resource=resource,
                    )
                )
    return spans


class _Collected:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.raw: list[bytes] = []
        self.traces: list[ExportTraceServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.logs: list[ExportLogsServiceRequest] = []
        self.headers: list[dict[str, str]] = []

    def spans(self) -> list[ReceivedSpan]:
        with self.lock:
            requests = list(self.traces)
        return [span for request in requests for span in decode_spans(request)]

    def metric_names(self) -> set[str]:
        with self.lock:
            requests = list(self.metrics)
        return {
            metric.name
            for request in requests
            for resource_metrics in request.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
        }

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()


class OTLPHttpReceiver(_Collected):
    """An OTLP/HTTP (protobuf) receiver. Use as a context manager; ``endpoint`` is the base URL."""

    def __init__(self) -> None:
        super().__init__()
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> OTLPHttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding", "").lower() == "gzip":
                    body = gzip.decompress(body)
                response: Any
                with receiver.lock:
                    receiver.raw.append(body)
                    receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                    if self.path == "/v1/traces":
                        receiver.traces.append(ExportTraceServiceRequest.FromString(body))
                        response = ExportTraceServiceResponse()
                    elif self.path == "/v1/metrics":
                        receiver.metrics.append(ExportMetricsServiceRequest.FromString(body))
                        response = ExportMetricsServiceResponse()
                    elif self.path == "/v1/logs":
                        receiver.logs.append(ExportLogsServiceRequest.FromString(body))
                        response = ExportLogsServiceResponse()
                    else:
                        self.send_response(404)
                        self.send_header("content-length", "0")
                        self.end_headers()
                        return
                payload = response.SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"


class OTLPGrpcReceiver(_Collected):
    """An OTLP/gRPC TraceService. Use as a context manager; ``endpoint`` is ``http://127.0.0.1:port``."""

    def __init__(self) -> None:
        super().__init__()
        self._server: Any = None
        self._port = 0

    def __enter__(self) -> OTLPGrpcReceiver:
        import grpc
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

        receiver = self

        class Service(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
            def Export(self, request: ExportTraceServiceRequest, context: Any) -> ExportTraceServiceResponse:
                with receiver.lock:
                    receiver.raw.append(request.SerializeToString())
                    receiver.traces.append(request)
                return ExportTraceServiceResponse()

        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), self._server)
        self._port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.stop(grace=None)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._port}"
