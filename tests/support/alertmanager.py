"""A real Alertmanager (Debian package ``prometheus-alertmanager``) for the tests, plus ``amtool``.

Clustering is switched off and the server listens on a free loopback port, with its config and storage
in a temporary directory. Fixtures: ``amtool`` (path) and ``alertmanager_factory``
(``start(config_path)`` -> a running :class:`Alertmanager`, stopped after the test). Missing binaries
fail the test in CI and skip it locally.
"""

from __future__ import annotations

import contextlib
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.prometheus import free_port, http_json, require_binary, wait_until


class Alertmanager:
    def __init__(self, binary: str, config_path: Path, directory: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = directory / "alertmanager.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_path}",
                f"--storage.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> Alertmanager:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"alertmanager exited: {self.log()}")
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)

        wait_until(ready, timeout, "Alertmanager to become ready")
        return self

    def alerts(self) -> list[dict[str, Any]]:
        return list(http_json(f"{self.url}/api/v2/alerts"))

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


AlertmanagerFactory = Callable[[Path], Alertmanager]


@pytest.fixture
def amtool() -> str:
    return require_binary("amtool")


@pytest.fixture
def alertmanager_factory(tmp_path: Path) -> Iterator[AlertmanagerFactory]:
    binary = require_binary("prometheus-alertmanager", "alertmanager")
    started: list[Alertmanager] = []

    def start(config_path: Path) -> Alertmanager:
        directory = tmp_path / f"alertmanager-{len(started)}"
        directory.mkdir()
        server = Alertmanager(binary, config_path, directory)
        started.append(server)
        return server.wait_ready()

    yield start
    for server in started:
        with contextlib.suppress(Exception):
            server.stop()
