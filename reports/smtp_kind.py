"""The SMTP server of report emails (OPSCOPILOT_SMTP_*) under four eyes.

The environment sets it, not a page, so the app keeps a fingerprint of the approved SMTP
section in the state database (host, port, security, login, sender and a SHA-256 of the
password: never the password) and compares the environment's with it. When they differ,
including the very first time (nothing approved yet: nobody is emailed through a server no
admin has seen), the app proposes the change itself (copilot/approvals/outside.py) and
report emails are HELD: the run records its email delivery as failed with `HELD`, so it can
be run again once approved, while the folder, Slack, Teams and webhook deliveries go out.
No SMTP host, no proposal: no email is sent anyway."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from copilot.approvals.diff import text_diff
from copilot.approvals.model import PendingChange
from copilot.approvals.outside import Standing, digest, reconcile
from copilot.approvals.service import Approvals
from copilot.approvals.store import ApprovalStore
from copilot.core.audit.record import Channel
from reports.channels.email import EMAIL
from reports.settings import SMTPSettings

__all__ = ["HELD", "NOT_YET", "SMTP", "SMTPGate", "SMTPSettingsKind", "fingerprint", "smtp_notice"]

SMTP = "SMTP settings"
HELD = ("SMTP settings changed since an admin approved them; waiting for approval on the "
        "Approvals page.")
NOT_YET = ("No admin has approved the SMTP settings yet; waiting for approval on the Approvals "
           "page.")
# Kept apart from any other use of SHA-256 over the same password (a published table of
# plain hashes of common passwords does not apply to it).
_PASSWORD_PREFIX = b"opscopilot smtp password\x00"


def fingerprint(smtp: SMTPSettings) -> dict[str, object]:
    """What an admin approves of the SMTP section; the password only as a hash."""
    secret = (hashlib.sha256(_PASSWORD_PREFIX + smtp.password.encode("utf-8")).hexdigest()
              if smtp.password else "")
    return {"host": smtp.host, "port": smtp.port, "security": smtp.security,
            "user": smtp.user, "sender": smtp.sender, "password_sha256": secret}


def _canonical(print_: Mapping[str, object]) -> str:
    return json.dumps(dict(print_), sort_keys=True)


def _shown(print_: Mapping[str, object], password: str) -> str:
    """The fingerprint as the diff shows it, the password as `password` says."""
    lines = [f"{key}: {print_[key]}" for key in ("host", "port", "security", "user", "sender")]
    return "\n".join([*lines, f"password: {password} (not shown)"]) + "\n"


def _password(print_: Mapping[str, object], approved: Mapping[str, object] | None) -> str:
    """changed or unchanged against the approved one; set or none when nothing is."""
    if approved is None:
        return "set" if print_["password_sha256"] else "none"
    return "unchanged" if approved["password_sha256"] == print_["password_sha256"] \
        else "changed"


@dataclass(frozen=True)
class SMTPSettingsKind:
    """The environment's SMTP section, proposed by the app when it differs from the
    approved one; approving it records its fingerprint as approved."""

    store: ApprovalStore
    name: str = SMTP
    label: str = "SMTP settings (report emails)"
    channel: Channel = "settings"
    propose_action: str = "change settings"
    approve_action: str = "approve settings"

    def approved(self) -> dict[str, object] | None:
        found = self.store.approved(SMTP)
        return json.loads(found.value) if found is not None else None

    def target(self, payload: Mapping[str, Any]) -> str:
        return "smtp"

    def diff(self, payload: Mapping[str, Any]) -> str:
        approved = self.approved()
        before = _shown(approved, "as approved") if approved is not None else ""
        after = payload["fingerprint"]
        return text_diff(before, _shown(after, _password(after, approved)), "SMTP settings")

    def base(self, payload: Mapping[str, Any]) -> str:
        found = self.store.approved(SMTP)
        return digest(found.value if found is not None else "")

    def apply(self, change: PendingChange, checker: str) -> str:
        print_ = change.payload["fingerprint"]
        self.store.set_approved(SMTP, _canonical(print_), by=checker)
        return f"report emails go out through {print_['host']}:{print_['port']}"


@dataclass(frozen=True)
class SMTPGate:
    """Whether report emails may go out now: the environment's SMTP section is the approved
    one (or four eyes is off). Asking proposes a changed section, once."""

    approvals: Approvals
    smtp: SMTPSettings

    def standing(self) -> Standing:
        print_ = fingerprint(self.smtp)
        summary = (f"SMTP: {self.smtp.host}:{self.smtp.port} ({self.smtp.security}), login "
                   f"{self.smtp.user or '(none)'}, sender {self.smtp.sender or '(default)'}")
        return reconcile(self.approvals, SMTP, _canonical(print_), adopt_first=False,
                         payload={"fingerprint": print_}, summary=summary)

    def held(self) -> str:
        """Why report emails are held now; "" when they may go."""
        if not self.approvals.enabled or not self.smtp.host:
            return ""
        standing = self.standing()
        if standing.in_force:
            return ""
        if standing.rejected and standing.change is not None:
            return (f"{standing.change.checker} rejected the SMTP settings on the Approvals "
                    "page; report emails stay held until OPSCOPILOT_SMTP_* change.")
        return HELD if self.approvals.store.approved(SMTP) is not None else NOT_YET

    def holds(self) -> Mapping[str, Callable[[], str]]:
        """The report runner's holds: its email channel asks this gate."""
        return {EMAIL.name: self.held}


def smtp_notice(approvals: Approvals) -> str:
    """What the Settings and Approvals pages say while an SMTP change waits; else ""."""
    if not approvals.enabled or not approvals.pending(SMTP):
        return ""
    return "Report emails are held: " + (
        HELD if approvals.store.approved(SMTP) is not None else NOT_YET)
