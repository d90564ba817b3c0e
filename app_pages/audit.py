"""Audit page: filter the log by dates, user, channel, outcome and text; view one record
whole; check the chain against its signed checkpoints; export the filtered records (the
export is itself audited)."""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import get_args

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app_pages.state import current_user, services
from copilot.core.audit import AuditFilter, VerifyResult
from copilot.core.audit.export import EXPORT_COLUMNS, ExportFormat, export_records
from copilot.core.audit.record import Channel
from copilot.core.errors import CopilotError
from copilot.core.filenames import download_name
from copilot.core.plaintext import markdown_text

SHOWN = 500  # rows on the page; exports hold every filtered record
MIME = {"csv": "text/csv", "jsonl": "application/x-ndjson",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _verdict(place: DeltaGenerator, result: VerifyResult, at: datetime) -> None:
    if result.ok:
        vouched = (f", up to the signed checkpoint at record {result.checkpoint:,}"
                   if result.checkpoint is not None else ", no checkpoint yet")
        place.success(f"The chain holds over {result.records:,} records{vouched}.")
        place.caption(markdown_text(result.summary().removeprefix("ok: "))
                      + f" Checked at {at:%H:%M:%S}.")
    else:
        place.error("The audit trail does not hold: "
                    f"{markdown_text(result.summary().removeprefix('broken: '))}."
                    f" Checked at {at:%H:%M:%S}.")


def _file_name(where: AuditFilter, since: date, until: date, fmt: str) -> str:
    """`audit-refused-2026-10-21-to-2026-11-20.csv`: the filters and dates it holds."""
    chosen = [v for v in (where.channel, where.outcome, where.user) if v]
    span = f"{since.isoformat()} to" if since != until else ""
    return download_name(" ".join(["audit", *chosen, span]), until, fmt)


def render() -> None:
    """Draw the Audit page."""
    st.title("Audit")
    try:
        svc = services()
        # The audit trail is the auditor's: anyone else is refused, and that is recorded.
        svc.answering.access.check(current_user(svc.settings), "read the audit trail",
                                   "audit page", recorder=svc.recorder)
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    today = date.today()
    left, middle, right = st.columns(3)
    since = left.date_input("From", value=today - timedelta(days=30), key="audit_since")
    until = left.date_input("To", value=today, key="audit_until")
    user = middle.text_input("User", key="audit_user")
    # Every channel the log knows (settings and api included), from the one list of them.
    channel = middle.selectbox("Channel", ["", *get_args(Channel)], key="audit_channel")
    outcome = right.selectbox("Outcome", ["", "answered", "refused", "error", "blocked",
                                          "recorded", "partial"], key="audit_outcome")
    text = right.text_input("Text in question, SQL or reason", key="audit_text")
    where = AuditFilter(since=since.isoformat(), until=until.isoformat(), user=user or None,
                        channel=channel or None, outcome=outcome or None, text=text or None)
    try:
        rows = []
        for row in svc.audit.rows(where):
            rows.append(row)
            if len(rows) > SHOWN:
                break
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    frame = pd.DataFrame(rows[:SHOWN], columns=list(EXPORT_COLUMNS))
    st.caption(f"{len(frame):,} records" + (f" shown (first {SHOWN})" if len(rows) > SHOWN
                                             else ""))
    st.dataframe(frame[["id", "ts", "user", "channel", "outcome", "question", "row_count",
                        "duration_ms"]], hide_index=True)
    if not frame.empty:
        chosen = st.selectbox("Record", frame["id"].tolist(), key="audit_record")
        st.json(frame.set_index("id").loc[chosen].to_dict(), expanded=False)

    check, export = st.columns(2)
    if check.button("Verify the chain", key="audit_verify"):
        st.session_state["audit_chain"] = (svc.audit.verify(), datetime.now())
    # Kept, with when it was checked, until the next check: a button is true only on the
    # run its click starts, and preparing an export must not make the verdict disappear.
    if checked := st.session_state.get("audit_chain"):
        _verdict(check, *checked)
    fmt: ExportFormat = export.selectbox("Export format", ["csv", "xlsx", "jsonl"],
                                         key="audit_format")
    if export.button("Prepare export", key="audit_export"):
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / f"audit.{fmt}"
            count = export_records(svc.audit, fmt, out, where,
                                   user=current_user(svc.settings), channel="audit")
            st.session_state["audit_file"] = (out.read_bytes(), fmt, count,
                                              _file_name(where, since, until, fmt))
    if prepared := st.session_state.get("audit_file"):
        data, kind, count, name = prepared
        export.download_button(f"Download {count:,} records ({kind})", data, file_name=name,
                               mime=MIME[kind], key="audit_download",
                               icon=":material/download:")
