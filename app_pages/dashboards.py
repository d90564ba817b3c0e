"""Dashboards page: a dashboard's widgets in a grid, each refreshing on its own interval
(st.fragment) from a result cache shared by all sessions, with edit, reorder, delete,
export and import. A failing widget shows its error; the others keep working."""

from __future__ import annotations

from datetime import date

import streamlit as st

from app_pages.charts import column_config, figure, table_frame, with_none
from app_pages.state import current_user, dashboards, services
from app_pages.widget_form import chart_input, refresh_input
from copilot.core.errors import CopilotError
from copilot.core.filenames import download_name
from copilot.core.plaintext import markdown_text
from copilot.core.tabular import csv_bytes
from dashboards import Dashboard, DashboardService, Widget, WidgetResult

COLUMNS = 2


def _draw(widget: Widget, result: WidgetResult) -> None:
    if result.error:
        st.error(markdown_text(result.error), icon=":material/error:")
        return
    data = table_frame(result.labels or result.columns, result.rows)
    if data.empty and widget.chart != "number":
        st.info(f"No rows{': none for ' + markdown_text(result.covers) if result.covers else ''}.",
                icon=":material/check_circle:")
        return
    if widget.chart == "number":
        delta = (None if result.previous is None or result.value is None
                 else result.value - result.previous)
        st.metric(markdown_text(widget.title),
                  "—" if result.value is None else f"{result.value:,.0f}",
                  delta=None if delta is None else f"{delta:+,.0f} since last refresh",
                  label_visibility="collapsed")
        return
    chart = figure(widget.chart, data, height=260)
    if chart is None:
        st.dataframe(with_none(data), hide_index=True, column_config=column_config(data),
                     height=260, key=f"w_table_{widget.id}")
    else:
        st.plotly_chart(chart, key=f"w_chart_{widget.id}")


def _widget(boards: DashboardService, widget: Widget, as_of: date, user: str,
            editable: bool) -> None:
    """One widget; runs as a fragment, so its refresh reruns only itself. `editable`: the
    person owns the dashboard and may change widgets."""
    with st.container(border=True):
        head, buttons = st.columns([4, 2], vertical_alignment="center")
        head.markdown(f"**{markdown_text(widget.title)}**")  # a title is a user's question
        tools = buttons.container(horizontal=True, horizontal_alignment="right")
        force = tools.button("", icon=":material/refresh:", key=f"refresh_{widget.id}",
                             help="Refresh now")
        result, _ = boards.refresh(widget, as_of=as_of, by=user, force=force)
        if not result.error and result.rows:
            # Named for the widget and the date it answers for: fails-today-...-2026-11-20.csv.
            # "ignore": downloading must not rerun (and re-query) the widget.
            tools.download_button("", csv_bytes(result.labels or result.columns, result.rows),
                                  file_name=download_name(widget.title, as_of, "csv"),
                                  mime="text/csv", icon=":material/download:",
                                  on_click="ignore", help="Download as CSV",
                                  key=f"csv_{widget.id}")
        _draw(widget, result)
        facts = [f"refreshed {result.refreshed_at:%H:%M:%S}", widget.refresh.label]
        if not result.error:
            count = len(result.rows)
            rows = f"{count:,} row{'' if count == 1 else 's'}" + (
                " (cut)" if result.truncated else "")
            facts = [result.covers, *facts, rows]
        st.caption(markdown_text(" · ".join(facts)))
        if result.note:
            st.caption(markdown_text(result.note))
        if editable:
            _edit(boards, widget, user)


