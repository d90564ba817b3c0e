"""Data page: which warehouse is in use, its tables and columns, and a sample of rows."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages.state import current_user, services
from copilot.core.errors import CopilotError
from copilot.core.plaintext import markdown_text
from copilot.core.schema import TableInfo

SAMPLE_ROWS = 20


def _columns_frame(table: TableInfo) -> pd.DataFrame:
    references = {
        column: f"{fk.ref_table}.{ref}"
        for fk in table.foreign_keys
        for column, ref in zip(fk.columns, fk.ref_columns, strict=False)
    }
    return pd.DataFrame(
        {
            "column": [c.name for c in table.columns],
            "type": [c.type for c in table.columns],
            "nullable": [c.nullable for c in table.columns],
            "key": ["primary" if c.primary_key else "" for c in table.columns],
            "references": [references.get(c.name, "") for c in table.columns],
            "description": [c.comment or "" for c in table.columns],
        }
    )


def render() -> None:
    """Draw the Data page."""
    st.title("Data")
    try:
        svc = services()
        schema = svc.warehouse.schema()
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    settings = svc.settings
    as_of = settings.warehouse.effective_as_of()
    st.caption(
        f"Warehouse: `{svc.warehouse.display_url}` ({svc.warehouse.dialect}) · "
        f"as of **{as_of:%a %d %b %Y}**"
        + (" (override)" if settings.warehouse.as_of else " (today)")
        + (" · embedded demo" if settings.uses_demo_warehouse else "")
    )
    if not schema.tables:
        st.warning("The warehouse has no tables that this connection can see.")
        return

    st.dataframe(
        pd.DataFrame(
            {
                "table": [t.name for t in schema.tables],
                "columns": [len(t.columns) for t in schema.tables],
                "primary key": [", ".join(t.primary_key) for t in schema.tables],
                "references": [
                    ", ".join(sorted({fk.ref_table for fk in t.foreign_keys}))
                    for t in schema.tables
                ],
            }
        ),
        hide_index=True,
    )
    name = st.selectbox("Table", schema.table_names, key="data_table")
    table = schema.table(name)
    if table.comment:
        st.markdown(markdown_text(table.comment))  # the warehouse's text, not ours
    st.subheader("Columns")
    columns = _columns_frame(table)
    # Tall enough for every column: analysts read the whole list, not a scroll box.
    st.dataframe(columns, hide_index=True, height=36 * (len(columns) + 1) + 3)
    st.subheader(f"Sample of {SAMPLE_ROWS} rows")
    try:
        sample = svc.answering.preview(name, SAMPLE_ROWS, user=current_user(svc.settings))
    except CopilotError as exc:
        st.error(markdown_text(str(exc)))
        return
    st.dataframe(
        pd.DataFrame(list(sample.rows), columns=list(sample.columns)),
        hide_index=True,
    )
    st.caption(f"{sample.row_count} rows in {sample.elapsed_ms:.0f} ms")
