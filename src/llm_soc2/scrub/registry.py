"""The detector registry: the built-ins, the plugins, and which of them are enabled.

Plugins register through the ``llm_soc2.detectors`` entry-point group. The entry point names a class
(instantiated without arguments) or an instance; it needs no import from llm-soc2 beyond ``Kind`` if it
subclasses nothing::

    # pyproject.toml of the plugin
    [project.entry-points."llm_soc2.detectors"]
    employee_id = "acme_detectors:EmployeeIdDetector"

    # acme_detectors.py
    class EmployeeIdDetector:
        entity = "EMPLOYEE_ID"                 # upper-case name, used in findings and settings
        kind = "pii"                           # "pii" or "secret"
        patterns = (r"(?:^|[^A-Za-z0-9])(EMP-[0-9]{6})(?:[^0-9]|$)",)  # RE2 syntax, group 1 = value
        priority = 50                          # optional: wins overlaps against lower priorities

        def validate(self, value: str, context: str) -> bool:   # context: lowercased text around it
            return value[4:] != "000000"

See ``llm_soc2.scrub.detector`` for the pattern rules. A plugin that fails to load or breaks a rule is
logged and skipped; it never stops the application. A plugin with the entity name of a built-in
replaces the built-in.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from llm_soc2.scrub.detector import Detector
from llm_soc2.scrub.detectors import BUILTIN_DETECTORS, ClientApiKeyDetector
from llm_soc2.scrub.engine import compile_extension, compile_pattern
from llm_soc2.scrub.findings import Kind

if TYPE_CHECKING:
    from llm_soc2.config import Settings
    from llm_soc2.scrub.ner import NerAnalyzer

ENTRY_POINT_GROUP = "llm_soc2.detectors"
ALWAYS_ON = frozenset({ClientApiKeyDetector.entity})  # the client's own key can never be let through
_ENTITY = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_log = logging.getLogger(__name__)


class InvalidDetector(ValueError):
    """A detector that does not follow the interface (the message says which rule it breaks)."""


def as_detector(obj: Any) -> Detector:
    """Check ``obj`` (a class or an instance) against the interface and return a ``Detector`` for it."""
    instance = obj() if isinstance(obj, type) else obj
    entity = getattr(instance, "entity", None)
    if not isinstance(entity, str) or not _ENTITY.fullmatch(entity):
        raise InvalidDetector(f"{obj!r}: entity must be an upper-case name such as 'EMPLOYEE_ID'")
    raw_kind = getattr(instance, "kind", None)
    try:
        kind = raw_kind if isinstance(raw_kind, Kind) else Kind(str(raw_kind))
    except ValueError:
        raise InvalidDetector(f"{entity}: kind must be 'pii' or 'secret'") from None
    patterns = getattr(instance, "patterns", None)
    if (
        isinstance(patterns, str)
        or not isinstance(patterns, tuple | list)
        or not all(isinstance(p, str) for p in patterns)
    ):
        raise InvalidDetector(f"{entity}: patterns must be a tuple of strings")
    if not patterns and not isinstance(instance, ClientApiKeyDetector):
        raise InvalidDetector(f"{entity}: at least one pattern is needed")
    for pattern in patterns:
        try:
            compile_pattern(pattern)
        except ValueError as exc:
            raise InvalidDetector(f"{entity}: {exc}") from None
    if not callable(getattr(instance, "validate", None)):
        raise InvalidDetector(f"{entity}: validate(value, context) -> bool is missing")
    priority = getattr(instance, "priority", 50)
    if not isinstance(priority, int):
        raise InvalidDetector(f"{entity}: priority must be an int")
    detector = (
        instance
        if isinstance(instance, Detector)
        else _adapt(instance, entity, kind, tuple(patterns), priority)
    )
    try:
        compile_extension(detector)
    except ValueError as exc:
        raise InvalidDetector(f"{entity}: {exc}") from None
    return detector


def _adapt(inner: Any, entity: str, kind: Kind, patterns: tuple[str, ...], priority: int) -> Detector:
    """Wrap a duck-typed plugin object in a ``Detector`` subclass named after it."""

    def validate(self: Detector, value: str, context: str) -> bool:
        return bool(inner.validate(value, context))

    namespace = {
        "entity": entity,
        "kind": kind,
        "patterns": patterns,
        "priority": priority,
        "context": tuple(getattr(inner, "context", ())),
        "extension": str(getattr(inner, "extension", "")),
        "extension_limit": int(getattr(inner, "extension_limit", 0)),
        "validate": validate,
    }
    cls = type(type(inner).__name__, (Detector,), namespace)
    return cls()  # type: ignore[no-any-return]


class DetectorRegistry:
    """Detectors by entity, with enable/disable. Thread-safe; ``version`` changes on every change."""

    def __init__(
        self,
        detectors: Iterable[Any] = (),
        *,
        builtins: bool = True,
        plugins: bool = True,
        disabled: Iterable[str] = (),
    ) -> None:
        self._lock = threading.Lock()
        self._detectors: dict[str, Detector] = {}
        self._disabled: set[str] = set()
        self.ner: NerAnalyzer | None = None
        self.errors: list[str] = []  # plugins that could not be loaded, and why
        self.version = 0
        if builtins:
            for cls in BUILTIN_DETECTORS:
                self.register(cls())
        if plugins:
            self.load_entry_points()
        for detector in detectors:
            self.register(detector)
        self.disable(*disabled)

    @classmethod
    def from_settings(cls, settings: Settings) -> DetectorRegistry:
        """Built-ins and plugins, minus ``settings.pii_disabled``; NER when ``settings.pii_ner``."""
        registry = cls(disabled=settings.pii_disabled)
        if settings.pii_ner:
            from llm_soc2.scrub.ner import load_presidio_ner

            registry.ner = load_presidio_ner()
        return registry

    def register(self, detector: Any) -> Detector:
        """Add (or replace, by entity) a detector; raises ``InvalidDetector`` if it breaks a rule."""
        checked = as_detector(detector)
        with self._lock:
            self._detectors[checked.entity] = checked
            self.version += 1
        return checked

    def load_entry_points(
        self, entry_points: Iterable[importlib.metadata.EntryPoint] | None = None
    ) -> list[str]:
        """Register the detectors of the ``llm_soc2.detectors`` entry points; return the entities loaded."""
        if entry_points is None:
            try:
                entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
            except Exception as exc:  # a broken installed distribution must not stop the application
                self._plugin_error(f"entry points unreadable: {type(exc).__name__}")
                return []
        loaded = []
        for entry_point in entry_points:
            try:
                loaded.append(self.register(entry_point.load()).entity)
            except Exception as exc:
                self._plugin_error(
                    f"detector plugin {entry_point.name!r} ({entry_point.value}) skipped: {exc}"
                )
        return loaded

    def _plugin_error(self, message: str) -> None:
        self.errors.append(message)
        _log.warning("%s", message)

    def disable(self, *entities: str) -> None:
        names = {e.strip().upper() for e in entities if e.strip()}
        for name in names & ALWAYS_ON:
            _log.warning("%s cannot be disabled: the client's own API key never leaves the process", name)
        with self._lock:
            self._disabled |= names - ALWAYS_ON
            self.version += 1

    def enable(self, *entities: str) -> None:
        with self._lock:
            self._disabled -= {e.strip().upper() for e in entities}
            self.version += 1

    def get(self, entity: str) -> Detector | None:
        return self._detectors.get(entity.upper())

    @property
    def entities(self) -> tuple[str, ...]:
        """Every registered entity, enabled or not."""
        return tuple(self._detectors)

    def enabled(self) -> tuple[Detector, ...]:
        with self._lock:
            return tuple(d for e, d in self._detectors.items() if e not in self._disabled)
