"""Settings that come from outside the app (the environment's SMTP server, the entitlements
file): no page proposes their changes, so the app compares what it is given with the last
approved value (the state database's `approved_settings`) and proposes a difference itself.

The maker of such a change is `SYSTEM` ("the app"), never a person: whoever edited the
environment or the file did it outside the app, and the app cannot tell who. Any admin may
therefore approve it (nobody signs in as "the app"; one who does is refused as its maker), and
until one does, the approved value stays in force. A value proposed once is not proposed
again while that change waits or after it was rejected: a rejection stands until the
environment or the file changes again."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from copilot.approvals.model import PendingChange
from copilot.approvals.service import SYSTEM, Approvals

__all__ = ["Standing", "digest", "reconcile"]

# Enough of the kind's history to find the latest proposal of the same value.
_HISTORY = 50


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Standing:
    """How the value the app is given stands: in force (approved), or not, and the change
    that proposes it (pending, or rejected)."""

    in_force: bool
    change: PendingChange | None = None

    @property
    def rejected(self) -> bool:
        return self.change is not None and self.change.state == "rejected"


def reconcile(approvals: Approvals, kind: str, value: str, *, payload: Mapping[str, Any],
              summary: str, adopt_first: bool) -> Standing:
    """Compare `value` (canonical text) with the approved value of `kind`, proposing it as a
    change of `kind` made by the app when it differs. The first value ever seen is adopted
    when `adopt_first` (audited as adopted), else proposed like any other."""
    approved = approvals.store.approved(kind)
    if approved is None and adopt_first:
        approvals.store.set_approved(kind, value, by=SYSTEM)
        approvals.recorder.record(
            approvals.kinds[kind].channel, f"{kind} adopted (the first one seen)", by=SYSTEM,
            details={"kind": kind, "sha256": digest(value)})
        return Standing(True)
    if approved is not None and approved.value == value:
        for change in approvals.pending(kind):  # proposed, then changed back
            approvals.supersede(change, f"the {kind} went back to the approved one")
        return Standing(True)
    mine = digest(value)
    latest = next((c for c in approvals.store.changes(kind=kind, limit=_HISTORY)
                   if c.payload.get("sha256") == mine), None)
    if latest is not None and latest.state in ("pending", "rejected"):
        return Standing(False, latest)
    # A newer proposal of the same target supersedes one still waiting for an older value.
    return Standing(False, approvals.propose_for_app(kind, {**payload, "sha256": mine},
                                                     summary=summary))
