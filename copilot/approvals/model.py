"""A pending change and the errors of deciding one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from copilot.core.errors import CopilotError

__all__ = ["ApprovalRefused", "ChangeState", "PendingChange", "SelfApproval", "StaleChange"]

# superseded: a newer proposal of the same thing replaced it, or its base moved (stale).
ChangeState = Literal["pending", "approved", "rejected", "superseded", "withdrawn"]


class ApprovalRefused(CopilotError):
    """A change cannot be approved, rejected or withdrawn now; the message says why."""


class SelfApproval(ApprovalRefused):
    """The maker of a change tried to approve it: four eyes need a second person."""


class StaleChange(ApprovalRefused):
    """What the change was made against has changed since: applying it would overwrite
    newer work, so it is refused (and marked superseded) instead."""


@dataclass(frozen=True)
class PendingChange:
    """One proposed change: what, the payload that applies it, its diff, who and when."""

    kind: str
    summary: str  # one line, plain text
    payload: dict[str, Any] = field(repr=False)  # JSON; never a secret in clear
    diff: str  # before -> after, a unified diff, plain text
    maker: str
    target: str = ""  # what it changes (a newer proposal of the same target supersedes it)
    base: str = ""  # fingerprint of what it was made against; moved = stale
    id: int | None = None
    created_at: str = ""
    state: ChangeState = "pending"
    checker: str = ""
    decided_at: str = ""
    reason: str = ""

    @property
    def diff_sha256(self) -> str:
        """The diff's hash, as the audit log records it: what exactly was approved."""
        return hashlib.sha256(self.diff.encode("utf-8")).hexdigest()

    @property
    def payload_json(self) -> str:
        return json.dumps(self.payload, sort_keys=True, ensure_ascii=False)

    @property
    def pending(self) -> bool:
        return self.state == "pending"
