"""Stream a share of the period in a child process: ``python -m llm_soc2.report.sources.scan_child``.

For a large period of one log, the report streams the first half of the period's sequence range itself
and this child the second half, writing its rows to part files that the parent appends to its own
(same columns, no header) and returning its facts (pickled on stdout) for the parent to merge. The
request (stdin, JSON) holds the settings, which may hold secrets: they never appear on a command line.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llm_soc2.config import ContentCapture, Settings
from llm_soc2.errors import StoreError
from llm_soc2.report.evidence import DAY_NS, Period, from_ns
from llm_soc2.report.sources import redact_url


def settings_to_json(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in dataclasses.fields(settings):
        value = getattr(settings, item.name)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, ContentCapture):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        elif not isinstance(value, str | int | float | bool) and value is not None:
            value = dict(value)
        out[item.name] = value
    return out


def settings_from_json(data: dict[str, Any]) -> Settings:
    values = dict(data)
    values["data_dir"] = Path(values["data_dir"])
    values["content_capture"] = ContentCapture(values["content_capture"])
    for name in ("pii_disabled", "key_allowlist"):
        values[name] = tuple(values.get(name, ()))
    known = {f.name for f in dataclasses.fields(Settings)}
    return Settings(**{k: v for k, v in values.items() if k in known})


def request(
    url: str,
    settings: Settings,
    period: Period,
    log_id: str,
    seqs: tuple[int, int],
    out_dir: Path,
    seed_hex: str,
) -> dict[str, Any]:
    return {
        "url": url,
        "settings": settings_to_json(settings),
        "since_ns": period.start_ns,
        "until_ns": period.end_ns,
        "log_id": log_id,
        "seqs": list(seqs),
        "out_dir": str(out_dir),
        "seed": seed_hex,
    }


def start(payload: dict[str, Any]) -> subprocess.Popen[bytes]:
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed by result()
    process = subprocess.Popen(
        [sys.executable, "-m", "llm_soc2.report.sources.scan_child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
    )
    process.llm_soc2_errors = errors  # type: ignore[attr-defined]
    assert process.stdin is not None
    process.stdin.write(json.dumps(payload).encode())
    process.stdin.close()
    return process


def result(process: subprocess.Popen[bytes]) -> Any:
    """The child's facts (an ``AuditFacts``); StoreError with the child's last error line on failure."""
    assert process.stdout is not None
    data = process.stdout.read()
    process.stdout.close()
    process.wait()
    errors = process.llm_soc2_errors  # type: ignore[attr-defined]
    errors.seek(0)
    text = errors.read().decode("utf-8", "replace").strip().splitlines()
    errors.close()
    if process.returncode != 0:
        raise StoreError(
            f"streaming the second half of the period failed: {text[-1] if text else process.returncode}"
        )
    return pickle.loads(data)  # noqa: S301 - our own child process, over a pipe


def main() -> int:
    from llm_soc2.audit import AuditLog
    from llm_soc2.report.sources import audit

    payload = json.load(sys.stdin)
    settings = settings_from_json(payload["settings"])
    period = Period(from_ns(payload["since_ns"]), from_ns(payload["until_ns"]))
    log_id = payload["log_id"]
    out_dir = Path(payload["out_dir"])
    with AuditLog.open(payload["url"], log_id=log_id, settings=settings) as log:
        facts = audit.AuditFacts(
            location=redact_url(log.url),
            period=period,
            generated_at=datetime.now(UTC),
            log_id_filter=log_id,
            log_ids=[log_id],
            total_records=0,
            kinds=Counter(),
            retention_days=settings.retention_days,
            retention_cutoff_ns=period.end_ns - settings.retention_days * DAY_NS,
        )
        pops = audit.populations(out_dir, payload["seed"], period, log_id, part="b")
        try:
            audit._stream(log, facts, pops, audit.EVENT_POPULATION, log_id, 0, None, tuple(payload["seqs"]))
        finally:
            for name, pop in pops.items():
                facts.populations[name] = pop.close()
    sys.stdout.buffer.write(pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


if __name__ == "__main__":
    sys.exit(main())
