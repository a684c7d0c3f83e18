"""Frozen drift baselines: saved reference histograms per (service, model, operation) and time of day.

A baseline is a JSON file ``<data_dir>/drift/baselines/<name>.json`` holding, per key, one sparse
histogram row per 30-minute slot of the day (the layout of :mod:`llm_soc2.drift.features`, with each
categorical bin's name so that files outlive vocabulary changes). It is made from a window of the audit
log (``llm-soc2 drift baseline save``) or from what a running monitor has seen
(``DriftMonitor.freeze_baseline``). Every save and reset is a change: it is recorded as an audit
record of kind ``"baseline"`` (attributes ``llm_soc2.drift.baseline.*``, with the file's SHA-256) and
an OpenTelemetry log record ``llm_soc2.drift.baseline``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from llm_soc2 import semconv
from llm_soc2.drift.detector import Key
from llm_soc2.drift.features import FeatureSpace
from llm_soc2.errors import ConfigurationError

FORMAT: Final = "llm-soc2.drift.baseline/1"
ROLLING: Final = "rolling"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

FloatArray = NDArray[np.float64]


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigurationError(
            f"baseline name {name!r} is not valid: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


@dataclass
class Baseline:
    """Reference histograms per key (``slots x space.size`` arrays in the layout of ``space``)."""

    name: str
    space: FeatureSpace
    slot_seconds: int
    profiles: dict[Key, FloatArray]
    start_unix_nano: int = 0
    end_unix_nano: int = 0
    count: int = 0
    source: str = ""
    created_unix_nano: int = field(default_factory=time.time_ns)

    def __post_init__(self) -> None:
        check_name(self.name)

    @property
    def keys(self) -> list[Key]:
        return sorted(self.profiles)

    def profile(self, key: Key) -> FloatArray | None:
        return self.profiles.get(key)

    # ----------------------------------------------------------------------------------------------
    # Serialisation
    # ----------------------------------------------------------------------------------------------
    def to_json(self) -> bytes:
        keys = []
        for key in self.keys:
            rows = self.profiles[key]
            sparse = {}
            for slot in range(rows.shape[0]):
                nonzero = np.flatnonzero(rows[slot])
                if nonzero.size:
                    sparse[str(slot)] = [[int(i), _compact(float(rows[slot, i]))] for i in nonzero]
            keys.append({"service": key[0], "model": key[1], "operation": key[2], "slots": sparse})
        doc = {
            "format": FORMAT,
            "name": self.name,
            "created_unix_nano": self.created_unix_nano,
            "start_unix_nano": self.start_unix_nano,
            "end_unix_nano": self.end_unix_nano,
            "count": self.count,
            "source": self.source,
            "slot_seconds": self.slot_seconds,
            "features": [f.name for f in self.space.features],
            "size": self.space.size,
            "vocabularies": self.space.vocabulary_lists(),
            "keys": keys,
        }
        return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode("utf-8")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_json()).hexdigest()

    @classmethod
    def from_json(cls, data: bytes, space: FeatureSpace | None = None) -> Baseline:
        """Read a baseline; its categorical bins are mapped onto ``space`` (a new one by default)."""
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ConfigurationError(f"the baseline file is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ConfigurationError(f"not a drift baseline (format {FORMAT!r} expected)")
        space = space or FeatureSpace()
        if list(doc["features"]) != [f.name for f in space.features] or int(doc["size"]) != space.size:
            raise ConfigurationError("the baseline was saved with other drift features; save it again")
        slot_seconds = int(doc["slot_seconds"])
        slots = 86_400 // slot_seconds
        profiles: dict[Key, FloatArray] = {}
        for item in doc["keys"]:
            rows = np.zeros((slots, space.size), dtype=np.float64)
            for slot, pairs in item["slots"].items():
                for index, value in pairs:
                    rows[int(slot), int(index)] = float(value)
            key = (str(item["service"]), str(item["model"]), str(item["operation"]))
            profiles[key] = space.align(rows, doc["vocabularies"])
        return cls(
            name=str(doc["name"]),
            space=space,
            slot_seconds=slot_seconds,
            profiles=profiles,
            start_unix_nano=int(doc["start_unix_nano"]),
            end_unix_nano=int(doc["end_unix_nano"]),
            count=int(doc["count"]),
            source=str(doc["source"]),
            created_unix_nano=int(doc["created_unix_nano"]),
        )

    def summary(self) -> dict[str, Any]:
        ncols = list(self.space.n_columns)
        keys = []
        for key in self.keys:
            rows = self.profiles[key]
            spans = rows[:, ncols].max(axis=1)
            keys.append(
                {
                    "service": key[0],
                    "model": key[1],
                    "operation": key[2],
                    "interactions": round(float(spans.sum()), 3),
                    "slots_covered": int((spans > 0).sum()),
                }
            )
        return {
            "name": self.name,
            "sha256": self.sha256,
            "created": _iso(self.created_unix_nano),
            "start": _iso(self.start_unix_nano),
            "end": _iso(self.end_unix_nano),
            "count": self.count,
            "source": self.source,
            "slot_seconds": self.slot_seconds,
            "keys": keys,
        }


def _compact(value: float) -> float | int:
    return int(value) if value.is_integer() else float(f"{value:.9g}")


def _iso(unix_nano: int) -> str:
    if not unix_nano:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_nano / 1e9))


# --------------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------------
class BaselineStore:
    """Baseline files in ``<data_dir>/drift/baselines``."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.directory = Path(data_dir) / "drift" / "baselines"

    def path(self, name: str) -> Path:
        return self.directory / f"{check_name(name)}.json"

    def save(self, baseline: Baseline) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(baseline.name)
        fd, tmp = tempfile.mkstemp(prefix=f".{baseline.name}.", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(baseline.to_json())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def load(self, name: str, space: FeatureSpace | None = None) -> Baseline:
        path = self.path(name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ConfigurationError(
                f"no drift baseline named {name!r} in {self.directory} (save one with `llm-soc2 drift baseline save`)"
            ) from None
        except OSError as exc:
            raise ConfigurationError(f"cannot read drift baseline {path}: {exc}") from exc
        return Baseline.from_json(data, space)

    def delete(self, name: str) -> bool:
        try:
            self.path(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def names(self) -> Iterator[str]:
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("*.json")):
            yield path.stem


# --------------------------------------------------------------------------------------------------
# Change events
# --------------------------------------------------------------------------------------------------
def change_attributes(
    action: str, name: str, baseline: Baseline | None = None, **extra: Any
) -> dict[str, Any]:
    """The attributes of a baseline change (audit record of kind "baseline" and log record)."""
    attributes: dict[str, Any] = {semconv.DRIFT_BASELINE_ACTION: action, semconv.DRIFT_BASELINE: name}
    if baseline is not None:
        attributes.update(
            {
                semconv.DRIFT_BASELINE_SHA256: baseline.sha256,
                semconv.DRIFT_BASELINE_START: baseline.start_unix_nano,
                semconv.DRIFT_BASELINE_END: baseline.end_unix_nano,
                semconv.DRIFT_BASELINE_COUNT: baseline.count,
            }
        )
    attributes.update(extra)
    return attributes


def summarise_keys(profiles: Mapping[Key, FloatArray], space: FeatureSpace) -> int:
    """Interactions summarised by ``profiles`` (the largest per-feature count of each key)."""
    ncols = list(space.n_columns)
    return round(sum(float(rows[:, ncols].sum(axis=0).max()) for rows in profiles.values()))
