"""Report templates, their store and their rendering: real SQLite and PostgreSQL streams,
real files, a real PDF turned into PNG pages with pdftoppm."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from copilot.core.guard import Guard, GuardSchema
from copilot.core.statedb import now_text
from copilot.core.warehouse import Warehouse
from reports.model import Alert, Recipients, ReportError, ReportRun, ReportTemplate, Schedule
from reports.render import PDF_ROWS, render_report
from reports.store import ReportStore

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
RUN_AT = datetime(2026, 11, 20, 7, 0)


def _stream(url: str, sql: str, chunk_rows: int = 1000):
    warehouse = Warehouse(url, timeout_s=30)
    guard = Guard(GuardSchema.from_warehouse(warehouse.schema()), dialect=warehouse.dialect,
                  row_cap=1_000_000)
    verdict = guard.check(sql, read="sqlite")
    assert verdict.statement is not None, verdict.reason
    return list(warehouse.stream(verdict.statement, chunk_rows=chunk_rows))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_warehouse_streams_a_whole_result_in_chunks(
        backend: str, small_demo_db: Path, request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{small_demo_db}" if backend == "sqlite" else request.getfixturevalue(
        "pg_demo_url")
    chunks = _stream(url, "SELECT trade_id, notional FROM trades ORDER BY trade_id", 700)
    assert [len(rows) for _, rows in chunks] == [700, 700, 600]
    assert chunks[0][0] == ("trade_id", "notional")
    assert chunks[0][1][0][0] == "TRD0000001"
    empty = _stream(url, "SELECT trade_id FROM trades WHERE 1 = 0")
    assert empty == [(("trade_id",), ())]


def test_csv_excel_and_pdf_carry_the_result(tmp_path: Path) -> None:
    rows = tuple((f"CP{i:05d}", i * 1.5) for i in range(25_000))
    chunks = [(("counterparty", "amount"), rows[i:i + 4000]) for i in range(0, len(rows), 4000)]
    done = render_report(iter(chunks), formats=("csv", "xlsx", "pdf"), folder=tmp_path,
                         name="Big <report>", run_at=RUN_AT, as_of=date(2026, 11, 20),
                         interpretation="Listing amounts.")
    assert done.row_count == 25_000 and done.head[0] == ("CP00000", 0.0)
    csv_path, xlsx_path, pdf_path = done.files
    with csv_path.open(newline="") as handle:
        read = list(csv.reader(handle))
    assert read[0] == ["counterparty", "amount"] and len(read) == 25_001
    assert read[-1] == ["CP24999", "37498.5"]
    book = load_workbook(xlsx_path, read_only=True)
    rows_read = list(book.active.iter_rows(values_only=True))
    book.close()
    assert len(rows_read) == 25_001 and rows_read[-1] == ("CP24999", 37498.5)
    text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Big <report>" in text and "CP00000" in text
    assert f"The first {PDF_ROWS} of 25,000 rows are shown" in " ".join(text.split())


def test_the_pdf_has_title_chart_and_first_row_as_pixels_and_text(tmp_path: Path) -> None:
    rows = (("USD", 195_000_000.5), ("EUR", 150_000_000.0), ("JPY", 17_000_000.0))
    done = render_report(iter([(("currency", "settlement_amount"), rows)]), formats=("pdf",),
                         folder=tmp_path, name="Pending settlements by currency",
                         run_at=RUN_AT, as_of=date(2026, 11, 20),
                         interpretation="Summing pending settlement amounts by currency.")
    [pdf] = done.files
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)
    [png] = list(tmp_path.glob("page*.png"))
    assert png.stat().st_size > 10_000  # a drawn page, not a blank one
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(png, ARTIFACTS / "report_pdf.png")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Pending settlements by currency" in text
    assert "USD" in text and "195,000,000.50" in text
    assert "as of 20 Nov 2026" in text


def test_a_failed_render_leaves_no_files(tmp_path: Path) -> None:
    def broken():
        yield ("a",), ((1,),)
        raise RuntimeError("the warehouse went away")

    with pytest.raises(RuntimeError):
        render_report(broken(), formats=("csv", "xlsx"), folder=tmp_path, name="x",
                      run_at=RUN_AT, as_of=date(2026, 11, 20))
    assert list(tmp_path.iterdir()) == []


def test_templates_round_trip_through_the_store(tmp_path: Path) -> None:
    store = ReportStore(f"sqlite:///{tmp_path / 'state.db'}")
    template = ReportTemplate(
        name="Daily fails", sql="SELECT 1", question="fails today", relative=True,
        formats=("csv", "pdf"),
        schedule=Schedule("weekly", at="07:30", days=("mon", "fri"), timezone="Europe/London",
                          weekdays_only=True),
        recipients=Recipients(emails=("ops@bank.example",), slack=("https://hooks.example/x",),
                              folders=("/srv/share",)),
        alert=Alert("threshold", ">=", 10), skip_when_empty=True, created_by="ops")
    saved = store.save(template)
    assert store.template("Daily fails") == saved and saved.id is not None
    with pytest.raises(ReportError, match="already exists"):
        store.save(ReportTemplate(name="Daily  fails", sql="SELECT 2"))
    run = store.start_run(ReportRun(saved.id, saved.name, "manual", now_text()))
    store.finish_run(ReportRun(saved.id, saved.name, "manual", run.started_at, "success",
                               row_count=3, value=7.0, id=run.id, files=("a.csv",),
                               deliveries=({"channel": "email", "ok": True},)))
    [logged] = store.runs(template_id=saved.id)
    assert logged.state == "success" and logged.files == ("a.csv",) and logged.value == 7.0
    assert store.values(saved.id, 5) == [7.0]


@pytest.mark.parametrize(("build", "message"), [
    (lambda: Schedule("daily", at="7am"), "HH:MM"),
    (lambda: Schedule("weekly", days=("funday",)), "weekly schedule needs days"),
    (lambda: Schedule("cron", cron="* * *"), "five fields"),
    (lambda: Schedule(timezone="Mars/Olympus"), "Unknown time zone"),
    (lambda: Recipients(emails=("not-an-address",)), "not an email"),
    (lambda: Alert("anomaly", trailing=2), "at least 3"),
    (lambda: ReportTemplate(name="x", sql="SELECT 1", formats=("docx",)), "renders one or more"),
])
def test_malformed_templates_are_refused_with_a_reason(build, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        build()


def test_excel_cells_stay_text_whatever_they_start_with(tmp_path: Path) -> None:
    hostile = (("=HYPERLINK(\"http://x.test\")", "+1", "@SUM(A1)"),)
    done = render_report(iter([(("a", "b", "c"), hostile)]), formats=("xlsx",),
                         folder=tmp_path, name="x", run_at=RUN_AT, as_of=date(2026, 11, 20))
    book = load_workbook(done.files[0])
    cells = list(book.active[2])
    assert [c.data_type for c in cells] == ["s", "s", "s"]
    assert [c.value for c in cells] == ["'" + text for text in hostile[0]]
