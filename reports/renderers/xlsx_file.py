"""Excel: every row of the result in one sheet, dates as dates, text never a formula."""

from __future__ import annotations

from pathlib import Path

from copilot.core.tabular import TableWriter
from reports.renderers.base import RenderJob, Writer
from reports.renderers.table_file import TableFileWriter

__all__ = ["XLSX", "XlsxRenderer"]


class XlsxRenderer:
    """The whole result as an Excel workbook (constant memory)."""

    name = "xlsx"
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def open(self, path: Path, job: RenderJob) -> Writer:
        return TableFileWriter(TableWriter(path, "xlsx", sheet="report"))


XLSX = XlsxRenderer()
