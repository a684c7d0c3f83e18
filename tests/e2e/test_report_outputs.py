"""The bundle's documents as their readers meet them: the HTML in a real headless Chromium (no console
message, no failed load, a screenshot), the PDF's text (pypdf), the OSCAL document (compliance-trestle)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import time
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from llm_soc2.config import Settings
from llm_soc2.report import generate
from support.grafana_api import TOKEN, GrafanaReplay
from support.prometheus_history import History

pytestmark = pytest.mark.e2e

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip


def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path:
        return path
    message = "chromium is not installed (run: bash tests/setup/system-deps.sh)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


class DevTools:
    """Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: fd 3 in, fd 4
    out, NUL-separated JSON), so console messages, exceptions and failed loads are captured as events."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 900) -> None:
        to_r, self._to = os.pipe()
        self._from, from_w = os.pipe()

        def wire() -> None:
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.process = subprocess.Popen(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
             f"--window-size={width},{height}"],
            pass_fds=(3, 4), preexec_fn=wire, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_r)
        os.close(from_w)
        self._buffer = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._from, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        self._id += 1
        request: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        os.write(self._to, json.dumps(request).encode() + b"\0")
        deadline = time.monotonic() + 60
        while True:
            message = self._read(deadline)
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def load(self, url: str, screenshot: Path) -> list[tuple[str, str]]:
        """Open ``url``, wait for load, save a full-page screenshot; return console/log/exception messages."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Log.enable", "Runtime.enable", "Page.enable"):
            self.call(domain, session=session)
        self.call("Page.navigate", {"url": url}, session=session)
        deadline = time.monotonic() + 60
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._read(deadline))
        shot = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        deadline = time.monotonic() + 0.5
        try:
            while True:
                self.events.append(self._read(deadline))
        except TimeoutError:
            pass
        messages = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                messages.append((f"console.{params.get('type')}", text))
            elif method == "Runtime.exceptionThrown":
                messages.append(("exception", str(params.get("exceptionDetails", {}).get("text"))))
            elif method == "Log.entryAdded":
                messages.append((f"log.{params['entry']['level']}", params["entry"]["text"]))
        return messages

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, EOFError, TimeoutError, OSError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to)
        os.close(self._from)


@pytest.fixture(scope="module")
def bundle(
    prometheus_history: tuple[str, History],
    llm_history_log: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    url, history = prometheus_history
    out = tmp_path_factory.mktemp("outputs") / "report"
    start, end = datetime.fromtimestamp(history.start, UTC), datetime.fromtimestamp(history.end, UTC)
    with GrafanaReplay(anchor=end) as grafana:
        generate(llm_history_log, start, end, out, prometheus_url=url, grafana_url=grafana.url,
                 grafana_token=TOKEN, pdf=True)  # fmt: skip
    return out


def test_the_detector_sees_console_errors_and_failed_loads(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text('<!doctype html><img src="missing.png"><script>console.error("boom")</script>')
    browser = DevTools(tmp_path / "profile")
    try:
        messages = browser.load(page.as_uri(), tmp_path / "bad.png")
    finally:
        browser.close()
    assert ("console.error", "boom") in messages
    assert any(kind == "log.error" and "ERR_FILE_NOT_FOUND" in text for kind, text in messages)


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(f"{tag} {name}={value}")


def test_html_opens_in_chromium_without_console_messages(bundle: Path, tmp_path: Path) -> None:
    html = (bundle / "index.html").read_text()
    refs = _Refs()
    refs.feed(html)
    assert refs.scripts == 0  # self-contained: no script ...
    assert refs.external == []  # ... and no external file
    assert "url(" not in html
    screenshot = tmp_path / "report.png"
    browser = DevTools(tmp_path / "profile")
    try:
        messages = browser.load((bundle / "index.html").as_uri(), screenshot)
    finally:
        browser.close()
    assert messages == []
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 100_000  # a full page of charts and tables, not a blank page
    keep = os.environ.get("LLM_SOC2_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(screenshot, keep)


def test_pdf_text_holds_the_results(bundle: Path) -> None:
    from pypdf import PdfReader

    report = json.loads((bundle / "report.json").read_text())
    text = "\n".join(page.extract_text() for page in PdfReader(bundle / "report.pdf").pages)
    flat = " ".join(text.split())
    assert "SOC 2 Type II (operating effectiveness) evidence" in flat
    counts = report["status_counts"]
    assert (
        f"{counts['effective']} criteria effective, {counts['exceptions']} with exceptions, "
        f"{counts['not evidenced']} not evidenced." in flat
    )
    for criterion in report["criteria"]:
        assert criterion["criterion"]["id"] in flat
        assert criterion["control"]["id"] in flat
    assert f"{report['charts']['totals']['interactions']:,}" in flat
    for item in report["evidence"]:
        for ref in item["files"]:
            assert ref["sha256"][:32] in flat.replace(" ", "")


def test_oscal_assessment_results_validate_with_trestle(bundle: Path, tmp_path: Path) -> None:
    from trestle.oscal.assessment_results import AssessmentResults

    document = json.loads((bundle / "oscal-assessment-results.json").read_text())
    results = AssessmentResults.model_validate(document["assessment-results"])
    report = json.loads((bundle / "report.json").read_text())
    findings = results.results[0].findings or []
    assert len(findings) == len(report["criteria"])
    states = {f.target.target_id: f.target.status.state.value for f in findings if f.target.status}
    for criterion in report["criteria"]:
        want = "satisfied" if criterion["status"] == "effective" else "not-satisfied"
        assert states[f"{criterion['criterion']['id'].lower()}_obj"] == want
    hashes = {
        r.title: r.rlinks[0].hashes[0].value
        for r in results.back_matter.resources
        if r.rlinks and r.rlinks[0].hashes
    }
    manifest = json.loads((bundle / "manifest.json").read_text())
    for path, digest in hashes.items():
        assert manifest["files"][path]["sha256"] == digest
    # and the trestle command line accepts it in a workspace
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    trestle = str(Path(os.sys.executable).parent / "trestle")
    subprocess.run([trestle, "init"], cwd=workspace, check=True, capture_output=True, timeout=120)
    target = workspace / "assessment-results" / "llm-soc2" / "assessment-results.json"
    target.parent.mkdir(parents=True)
    shutil.copy(bundle / "oscal-assessment-results.json", target)
    done = subprocess.run([trestle, "validate", "-f", str(target)], cwd=workspace, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VALID" in done.stdout + done.stderr
    assert "not referenced" not in done.stdout + done.stderr
