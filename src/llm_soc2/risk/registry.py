"""The classifier registry: the built-in classifiers, plus plugins from the ``llm_soc2.classifiers``
entry-point group, minus those the policy disables.

A plugin package registers a class (instantiated with no arguments, or through a ``from_options(options)``
classmethod that receives ``classifiers.<name>`` from the risk policy), a factory function, or an
instance::

    # pyproject.toml of the plugin
    [project.entry-points."llm_soc2.classifiers"]
    competitor_mentions = "acme_risk.competitors:CompetitorClassifier"

A plugin whose ``name`` equals a built-in's replaces it. A plugin that cannot be loaded is logged and
skipped at run time; :func:`load_entry_point` raises for tools that want to know.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import metadata
from typing import Any, Final

from llm_soc2.errors import ConfigurationError
from llm_soc2.risk.base import Classifier
from llm_soc2.risk.grounding import GroundednessClassifier
from llm_soc2.risk.harm import HarmfulContentClassifier
from llm_soc2.risk.injection import PromptInjectionClassifier
from llm_soc2.risk.leakage import DataLeakageClassifier
from llm_soc2.risk.output_schema import OutputSchemaClassifier
from llm_soc2.risk.policy import Policy
from llm_soc2.risk.refusal import RefusalClassifier
from llm_soc2.risk.truncation import TruncationClassifier

_log = logging.getLogger(__name__)

ENTRY_POINT_GROUP: Final = "llm_soc2.classifiers"

# name -> factory(options from the policy). Order is the order the engine runs them in.
BUILTIN: Final[dict[str, Callable[[Mapping[str, Any]], Classifier]]] = {
    PromptInjectionClassifier.name: lambda options: PromptInjectionClassifier(),
    DataLeakageClassifier.name: DataLeakageClassifier.from_options,
    HarmfulContentClassifier.name: HarmfulContentClassifier.from_options,
    RefusalClassifier.name: lambda options: RefusalClassifier(off_topic=bool(options.get("off_topic", True))),
    TruncationClassifier.name: lambda options: TruncationClassifier(),
    GroundednessClassifier.name: lambda options: GroundednessClassifier(),
    OutputSchemaClassifier.name: lambda options: OutputSchemaClassifier(),
}


def check_classifier(candidate: object, origin: str) -> Classifier:
    """``candidate`` if it has the classifier interface; ConfigurationError saying what is missing if not."""
    name = getattr(candidate, "name", None)
    categories = getattr(candidate, "categories", None)
    classify = getattr(candidate, "classify", None)
    problems = []
    if not isinstance(name, str) or not name:
        problems.append("a non-empty str `name`")
    if (
        not isinstance(categories, tuple | list)
        or not categories
        or not all(isinstance(c, str) for c in categories)
    ):
        problems.append("`categories`, a non-empty tuple of str")
    if not callable(classify):
        problems.append("a `classify(interaction)` method")
    if problems:
        raise ConfigurationError(f"{origin}: not a classifier, it needs {', '.join(problems)}")
    assert isinstance(candidate, Classifier)
    return candidate


def instantiate(obj: object, options: Mapping[str, Any], origin: str) -> Classifier:
    """A classifier from what an entry point (or a user) provides: a class, a factory or an instance."""
    if inspect.isclass(obj):
        from_options = getattr(obj, "from_options", None)
        instance = from_options(options) if callable(from_options) else obj()
        return check_classifier(instance, origin)
    if callable(obj) and not callable(getattr(obj, "classify", None)):
        return check_classifier(obj(), origin)
    return check_classifier(obj, origin)


def load_entry_point(
    entry_point: metadata.EntryPoint, options: Mapping[str, Any] | None = None
) -> Classifier:
    """Load one entry point as a classifier. Raises ConfigurationError when it cannot be loaded."""
    origin = f"entry point {entry_point.name} = {entry_point.value}"
    try:
        obj = entry_point.load()
    except Exception as exc:
        raise ConfigurationError(f"{origin}: cannot be imported ({type(exc).__name__}: {exc})") from exc
    try:
        return instantiate(obj, options or {}, origin)
    except ConfigurationError:
        raise
    except Exception as exc:
        raise ConfigurationError(f"{origin}: cannot be instantiated ({type(exc).__name__}: {exc})") from exc


def discover(
    policy: Policy | None = None,
    entry_points: Iterable[metadata.EntryPoint] | None = None,
) -> list[Classifier]:
    """Classifiers registered under ``llm_soc2.classifiers``; broken ones are logged and skipped."""
    found: list[Classifier] = []
    if entry_points is None:
        try:
            entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
        except Exception as exc:  # a broken distribution's metadata must not stop the application
            _log.warning("cannot list %s entry points: %s", ENTRY_POINT_GROUP, exc)
            return found
    for entry_point in entry_points:
        options = (policy.options.get(entry_point.name, {}) if policy else {}) or {}
        try:
            found.append(load_entry_point(entry_point, options))
        except ConfigurationError as exc:
            _log.warning("%s; skipped", exc)
    return found


class ClassifierRegistry:
    """An ordered set of classifiers, one per name."""

    def __init__(self, classifiers: Iterable[Classifier] = ()) -> None:
        self._classifiers: dict[str, Classifier] = {}
        for classifier in classifiers:
            self.add(classifier, replace=True)

    @classmethod
    def from_policy(
        cls,
        policy: Policy | None = None,
        *,
        entry_points: Iterable[metadata.EntryPoint] | None = None,
    ) -> ClassifierRegistry:
        """Built-ins configured by the policy, then plugins (if the policy allows), minus disabled ones.

        Raises ConfigurationError when a built-in's options are invalid (a lexicon with a bad phrase ...).
        """
        policy = policy or Policy.default()
        registry = cls()
        for name, factory in BUILTIN.items():
            if name not in policy.disabled:
                try:
                    registry.add(factory(policy.options.get(name, {})))
                except ConfigurationError:
                    raise
                except Exception as exc:
                    raise ConfigurationError(f"{policy.source}: classifiers.{name}: {exc}") from exc
        if policy.entry_points or entry_points is not None:
            for plugin in discover(policy, entry_points):
                if plugin.name not in policy.disabled:
                    registry.add(plugin, replace=True)
        return registry

    def add(self, classifier: Classifier, *, replace: bool = False) -> None:
        checked = check_classifier(classifier, f"classifier {getattr(classifier, 'name', classifier)!r}")
        if checked.name in self._classifiers and not replace:
            raise ConfigurationError(f"a classifier named {checked.name!r} is already registered")
        self._classifiers[checked.name] = checked

    def remove(self, name: str) -> None:
        self._classifiers.pop(name, None)

    def get(self, name: str) -> Classifier | None:
        return self._classifiers.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._classifiers)

    def __iter__(self) -> Iterator[Classifier]:
        return iter(tuple(self._classifiers.values()))

    def __len__(self) -> int:
        return len(self._classifiers)

    def __contains__(self, name: object) -> bool:
        return name in self._classifiers
