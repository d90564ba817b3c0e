"""OTC Ops Copilot: the Streamlit entry point. Run with `streamlit run streamlit_app.py`."""

import contextlib

import streamlit as st

from app_pages import approvals, ask, audit, dashboards, data, settings, training
from app_pages import reports as reports_page
from app_pages.state import reports
from copilot.core.errors import CopilotError
from copilot.core.serving import login_configured, serving_refusal
from copilot.settings import load_settings

st.set_page_config(page_title="OTC Ops Copilot", page_icon=":material/query_stats:", layout="wide")


def _login_configured() -> bool:
    """Streamlit's [auth] secrets name a client, or a trusted SSO header is set."""
    try:
        auth = st.secrets.get("auth")
    except Exception:  # no secrets.toml at all (StreamlitSecretNotFoundError), or unreadable
        auth = None
    try:
        header = load_settings().app.trusted_user_header
    except CopilotError:  # a malformed setting: the pages say which; no header is trusted
        header = ""
    return login_configured(auth, header)


# Before any service is built: beyond loopback, nothing is served without a login.
if refusal := serving_refusal(st.get_option("server.address") or "", _login_configured()):
    st.error(refusal)
    st.stop()

pages = [
    st.Page(ask.render, title="Ask", icon=":material/chat:", url_path="ask", default=True),
    st.Page(dashboards.render, title="Dashboards", icon=":material/dashboard:",
            url_path="dashboards"),
    st.Page(reports_page.render, title="Reports", icon=":material/schedule_send:",
            url_path="reports"),
    st.Page(data.render, title="Data", icon=":material/table_chart:", url_path="data"),
    st.Page(training.render, title="Training", icon=":material/school:", url_path="training"),
    st.Page(approvals.render, title="Approvals", icon=":material/approval:",
            url_path="approvals"),
    st.Page(audit.render, title="Audit", icon=":material/verified_user:", url_path="audit"),
    st.Page(settings.render, title="Settings", icon=":material/settings:", url_path="settings"),
]
with contextlib.suppress(CopilotError):  # the pages say what is wrong
    reports()  # the report scheduler runs with the app, whichever page is open
st.navigation(pages).run()
