"""CSV: every row of the result, UTF-8, cells neutralised against formulas."""

from __future__ import annotations

from pathlib import Path

from copilot.core.tabular import TableWriter
from reports.renderers.base import RenderJob, Writer
from reports.renderers.table_file import TableFileWriter

__all__ = ["CSV", "CsvRenderer"]


class CsvRenderer:
    """The whole result as CSV."""

    name = "csv"
    mime = "text/csv"

    def open(self, path: Path, job: RenderJob) -> Writer:
        return TableFileWriter(TableWriter(path, "csv", sheet="report"))


CSV = CsvRenderer()
