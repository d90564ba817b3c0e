"""The Audit page through AppTest: records listed and filtered, the chain verified (and the
verdict still shown once an export is prepared), an export prepared, named for the filters
and dates it holds, and itself audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from copilot.settings import load_settings
from copilot.wiring import build_services
from tests.downloads import record_downloads


def _audit_page() -> None:
    from app_pages import audit

    audit.render()


@pytest.fixture
def env(page_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OPSCOPILOT_USER", "n.singh")
    services = build_services(load_settings())
    services.answering.ask("fails by counterparty this month")
    services.answering.ask("fails by colour")
    return page_env


def test_records_filter_verify_and_export(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    downloads = record_downloads(monkeypatch)
    app = AppTest.from_function(_audit_page, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    shown = app.dataframe[0].value
    assert {"fails by counterparty this month", "fails by colour"} <= set(shown["question"])

    app.selectbox(key="audit_outcome").select("refused").run()
    assert list(app.dataframe[0].value["question"]) == ["fails by colour"]

    app.button(key="audit_verify").click().run()
    assert "The chain holds" in app.success[0].value
    assert "up to the signed checkpoint at record" in app.success[0].value

    app.button(key="audit_export").click().run()
    assert not app.exception
    # The verdict stays, with when it was checked, while the export is downloaded.
    assert "The chain holds" in app.success[0].value
    assert "Checked at" in " ".join(c.value for c in app.caption)
    since, until = app.date_input(key="audit_since").value, app.date_input(key="audit_until").value
    assert downloads["audit_download"] == f"audit-refused-{since}-to-{until}.csv"
    services = build_services(load_settings())
    last = [r for _, r in services.audit.records()][-1]
    assert last.channel == "audit" and last.row_count == 1 and "export" in last.question


def test_verify_names_records_removed_at_the_end(env: Path) -> None:
    import sqlite3

    with sqlite3.connect(env / "audit.db") as conn:
        last = conn.execute("SELECT MAX(id) FROM audit_log").fetchone()[0]
        conn.execute("DELETE FROM audit_log WHERE id = ?", (last,))
    app = AppTest.from_function(_audit_page, default_timeout=60)
    app.run()
    app.button(key="audit_verify").click().run()
    assert not app.success
    message = app.error[0].value
    assert message.startswith("The audit trail does not hold")
    assert f"holds {last - 1} records" in message
    assert f"shows {last}: record {last} was removed" in message
