"""Render a report's full result to CSV, Excel and PDF, a chunk at a time.

CSV and Excel get every row (Excel through XlsxWriter's constant-memory mode, so a million
rows do not sit in memory as cells). The PDF is for reading: title, run time, as-of date, the
interpretation, a chart and the first rows of the table, paged, with a note that the full
data is in the CSV or Excel file when there are more. WeasyPrint gets no base URL and the
page uses only local fonts, so nothing is fetched while rendering.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from copilot.core.filenames import download_name
from copilot.core.tabular import TableWriter
from reports.model import Format
from reports.svg_chart import svg_chart

__all__ = ["MIME", "Rendered", "render_report"]

MIME = {"csv": "text/csv",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pdf": "application/pdf"}
PDF_ROWS = 500  # rows a PDF shows; more are summarised, the files carry them all
HEAD_ROWS = 60  # rows kept in memory for the PDF's chart, messages and alerts

Chunks = Iterable[tuple[tuple[str, ...], tuple[tuple[object, ...], ...]]]


@dataclass(frozen=True)
class Rendered:
    files: tuple[Path, ...]
    columns: tuple[str, ...]
    head: tuple[tuple[object, ...], ...]  # the first rows, for messages, charts and alerts
    row_count: int


def file_stem(name: str, run_at: datetime, as_of: date) -> str:
    """'fails-by-currency-2026-11-20-070000': what it holds, as of when, and the run's
    time (two runs of one day never share a file)."""
    return download_name(name or "report", as_of, "x").removesuffix(".x") + \
        f"-{run_at:%H%M%S}"


def render_report(chunks: Chunks, *, formats: Sequence[Format], folder: Path, name: str,
                  run_at: datetime, as_of: date, interpretation: str = "",
                  labels: Callable[[tuple[str, ...]], tuple[str, ...]] | None = None
                  ) -> Rendered:
    """Write the chosen formats of the result into `folder`; every file or none. `labels`
    names the columns as the page does ("Counterparty", "Amount (USD)")."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_stem(name, run_at, as_of)
    paths = {fmt: folder / f"{stem}.{fmt}" for fmt in formats}
    columns: tuple[str, ...] = ()
    head: list[tuple[object, ...]] = []
    pdf_rows: list[tuple[object, ...]] = []
    count = 0
    # One safe writer streams both (Excel in XlsxWriter's constant-memory mode): text that
    # starts like a formula gets a leading quote and is never a formula or a link.
    tables: list[TableWriter] = []
    try:
        tables.extend(TableWriter(paths[fmt], fmt, sheet="report")
                      for fmt in ("csv", "xlsx") if fmt in paths)
        for chunk_columns, rows in chunks:
            if not columns:
                columns = labels(chunk_columns) if labels is not None else chunk_columns
                for table in tables:
                    table.writerow(columns)
            for row in rows:
                for table in tables:
                    table.writerow(row)
                if len(pdf_rows) < PDF_ROWS:
                    pdf_rows.append(row)
            count += len(rows)
        head = pdf_rows[:HEAD_ROWS]
        for table in tables:
            table.close()
        if "pdf" in paths:
            _pdf(paths["pdf"], name=name, run_at=run_at, as_of=as_of,
                 interpretation=interpretation, columns=columns, rows=pdf_rows, total=count,
                 other=[f for f in formats if f != "pdf"])
    except BaseException:
        for table in tables:  # ends each writer and XlsxWriter's temporary files
            with contextlib.suppress(Exception):
                table.close()
        for path in paths.values():
            path.unlink(missing_ok=True)
        raise
    return Rendered(tuple(paths.values()), columns, tuple(head), count)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


_CSS = """
@page { size: A4 landscape; margin: 14mm 12mm;
        @bottom-right { content: "page " counter(page) " of " counter(pages);
                        font-size: 8pt; color: #666; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 8.5pt; color: #222; }
h1 { font-size: 15pt; margin: 0 0 2mm 0; }
.meta { color: #555; margin-bottom: 3mm; }
table { border-collapse: collapse; width: 100%; }
thead { display: table-header-group; }
th { background: #eef2f8; text-align: left; }
th, td { border: 0.4pt solid #ccd; padding: 1.2mm 1.6mm; }
td.n { text-align: right; }
tr { page-break-inside: avoid; }
.note { margin-top: 3mm; color: #555; font-style: italic; }
"""


def _pdf(path: Path, *, name: str, run_at: datetime, as_of: date, interpretation: str,
         columns: Sequence[str], rows: Sequence[tuple[object, ...]], total: int,
         other: Sequence[str]) -> None:
    from weasyprint import HTML  # imported here: Pango loads only when a PDF is made

    chart = svg_chart(columns, rows) if total <= 60 else None
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="{"n" if isinstance(v, int | float) else ""}">'
            f"{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in rows)
    note = ""
    if total > len(rows):
        where = " and ".join(f.upper() for f in other) or "CSV"
        note = (f'<p class="note">The first {len(rows):,} of {total:,} rows are shown; the full '
                f"data is in the {where} file of this run.</p>")
    document = f"""<!doctype html><html><head><meta charset="utf-8">
<style>{_CSS}</style></head><body>
<h1>{html.escape(name)}</h1>
<p class="meta">Run {run_at:%d %b %Y %H:%M} · as of {as_of:%d %b %Y} · {total:,} rows</p>
{f"<p>{html.escape(interpretation)}</p>" if interpretation else ""}
{chart or ""}
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}
</body></html>"""
    HTML(string=document).write_pdf(path)
