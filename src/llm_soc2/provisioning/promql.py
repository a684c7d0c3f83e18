"""A small PromQL reader: which series and labels an expression refers to, and Grafana-variable expansion.

Not a full parser: enough to list every selector (metric name + label matchers) and every label named in
``by``/``without``/``on``/``ignoring``/``group_left``/``group_right``, so a test can check each against
the metric contract. Syntax errors are left to Prometheus, which the integration tests run every query on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

_TOKEN: Final = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<duration>\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*)
  | (?P<number>0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>==|!=|=~|!~|<=|>=|[-+*/%^<>=@])
  | (?P<punct>[(){}\[\],])
    """,
    re.VERBOSE,
)

GROUPING: Final = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
AGGREGATORS: Final = frozenset(
    {
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    }
)
KEYWORDS: Final = GROUPING | frozenset(
    {"bool", "offset", "and", "or", "unless", "atan2", "Inf", "NaN", "inf", "nan"}
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


@dataclass(frozen=True)
class Selector:
    metric: str | None
    matchers: tuple[tuple[str, str, str], ...]  # (label, operator, value)

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(label for label, _, _ in self.matchers if label != "__name__")


@dataclass
class Analysis:
    selectors: list[Selector] = field(default_factory=list)
    grouping: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)

    @property
    def metrics(self) -> set[str]:
        return {s.metric for s in self.selectors if s.metric}


def tokens(expr: str) -> Iterator[Token]:
    position = 0
    while position < len(expr):
        match = _TOKEN.match(expr, position)
        if match is None:
            raise ValueError(f"cannot read PromQL at {position}: {expr[position : position + 40]!r}")
        position = match.end()
        kind = match.lastgroup or ""
        if kind != "space":
            yield Token(kind, match.group())


def _unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    return bytes(text[1:-1], "utf-8").decode("unicode_escape")


def analyse(expr: str) -> Analysis:
    """The selectors, grouping labels and functions of a PromQL expression."""
    items = list(tokens(expr))
    result = Analysis()
    i = 0
    while i < len(items):
        token = items[i]
        following = items[i + 1] if i + 1 < len(items) else None
        if token.kind == "punct" and token.text == "[":  # range / subquery: skip to the closing bracket
            while i < len(items) and items[i].text != "]":
                i += 1
        elif (
            token.kind == "ident"
            and token.text in GROUPING
            and following is not None
            and following.text == "("
        ):
            i += 2
            while i < len(items) and items[i].text != ")":
                if items[i].kind == "ident":
                    result.grouping.add(items[i].text)
                i += 1
        elif (
            token.kind == "ident"
            and token.text in AGGREGATORS
            and following is not None
            and (following.text in ("(", "by", "without"))
        ) or (
            token.kind == "ident"
            and following is not None
            and following.text == "("
            and token.text not in KEYWORDS
        ):
            result.functions.add(token.text)
        elif token.kind == "ident" and token.text not in KEYWORDS:
            if following is not None and following.text == "{":
                matchers, i = _matchers(items, i + 1)
                result.selectors.append(Selector(token.text, matchers))
                continue
            result.selectors.append(Selector(token.text, ()))
        elif token.kind == "punct" and token.text == "{":
            matchers, i = _matchers(items, i)
            names = [value for label, op, value in matchers if label == "__name__" and op == "="]
            result.selectors.append(Selector(names[0] if names else None, matchers))
            continue
        i += 1
    return result


def _matchers(items: list[Token], start: int) -> tuple[tuple[tuple[str, str, str], ...], int]:
    """Read ``{a="b", c=~"d"}`` starting at the ``{``; returns the matchers and the index after ``}``."""
    matchers = []
    i = start + 1
    while i < len(items) and items[i].text != "}":
        if items[i].text == ",":
            i += 1
            continue
        label, op, value = items[i], items[i + 1], items[i + 2]
        if label.kind != "ident" or op.kind != "op" or value.kind != "string":
            raise ValueError(f"bad label matcher near {label.text!r}")
        matchers.append((label.text, op.text, _unquote(value.text)))
        i += 3
    return tuple(matchers), i + 1


_LABEL_VALUES: Final = re.compile(
    r"^\s*label_values\((?:(?P<query>.+),\s*)?(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$"
)


def label_values_query(query: str) -> tuple[str | None, str]:
    """Split a Grafana ``label_values(selector, label)`` variable query into its selector and label."""
    match = _LABEL_VALUES.match(query)
    if match is None:
        raise ValueError(f"not a label_values() query: {query}")
    return match.group("query"), match.group("label")


# Grafana's built-in variables, as the Prometheus datasource substitutes them.
GRAFANA_DEFAULTS: Final[Mapping[str, str]] = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}


def expand_grafana(expr: str, variables: Mapping[str, str] | None = None) -> str:
    """Substitute ``$name`` / ``${name}`` / ``[[name]]`` as Grafana would (defaults: All = ``.*``)."""
    values = {**GRAFANA_DEFAULTS, **(variables or {})}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name not in values:
            raise KeyError(f"no value for Grafana variable ${name} in {expr}")
        return values[name]

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]", replace, expr)
