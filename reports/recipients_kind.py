"""Report recipients outside the bank's domains (OPSCOPILOT_BANK_DOMAINS), as a kind of
change four eyes hold: a template saved with an outside email address is saved without it,
and the address is added when an admin approves."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from copilot.approvals.diff import text_diff, yaml_text
from copilot.approvals.model import ApprovalRefused, PendingChange
from copilot.core.audit import Recorder
from copilot.core.audit.record import Channel
from reports.model import Recipients
from reports.store import ReportStore

__all__ = ["RECIPIENTS", "OutsideRecipientsKind"]

RECIPIENTS = "report recipients"


@dataclass(frozen=True)
class OutsideRecipientsKind:
    """Email addresses outside the bank's domains added to one report template."""

    store: ReportStore
    recorder: Recorder
    name: str = RECIPIENTS
    label: str = "Report recipients outside the bank"
    channel: Channel = "report"
    propose_action: str = "schedule reports"
    approve_action: str = "approve recipients"

    def _emails(self, payload: Mapping[str, Any]) -> list[str]:
        template = self.store.template_by_id(int(payload["template_id"]))
        return list(template.recipients["email"]) if template is not None else []

    def target(self, payload: Mapping[str, Any]) -> str:
        return f"report {payload['template_id']}: " + ",".join(sorted(payload["emails"]))

    def diff(self, payload: Mapping[str, Any]) -> str:
        now = self._emails(payload)
        after = now + [e for e in payload["emails"] if e not in now]
        return text_diff(yaml_text({"email": now}), yaml_text({"email": after}),
                         f"recipients of report {payload['template']!r}")

    def base(self, payload: Mapping[str, Any]) -> str:
        return hashlib.sha256(json.dumps(self._emails(payload)).encode()).hexdigest()

    def apply(self, change: PendingChange, checker: str) -> str:
        template = self.store.template_by_id(int(change.payload["template_id"]))
        if template is None:
            raise ApprovalRefused(f"The report {change.payload['template']!r} was deleted "
                                  "since; nothing was added.")
        now = list(template.recipients["email"])
        added = [e for e in change.payload["emails"] if e not in now]
        recipients = Recipients({**template.recipients.as_dict(), "email": now + added})
        saved = self.store.save(replace(template, recipients=recipients))
        self.recorder.record("report", f"report {saved.name!r} saved", by=change.maker,
                             sql=saved.sql, details={"recipients added": added})
        return f"{', '.join(added)} added to report {saved.name!r}"
