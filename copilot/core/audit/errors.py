"""The audit trail's errors: every one means an answer must not be shown."""

from __future__ import annotations

from copilot.core.errors import CopilotError

__all__ = ["AuditError", "AuditKeyError"]


class AuditError(CopilotError):
    """The audit log could not be written or read; an answer must not be shown then."""


class AuditKeyError(AuditError):
    """An audit key file is missing, unreadable or does not match its pair."""
