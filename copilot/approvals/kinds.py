"""The kinds of change four eyes hold: a protocol and a registry the composition root fills
(copilot/wiring.py), so a new kind is one class and one `register` call, never a branch here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from copilot.approvals.model import ApprovalRefused, PendingChange
from copilot.core.audit.record import Channel

__all__ = ["ChangeKind", "Kinds"]



class ChangeKind(Protocol):
    """One kind of change: who may propose and approve it (actions of
    copilot/core/access.py's ACTIONS), its diff, its base, and how it is applied."""

    name: str  # stored with each change; never renamed
    label: str  # as the Approvals page names it
    channel: Channel  # the audit channel of its proposals and decisions
    propose_action: str
    approve_action: str

    def target(self, payload: Mapping[str, Any]) -> str:
        """What the change changes: a newer proposal of the same target supersedes it."""

    def diff(self, payload: Mapping[str, Any]) -> str:
        """Before → after as plain text (a unified diff), against what is in force now."""

    def base(self, payload: Mapping[str, Any]) -> str:
        """A fingerprint of what is in force now that the change depends on; when it moves
        before the change is approved, the change is stale."""

    def apply(self, change: PendingChange, checker: str) -> str:
        """Make the change take effect, through the path that applies it without four
        eyes; a line saying what was done."""


class Kinds(Mapping[str, ChangeKind]):
    """The registered kinds by name."""

    def __init__(self) -> None:
        self._kinds: dict[str, ChangeKind] = {}

    def register(self, kind: ChangeKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"the change kind {kind.name!r} is registered twice")
        self._kinds[kind.name] = kind

    def __getitem__(self, name: str) -> ChangeKind:
        try:
            return self._kinds[name]
        except KeyError:
            raise ApprovalRefused(f"No kind of change is called {name!r}: this version of "
                                  "the app cannot apply it.") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)
