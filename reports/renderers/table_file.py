"""The writer CSV and Excel share: every row streamed through copilot.core.tabular's safe
writer (text that starts like a formula gets a leading quote; Excel in XlsxWriter's
constant-memory mode, so a million rows do not sit in memory as cells)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from copilot.core.tabular import TableWriter

__all__ = ["TableFileWriter"]


class TableFileWriter:
    """A `Writer` over a `TableWriter`: the header, then every row, as they come."""

    def __init__(self, table: TableWriter) -> None:
        self._table = table

    def header(self, columns: tuple[str, ...]) -> None:
        self._table.writerow(columns)

    def rows(self, rows: Sequence[tuple[object, ...]]) -> None:
        for row in rows:
            self._table.writerow(row)

    def finish(self, total: int) -> None:
        self._table.close()

    def discard(self) -> None:
        with contextlib.suppress(Exception):  # ends XlsxWriter's temporary files too
            self._table.close()
