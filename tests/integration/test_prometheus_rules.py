"""``promtool`` on the committed Prometheus rules: they load, and every alert fires on its bad case and
stays silent on its good case (alert_rules/prometheus/llm-soc2.rules.test.yml, generated from the same
source as the rules). Without promtool the tests fail in CI and are skipped locally."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from support.prometheus import require_binary

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def promtool() -> str:
    return require_binary("promtool")


PROMETHEUS_DIR = REPO / "alert_rules" / "prometheus"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_promtool_check_rules(promtool: str) -> None:
    result = run(promtool, "check", "rules", "llm-soc2.rules.yml", cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    rules = yaml.safe_load((PROMETHEUS_DIR / "llm-soc2.rules.yml").read_text())["groups"][0]["rules"]
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_promtool_unit_tests_pass(promtool: str) -> None:
    result = run(promtool, "test", "rules", "llm-soc2.rules.test.yml", cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_can_fail(promtool: str, tmp_path: Path) -> None:
    """The unit tests are not vacuous: expecting a different value makes promtool fail."""
    for name in ("llm-soc2.rules.yml", "llm-soc2.rules.test.yml"):
        shutil.copy(PROMETHEUS_DIR / name, tmp_path / name)
    tests = yaml.safe_load((tmp_path / "llm-soc2.rules.test.yml").read_text())
    bad_case = next(t for t in tests["tests"] if t["alert_rule_test"][0]["exp_alerts"])
    bad_case["alert_rule_test"][0]["exp_alerts"] = []  # claim the firing alert stays silent
    tests["tests"] = [bad_case]
    (tmp_path / "llm-soc2.rules.test.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = run(promtool, "test", "rules", "llm-soc2.rules.test.yml", cwd=tmp_path)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr


def test_promtool_checks_the_example_stack_config(promtool: str, tmp_path: Path) -> None:
    """examples/stack/prometheus.yml, with its rule file path pointing at the repository's rules."""
    config = yaml.safe_load((REPO / "examples" / "stack" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/rules/llm-soc2.rules.yml"]
    config["rule_files"] = [str(PROMETHEUS_DIR / "llm-soc2.rules.yml")]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    result = run(promtool, "check", "config", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr
