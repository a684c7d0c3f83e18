"""A local fake LLM provider: a real HTTP server speaking the OpenAI and Anthropic wire formats.

::

    from llm_soc2.testing import FakeProvider, ToolCall

    with FakeProvider() as fake:
        fake.openai.script("Paris is the capital of France.")
        fake.openai.script(tool_calls=[ToolCall("get_weather", {"city": "Paris"})])
        fake.anthropic.script(status=429, retry_after=0)
        client = openai.OpenAI(base_url=fake.openai.base_url, api_key="sk-test")
        ...
        assert fake.openai.last_request.headers["authorization"] == "Bearer sk-test"

Each provider answers from its queue of scripted replies (first in, first out) and falls back to its
``default`` reply when the queue is empty. A reply may also be a function of the request.

Azure OpenAI's paths are served by the OpenAI script too: ``openai.AzureOpenAI(azure_endpoint=fake.url,
...)`` calls ``/openai/deployments/{deployment}/chat/completions`` (and ``/openai/v1/...``). The server
also answers as an HTTP proxy, so a client can call a provider's own host name (``http://`` only) through
it: ``http_client=openai.DefaultHttpxClient(proxy=fake.url)``. Anthropic on Vertex AI
(``anthropic.AnthropicVertex(base_url=f"{fake.url}/v1", ...)``) and on Amazon Bedrock
(``anthropic.AnthropicBedrock(base_url=fake.url, api_key=..., aws_region=...)``, or with AWS keys: requests
signed with SigV4 are taken as they come) are served by the Anthropic script; Bedrock's streams are
framed in AWS's binary event stream, as Bedrock sends them.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import socket
import threading
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

from llm_soc2.testing import _anthropic_wire, _aws_eventstream, _openai_wire
from llm_soc2.testing.script import RecordedRequest, Reply, Responder

OPENAI = "openai"
ANTHROPIC = "anthropic"


class ProviderScript:
    """The scripted replies and the received requests of one provider."""

    def __init__(self, name: str, server: FakeProvider, max_recorded: int) -> None:
        self.name = name
        self._server = server
        self._lock = threading.Lock()
        self._queue: deque[Responder] = deque()
        self._requests: deque[RecordedRequest] = deque(maxlen=max_recorded)
        self.default: Responder = Reply()

    @property
    def base_url(self) -> str:
        """The ``base_url`` to give the provider's client."""
        root = self._server.url
        return f"{root}/v1" if self.name == OPENAI else root

    def script(
        self,
        reply: str | Reply | Callable[[RecordedRequest], Reply] | None = None,
        /,
        *,
        times: int = 1,
        **fields: Any,
    ) -> None:
        """Queue a reply for the next ``times`` requests.

        ``reply`` is the text, a ``Reply``, or a function of the request; keyword arguments are
        ``Reply`` fields (``script(status=429, retry_after=0)``, ``script("hi", chunk_delay=0.01)``).
        """
        responder: Responder
        if callable(reply) and not isinstance(reply, Reply):
            responder = reply
        elif isinstance(reply, Reply):
            responder = Reply(**{**reply.__dict__, **fields}) if fields else reply
        else:
            responder = Reply(text=reply, **fields) if reply is not None else Reply(**fields)
        with self._lock:
            self._queue.extend([responder] * times)

    def clear(self) -> None:
        """Forget the queued replies and the recorded requests."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    @property
    def pending(self) -> int:
        """How many scripted replies have not been used yet."""
        return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received, oldest first (the last ``max_recorded``)."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            if not self._requests:
                raise LookupError(f"the fake {self.name} provider has received no request")
            return self._requests[-1]

    def _take(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            responder = self._queue.popleft() if self._queue else self.default
        return responder(request) if callable(responder) and not isinstance(responder, Reply) else responder


class FakeProvider:
    """A real HTTP server on ``127.0.0.1`` (a free port) in a background thread. Use it as a context
    manager, or call ``start()`` and ``stop()``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, max_recorded: int = 1000) -> None:
        self._host = host
        self._port = port
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.openai = ProviderScript(OPENAI, self, max_recorded)
        self.anthropic = ProviderScript(ANTHROPIC, self, max_recorded)

    # ------------------------------------------------------------------------------------------
    # Life cycle
    # ------------------------------------------------------------------------------------------
    def start(self) -> FakeProvider:
        if self._server is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"provider": self})
        server = _Server((self._host, self._port), handler)
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="llm-soc2-fake-provider",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------
    # Addresses and records
    # ------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the fake provider is not running; use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.openai.requests + self.anthropic.requests

    def reset(self) -> None:
        self.openai.clear()
        self.anthropic.clear()
        self.openai.default = Reply()
        self.anthropic.default = Reply()

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"


