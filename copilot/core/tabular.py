"""The one writer of CSV and Excel files: Ask downloads, report files, audit exports.

Cells hold untrusted text: warehouse data, typed questions, LLM-written SQL and its aliases. A
spreadsheet runs a cell starting with `=`, `+`, `-` or `@` as a formula (a leading tab or
carriage return too, in some), so `=HYPERLINK("http://x","y")` typed as a question would come
back as a live link in an audit export. As OWASP advises, such text gets a leading single
quote; numbers stay numbers (-5 is still -5). In Excel every text is a string cell, never a
formula or an auto-detected URL. Rows stream: CSV line by line, Excel through XlsxWriter's
constant-memory mode, so a million-row report never sits in memory as cells.

Floor 0: the standard library and XlsxWriter only.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from numbers import Integral, Real
from os import PathLike, fspath
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Literal

import xlsxwriter

__all__ = ["XLSX_MAX_ROWS", "TableFormat", "TableWriter", "csv_bytes", "safe_cell",
           "xlsx_bytes"]

TableFormat = Literal["csv", "xlsx"]
XLSX_MAX_ROWS = 1_048_576  # a sheet's limit; XlsxWriter would drop the rows past it silently
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_DATE_FORMATS = ((datetime, "yyyy-mm-dd hh:mm:ss"), (date, "yyyy-mm-dd"), (time, "hh:mm:ss"))


def _text(value: str) -> str:
    return "'" + value if value.startswith(_TRIGGERS) else value


def safe_cell(value: object) -> object:
    """The value as a spreadsheet may receive it: text that could start a formula gets a
    leading quote; finite numbers (not bools) stay numbers, as plain int, float or Decimal;
    None and NaN are blank; dates and bools stay; anything else becomes neutralised text."""
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Real | Decimal):
        if value != value:  # NaN: blank, as pandas writes it
            return None
        if not math.isfinite(value):
            return _text(str(value))
        if type(value) in (int, float) or isinstance(value, Decimal):
            return value
        # numpy and friends: plain numbers, so csv writes 1.5 rather than np.float64(1.5)
        return int(value) if isinstance(value, Integral) else float(value)
    if isinstance(value, date | time):
        return None if value != value else value  # pandas' NaT is a datetime unequal to itself
    return _text(str(value))


class TableWriter:
    """Rows, one at a time, to a CSV or Excel file at `target` (a path or a binary stream,
    which is left open). Every cell, the header's too, goes through `safe_cell`."""

    def __init__(self, target: str | PathLike[str] | BinaryIO, fmt: TableFormat, *,
                 sheet: str = "data") -> None:
        self.fmt, self.rows_written, self._closed = fmt, 0, False
        self._owned = isinstance(target, str | PathLike)  # else a caller's stream, left open
        if fmt == "csv":
            self._handle = (Path(target).open("w", newline="", encoding="utf-8")  # noqa: SIM115
                            if isinstance(target, str | PathLike)  # open until close()
                            else io.TextIOWrapper(target, encoding="utf-8", newline=""))
            self._csv = csv.writer(self._handle)
            return
        self._book = xlsxwriter.Workbook(fspath(target) if self._owned else target, {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "remove_timezone": True})
        self._sheet = self._book.add_worksheet(sheet)
        self._dates = tuple((kind, self._book.add_format({"num_format": shape}))
                            for kind, shape in _DATE_FORMATS)

    def writerow(self, row: Iterable[object]) -> None:
        cells = [safe_cell(value) for value in row]
        if self.fmt == "csv":
            self._csv.writerow(cells)
        else:
            self._xlsx_row(cells)
        self.rows_written += 1

    def writerows(self, rows: Iterable[Iterable[object]]) -> int:
        """Write every row; returns how many."""
        before = self.rows_written
        for row in rows:
            self.writerow(row)
        return self.rows_written - before

    def _xlsx_row(self, cells: list[object]) -> None:
        line, sheet = self.rows_written, self._sheet
        if line >= XLSX_MAX_ROWS:
            raise ValueError(f"An Excel sheet holds at most {XLSX_MAX_ROWS:,} rows; use CSV.")
        for column, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(line, column, value)
            elif isinstance(value, int | float | Decimal):
                sheet.write_number(line, column, float(value))
            elif isinstance(value, date | time):
                shape = next(f for kind, f in self._dates if isinstance(value, kind))
                sheet.write_datetime(line, column, value, shape)
            else:
                sheet.write_string(line, column, str(value))

    def close(self) -> None:
        """Finish the file; a second call does nothing."""
        if self._closed:
            return
        self._closed = True
        if self.fmt == "xlsx":
            self._book.close()
        elif self._owned:
            self._handle.close()
        else:
            self._handle.flush()
            self._handle.detach()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def _bytes(fmt: TableFormat, columns: Sequence[object], rows: Iterable[Iterable[object]],
           sheet: str) -> bytes:
    buffer = io.BytesIO()
    with TableWriter(buffer, fmt, sheet=sheet) as writer:
        writer.writerow(columns)
        writer.writerows(rows)
    return buffer.getvalue()


def csv_bytes(columns: Sequence[object], rows: Iterable[Iterable[object]]) -> bytes:
    """A whole CSV file (UTF-8) for a download."""
    return _bytes("csv", columns, rows, "data")


def xlsx_bytes(columns: Sequence[object], rows: Iterable[Iterable[object]], *,
               sheet: str = "data") -> bytes:
    """A whole Excel workbook of one sheet for a download."""
    return _bytes("xlsx", columns, rows, sheet)
