"""Four eyes: a change that matters (a verified pair, a glossary change, a training
version's activation, report recipients outside the bank's domains, the LLM, SMTP and
entitlement settings) waits as a pending change until a second person with the approving
role approves it; maker and checker are recorded in the audit log.

The kinds of change are a registry (`ChangeKind`, registered by the composition root), the
pending changes live in the state database, and `OPSCOPILOT_FOUR_EYES` switches it off for
the single-user demo."""

from copilot.core.lazy import lazy_exports

_EXPORTS = {
    "ApprovalRefused": ".model",
    "ChangeState": ".model",
    "PendingChange": ".model",
    "SelfApproval": ".model",
    "StaleChange": ".model",
    "ApprovalStore": ".store",
    "ChangeKind": ".kinds",
    "Kinds": ".kinds",
    "text_diff": ".diff",
    "Approvals": ".service",
    "ApprovalsSettings": ".settings",
    "four_eyes_on": ".settings",
}
__all__ = ["ApprovalRefused", "ApprovalStore", "Approvals", "ApprovalsSettings", "ChangeKind",
           "ChangeState", "Kinds", "PendingChange", "SelfApproval", "StaleChange",
           "four_eyes_on", "text_diff"]
__getattr__ = lazy_exports(__name__, _EXPORTS)
