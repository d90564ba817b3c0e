"""Approvals page: the changes waiting for a second person (four eyes), each with its kind,
summary, maker, time and diff as plain text; Approve and Reject for those who may approve that
kind and did not make it, Withdraw for its maker; then the latest decisions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.state import current_user, services
from copilot.approvals import Approvals, PendingChange
from copilot.approvals.policy_kind import policy_notice
from copilot.core.errors import CopilotError
from copilot.core.plaintext import markdown_text
from reports.smtp_kind import smtp_notice

OFF = ("Four eyes is off: every change applies at once, as its author makes it. It is on "
       "when a roles file is configured (OPSCOPILOT_ROLES), or with OPSCOPILOT_FOUR_EYES=on.")
NOTICE = "approvals_notice"


def _decide(action: str, change: PendingChange, user: str, approvals: Approvals) -> None:
    assert change.id is not None
    try:
        if action == "approve":
            approvals.approve(change.id, by=user)
            done = f"Change #{change.id} approved and applied."
        elif action == "reject":
            approvals.reject(change.id, by=user,
                             reason=st.session_state.get(f"reason_{change.id}", ""))
            done = f"Change #{change.id} rejected: nothing was applied."
        else:
            approvals.withdraw(change.id, by=user)
            done = f"Change #{change.id} withdrawn."
    except CopilotError as exc:
        st.session_state[NOTICE] = ("error", str(exc))
        return
    st.session_state[NOTICE] = ("success", done)


def _change(change: PendingChange, user: str, approvals: Approvals) -> None:
    with st.container(border=True):
        st.markdown(f"**#{change.id} · {markdown_text(approvals.label(change))}**: "
                    f"{markdown_text(change.summary)}")
        st.caption(markdown_text(f"Proposed by {change.maker} at {change.created_at}."))
        st.code(change.diff, language="diff")  # untrusted text: shown as it is, never markup
        if approvals.may_decide(user, change):
            st.text_input("Reason (for a rejection)", key=f"reason_{change.id}")
            left, right, _ = st.columns([1, 1, 4])
            left.button("Approve", key=f"approve_{change.id}", type="primary",
                        on_click=_decide, args=("approve", change, user, approvals))
            right.button("Reject", key=f"reject_{change.id}",
                         on_click=_decide, args=("reject", change, user, approvals))
        elif change.maker == user:
            st.caption("Yours: another person with the approving role decides it.")
            st.button("Withdraw", key=f"withdraw_{change.id}",
                      on_click=_decide, args=("withdraw", change, user, approvals))


def render() -> None:
    """Draw the Approvals page."""
    st.title("Approvals")
    try:
        svc = services()
        approvals = svc.approvals
        pending = approvals.pending()
        decided = approvals.decided(limit=20)
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    user = current_user(svc.settings)
    if notice := st.session_state.pop(NOTICE, None):
        kind, text = notice
        (st.success if kind == "success" else st.error)(markdown_text(text))
    if not approvals.enabled:
        st.info(OFF)
    for held in (policy_notice(approvals), smtp_notice(approvals)):  # what stays in force
        if held:
            st.warning(held)
    st.caption(f"Signed in as **{markdown_text(user)}**. A change takes effect when a second "
               "person with the approving role approves it; nobody approves their own.")
    st.subheader(f"Waiting ({len(pending)})")
    if not pending:
        st.write("Nothing is waiting for approval.")
    for change in pending:
        _change(change, user, approvals)
    if decided:
        st.subheader("Decided lately")
        st.dataframe(pd.DataFrame({
            "#": [c.id for c in decided], "kind": [approvals.label(c) for c in decided],
            "summary": [c.summary for c in decided], "maker": [c.maker for c in decided],
            "state": [c.state for c in decided], "by": [c.checker for c in decided],
            "when (UTC)": [c.decided_at for c in decided], "reason": [c.reason for c in decided],
        }), hide_index=True)
