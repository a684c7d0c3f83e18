"""The risk policy: how category scores become an assessment (thresholds, weights, level bands, version).

The built-in policy is ``data/policy.yaml`` (its comments document every key). A policy file of one's own
is merged over it key by key, so it only states what it changes::

    version: "acme-2026-11"
    categories:
      prompt_injection: {threshold: 0.6}
      refusal: {weight: 0.0}
    classifiers:
      disabled: [ungrounded]

``Policy.from_file`` raises :class:`~llm_soc2.errors.ConfigurationError` with the key at fault (the CLI
path). ``Policy.load_or_default`` is the run-time path: a bad file is logged once and the built-in
policy is used, because nothing here may raise into the application.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import yaml

from llm_soc2.errors import ConfigurationError
from llm_soc2.risk.assessment import Assessment, Signal
from llm_soc2.semconv import RISK_CATEGORIES_ALL, RISK_LEVELS

_log = logging.getLogger(__name__)

LEVELS: Final = RISK_LEVELS  # low < medium < high < critical
_RANK: Final = {level: rank for rank, level in enumerate(LEVELS)}
_MAX_POLICY_BYTES: Final = 4 << 20


@dataclass(frozen=True, slots=True)
class CategoryRule:
    threshold: float = 0.5
    weight: float = 1.0
    level: str = "medium"


@dataclass(frozen=True)
class Policy:
    """A validated policy. Build it with :meth:`default`, :meth:`from_file` or :meth:`from_mapping`."""

    version: str
    bands: tuple[tuple[str, float], ...]  # (level, lower bound) ascending, levels above "low"
    categories: Mapping[str, CategoryRule]
    default_rule: CategoryRule = CategoryRule()
    disabled: frozenset[str] = frozenset()
    entry_points: bool = True
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = "built-in"

    # ---------------------------------------------------------------------------------------------
    # Construction
    # ---------------------------------------------------------------------------------------------
    @classmethod
    def default(cls) -> Policy:
        return cls.from_mapping(_default_document(), "built-in policy")

    @classmethod
    def from_file(cls, path: str | Path) -> Policy:
        """Load and validate a policy file, merged over the built-in policy. Raises ConfigurationError."""
        location = Path(path)
        try:
            raw = location.read_bytes()
        except OSError as exc:
            raise ConfigurationError(
                f"risk policy {location}: cannot be read ({exc.strerror or exc})"
            ) from exc
        if len(raw) > _MAX_POLICY_BYTES:
            raise ConfigurationError(f"risk policy {location}: larger than {_MAX_POLICY_BYTES} bytes")
        try:
            document = yaml.safe_load(raw.decode("utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"risk policy {location}: not valid YAML ({exc})") from exc
        if document is None:
            document = {}
        if not isinstance(document, Mapping):
            raise ConfigurationError(f"risk policy {location}: the top level must be a mapping of keys")
        if "version" not in document:
            document = {**document, "version": "sha256:" + hashlib.sha256(raw).hexdigest()[:12]}
        merged = _merge(_default_document(), document)
        return cls.from_mapping(merged, f"risk policy {location}")

    @classmethod
    def load_or_default(cls, path: str | Path | None) -> Policy:
        """The run-time path: the file when it is valid, else (logged) the built-in policy."""
        if not path:
            return cls.default()
        try:
            return cls.from_file(path)
        except ConfigurationError as exc:
            _log.warning("%s; using the built-in risk policy", exc)
            return cls.default()

    @classmethod
    def from_mapping(cls, document: Mapping[str, Any], source: str = "risk policy") -> Policy:
        known = {"version", "levels", "categories", "default_category", "classifiers"}
        unknown = sorted(set(document) - known)
        if unknown:
            raise ConfigurationError(
                f"{source}: unknown key(s) {', '.join(map(str, unknown))} (known: {', '.join(sorted(known))})"
            )
        version = document.get("version")
        if (
            not isinstance(version, str | int | float)
            or isinstance(version, bool)
            or not str(version).strip()
        ):
            raise ConfigurationError(f"{source}: 'version' must be a non-empty string")
        bands = _bands(document.get("levels", {}), source)
        categories_doc = document.get("categories", {})
        if not isinstance(categories_doc, Mapping):
            raise ConfigurationError(f"{source}: 'categories' must map category names to settings")
        default_rule = _rule(
            document.get("default_category", {}), CategoryRule(), f"{source}: default_category"
        )
        categories = {
            str(name): _rule(value, default_rule, f"{source}: categories.{name}")
            for name, value in categories_doc.items()
        }
        classifiers = document.get("classifiers", {})
        if not isinstance(classifiers, Mapping):
            raise ConfigurationError(f"{source}: 'classifiers' must be a mapping")
        disabled = classifiers.get("disabled", [])
        if not isinstance(disabled, list) or not all(isinstance(x, str) for x in disabled):
            raise ConfigurationError(f"{source}: classifiers.disabled must be a list of classifier names")
        entry_points = classifiers.get("entry_points", True)
        if not isinstance(entry_points, bool):
            raise ConfigurationError(f"{source}: classifiers.entry_points must be true or false")
        options: dict[str, Mapping[str, Any]] = {}
        for name, value in classifiers.items():
            if name in ("disabled", "entry_points"):
                continue
            if not isinstance(value, Mapping):
                raise ConfigurationError(f"{source}: classifiers.{name} must be a mapping of options")
            options[str(name)] = dict(value)
        return cls(
            version=str(version).strip(),
            bands=bands,
            categories=categories,
            default_rule=default_rule,
            disabled=frozenset(disabled),
            entry_points=entry_points,
            options=options,
            source=source,
        )

    # ---------------------------------------------------------------------------------------------
    # Use
    # ---------------------------------------------------------------------------------------------
    def rule(self, category: str) -> CategoryRule:
        return self.categories.get(category, self.default_rule)

    def threshold(self, category: str) -> float:
        return self.rule(category).threshold

    def level_of(self, score: float) -> str:
        level = LEVELS[0]
        for name, lower in self.bands:
            if score >= lower:
                level = name
        return level

    @cached_property
    def _nothing_found(self) -> Assessment:
        """The assessment of most interactions, made once (it is immutable)."""
        return Assessment(0.0, self.level_of(0.0), (), _EMPTY, _EMPTY, self.version)

    def evaluate(
        self, signals: Iterable[Signal], failed: Mapping[str, Iterable[str]] | None = None
    ) -> Assessment:
        """Combine signals (several per category allowed: the highest score counts, reasons are joined)."""
        if not failed and type(signals) is list and not signals:  # nothing found: most interactions
            return self._nothing_found
        scores: dict[str, float] = {}
        reasons: dict[str, list[str]] = {}
        for signal in signals:
            category = signal.category
            if signal.score > scores.get(category, -1.0):
                scores[category] = signal.score
            bucket = reasons.setdefault(category, [])
            for reason in signal.reasons:
                if reason not in bucket:
                    bucket.append(reason)
        for name, categories in (failed or {}).items():
            for category in categories:
                scores.setdefault(category, 0.0)
                reasons.setdefault(category, []).append(f"classifier_error:{name}")
        overall = 0.0
        crossed: list[str] = []
        level_rank = 0
        for category, score in scores.items():
            rule = self.rule(category)
            overall = max(overall, min(1.0, rule.weight * score))
            if score > 0.0 and score >= rule.threshold:
                crossed.append(category)
                level_rank = max(level_rank, _RANK[rule.level])
        level_rank = max(level_rank, _RANK[self.level_of(overall)])
        if len(crossed) > 1:
            crossed.sort(key=lambda c: (_ORDER.get(c, len(_ORDER)), c))
        return Assessment(
            score=round(overall, 4),
            level=LEVELS[level_rank],
            categories=tuple(crossed),
            scores={c: round(s, 4) for c, s in scores.items() if s > 0.0},
            reasons={c: tuple(r) for c, r in reasons.items() if r},
            policy_version=self.version,
            failed=tuple(failed or ()),
        )


_ORDER: Final = {name: index for index, name in enumerate(RISK_CATEGORIES_ALL)}
_EMPTY: Final[Mapping[str, Any]] = MappingProxyType({})


def _default_document() -> dict[str, Any]:
    text = resources.files("llm_soc2.risk").joinpath("data/policy.yaml").read_text(encoding="utf-8")
    return _cached_default(text)


_DEFAULT_CACHE: dict[str, dict[str, Any]] = {}


def _cached_default(text: str) -> dict[str, Any]:
    document = _DEFAULT_CACHE.get(text)
    if document is None:
        document = yaml.safe_load(text)
        _DEFAULT_CACHE[text] = document
    return copy.deepcopy(document)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, recursively for mappings; lists and scalars replace."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _number(value: Any, where: str, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigurationError(f"{where} must be a number between {low} and {high} (got {value!r})")
    if not low <= float(value) <= high:
        raise ConfigurationError(f"{where} must be between {low} and {high} (got {value!r})")
    return float(value)


def _rule(value: Any, base: CategoryRule, where: str) -> CategoryRule:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where} must be a mapping with threshold, weight and level")
    unknown = sorted(set(value) - {"threshold", "weight", "level"})
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown key(s) {', '.join(map(str, unknown))} (threshold, weight, level)"
        )
    level = value.get("level", base.level)
    if level not in _RANK:
        raise ConfigurationError(f"{where}.level must be one of {', '.join(LEVELS)} (got {level!r})")
    return CategoryRule(
        threshold=_number(value.get("threshold", base.threshold), f"{where}.threshold"),
        weight=_number(value.get("weight", base.weight), f"{where}.weight", 0.0, 10.0),
        level=level,
    )


def _bands(value: Any, source: str) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{source}: 'levels' must map medium/high/critical to score lower bounds")
    unknown = sorted(set(value) - set(LEVELS[1:]))
    if unknown:
        raise ConfigurationError(
            f"{source}: levels: unknown level(s) {', '.join(map(str, unknown))} (medium, high, critical)"
        )
    bands = []
    previous = 0.0
    for level in LEVELS[1:]:
        if level not in value:
            continue
        bound = _number(value[level], f"{source}: levels.{level}")
        if bound <= previous:
            raise ConfigurationError(
                f"{source}: levels must increase: levels.{level}={bound} is not above {previous}"
            )
        previous = bound
        bands.append((level, bound))
    return tuple(bands)
