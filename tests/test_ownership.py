"""A dashboard's widgets and a report read their owner's rows (entitlements), so only the
owner changes or runs them: escapes through someone else's dashboard or report, or an
imported export, are refused or read the importer's rows; the pages offer only what the
person's roles and ownership allow.

The entitlement policy is the shipped example (alice: RATES trades; dave: unrestricted);
the roles file makes alice and dave analysts and vera a viewer.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from copilot.core.access import AccessDenied
from copilot.settings import load_settings
from copilot.wiring import Services, build_services, dashboards_of, reports_of
from dashboards.model import Refresh
from reports.model import Recipients, ReportTemplate
from tests.apppage import page_as

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "docs" / "entitlements.example.yaml"
AS_OF = date(2026, 11, 20)
ALL_LIVE = "SELECT COUNT(*) AS live FROM trades WHERE status = 'LIVE'"
FIVE = Refresh("minutes", 5)


def _env(data: Path) -> dict[str, str]:
    roles = data / "roles.yaml"
    roles.write_text("users: {alice: [analyst], dave: [analyst], vera: [viewer]}\n")
    return {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": AS_OF.isoformat(),
            "OPSCOPILOT_ENTITLEMENTS": str(POLICY), "OPSCOPILOT_ROLES": str(roles)}


@pytest.fixture
def services(trained_data: Path) -> Services:
    return build_services(load_settings(_env(trained_data), env_file=trained_data / "no.env"))


def _count(data: Path, where: str = "status = 'LIVE'") -> int:
    with sqlite3.connect(data / "otc_demo.db") as conn:
        return conn.execute(f"SELECT COUNT(*) FROM trades WHERE {where}").fetchone()[0]


def _blocked(services: Services) -> list[tuple[str, str]]:
    return [(r.user, r.question) for _, r in services.audit.records() if r.outcome == "blocked"]


def _daves_board(services: Services):
    boards = dashboards_of(services)
    answer = services.answering.run_sql(ALL_LIVE, user="dave")
    widget = boards.save_answer(answer, dashboard="Dave's book", title="Live", chart="number",
                                refresh=FIVE, by="dave")
    return boards, widget


def test_nobody_adds_a_widget_to_someone_else_s_dashboard(services: Services) -> None:
    boards, _ = _daves_board(services)
    answer = services.answering.run_sql(ALL_LIVE, user="alice")
    with pytest.raises(AccessDenied, match="dave's"):
        boards.save_answer(answer, dashboard="Dave's book", title="Mine", chart="number",
                           refresh=FIVE, by="alice")
    board = boards.store.dashboard("Dave's book")
    assert [w.title for w in boards.store.widgets(board.id)] == ["Live"]
    assert ("alice", "widget 'Mine' saved to \"Dave's book\"") in _blocked(services)


def test_nobody_edits_moves_or_deletes_someone_else_s_widgets(services: Services) -> None:
    boards, widget = _daves_board(services)
    with pytest.raises(AccessDenied):
        boards.edit_widget(widget, title="x", chart="table", refresh=FIVE,
                           sql="SELECT * FROM trades", by="alice")
    with pytest.raises(AccessDenied):
        boards.move_widget(widget, +1, by="alice")
    with pytest.raises(AccessDenied):
        boards.delete_widget(widget, by="alice")
    with pytest.raises(AccessDenied):
        boards.delete_dashboard(boards.store.dashboard("Dave's book"), by="alice")
    assert boards.store.widget(widget.id).sql == widget.sql
    assert len([who for who, _ in _blocked(services) if who == "alice"]) == 4


def test_an_imported_dashboard_reads_the_importer_s_rows_whoever_exported_it(
        services: Services, trained_data: Path) -> None:
    boards, widget = _daves_board(services)
    daves, _ = boards.refresh(widget, as_of=AS_OF, by="dave")
    assert daves.rows[0][-1] == _count(trained_data)  # dave is unrestricted
    exported = json.loads(boards.export(boards.store.dashboard("Dave's book")))
    exported["created_by"] = exported["owner"] = "dave"  # a forged owner counts for nothing
    imported = boards.import_json(json.dumps(exported), by="alice", name="Alice's copy")
    assert imported.created_by == "alice"
    copy = boards.store.widgets(imported.id)[0]
    seen, _ = boards.refresh(copy, as_of=AS_OF, by="dave")  # whoever looks at it
    assert seen.rows[0][-1] == _count(trained_data, "status = 'LIVE' AND asset_class = 'RATES'")
    assert seen.rows[0][-1] < daves.rows[0][-1]


def _daves_report(services: Services, folder: Path) -> ReportTemplate:
    return reports_of(services, start_scheduler=False).save(ReportTemplate(
        name="Dave's live", sql=ALL_LIVE, recipients=Recipients(folders=(str(folder),))),
        by="dave")


def test_nobody_changes_runs_or_deletes_someone_else_s_report(services: Services,
                                                              tmp_path: Path) -> None:
    reports = reports_of(services, start_scheduler=False)
    saved = _daves_report(services, tmp_path / "dave")
    redirected = replace(saved, recipients=Recipients(folders=(str(tmp_path / "alice"),)))
    with pytest.raises(AccessDenied, match="dave's"):
        reports.save(redirected, by="alice")
    for act in (lambda: reports.run_now(saved, by="alice"),
                lambda: reports.set_paused(saved, True, by="alice"),
                lambda: reports.delete(saved, by="alice")):
        with pytest.raises(AccessDenied):
            act()
    stored = reports.store.template_by_id(saved.id)
    assert stored == saved and not (tmp_path / "alice").exists()
    assert reports.store.runs(template_id=saved.id) == []
    assert not reports.may_change(saved, "alice") and reports.may_change(saved, "dave")


def test_a_new_report_is_its_author_s_whatever_owner_it_claims(services: Services,
                                                               tmp_path: Path) -> None:
    reports = reports_of(services, start_scheduler=False)
    claimed = ReportTemplate(name="Not dave's", sql=ALL_LIVE, created_by="dave",
                             recipients=Recipients(folders=(str(tmp_path),)))
    saved = reports.save(claimed, by="alice")
    assert saved.created_by == "alice"
    run = reports.run_now(saved, by="alice")
    assert run.state == "success", run.error
    with sqlite3.connect(services.settings.warehouse.url.removeprefix("sqlite:///")) as conn:
        rates = conn.execute("SELECT COUNT(*) FROM trades WHERE status = 'LIVE' "
                             "AND asset_class = 'RATES'").fetchone()[0]
    assert run.value == rates


# ---- the pages offer what the person may do ---------------------------------------------

def _as(monkeypatch: pytest.MonkeyPatch, data: Path, user: str) -> None:
    for name, value in _env(data).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPSCOPILOT_USER", user)



def test_the_dashboards_page_offers_changes_only_to_the_owner(
        page_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _as(monkeypatch, page_env, "dave")
    _daves_board(build_services(load_settings()))
    owner = page_as("dashboards", monkeypatch, "dave")
    assert [t.label for t in owner.toggle] == ["Edit"]
    _as(monkeypatch, page_env, "alice")
    other = page_as("dashboards", monkeypatch, "alice")
    assert not other.toggle and "dave's dashboard" in " ".join(c.value for c in other.caption)
    assert "Create" in [b.label for b in other.button]  # an analyst may make her own
    _as(monkeypatch, page_env, "vera")
    viewer = page_as("dashboards", monkeypatch, "vera")
    assert not viewer.toggle and not viewer.expander  # no New / import for a viewer


def test_the_reports_page_offers_run_and_files_only_to_the_owner(
        page_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _as(monkeypatch, page_env, "dave")
    _daves_report(build_services(load_settings()), tmp_path / "out")
    owner = page_as("reports", monkeypatch, "dave")
    assert {"Run now", "Delete"} <= {b.label for b in owner.button}
    _as(monkeypatch, page_env, "alice")
    other = page_as("reports", monkeypatch, "alice")
    assert not {"Run now", "Delete"} & {b.label for b in other.button}
    assert "dave's report" in " ".join(c.value for c in other.caption)
    assert "New report" in [e.label for e in other.expander]
    _as(monkeypatch, page_env, "vera")
    assert "New report" not in [e.label for e in page_as("reports", monkeypatch, "vera").expander]


def test_a_report_whose_owner_lost_the_role_stops_at_its_next_run(
        trained_data: Path, tmp_path: Path) -> None:
    services = build_services(load_settings(_env(trained_data), env_file=trained_data / "no.env"))
    saved = _daves_report(services, tmp_path / "dave")
    (trained_data / "roles.yaml").write_text("users: {dave: [viewer]}\n")  # dave demoted
    later = build_services(load_settings(_env_keeping_roles(trained_data),
                                         env_file=trained_data / "no.env"))
    run = reports_of(later, start_scheduler=False).runner.run(saved, by="scheduler")
    assert run.state == "error" and "dave may not schedule reports" in run.error
    assert not (tmp_path / "dave").exists()  # nothing written, nothing sent


def _env_keeping_roles(data: Path) -> dict[str, str]:
    return {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": AS_OF.isoformat(),
            "OPSCOPILOT_ENTITLEMENTS": str(POLICY), "OPSCOPILOT_ROLES": str(data / "roles.yaml")}
