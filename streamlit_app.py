"""OTC Ops Copilot: the Streamlit entry point. Run with `streamlit run streamlit_app.py`."""

import contextlib

import streamlit as st

from app_pages import approvals, ask, audit, dashboards, data, settings, training
from app_pages import reports as reports_page
from app_pages.login import gate, settings_or_stop, sign_out_button
from app_pages.state import oidc_configured, reports, services
from copilot.core.access import ACTIONS
from copilot.core.errors import CopilotError
from copilot.core.logs import configure_logging
from copilot.core.plaintext import markdown_text
from copilot.core.serving import login_configured, serving_refusal
from copilot.settings import load_settings

st.set_page_config(page_title="OTC Ops Copilot", page_icon=":material/query_stats:", layout="wide")


def _login_configured() -> bool:
    """Streamlit's [auth] secrets name a client, or a trusted SSO header is set."""
    try:
        header = load_settings().app.trusted_user_header
    except CopilotError:  # a malformed setting: the pages say which; no header is trusted
        header = ""
    return oidc_configured() or login_configured(None, header)


# Before any service is built: beyond loopback, nothing is served without a login.
if refusal := serving_refusal(st.get_option("server.address") or "", _login_configured()):
    st.error(refusal)
    st.stop()

# Who is asking, before any page: the sign-in page (or the proxy's refusal) otherwise.
configure_logging(settings_or_stop())  # text or JSON lines, each with its request id
person = gate(settings_or_stop())

# Each page and the actions (copilot/core/access.ACTIONS) any one of which opens it: a
# person sees the pages their roles allow. The services still refuse on their own.
PAGES = [
    (st.Page(ask.render, title="Ask", icon=":material/chat:", url_path="ask", default=True),
     ("ask",)),
    (st.Page(dashboards.render, title="Dashboards", icon=":material/dashboard:",
             url_path="dashboards"), ("view dashboards",)),
    (st.Page(reports_page.render, title="Reports", icon=":material/schedule_send:",
             url_path="reports"), ("schedule reports", "view dashboards")),
    (st.Page(data.render, title="Data", icon=":material/table_chart:", url_path="data"),
     ("ask",)),
    (st.Page(training.render, title="Training", icon=":material/school:",
             url_path="training"), ("train the copilot",)),
    (st.Page(approvals.render, title="Approvals", icon=":material/approval:",
             url_path="approvals"),
     ("propose training", "approve training", "approve settings", "approve recipients")),
    (st.Page(audit.render, title="Audit", icon=":material/verified_user:", url_path="audit"),
     ("read the audit trail",)),
    (st.Page(settings.render, title="Settings", icon=":material/settings:",
             url_path="settings"), ("change settings",)),
]
assert all(a in ACTIONS for _, actions in PAGES for a in actions), "an action ACTIONS lacks"

try:
    access = services().answering.access
except CopilotError:  # the warehouse or state cannot be opened: each page says why
    access = None
# Groups from the directory, where the gate just wrote them: the same the services use.
pages = [page for page, actions in PAGES
         if access is None or access.allows_any(person.user, actions)]
sign_out_button(person)
if not pages:
    directory = access.directory if access is not None else None
    note = access.membership(person.user).note(directory.max_age_days) \
        if access is not None and directory is not None else ""
    st.title("No access")
    st.warning(markdown_text(f"{person.user} holds no role in this app, so there is nothing "
                             f"to show.{note} Ask an administrator for a role."))
    st.stop()
with contextlib.suppress(CopilotError):  # the pages say what is wrong
    reports()  # the report scheduler runs with the app, whichever page is open
st.navigation(pages).run()
