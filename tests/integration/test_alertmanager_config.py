"""``amtool`` on the committed Alertmanager example: the config and its template load, and routing sends
both severities of llm-soc2 alerts to the PagerDuty receiver. Without amtool the tests fail in CI and are
skipped locally."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from llm_soc2.provisioning import alerting
from support.prometheus import require_binary

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def amtool() -> str:
    return require_binary("amtool")


AM_DIR = REPO / "alert_rules" / "alertmanager"


def localised_config(tmp_path: Path) -> Path:
    """The committed config with only its two file paths pointing into ``tmp_path``."""
    shutil.copy(AM_DIR / "llm-soc2.tmpl", tmp_path / "llm-soc2.tmpl")
    (tmp_path / "pagerduty_integration_key").write_text("0123456789abcdef0123456789abcdef\n")
    config = yaml.safe_load((AM_DIR / "alertmanager.yml").read_text())
    assert config["templates"] == [alerting.TEMPLATE_FILE]
    config["templates"] = [str(tmp_path / "llm-soc2.tmpl")]
    for receiver in config["receivers"]:
        for pagerduty in receiver["pagerduty_configs"]:
            assert pagerduty["routing_key_file"] == alerting.PAGERDUTY_KEY_FILE
            pagerduty["routing_key_file"] = str(tmp_path / "pagerduty_integration_key")
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def test_amtool_checks_the_committed_config(amtool: str) -> None:
    result = subprocess.run([amtool, "check-config", str(AM_DIR / "alertmanager.yml")],
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_parses_the_template(amtool: str, tmp_path: Path) -> None:
    config = localised_config(tmp_path)
    result = subprocess.run([amtool, "check-config", str(config)], capture_output=True, text=True, timeout=60,
                            check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 templates" in result.stdout


@pytest.mark.parametrize("severity", ["critical", "warning"])
def test_llm_soc2_alerts_route_to_pagerduty(amtool: str, tmp_path: Path, severity: str) -> None:
    config = localised_config(tmp_path)
    result = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config}", f"--verify.receivers={alerting.RECEIVER}",
         "alertname=LLMUnknownApiKey", f"severity={severity}", "soc2_criterion=CC6.1", "service_name=support-bot"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert alerting.RECEIVER in result.stdout
