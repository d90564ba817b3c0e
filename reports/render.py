"""Render a report's full result to the template's formats, a chunk at a time: every
format's writer (reports/renderers/, listed in its registry) gets the header and each chunk
as it streams from the warehouse, so no format holds the whole result. Every file or none:
a failure midway deletes what was started.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from copilot.core.filenames import download_name
from reports.renderers.base import RenderJob, Writer
from reports.renderers.pdf_file import PDF_ROWS
from reports.renderers.registry import RENDERERS

__all__ = ["HEAD_ROWS", "MIME", "PDF_ROWS", "Rendered", "file_stem", "render_report"]

# suffix -> MIME type, for attachments (read from the registry, so a new format has one)
MIME = {name: renderer.mime for name, renderer in RENDERERS.items()}
HEAD_ROWS = 60  # rows kept in memory for messages, charts and alerts

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


def render_report(chunks: Chunks, *, formats: Sequence[str], folder: Path, name: str,
                  run_at: datetime, as_of: date, interpretation: str = "",
                  labels: Callable[[tuple[str, ...]], tuple[str, ...]] | None = None
                  ) -> Rendered:
    """Write the chosen formats of the result into `folder`; every file or none. `labels`
    names the columns as the page does ("Counterparty", "Amount (USD)")."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = file_stem(name, run_at, as_of)
    job = RenderJob(name, run_at, as_of, interpretation, tuple(formats))
    paths = {fmt: folder / f"{stem}.{fmt}" for fmt in formats}
    columns: tuple[str, ...] = ()
    head: list[tuple[object, ...]] = []
    count = 0
    writers: list[Writer] = []
    try:
        writers.extend(RENDERERS[fmt].open(path, job) for fmt, path in paths.items())
        for chunk_columns, rows in chunks:
            if not columns:
                columns = labels(chunk_columns) if labels is not None else chunk_columns
                for writer in writers:
                    writer.header(columns)
            for writer in writers:
                writer.rows(rows)
            head.extend(rows[:HEAD_ROWS - len(head)])
            count += len(rows)
        for writer in writers:
            writer.finish(count)
    except BaseException:
        for writer in writers:
            with contextlib.suppress(Exception):
                writer.discard()
        for path in paths.values():
            path.unlink(missing_ok=True)
        raise
    return Rendered(tuple(paths.values()), columns, tuple(head), count)