_ROUTES: dict[str, str] = {
    "/v1/chat/completions": OPENAI,
    "/v1/responses": OPENAI,
    "/v1/embeddings": OPENAI,
    "/v1/messages": ANTHROPIC,
}
_AZURE_DEPLOYMENTS: Final = "/openai/deployments/"
_AZURE_V1: Final = "/openai/v1/"
# Anthropic on Google Cloud: /v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:rawPredict
_VERTEX_ANTHROPIC: Final = re.compile(
    r"/v1/projects/[^/]+/locations/[^/]+/publishers/anthropic/models/([^/:]+):(?:stream)?[rR]awPredict"
)


# Anthropic on Amazon Bedrock: /model/{model}/invoke, and /model/{model}/invoke-with-response-stream, which
# answers in AWS's binary event stream.
_BEDROCK_INVOKE: Final = re.compile(r"/model/([^/]+)/invoke(?:-with-response-stream)?")
_BEDROCK_STREAM_SUFFIX: Final = "/invoke-with-response-stream"


def _origin_form(target: str) -> str:
    """The path of a request target; a client that uses the fake provider as its HTTP proxy (to call a
    provider's real host name over plain HTTP) sends the absolute URL."""
    if target.startswith(("http://", "https://")):
        _, _, rest = target.partition("://")
        _, slash, path = rest.partition("/")
        return slash + path
    return target


