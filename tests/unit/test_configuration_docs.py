"""The configuration is documented once: every variable the code reads is in ``config.VARIABLES``, and
the README's table is exactly what ``llm-soc2 config --markdown`` prints."""

from __future__ import annotations

import re
from pathlib import Path

from llm_soc2.config import VARIABLES, markdown_table

ROOT = Path(__file__).resolve().parents[2]
START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"


def test_readme_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index(START) + len(START) : readme.index(END)].strip()
    assert table == markdown_table(), "regenerate the README table with `llm-soc2 config --markdown`"


def test_every_variable_the_code_reads_is_documented() -> None:
    documented = {variable.name for variable in VARIABLES}
    read: set[str] = set()
    for path in (ROOT / "src" / "llm_soc2").rglob("*.py"):
        read.update(re.findall(r"[\"'](LLM_SOC2_[A-Z0-9_]+)[\"']", path.read_text()))
    assert read - documented == set()
    assert len(documented) == len(VARIABLES)  # no duplicates
