"""Proposing, approving, rejecting and withdrawing changes: the rules of four eyes.

A checker must hold the kind's approving role and must not be its maker; a change whose base
moved since it was proposed is refused as stale (and marked superseded), never applied over
newer work. Approving applies the change through the path that applies it without four eyes.
Every attempt, allowed or refused, is in the audit log with the change id, kind, maker,
checker and the hash of the diff that was decided."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from copilot.approvals.kinds import ChangeKind, Kinds
from copilot.approvals.model import (
    ApprovalRefused,
    ChangeState,
    PendingChange,
    SelfApproval,
    StaleChange,
)
from copilot.approvals.store import ApprovalStore
from copilot.core.access import Access
from copilot.core.audit import Recorder
from copilot.core.audit.record import Outcome
from copilot.core.errors import CopilotError

__all__ = ["SYSTEM", "Approvals"]

log = logging.getLogger(__name__)
SYSTEM = "the app"  # the maker of a change the app proposes itself (SMTP, entitlements)


@dataclass(frozen=True)
class Approvals:
    """Four eyes over the registered `kinds`; `enabled` False applies every change at once."""

    store: ApprovalStore
    recorder: Recorder
    access: Access
    kinds: Kinds
    enabled: bool

    # ---- proposing --------------------------------------------------------------------

    def propose(self, kind: str, payload: Mapping[str, Any], *, summary: str,
                by: str) -> PendingChange:
        """Store a pending change of `kind` made by `by` (who must hold its proposing role,
        else AccessDenied recorded as blocked); audited."""
        spec = self.kinds[kind]
        self.access.check(by, spec.propose_action, f"propose: {summary}",
                          recorder=self.recorder)
        if by == SYSTEM:  # a person signed in under the app's own name proposes nothing
            raise ApprovalRefused(f"{SYSTEM!r} is the app's own name, not a person's.")
        return self._proposed(spec, kind, payload, summary, by)

    def propose_for_app(self, kind: str, payload: Mapping[str, Any], *,
                        summary: str) -> PendingChange:
        """A change the app itself proposes (a setting from the environment or a file
        differs from the approved one); any holder of the approving role decides it."""
        return self._proposed(self.kinds[kind], kind, payload, summary, SYSTEM)

    def _proposed(self, spec: ChangeKind, kind: str, payload: Mapping[str, Any],
                  summary: str, by: str) -> PendingChange:
        data = dict(payload)
        change = self.store.add(PendingChange(
            kind=kind, summary=summary, payload=data, diff=spec.diff(data), maker=by,
            target=spec.target(data), base=spec.base(data)))
        self._audit(spec, change, f"change #{change.id} proposed: {summary}", by=by)
        return change

    # ---- reading ----------------------------------------------------------------------

    def pending(self, kind: str | None = None) -> list[PendingChange]:
        """Changes waiting for a checker, newest first."""
        return self.store.changes(state="pending", kind=kind)

    def decided(self, limit: int = 50) -> list[PendingChange]:
        """The latest changes no longer pending, newest first."""
        return [c for c in self.store.changes(limit=limit + 200) if not c.pending][:limit]

    def get(self, change_id: int) -> PendingChange:
        change = self.store.get(change_id)
        if change is None:
            raise ApprovalRefused(f"There is no change #{change_id}.")
        return change

    def label(self, change: PendingChange) -> str:
        kind = self.kinds.get(change.kind)
        return kind.label if kind is not None else change.kind

    def may_decide(self, user: str, change: PendingChange) -> bool:
        """True when `user` may approve or reject `change`: the approving role, and not
        its maker."""
        kind = self.kinds.get(change.kind)
        return (change.pending and kind is not None and user != change.maker
                and self.access.allows(user, kind.approve_action))

    def may_approve_any(self, user: str) -> bool:
        return any(self.access.allows(user, k.approve_action) for k in self.kinds.values())

    # ---- deciding ---------------------------------------------------------------------

    def approve(self, change_id: int, *, by: str) -> PendingChange:
        """Apply the change as its checker `by`; ApprovalRefused (recorded as blocked) for a
        self-approval, a change no longer pending or a stale one."""
        change, spec = self._decidable(change_id, by, "approve")
        if spec.base(change.payload) != change.base:
            self.store.decide(change_id, "superseded", checker=by,
                              reason="stale: what it changes has changed since")
            reason = (f"Change #{change_id} is stale: the {spec.label.lower()} changed after it "
                      "was proposed, so approving it would overwrite newer work. It is marked "
                      "superseded; propose it again against what is in force now.")
            self._audit(spec, change, f"change #{change_id} refused as stale", by=by,
                        checker=by, outcome="blocked", reason=reason)
            raise StaleChange(reason)
        if not self.store.decide(change_id, "approved", checker=by):
            raise self._gone(spec, change, by)
        try:
            done = spec.apply(change, by)
        except Exception as exc:
            # Not applied: it waits again rather than being marked approved but not in force.
            self.store.decide(change_id, "pending", checker="", was="approved")
            reason = str(exc) if isinstance(exc, CopilotError) else type(exc).__name__
            self._audit(spec, change, f"change #{change_id} approved but not applied", by=by,
                        checker=by, outcome="error", reason=reason)
            raise
        self._audit(spec, change, f"change #{change_id} approved: {change.summary}", by=by,
                    checker=by, reason=done)
        return replace(change, state="approved", checker=by)

    def reject(self, change_id: int, *, by: str, reason: str = "") -> PendingChange:
        """Refuse the change: nothing is applied; its maker sees why."""
        change, spec = self._decidable(change_id, by, "reject")
        return self._close(spec, change, "rejected", by=by, reason=reason)

    def withdraw(self, change_id: int, *, by: str) -> PendingChange:
        """The maker takes back their own pending change."""
        change = self.get(change_id)
        spec = self.kinds[change.kind]
        if by != change.maker:
            reason = f"Only {change.maker}, who proposed change #{change_id}, may withdraw it."
            self._audit(spec, change, f"change #{change_id} withdrawal refused", by=by,
                        outcome="blocked", reason=reason)
            raise ApprovalRefused(reason)
        return self._close(spec, change, "withdrawn", by=by, reason="withdrawn by its maker")

    def supersede(self, change: PendingChange, reason: str) -> None:
        """The app takes back a change it proposed itself (SMTP, entitlements) because what
        it proposed is no longer so: the environment or the file went back to the approved
        value. Audited; nothing is applied."""
        assert change.id is not None
        if self.store.decide(change.id, "superseded", checker="", reason=reason):
            self._audit(self.kinds[change.kind], change,
                        f"change #{change.id} superseded: {change.summary}", by=SYSTEM,
                        reason=reason)

    def _decidable(self, change_id: int, by: str, verb: str
                   ) -> tuple[PendingChange, ChangeKind]:
        change = self.get(change_id)
        spec = self.kinds[change.kind]
        self.access.check(by, spec.approve_action, f"{verb} change #{change_id}: "
                          f"{change.summary}", recorder=self.recorder)
        if by == change.maker:
            reason = (f"{by} proposed change #{change_id} and may not {verb} it: four eyes "
                      "need a second person.")
            noun = {"approve": "self-approval", "reject": "self-rejection"}[verb]
            self._audit(spec, change, f"change #{change_id} {noun} refused", by=by,
                        checker=by, outcome="blocked", reason=reason)
            raise SelfApproval(reason)
        if not change.pending:
            raise self._gone(spec, change, by)
        return change, spec

    def _close(self, spec: ChangeKind, change: PendingChange, state: ChangeState, *, by: str,
               reason: str) -> PendingChange:
        assert change.id is not None
        if not self.store.decide(change.id, state, checker=by, reason=reason):
            raise self._gone(spec, change, by)
        self._audit(spec, change, f"change #{change.id} {state}: {change.summary}", by=by,
                    checker=by if state == "rejected" else "", reason=reason)
        return replace(change, state=state, checker=by, reason=reason)

    def _gone(self, spec: ChangeKind, change: PendingChange, by: str) -> ApprovalRefused:
        now = self.store.get(change.id or 0) or change
        reason = (f"Change #{change.id} is no longer pending: it was {now.state}"
                  + (f" by {now.checker}" if now.checker else "") + ".")
        self._audit(spec, change, f"change #{change.id} not decided", by=by,
                    outcome="blocked", reason=reason)
        return ApprovalRefused(reason)

    def _audit(self, spec: ChangeKind, change: PendingChange, what: str, *, by: str,
               checker: str = "", outcome: Outcome = "recorded", reason: str = "") -> None:
        self.recorder.record(spec.channel, what, by=by, outcome=outcome, reason=reason,
                             details={"change_id": change.id, "kind": change.kind,
                                      "maker": change.maker, "checker": checker,
                                      "diff_sha256": change.diff_sha256})