def _route(path: str) -> tuple[str, str | None]:
    """The path a cloud provider's path stands for, and the model its path names if it does:
    Azure OpenAI's ``/openai/deployments/{name}/chat/completions`` and ``/openai/v1/chat/completions`` are
    ``/v1/chat/completions``, Vertex AI's Anthropic ``...:rawPredict`` and Amazon Bedrock's
    ``/model/{model}/invoke`` are ``/v1/messages``."""
    bedrock = _BEDROCK_INVOKE.fullmatch(path)
    if bedrock is not None:
        return "/v1/messages", urllib.parse.unquote(bedrock.group(1))
    if path.startswith(_AZURE_DEPLOYMENTS):
        _, _, operation = path[len(_AZURE_DEPLOYMENTS) :].partition("/")
        return "/v1/" + operation, None
    if path.startswith(_AZURE_V1):
        return "/v1/" + path[len(_AZURE_V1) :], None
    vertex = _VERTEX_ANTHROPIC.fullmatch(path)
    if vertex is not None:
        return "/v1/messages", vertex.group(1)
    return path, None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hang up mid-request on purpose here (timeouts, closed streams): stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    provider: FakeProvider
    protocol_version = "HTTP/1.1"
    server_version = "llm-soc2-fake-provider"

    def setup(self) -> None:
        super().setup()
        # Small SSE writes must not wait for Nagle's algorithm (it adds ~40 ms per event).
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ------------------------------------------------------------------------------------------
    # Request
    # ------------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

    def do_POST(self) -> None:
        raw = self._read_body()
        sent_path = _origin_form(self.path).split("?", 1)[0]
        path, path_model = _route(sent_path)
        kind = _ROUTES.get(path)
        if kind is None:
            self._send_json(404, {"error": {"message": f"no route {path}", "type": "not_found"}})
            return
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {key.lower(): value for key, value in self.headers.items()}
        request = RecordedRequest(kind, "POST", sent_path, headers, body, raw)
        script = self.provider.openai if kind == OPENAI else self.provider.anthropic
        reply = script._take(request)
        if path_model is not None and isinstance(body, dict) and "model" not in body:
            body = {**body, "model": path_model}  # the cloud's path names the model, its body does not
        event_stream = sent_path.endswith(_BEDROCK_STREAM_SUFFIX)
        if event_stream and isinstance(body, dict):
            body = {**body, "stream": True}  # Bedrock's path says "stream", its body does not
        self._respond(kind, path, body, reply, event_stream=event_stream)

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    # ------------------------------------------------------------------------------------------
    # Response
    # ------------------------------------------------------------------------------------------
    def _wait(self, seconds: float) -> bool:
        """Sleep; False when the provider is stopping."""
        return not (seconds > 0 and self.provider._stopping.wait(seconds))

    def _respond(self, kind: str, path: str, body: Any, reply: Reply, *, event_stream: bool = False) -> None:
        if reply.hang:
            self.provider._stopping.wait(reply.hang_seconds)
            self._drop()
            return
        if not self._wait(reply.latency):
            self._drop()
            return
        if reply.status >= 400:
            wire = _openai_wire if kind == OPENAI else _anthropic_wire
            headers = dict(reply.headers)
            if reply.retry_after is not None:
                headers["retry-after"] = f"{reply.retry_after:g}"
            self._send_json(reply.status, wire.error_body(reply), headers)
            return
        if reply.malformed:
            self._send_raw(
                200, b'{"id": "broken", "choices": [{"index": 0, "mess', "application/json", reply.headers
            )
            return
        stream = isinstance(body, dict) and bool(body.get("stream"))
        if kind == ANTHROPIC:
            message_id = self.provider._next_id("msg_fake")
            if stream and event_stream:
                frames = map(_aws_eventstream.chunk, _anthropic_wire.message_events(body, reply, message_id))
                failure = _aws_eventstream.exception("internalServerException", "fake stream error")
                self._send_stream(frames, reply, failure, _aws_eventstream.CONTENT_TYPE)
            elif stream:
                events = _anthropic_wire.message_stream(body, reply, message_id)
                self._send_stream(events, reply, _anthropic_wire.stream_error_event(reply))
            else:
                self._send_json(200, _anthropic_wire.message(body, reply, message_id), reply.headers)
        elif path == "/v1/chat/completions":
            response_id = self.provider._next_id("chatcmpl-fake")
            if stream:
                error = _openai_wire.sse(
                    _openai_wire.error_body(reply if reply.status >= 400 else Reply(status=500))
                )
                self._send_stream(_openai_wire.chat_stream(body, reply, response_id), reply, error)
            else:
                self._send_json(200, _openai_wire.chat_completion(body, reply, response_id), reply.headers)
        elif path == "/v1/responses":
            response_id = self.provider._next_id("resp_fake")
            if stream:
                error = _openai_wire.sse(
                    {"type": "error", "code": "server_error", "message": "fake stream error", "param": None,
                     "sequence_number": 0},
                    event="error",
                )  # fmt: skip
                self._send_stream(_openai_wire.response_stream(body, reply, response_id), reply, error)
            else:
                self._send_json(200, _openai_wire.response(body, reply, response_id), reply.headers)
        else:
            self._send_json(200, _openai_wire.embeddings(body, reply), reply.headers)

    def _common_headers(self, extra: Any) -> None:
        self.send_header("x-request-id", self.provider._next_id("req_fake"))
        self.send_header("request-id", self.provider._next_id("req_fake"))
        for key, value in dict(extra or {}).items():
            self.send_header(key, value)

    def _send_json(self, status: int, payload: Any, headers: Any = None) -> None:
        self._send_raw(status, json.dumps(payload).encode(), "application/json", headers)

    def _send_raw(self, status: int, data: bytes, content_type: str, headers: Any) -> None:
        with contextlib.suppress(OSError):
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self._common_headers(headers)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()

    def _send_stream(
        self,
        events: Iterator[bytes],
        reply: Reply,
        error_event: bytes,
        content_type: str = "text/event-stream; charset=utf-8",
    ) -> None:
        try:
            self.send_response(200)
            self.send_header("content-type", content_type)
            self.send_header("cache-control", "no-cache")
            self.send_header("transfer-encoding", "chunked")
            self._common_headers(reply.headers)
            self.end_headers()
            for count, event in enumerate(events):
                if reply.drop_after is not None and count >= reply.drop_after:
                    if reply.stream_error:
                        self._write_chunk(error_event)
                        break
                    self._drop()
                    return
                if not self._wait(reply.chunk_delay):
                    self._drop()
                    return
                self._write_chunk(event)
            else:
                if reply.stream_error:
                    self._write_chunk(error_event)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:  # the client went away (closed the stream early)
            self.close_connection = True

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _drop(self) -> None:
        """Close the connection abruptly (no response, or a body cut mid-way)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
