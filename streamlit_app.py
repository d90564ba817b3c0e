"""OTC Ops Copilot: the Streamlit entry point. Run with `streamlit run streamlit_app.py`."""

import contextlib

import streamlit as st

from app_pages import ask, audit, dashboards, data, settings, training
from app_pages import reports as reports_page
from app_pages.state import reports
from copilot.core.errors import CopilotError

st.set_page_config(page_title="OTC Ops Copilot", page_icon=":material/query_stats:", layout="wide")

pages = [
    st.Page(ask.render, title="Ask", icon=":material/chat:", url_path="ask", default=True),
    st.Page(dashboards.render, title="Dashboards", icon=":material/dashboard:",
            url_path="dashboards"),
    st.Page(reports_page.render, title="Reports", icon=":material/schedule_send:",
            url_path="reports"),
    st.Page(data.render, title="Data", icon=":material/table_chart:", url_path="data"),
    st.Page(training.render, title="Training", icon=":material/school:", url_path="training"),
    st.Page(audit.render, title="Audit", icon=":material/verified_user:", url_path="audit"),
    st.Page(settings.render, title="Settings", icon=":material/settings:", url_path="settings"),
]
with contextlib.suppress(CopilotError):  # the pages say what is wrong
    reports()  # the report scheduler runs with the app, whichever page is open
st.navigation(pages).run()
