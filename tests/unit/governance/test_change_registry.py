from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from llm_soc2.errors import ConfigurationError
from llm_soc2.governance.registry import (
    ABSENT,
    INVALID,
    MODEL,
    PRESENT,
    PROMPT,
    Approval,
    PendingWrite,
    Registry,
    RegistryWatcher,
    guess_kind,
    read_registry,
)

HASH = "0123456789abcdef"

VALID = f"""
version: 1
prompts:
  {HASH}:
    approver: alice
    ticket: CHG-1
    date: 2025-06-01
models:
  gpt-4o-2024-08-06: {{approver: bob, ticket: CHG-2, date: '2025-06-02', note: rollout}}
"""


def test_a_registry_lists_approved_prompts_and_models(tmp_path: Path) -> None:
    path = tmp_path / "reg.yaml"
    path.write_text(VALID)
    registry = Registry.load(path)
    assert registry.is_approved(PROMPT, HASH)
    assert registry.is_approved(MODEL, "gpt-4o-2024-08-06")
    assert not registry.is_approved(MODEL, "gpt-4o")
    assert registry.get(PROMPT, HASH) == Approval(PROMPT, HASH, "alice", "CHG-1", "2025-06-01")
    assert len(registry.sha256) == 64


def test_dump_round_trips_and_keeps_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "reg.yaml"
    path.write_text(VALID + "owners: [team-a]\n")
    registry = Registry.load(path).with_approval(Approval(MODEL, "claude-x", "carol", "CHG-3", "2025-06-03"))
    again = Registry.parse(registry.dump(), path)
    assert again.approvals == registry.approvals
    assert again.extra == {"owners": ["team-a"]}
    assert registry.dump().startswith(b"# Approved prompt templates")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("prompts: [1, 2]", "must be a mapping"),
        ("- a\n- b", "top level"),
        ("version: 2", "unsupported registry version"),
        ("prompts:\n  nothex:\n    {approver: a, ticket: b, date: 2025-01-01}", "not a prompt template hash"),
        (f"prompts:\n  {HASH}: {{ticket: b, date: 2025-01-01}}", "'approver' is missing"),
        (f"prompts:\n  {HASH}: {{approver: a, ticket: b, date: soon}}", "not an ISO date"),
        ("prompts: {a: [", "not valid YAML"),
    ],
)
def test_invalid_registries_are_rejected_with_the_reason(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "reg.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=reason):
        Registry.load(path)


def test_ids_are_guessed_and_a_missing_file_is_an_empty_registry(tmp_path: Path) -> None:
    assert guess_kind(HASH) == PROMPT
    assert guess_kind("gpt-4o") == MODEL
    assert len(read_registry(tmp_path / "none.yaml")) == 0


def test_pending_write_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "reg.yaml"
    path.write_text(VALID)
    before = path.read_bytes()
    pending = PendingWrite(Registry.load(path).with_approval(Approval(MODEL, "m", "a", "T", "2025-01-01")))
    assert path.read_bytes() == before  # nothing visible until commit
    pending.discard()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["reg.yaml"]
    pending = PendingWrite(Registry.load(path).with_approval(Approval(MODEL, "m", "a", "T", "2025-01-01")))
    pending.commit()
    assert Registry.load(path).is_approved(MODEL, "m")


def test_the_watcher_reloads_on_change_absent_and_invalid(tmp_path: Path) -> None:
    path = tmp_path / "reg.yaml"
    watcher = RegistryWatcher(path, interval=0.0)
    assert watcher.state == ABSENT
    assert watcher.current is None
    path.write_text(VALID)
    watcher.reload()
    assert watcher.state == PRESENT
    assert watcher.current is not None
    assert watcher.current.is_approved(PROMPT, HASH)
    path.write_text("prompts: {a: [")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    watcher.reload()
    assert watcher.state == INVALID
    assert watcher.current is not None  # fail closed: nothing approved
    assert len(watcher.current) == 0
    path.unlink()
    watcher.reload()
    assert watcher.state == ABSENT
    assert watcher.current is None


def test_poke_reloads_in_the_background_at_most_once_per_interval(tmp_path: Path) -> None:
    path = tmp_path / "reg.yaml"
    watcher = RegistryWatcher(path, interval=0.2)
    path.write_text(VALID)
    watcher.poke()  # not due yet
    assert watcher.current is None
    time.sleep(0.25)
    watcher.poke()
    deadline = time.monotonic() + 5
    while watcher.current is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert watcher.current is not None
    assert watcher.current.is_approved(PROMPT, HASH)
