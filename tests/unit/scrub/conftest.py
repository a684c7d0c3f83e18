from __future__ import annotations

import pytest

from llm_soc2.config import Settings
from llm_soc2.fingerprint import SecretRegistry
from llm_soc2.scrub import DetectorRegistry, Scrubber

KEY = bytes(range(32))


def make_scrubber(
    *,
    registry: DetectorRegistry | None = None,
    known_secrets: SecretRegistry | None = None,
    max_chars: int = 8 * 1024 * 1024,
    **settings: object,
) -> Scrubber:
    """A scrubber with built-in detectors only, a fixed key and its own secret registry.

    The time budget is generous: tests check behaviour, and a loaded CI machine must not turn a scan into
    a timeout (the timeout itself has its own tests).
    """
    values: dict[str, object] = {"scrub_timeout_ms": 30_000.0}
    values.update(settings)
    if registry is None:
        registry = DetectorRegistry(plugins=False, disabled=values.get("pii_disabled", ()))  # type: ignore[arg-type]
    return Scrubber(
        Settings(**values),  # type: ignore[arg-type]
        registry=registry,
        key=KEY,
        known_secrets=known_secrets if known_secrets is not None else SecretRegistry(),
        max_chars=max_chars,
    )


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return make_scrubber()
