"""Settings accept what a Python user passes: a str where a path is expected."""

from __future__ import annotations

from pathlib import Path

from llm_soc2.config import Settings


def test_a_str_data_dir_is_a_path(tmp_path: Path) -> None:
    for settings in (Settings(data_dir=str(tmp_path)), Settings.from_env({}, data_dir=str(tmp_path))):
        assert settings.data_dir == tmp_path
        assert len(settings.deployment_key()) == 32  # the key file is created under it
    assert (tmp_path / "secret.key").exists()
