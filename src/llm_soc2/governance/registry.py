"""The approval registry: ``llm-soc2.prompts.yaml``, checked into the application's repository.

It lists the prompt templates (by ``llm_soc2.prompt.template_hash``) and model versions (by
``gen_ai.response.model``) approved for production, each with approver, ticket and date::

    # Approved prompt templates and model versions. Edit with `llm-soc2 changes approve`.
    version: 1
    prompts:
      3f2a9c0d1b7e4a55:
        approver: alice
        ticket: CHG-123
        date: '2025-06-01'
        note: support bot v2 system prompt
    models:
      gpt-4o-2024-08-06:
        approver: bob
        ticket: CHG-124
        date: '2025-06-02'

:class:`Registry` is an immutable snapshot; :class:`RegistryWatcher` keeps the current snapshot for
the span processor, reloading it on a background thread when the file's mtime/size/inode change (checked
at most every ``interval`` seconds), so the app thread never touches the file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from llm_soc2.errors import ConfigurationError
from llm_soc2.fingerprint import FINGERPRINT_HEX_CHARS
from llm_soc2.governance._background import Throttled

_log = logging.getLogger(__name__)

PROMPT: Final = "prompt"
MODEL: Final = "model"
KINDS: Final = (PROMPT, MODEL)
_SECTIONS: Final = {PROMPT: "prompts", MODEL: "models"}
_HASH = re.compile(rf"^[0-9a-f]{{{FINGERPRINT_HEX_CHARS}}}$")
_MAX_ID = 256
_HEADER: Final = (
    "# Approved prompt templates (llm_soc2.prompt.template_hash) and model versions (gen_ai.response.model).\n"
    "# Edit with `llm-soc2 changes approve <hash-or-model> --ticket CHG-123 --approver alice`.\n"
)


def guess_kind(identifier: str) -> str:
    """``prompt`` for a template hash (16 lower-case hex characters), ``model`` otherwise."""
    return PROMPT if _HASH.match(identifier) else MODEL


def validate_id(kind: str, identifier: str) -> str:
    """The identifier, checked: a template hash must look like one; a model name is one printable token."""
    if kind not in KINDS:
        raise ConfigurationError(f"unknown change kind {kind!r}: use prompt or model")
    value = identifier.strip()
    if not value:
        raise ConfigurationError("the change id is empty")
    if len(value) > _MAX_ID:
        raise ConfigurationError(f"the change id is longer than {_MAX_ID} characters")
    if kind == PROMPT and not _HASH.match(value):
        raise ConfigurationError(
            f"{value!r} is not a prompt template hash ({FINGERPRINT_HEX_CHARS} lower-case hex characters, "
            "as in llm_soc2.prompt.template_hash)"
        )
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ConfigurationError(f"{value!r} contains whitespace or control characters")
    return value


@dataclass(frozen=True)
class Approval:
    """One approved version."""

    kind: str
    id: str
    approver: str
    ticket: str
    date: str  # ISO date
    note: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "id": self.id,
            "approver": self.approver,
            "ticket": self.ticket,
            "date": self.date,
            "note": self.note,
        }


@dataclass(frozen=True)
class Registry:
    """An immutable snapshot of the registry file."""

    path: Path
    approvals: Mapping[tuple[str, str], Approval] = field(default_factory=dict)
    sha256: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # unknown top-level keys, kept on save

    def is_approved(self, kind: str, identifier: str) -> bool:
        return (kind, identifier) in self.approvals

    def get(self, kind: str, identifier: str) -> Approval | None:
        return self.approvals.get((kind, identifier))

    def __len__(self) -> int:
        return len(self.approvals)

    # -- reading --------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Registry:
        """Read and validate the file. Raises ``FileNotFoundError`` when it does not exist and
        :class:`ConfigurationError` (naming the entry) when it is not a valid registry."""
        where = Path(path)
        data = where.read_bytes()
        return cls.parse(data, where)

    @classmethod
    def parse(cls, data: bytes, path: Path) -> Registry:
        try:
            doc = yaml.safe_load(data.decode("utf-8")) if data.strip() else {}
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"{path}: not valid YAML: {exc}") from exc
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise ConfigurationError(f"{path}: the top level must be a mapping with 'prompts' and 'models'")
        version = doc.get("version", 1)
        if version != 1:
            raise ConfigurationError(f"{path}: unsupported registry version {version!r} (expected 1)")
        approvals: dict[tuple[str, str], Approval] = {}
        for kind, section in _SECTIONS.items():
            entries = doc.get(section) or {}
            if not isinstance(entries, dict):
                raise ConfigurationError(f"{path}: '{section}' must be a mapping of id -> approval")
            for raw_id, entry in entries.items():
                where = f"{path}: {section}.{raw_id}"
                try:
                    identifier = validate_id(kind, str(raw_id))
                except ConfigurationError as exc:
                    raise ConfigurationError(f"{where}: {exc}") from None
                if not isinstance(entry, dict):
                    raise ConfigurationError(f"{where}: must be a mapping with approver, ticket and date")
                approvals[(kind, identifier)] = _approval(kind, identifier, entry, where)
        extra = {k: v for k, v in doc.items() if k not in ("version", *_SECTIONS.values())}
        return cls(path, approvals, hashlib.sha256(data).hexdigest(), extra)

    # -- writing --------------------------------------------------------------------------------------
    def with_approval(self, approval: Approval) -> Registry:
        approvals = dict(self.approvals)
        approvals[(approval.kind, approval.id)] = approval
        return Registry(self.path, approvals, "", self.extra)

    def dump(self) -> bytes:
        doc: dict[str, Any] = {"version": 1}
        for kind, section in _SECTIONS.items():
            entries = {
                a.id: {
                    "approver": a.approver,
                    "ticket": a.ticket,
                    "date": a.date,
                    **({"note": a.note} if a.note else {}),
                }
                for (k, _), a in sorted(self.approvals.items()) if k == kind
            }  # fmt: skip
            doc[section] = entries
        doc.update(self.extra)
        body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False)
        return (_HEADER + body).encode("utf-8")


def _approval(kind: str, identifier: str, entry: Mapping[str, Any], where: str) -> Approval:
    values: dict[str, str] = {}
    for name in ("approver", "ticket", "date"):
        value = entry.get(name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(f"{where}: '{name}' is missing or empty")
        values[name] = value.strip()
    try:
        dt.date.fromisoformat(values["date"][:10])
    except ValueError:
        raise ConfigurationError(
            f"{where}: date {values['date']!r} is not an ISO date (YYYY-MM-DD)"
        ) from None
    note = entry.get("note", "")
    return Approval(kind, identifier, values["approver"], values["ticket"], values["date"], str(note or ""))


def read_registry(path: str | os.PathLike[str]) -> Registry:
    """The registry at ``path``, or an empty one if the file does not exist."""
    try:
        return Registry.load(path)
    except FileNotFoundError:
        return Registry(Path(path))


class PendingWrite:
    """A registry written to a temporary file beside the target; ``commit()`` renames it into place
    (atomic), ``discard()`` removes it. Lets the caller record the approval in the audit log between
    the two, so neither happens without the other."""

    def __init__(self, registry: Registry) -> None:
        self.data = registry.dump()
        self.sha256 = hashlib.sha256(self.data).hexdigest()
        self.path = registry.path
        directory = self.path.parent if str(self.path.parent) else Path(".")
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        except OSError as exc:
            raise ConfigurationError(f"cannot write the registry next to {self.path}: {exc}") from exc
        self._tmp = Path(name)
        with os.fdopen(fd, "wb") as handle:
            handle.write(self.data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
            os.chmod(self._tmp, mode)

    def commit(self) -> None:
        try:
            os.replace(self._tmp, self.path)
        except OSError as exc:
            raise ConfigurationError(f"cannot replace {self.path}: {exc}") from exc

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._tmp.unlink()


# ------------------------------------------------------------------------------------------------------
# The running application's view
# ------------------------------------------------------------------------------------------------------
ABSENT: Final = "absent"
PRESENT: Final = "present"
INVALID: Final = "invalid"


class RegistryWatcher:
    """The current registry for the span processor.

    ``current`` is ``None`` when the file does not exist (no change-management control configured).
    A file that exists but cannot be read or parsed yields an *empty* registry (nothing approved: fail
    closed, and logged); a later valid version replaces it. Loading happens once at construction and
    then on a background thread, at most every ``interval`` seconds, when ``poke()`` finds it due.
    """

    def __init__(self, path: str | os.PathLike[str], *, interval: float = 5.0) -> None:
        self.path = Path(path)
        self.current: Registry | None = None
        self.state = ABSENT
        self.error = ""
        self._signature: tuple[int, int, int] | None = None
        self._reload = Throttled(self.reload, interval, name="llm-soc2-registry")
        self.reload()

    def poke(self) -> None:
        self._reload.poke()

    def reload(self) -> None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            if self.state != ABSENT:
                _log.warning(
                    "llm-soc2: the change registry %s was removed; changes are not checked", self.path
                )
            self.current, self.state, self._signature, self.error = None, ABSENT, None, ""
            return
        except OSError as exc:
            self._fail(f"cannot stat {self.path}: {exc}")
            return
        signature = (info.st_mtime_ns, info.st_size, info.st_ino)
        if signature == self._signature:
            return
        try:
            registry = Registry.load(self.path)
        except FileNotFoundError:
            self.current, self.state, self._signature = None, ABSENT, None
            return
        except (OSError, ConfigurationError) as exc:
            self._signature = signature
            self._fail(str(exc))
            return
        self.current, self.state, self._signature, self.error = registry, PRESENT, signature, ""

    def _fail(self, message: str) -> None:
        if message != self.error:
            _log.warning(
                "llm-soc2: change registry unusable, treating every change as unapproved: %s", message
            )
        self.error = message
        self.state = INVALID
        self.current = Registry(self.path)
