"""One exception hierarchy. Nothing here is ever raised into an instrumented application: these are for
the CLI, the report and users who call the library parts directly."""

from __future__ import annotations


class LLMSoc2Error(Exception):
    """Base class of every error llm-soc2 raises on purpose. The message says what to do."""


class ConfigurationError(LLMSoc2Error):
    """A setting, file or key is missing or invalid."""


class StoreError(LLMSoc2Error):
    """The audit store cannot be opened, read or written."""


class VerificationError(LLMSoc2Error):
    """An audit log, proof, checkpoint or evidence bundle failed verification."""


class SourceError(LLMSoc2Error):
    """A report source (audit log, Prometheus, Grafana) is unreachable or answered badly."""
