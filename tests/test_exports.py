"""Issue 14, drill 7 (formula injection) on real parts: an audit log on SQLite exported to
Excel and CSV, a report rendered to both, the Ask page's download bytes. Text that starts
like a formula comes back as text behind a single quote; numbers stay numbers."""

from __future__ import annotations

import ast
import csv
import io
import sys
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook

from app_pages.charts import table_frame
from copilot.core.audit import AuditFilter, AuditLog, AuditRecord
from copilot.core.audit.export import export_records
from copilot.core.tabular import TableWriter, csv_bytes, safe_cell, xlsx_bytes
from reports.render import render_report

ROOT = Path(__file__).resolve().parents[1]
LINK = '=HYPERLINK("http://x","y")'
HOSTILE = ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", -5)
QUOTED = ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx"]


def _sheet(data: bytes | Path) -> list[list[tuple[object, str]]]:
    """Every cell as (value, openpyxl data type), row by row."""
    book = load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    sheet = book.active
    assert not any(cell.hyperlink for row in sheet.iter_rows() for cell in row)
    # OOXML escapes a carriage return as _x000D_; Excel reads it back, openpyxl's inline
    # strings do not, so the test decodes it.
    return [[(cell.value.replace("_x000D_", "\r") if isinstance(cell.value, str)
              else cell.value, cell.data_type) for cell in row] for row in sheet.iter_rows()]


def _no_formula(table: list[list[tuple[object, str]]]) -> None:
    assert all(kind != "f" for row in table for _, kind in row), table


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=1+1", "'=1+1"), ("-1", "'-1"), ("\rx", "'\rx"), ("a=b", "a=b"), ("", ""),
     (-5, -5), (-1.5, -1.5), (Decimal("-5.10"), Decimal("-5.10")), (True, True),
     (None, None), (float("nan"), None), (float("-inf"), "'-inf"), (np.int64(-7), -7),
     (np.float64(2.5), 2.5), (date(2026, 11, 20), date(2026, 11, 20)),
     (timedelta(days=-1), "'-1 day, 0:00:00")],
)
def test_safe_cell_quotes_formula_text_and_keeps_numbers(value: object, expected: object) -> None:
    got = safe_cell(value)
    assert got == expected and type(got) is type(expected)


def test_a_typed_hyperlink_question_is_text_in_audit_exports(tmp_path: Path) -> None:
    log = AuditLog(f"sqlite:///{tmp_path / 'audit.db'}")
    log.append(AuditRecord(channel="ask", outcome="answered", user="n.singh", question=LINK,
                           reason="-2+3", tables=("trades",), row_count=-5, duration_ms=1.5))
    xlsx, text = tmp_path / "audit.xlsx", tmp_path / "audit.csv"
    assert export_records(log, "xlsx", xlsx, AuditFilter(), user="compliance") == 1
    assert export_records(log, "csv", text, AuditFilter(), user="compliance") == 2

    table = _sheet(xlsx)
    _no_formula(table)
    header = [value for value, _ in table[0]]
    record = dict(zip(header, table[1], strict=True))
    assert record["question"] == ("'" + LINK, "s")
    assert record["reason"] == ("'-2+3", "s")
    assert record["row_count"] == (-5, "n") and record["duration_ms"] == (1.5, "n")

    with text.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["question"] == "'" + LINK and rows[0]["reason"] == "'-2+3"
    assert rows[0]["row_count"] == "-5" and rows[0]["tables"] == "trades"
    assert rows[1]["question"] == "audit export (xlsx)"  # the first export, audited


def test_a_report_keeps_formula_text_as_text_and_numbers_as_numbers(tmp_path: Path) -> None:
    columns = ("a", "b", "c", "d", "e", "f", "=n")
    chunks = [(columns, (HOSTILE,)), (columns, (("ok", "x", "y", "z", "t", "r", 3.5),))]
    done = render_report(iter(chunks), formats=("csv", "xlsx"), folder=tmp_path, name="drill",
                         run_at=datetime(2026, 11, 20, 7, 0), as_of=date(2026, 11, 20))
    csv_path, xlsx_path = done.files
    assert done.row_count == 2 and done.head[0] == HOSTILE  # the PDF still sees raw values

    with csv_path.open(newline="", encoding="utf-8") as handle:
        read = list(csv.reader(handle))
    assert read[0][-1] == "'=n"
    assert read[1] == [*QUOTED, "-5"] and read[2][-1] == "3.5"

    table = _sheet(xlsx_path)
    _no_formula(table)
    assert table[0][-1] == ("'=n", "s")
    assert [value for value, _ in table[1]] == [*QUOTED, -5]
    assert [kind for _, kind in table[1]] == ["s"] * 6 + ["n"]
    with zipfile.ZipFile(xlsx_path) as book:  # constant-memory mode writes inline strings
        assert 't="inlineStr"' in book.read("xl/worksheets/sheet1.xml").decode()


def test_the_ask_page_downloads_are_neutralised(tmp_path: Path) -> None:
    # What app_pages.ask._downloads does with the page's frame.
    frame = table_frame(("link", "amount", "when"),
                        ((LINK, -5, datetime(2026, 11, 20, 9, 30)), ("@cmd", 2.5, None)))
    columns, rows = list(frame.columns), list(frame.itertuples(index=False, name=None))

    read = list(csv.reader(io.StringIO(csv_bytes(columns, rows).decode("utf-8"), newline="")))
    assert read == [["link", "amount", "when"], ["'" + LINK, "-5.0", "2026-11-20 09:30:00"],
                    ["'@cmd", "2.5", ""]]

    table = _sheet(xlsx_bytes(columns, rows, sheet="answer"))
    _no_formula(table)
    assert table[1] == [("'" + LINK, "s"), (-5, "n"), (datetime(2026, 11, 20, 9, 30), "d")]
    assert table[2][:2] == [("'@cmd", "s"), (2.5, "n")] and table[2][2][0] is None


def test_a_stream_stays_open_and_a_path_is_closed(tmp_path: Path) -> None:
    stream = io.BytesIO()
    with TableWriter(stream, "csv") as writer:
        writer.writerow(("a",))
        assert writer.writerows([("=b",), (1,)]) == 2
    assert not stream.closed and stream.getvalue() == b"a\r\n'=b\r\n1\r\n"
    path = tmp_path / "t.xlsx"
    writer = TableWriter(path, "xlsx")
    writer.writerow(("-x",))
    writer.close()
    writer.close()  # a second close does nothing
    assert _sheet(path) == [[("'-x", "s")]]


def test_the_writer_imports_only_the_standard_library_and_xlsxwriter() -> None:
    tree = ast.parse((ROOT / "copilot" / "core" / "tabular.py").read_text(encoding="utf-8"))
    names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    names |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module}
    assert names - set(sys.stdlib_module_names) - {"__future__"} == {"xlsxwriter"}
