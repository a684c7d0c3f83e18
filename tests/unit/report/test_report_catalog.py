"""The criteria catalogue: one control per criterion, a check for each, our own wording."""

from __future__ import annotations

import importlib

from llm_soc2.report import criteria as cat
from llm_soc2.report.checks import _CHECKS, CHECK_MODULES

POPULATIONS = {
    cat.POP_INTERACTIONS, cat.POP_RISK_EVENTS, cat.POP_PII_FINDINGS, cat.POP_DRIFT, cat.POP_CHANGES,
    cat.POP_KEYS, cat.POP_INCIDENTS, cat.POP_DISPOSALS, cat.POP_CHECKPOINTS, cat.POP_ACCOUNTS,
}  # fmt: skip


def test_each_criterion_has_one_control_and_one_check() -> None:
    for module in CHECK_MODULES:
        importlib.import_module(f"llm_soc2.report.checks.{module}")
    ids = [c.id for c in cat.CRITERIA]
    assert len(ids) == len(set(ids))
    assert sorted(c.criterion for c in cat.CONTROLS) == sorted(ids)
    assert set(_CHECKS) == set(ids)
    for control in cat.CONTROLS:
        assert control.population in POPULATIONS
        assert set(control.required) | set(control.optional) <= set(cat.SOURCES)
        assert control.rule.endswith(".")


def test_titles_are_short_paraphrases() -> None:
    for criterion in cat.CRITERIA:
        assert criterion.title.startswith("The entity")
        assert len(criterion.title) < 110
        assert criterion.group == cat.GROUPS[criterion.id.split(".")[0]]
