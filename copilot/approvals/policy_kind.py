"""The entitlement policy (OPSCOPILOT_ENTITLEMENTS) under four eyes: the rows each person
reads come from the last APPROVED text of the policy, kept in the state database, never from
the file as it is now.

The first policy seen is adopted (audited as adopted: before it there was no row filter to
protect). When the file's text later differs from the approved text, the app proposes it
(maker "the app", copilot/approvals/outside.py) with the unified diff of the YAML, and the
approved text stays in force until an admin approves. A file that fails validation is never
proposed: its load error stands, as without four eyes.

A running app learns of an approval through `ApprovedPolicy`, which the executor asks once
per statement: it keeps the parsed policy keyed by the approved text's hash, is refreshed at
once when the approval is made in this process, and re-reads the approved row every few
seconds so another process's approval (a second app server) reaches it too."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from copilot.approvals.diff import text_diff
from copilot.approvals.model import PendingChange
from copilot.approvals.outside import Standing, digest, reconcile
from copilot.approvals.service import Approvals
from copilot.core.audit.record import Channel
from copilot.core.entitlements_policy import (
    Entitlements,
    parse_entitlements,
    read_policy_text,
)
from copilot.core.executor import Executor
from copilot.core.guard import GuardSchema

__all__ = ["ENTITLEMENTS", "NOTICE", "ApprovedPolicy", "PolicyFile", "PolicyKind",
           "held_executor", "policy_notice"]

ENTITLEMENTS = "entitlement policy"
NOTICE = ("The entitlement policy file changed; the approved version stays in force until an "
          "admin approves the change on the Approvals page.")
RECHECK_S = 5.0  # how stale another process's approval may be here


@dataclass(frozen=True)
class PolicyFile:
    """The configured entitlements file and what its filters are checked against."""

    path: Path
    schema: GuardSchema
    dialect: str | None = None

    def text(self) -> str:
        return read_policy_text(self.path)

    def parse(self, text: str) -> Entitlements:
        """`text` validated as the file would be: EntitlementsError naming file and line."""
        return parse_entitlements(text, self.path, self.schema, dialect=self.dialect)


class ApprovedPolicy:
    """The entitlements in force under four eyes (an `EntitlementsSource`): the approved
    text, parsed once per approved version."""

    def __init__(self, approvals: Approvals, file: PolicyFile, *,
                 recheck_s: float = RECHECK_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.approvals = approvals
        self.file = file
        self._recheck_s = recheck_s
        self._clock = clock
        # Streamlit's threads and the report scheduler's thread share one holder.
        self._lock = threading.Lock()
        self._policy: Entitlements | None = None
        self._sha = ""
        self._checked = float("-inf")

    def in_force(self) -> Entitlements:
        with self._lock:
            if self._policy is None or self._clock() - self._checked >= self._recheck_s:
                self._reload()
            assert self._policy is not None
            return self._policy

    def refresh(self) -> None:
        """Read the approved text now (an approval was just made in this process)."""
        with self._lock:
            self._reload()

    def _reload(self) -> None:
        approved = self.approvals.store.approved(ENTITLEMENTS)
        if approved is None:  # never reconciled in this state database: adopt the file
            self.reconcile()
            approved = self.approvals.store.approved(ENTITLEMENTS)
            assert approved is not None
        sha = digest(approved.value)
        if sha != self._sha or self._policy is None:
            self._policy, self._sha = self.file.parse(approved.value), sha
        self._checked = self._clock()

    def reconcile(self) -> Standing:
        """Adopt the first policy seen, or propose the file's text when it differs from the
        approved one. EntitlementsError when the file does not validate: never proposed."""
        text = self.file.text()
        self.file.parse(text)
        return reconcile(self.approvals, ENTITLEMENTS, text, adopt_first=True,
                         payload={"text": text, "source": str(self.file.path)},
                         summary=f"entitlement policy: {self.file.path.name} changed")


@dataclass(frozen=True)
class PolicyKind:
    """A new text of the entitlements file, proposed by the app."""

    holder: ApprovedPolicy
    name: str = ENTITLEMENTS
    label: str = "Entitlement policy"
    channel: Channel = "settings"
    propose_action: str = "change settings"
    approve_action: str = "approve settings"

    def _approved(self) -> str:
        found = self.holder.approvals.store.approved(ENTITLEMENTS)
        return found.value if found is not None else ""

    def target(self, payload: Mapping[str, Any]) -> str:
        return "entitlements"

    def diff(self, payload: Mapping[str, Any]) -> str:
        return text_diff(self._approved(), payload["text"], Path(payload["source"]).name)

    def base(self, payload: Mapping[str, Any]) -> str:
        # Another approval of the policy since (a newer file approved first) moves it.
        return digest(self._approved())

    def apply(self, change: PendingChange, checker: str) -> str:
        text = change.payload["text"]
        self.holder.file.parse(text)  # still valid against the warehouse's tables now
        self.holder.approvals.store.set_approved(ENTITLEMENTS, text, by=checker)
        self.holder.refresh()
        return "the new entitlement policy is in force"


def policy_notice(approvals: Approvals) -> str:
    """What the Settings and Approvals pages say while a policy change waits; else ""."""
    return NOTICE if approvals.enabled and approvals.pending(ENTITLEMENTS) else ""


def held_executor(executor: Executor, approvals: Approvals) -> Executor:
    """`executor` reading the approved policy instead of the file's, under four eyes; as it
    is otherwise (no policy configured, or four eyes off: the file, exactly as before).
    The file was loaded and validated already: its load error stands."""
    loaded = executor.entitlements
    if not approvals.enabled or not isinstance(loaded, Entitlements):
        return executor
    file = PolicyFile(Path(loaded.source), executor.guard.schema, executor.sqlglot_dialect)
    return replace(executor, entitlements=ApprovedPolicy(approvals, file))