def _edit(boards: DashboardService, widget: Widget, user: str) -> None:
    # A toggle, not an expander: an expander's content is built on every refresh, and a
    # dozen edit forms would cost more than the widgets themselves.
    if not st.toggle("Edit", key=f"editing_{widget.id}"):
        return
    with st.form(f"edit_{widget.id}"):
        title = st.text_input("Title", value=widget.title, key=f"e{widget.id}_title")
        chart = chart_input(f"e{widget.id}", widget.chart)
        refresh = refresh_input(f"e{widget.id}", widget.refresh)
        sql = st.text_area("SQL (checked by the SQL guard; edited SQL keeps its dates)",
                           value=widget.sql, key=f"e{widget.id}_sql")
        saved = st.form_submit_button("Save")
    if saved:
        try:
            boards.edit_widget(widget, title=title, chart=chart, refresh=refresh, sql=sql,
                               by=user)
        except CopilotError as exc:
            st.error(markdown_text(str(exc)))
        else:
            st.rerun()
    up, down, delete = st.columns(3)
    if up.button("Move up", key=f"up_{widget.id}"):
        boards.move_widget(widget, -1, by=user)
        st.rerun()
    if down.button("Move down", key=f"down_{widget.id}"):
        boards.move_widget(widget, +1, by=user)
        st.rerun()
    if delete.button("Delete", key=f"delete_{widget.id}", type="primary"):
        boards.delete_widget(widget, by=user)
        st.rerun()


def _manage(boards: DashboardService, current: Dashboard | None, user: str) -> None:
    if not boards.access.allows(user, "save widgets"):
        if current is not None:  # a viewer may still take the definition away
            st.download_button("Export this dashboard (JSON)", boards.export(current),
                               file_name=download_name(current.name, None, "json"),
                               mime="application/json", key="export_dashboard")
        return
    with st.expander("New, import, export"):
        left, right = st.columns(2)
        name = left.text_input("New dashboard", key="new_dashboard")
        if left.button("Create", key="create_dashboard") and name.strip():
            try:
                st.session_state["dashboard_next"] = boards.dashboard(name, by=user).name
            except CopilotError as exc:
                st.error(markdown_text(str(exc)))
            else:
                st.rerun()
        upload = right.file_uploader("Import a dashboard (JSON export)", type=["json"],
                                     key="import_file")
        pasted = right.text_area("…or paste the export", key="import_text", height=100)
        as_name = right.text_input("Import as (name)", key="import_name")
        text = upload.getvalue() if upload is not None else pasted
        if right.button("Import", key="import_dashboard") and text:
            try:
                imported = boards.import_json(text, by=user, name=as_name)
            except CopilotError as exc:
                st.error(markdown_text(str(exc)))
            else:
                st.session_state["dashboard_next"] = imported.name
                st.rerun()
        if current is not None and boards.may_change(current, user):
            # Undated: the export is the dashboard's definition, which answers for any day.
            st.download_button("Export this dashboard (JSON)", boards.export(current),
                               file_name=download_name(current.name, None, "json"),
                               mime="application/json", key="export_dashboard")
            sure = st.checkbox("I want to delete this dashboard", key="delete_sure")
            if st.button("Delete this dashboard", key="delete_dashboard", disabled=not sure):
                boards.delete_dashboard(current, by=user)
                st.session_state.pop("dashboard_pick", None)
                st.rerun()


def render() -> None:
    """Draw the Dashboards page."""
    st.title("Dashboards")
    try:
        svc = services()
        boards = dashboards()
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    user = current_user(svc.settings)
    as_of = svc.settings.warehouse.effective_as_of()
    names = [d.name for d in boards.store.dashboards()]
    if "dashboard_next" in st.session_state:  # chosen by Create or Import on the last run
        st.session_state["dashboard_pick"] = st.session_state.pop("dashboard_next")
    if st.session_state.get("dashboard_pick") not in names:
        st.session_state.pop("dashboard_pick", None)
    picked = st.selectbox("Dashboard", names, key="dashboard_pick") if names else None
    current = boards.store.dashboard(picked) if picked else None
    _manage(boards, current, user)
    if current is None:
        st.info("No dashboards yet: answer a question on the Ask page and save it as a widget.")
        return
    editable = boards.may_change(current, user)
    if not editable:
        st.caption(markdown_text(f"{current.created_by}'s dashboard: its widgets show the rows "
                                 f"{current.created_by} may read; only they change it."))
    widgets = boards.store.widgets(current.id)
    if not widgets:
        st.info("This dashboard has no widgets yet: save an answer from the Ask page.")
    columns = st.columns(COLUMNS)
    for index, widget in enumerate(widgets):
        with columns[index % COLUMNS]:
            st.fragment(_widget, run_every=widget.refresh.rerun_seconds())(
                boards, widget, as_of, user, editable)
