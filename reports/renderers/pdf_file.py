"""PDF, for reading: title, run time, as-of date, the interpretation, a chart and the first
rows of the table, paged, with a note that the full data is in the run's other files when
there are more. WeasyPrint gets no base URL and the page uses only local fonts, so nothing
is fetched while rendering."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from reports.renderers.base import RenderJob, Writer
from reports.svg_chart import svg_chart

__all__ = ["PDF", "PDF_ROWS", "PdfRenderer"]

PDF_ROWS = 500  # rows a PDF shows; more are summarised, the files carry them all
CHART_ROWS = 60  # a chart of more rows is unreadable


class PdfRenderer:
    """The first rows as a paged, printable document."""

    name = "pdf"
    mime = "application/pdf"

    def open(self, path: Path, job: RenderJob) -> Writer:
        return _PdfWriter(path, job)


class _PdfWriter:
    """Keeps the first PDF_ROWS rows; the document is made once the total is known."""

    def __init__(self, path: Path, job: RenderJob) -> None:
        self._path, self._job = path, job
        self._columns: tuple[str, ...] = ()
        self._rows: list[tuple[object, ...]] = []

    def header(self, columns: tuple[str, ...]) -> None:
        self._columns = columns

    def rows(self, rows: Sequence[tuple[object, ...]]) -> None:
        self._rows.extend(rows[:PDF_ROWS - len(self._rows)])

    def finish(self, total: int) -> None:
        _pdf(self._path, self._job, self._columns, self._rows, total)

    def discard(self) -> None:
        self._rows.clear()


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


def _pdf(path: Path, job: RenderJob, columns: Sequence[str],
         rows: Sequence[tuple[object, ...]], total: int) -> None:
    from weasyprint import HTML  # imported here: Pango loads only when a PDF is made

    chart = svg_chart(columns, rows) if total <= CHART_ROWS else None
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="{"n" if isinstance(v, int | float) else ""}">'
            f"{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in rows)
    note = ""
    if total > len(rows):
        other = [f for f in job.formats if f != PDF.name]
        where = " and ".join(f.upper() for f in other) or "CSV"
        note = (f'<p class="note">The first {len(rows):,} of {total:,} rows are shown; the full '
                f"data is in the {where} file of this run.</p>")
    name, run_at, as_of = job.name, job.run_at, job.as_of
    document = f"""<!doctype html><html><head><meta charset="utf-8">
<style>{_CSS}</style></head><body>
<h1>{html.escape(name)}</h1>
<p class="meta">Run {run_at:%d %b %Y %H:%M} · as of {as_of:%d %b %Y} · {total:,} rows</p>
{f"<p>{html.escape(job.interpretation)}</p>" if job.interpretation else ""}
{chart or ""}
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}
</body></html>"""
    HTML(string=document).write_pdf(path)


PDF = PdfRenderer()
