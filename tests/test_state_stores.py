"""One contract suite over every store in the app's state database, run on a SQLite file and
on a PostgreSQL database alike (as APScheduler 4 runs one suite over every data store).

Each test states what a caller relies on: every field read back as written, list order,
the typed error on a duplicate, one winner when two processes (two engines) race for the
same row, rollback, deletion, appends from threads, tables made on first use, and a typed
error with a message when the database is down.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from pgserver import running_postgres
from sqlalchemy import inspect
from statestores import (
    LONG,
    UNICODE,
    Stores,
    fresh_database,
    profile_content,
    race,
    start_server,
    stop_server,
)

from copilot.approvals import ApprovalStore, PendingChange
from copilot.core.errors import CopilotError
from copilot.core.identity import Identity
from copilot.core.secretbox import SecretBox, new_secret_key
from copilot.core.statedb import state_engine
from copilot.llm.config import LLMConfig
from dashboards.model import DashboardError, Refresh, Widget
from reports.message import DeliveryOutcome, ReportMessage
from reports.model import Alert, Recipients, ReportError, ReportRun, ReportTemplate, Schedule
from reports.scheduler import run_job
from reports.triggers import trigger_for

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")
TABLES = {"training_versions", "training_active", "llm_settings", "dashboards",
          "dashboard_widgets", "widget_values", "report_templates", "report_runs",
          "report_run_owners", "report_deliveries", "directory_people", "sign_ins",
          "api_tokens"}


@pytest.fixture(params=["sqlite", "postgres"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty state database: a SQLite file, or a new database on the test server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'state.db'}"
    return fresh_database(request.getfixturevalue("postgres"))


@pytest.fixture
def stores(state_url: str) -> Iterator[Stores]:
    opened = Stores.open(state_url)
    yield opened
    opened.dispose()


# ---- tables -----------------------------------------------------------------------------

def test_tables_are_made_on_first_use_and_a_second_process_opens_them(state_url: str) -> None:
    engine = state_engine(state_url)
    assert set(inspect(engine).get_table_names()) == set()
    first = Stores.open(state_url)
    assert set(inspect(engine).get_table_names()) == TABLES
    board = first.dashboards.create_dashboard("Breaks", by="anna")
    second = Stores.open(state_url)  # the tables exist: opening again changes nothing
    assert second.dashboards.dashboards() == [board]
    for opened in (first, second, engine):
        opened.dispose()


# ---- training profiles ------------------------------------------------------------------

def test_a_profile_version_reads_back_whole(stores: Stores) -> None:
    content = profile_content(note=UNICODE)
    made = stores.profiles.create_version("demo", content, created_by=UNICODE, note=LONG)
    read = stores.profiles.get("demo", 1)
    assert read == made and read.content == content and read.note == LONG
    assert read.content.schema.tables[0].columns[1].comment is None
    assert read.content.documents[0].chunks == (LONG, UNICODE)
    assert STAMP.fullmatch(read.created_at) and read.created_by == UNICODE
    with pytest.raises(CopilotError, match="has no version 2"):
        stores.profiles.get("demo", 2)


def test_versions_list_newest_first_and_a_rollback_restores_the_old_one(
        stores: Stores) -> None:
    repo = stores.profiles
    assert repo.active("demo") is None and repo.versions("demo") == []
    for note in ("one", "two", "three"):
        repo.create_version("demo", profile_content(note), created_by="anna", note=note)
    repo.activate("demo", 3, by="anna")
    assert [(v.version, v.active) for v in repo.versions("demo")] == [
        (3, True), (2, False), (1, False)]
    repo.activate("demo", 1, by="ben")  # the rollback
    active = repo.active("demo")
    assert active is not None and active.version == 1 and active.content == profile_content("one")
    assert repo.versions("other") == []


def test_versions_made_at_once_by_threads_and_processes_are_all_kept(state_url: str) -> None:
    two = [Stores.open(state_url), Stores.open(state_url)]
    made = race(8, lambda i: two[i % 2].profiles.create_version(
        "demo", profile_content(str(i)), created_by=f"user{i}", note=str(i)))
    assert not [m for m in made if isinstance(m, Exception)], made
    assert sorted(m.version for m in made) == list(range(1, 9))
    listed = two[0].profiles.versions("demo")
    assert sorted((v.version, v.note) for v in listed) == sorted((m.version, m.note) for m in made)
    won = race(6, lambda i: two[i % 2].profiles.activate("demo", i + 1, by="x"))
    assert not [w for w in won if isinstance(w, Exception)], won
    assert two[1].profiles.active_number("demo") in range(1, 7)
    for store in two:
        store.dispose()


# ---- LLM settings -----------------------------------------------------------------------

BOX = SecretBox(new_secret_key())  # a saved key is stored only sealed


def _llm(key: str = "sk-" + UNICODE) -> LLMConfig:
    return LLMConfig(base_url="https://llm.example/v1?api-version=2024", model="gpt-ø",
                     api_key=key, key_header="api-key", headers=(("X-Desk", UNICODE),),
                     timeout_s=12.5, retries=0, max_corrections=3, token_budget=9000,
                     send_rows=True)


def test_llm_settings_read_back_replace_and_clear(stores: Stores) -> None:
    store = stores.llm
    assert store.load() is None
    saved = store.save(_llm(), by=UNICODE, box=BOX)
    assert store.load(BOX) == saved and saved.config == _llm() and STAMP.fullmatch(saved.saved_at)
    store.save(_llm(key=""), by="ben", box=BOX)
    assert store.load().config.api_key == "" and store.load().saved_by == "ben"
    store.clear()
    assert store.load() is None


def test_llm_settings_saved_at_once_leave_one_whole_configuration(state_url: str) -> None:
    two = [Stores.open(state_url), Stores.open(state_url)]
    for _ in range(2):  # from nothing, then over a saved configuration
        done = race(6, lambda i: two[i % 2].llm.save(_llm(key=f"k{i}"), by=f"u{i}",
                                                     box=BOX))
        assert not [d for d in done if isinstance(d, Exception)], done
        loaded = two[0].llm.load(BOX)
        assert loaded is not None and loaded.saved_by == f"u{loaded.config.api_key[1:]}"
    for store in two:
        store.dispose()


# ---- the directory and sign-ins ---------------------------------------------------------

def test_the_directory_reads_back_a_person_s_groups_and_their_age(stores: Stores) -> None:
    name = UNICODE[:200]
    identity = Identity(name, frozenset({UNICODE[:250], "ops-desk"}), "oidc")
    assert stores.directory.remember(identity) is True
    member = stores.directory.membership(name)
    assert member.groups == identity.groups and not member.stale
    assert member.confirmed_at is not None
    old = datetime.now(UTC) - timedelta(days=400)
    stores.directory.remember(Identity("olga", frozenset({"x"}), "header", old), now=old)
    assert stores.directory.membership("olga").stale


def test_sign_ins_by_two_processes_at_once_keep_one_row_and_end_once(state_url: str) -> None:
    two = [Stores.open(state_url), Stores.open(state_url)]
    seen = race(6, lambda i: two[i % 2].sign_ins.touch("login-1", "anna", timeout=None))
    assert sorted(seen) == ["active"] * 5 + ["new"], seen
    remembered = race(6, lambda i: two[i % 2].directory.remember(
        Identity("anna", frozenset({f"g{i % 2}"}), "oidc")))
    assert not [r for r in remembered if isinstance(r, Exception)], remembered
    assert len(two[0].directory.membership("anna").groups) == 1
    ended = race(4, lambda i: two[i % 2].sign_ins.end("login-1"))
    assert sorted(ended) == [False, False, False, True], ended
    for store in two:
        store.dispose()


def test_api_tokens_read_back_verify_in_another_process_and_are_revoked_once(
        state_url: str) -> None:
    two = [Stores.open(state_url), Stores.open(state_url)]
    name, groups = UNICODE[:200], frozenset({UNICODE[:250], "ops-desk"})
    older, older_text = two[0].api_tokens.create("anna", by="ops",
                                                 now=datetime.now(UTC) - timedelta(days=1))
    token, text = two[0].api_tokens.create(name, groups=groups, by=name, expires_days=7)
    read = two[1].api_tokens.verify(text)  # the other process knows it at once
    assert read == token and read.groups == groups and read.expires_at == token.expires_at
    assert [t.id for t in two[1].api_tokens.tokens()] == [token.id, older.id]  # newest first
    with state_engine(state_url).connect() as conn:  # only the secret's hash is kept
        stored = " ".join(str(v) for row in conn.exec_driver_sql("SELECT * FROM api_tokens")
                          for v in row)
    assert text.split("_", 2)[2] not in stored
    revoked = race(4, lambda i: two[i % 2].api_tokens.revoke(token.id))
    assert len({r.revoked_at for r in revoked}) == 1, revoked  # the first revocation stays
    with pytest.raises(CopilotError, match="revoked"):
        two[0].api_tokens.verify(text)
    assert two[1].api_tokens.verify(older_text) == older  # revoking one leaves the others
    for store in two:
        store.dispose()


# ---- dashboards -------------------------------------------------------------------------

def _widget(board: int, title: str, **changes: object) -> Widget:
    fields: dict[str, object] = {"question": UNICODE, "sql": LONG, "relative": True,
                                 "chart": "bar", "refresh": Refresh("daily", 0, "07:30"),
                                 "profile_version": "demo-3"}
    return Widget(board, title, **{**fields, **changes})


def test_dashboards_list_by_name_and_refuse_a_duplicate(stores: Stores) -> None:
    store = stores.dashboards
    for name in ("cherry", "Banana", "apple", "Zed", UNICODE):
        made = store.create_dashboard(name, by="anna")
        assert STAMP.fullmatch(made.created_at)
    names = [d.name for d in store.dashboards()]
    assert names == ["Banana", UNICODE, "Zed", "apple", "cherry"]  # by code point
    with pytest.raises(DashboardError, match="'apple' already exists"):
        store.create_dashboard("  apple ", by="ben")
    assert store.dashboard("apple").created_by == "anna"


def test_widgets_read_back_whole_in_their_order_and_go_with_their_dashboard(
        stores: Stores) -> None:
    store = stores.dashboards
    board = store.create_dashboard("Ops", by="anna").id
    first = store.add_widget(_widget(board, "First " + UNICODE))
    second = store.add_widget(_widget(board, "Second", relative=False, chart="table",
                                      refresh=Refresh("minutes", 15)))
    third = store.add_widget(_widget(board, "Third", refresh=Refresh()))
    assert store.widget(first.id) == first and store.widgets(board) == [first, second, third]
    assert store.widget(first.id).sql == LONG and STAMP.fullmatch(first.updated_at)
    store.move_widget(third.id, -1)
    assert [w.id for w in store.widgets(board)] == [first.id, third.id, second.id]
    edited = store.update_widget(replace(second, title="Renamed"))
    assert store.widget(second.id) == edited
    store.delete_widget(first.id)
    with pytest.raises(DashboardError, match="no widget"):
        store.widget(first.id)
    store.delete_dashboard(board)
    assert store.widgets(board) == [] and store.dashboards() == []



def test_widgets_and_values_appended_at_once_are_all_kept(stores: Stores) -> None:
    store = stores.dashboards
    board = store.create_dashboard("Busy", by="anna").id
    added = race(8, lambda i: store.add_widget(_widget(board, f"W{i}")))
    assert not [a for a in added if isinstance(a, Exception)], added
    assert sorted(w.title for w in store.widgets(board)) == sorted(f"W{i}" for i in range(8))
    values = [0.1, -2.5e-300, 1.2345678901234567e17, 0.0, 3.0, 42.125]
    previous = race(6, lambda i: store.record_value(added[0].id, values[i], "t"))
    assert not [p for p in previous if isinstance(p, Exception)], previous
    assert store.record_value(added[0].id, 7.0, "t") in values  # exact, as written


# ---- report templates and the run log ---------------------------------------------------

def _template(name: str) -> ReportTemplate:
    return ReportTemplate(
        name=name, sql="SELECT 'é' AS x\n-- " + LONG,
        schedule=Schedule("weekly", at="06:45", days=("mon", "fri"), timezone="Asia/Tokyo",
                          weekdays_only=True),
        recipients=Recipients(emails=("ops@bank.example",), slack=("https://h.example/s",),
                              folders=("/srv/reports/決済",)),
        formats=("csv", "pdf"), question=UNICODE, relative=True, interpretation=UNICODE,
        skip_when_empty=True, subject="{name} ✓", body=LONG,
        alert=Alert("anomaly", ">=", 1.5, 2.5, 5, 0), paused=True, created_by=UNICODE)


def test_templates_read_back_whole_by_name_and_refuse_a_duplicate(stores: Stores) -> None:
    store = stores.reports
    saved = {n: store.save(_template(n)) for n in ("cherry", "Banana", "apple", UNICODE)}
    assert store.template("apple") == saved["apple"] and STAMP.fullmatch(saved["apple"].updated_at)
    assert store.template_by_id(saved["Banana"].id) == saved["Banana"]
    assert [t.name for t in store.templates()] == ["Banana", UNICODE, "apple", "cherry"]
    with pytest.raises(ReportError, match="'apple' already exists"):
        store.save(_template("apple"))
    with pytest.raises(ReportError, match="'cherry' already exists"):  # a rename onto it
        store.save(replace(saved["apple"], name="cherry"))
    store.delete(saved["apple"].id)
    assert store.template_by_id(saved["apple"].id) is None
    with pytest.raises(ReportError, match="no report named 'apple'"):
        store.template("apple")



def _run(template_id: int, scheduled_for: str = "", **changes: object) -> ReportRun:
    return ReportRun(template_id, "T " + UNICODE, "schedule" if scheduled_for else "manual",
                     started_at="2026-11-20T07:00:00.000001Z", scheduled_for=scheduled_for,
                     **changes)


def test_runs_read_back_whole_newest_first(stores: Stores) -> None:
    store = stores.reports
    at = datetime(2026, 11, 20, 7, 0, tzinfo=UTC).isoformat()
    bare = store.start_run(_run(1, at))
    assert store.run(bare.id) == bare and bare.row_count is None and bare.value is None
    full = replace(bare, state="partial", ended_at="2026-11-20T07:00:09.5Z", row_count=0,
                       files=(f"/r/{UNICODE}.csv",), value=-0.1, error=LONG,
                       deliveries=({"channel": "email", "ok": False, "error": UNICODE},))
    assert store.finish_run(full) and store.run(bare.id) == full
    assert not store.finish_run(full)  # no longer working: a second finish changes nothing
    later = [store.start_run(_run(1, state="success", value=v)) for v in (2.0, 3.0)]
    store.start_run(_run(2))
    assert [r.id for r in store.runs(template_id=1)] == [later[1].id, later[0].id, bare.id]
    assert [r.id for r in store.runs(state="partial")] == [bare.id]
    assert store.values(1, 5) == [3.0, 2.0] and len(store.runs(limit=2)) == 2



def test_two_processes_claiming_one_scheduled_run_leave_one_winner(state_url: str) -> None:
    two = [Stores.open(state_url), Stores.open(state_url)]
    for round_ in range(3):
        scheduled = (datetime(2026, 11, 20, 6, 0, tzinfo=UTC) + timedelta(minutes=round_))
        claims = race(6, lambda i, s=scheduled: two[i % 2].reports.start_run(
            _run(7, s.isoformat())))
        won = [c for c in claims if isinstance(c, ReportRun)]
        lost = [c for c in claims if not isinstance(c, ReportRun)]
        assert len(won) == 1 and len(lost) == 5, claims
        assert all(isinstance(e, ReportError) and "already been made" in str(e) for e in lost)
    # Manual runs carry no scheduled time and are all logged.
    manual = race(4, lambda i: two[i % 2].reports.start_run(_run(7)))
    assert all(isinstance(m, ReportRun) for m in manual), manual
    assert len(two[0].reports.runs(template_id=7)) == 7
    for store in two:
        store.dispose()


def test_a_run_is_finished_or_interrupted_not_both(state_url: str) -> None:
    two = [Stores.open(state_url), Stores.open(state_url)]
    for _ in range(3):
        run = two[0].reports.start_run(_run(3))
        done = race(2, lambda i, r=run: two[0].reports.finish_run(replace(r, state="success"))
                    if i == 0 else two[1].reports.interrupt(r.id))
        assert sorted(done) == [False, True], done
        assert two[1].reports.run(run.id).state == ("success" if done[0] else "interrupted")
    for store in two:
        store.dispose()


# ---- the delivery ledger ----------------------------------------------------------------

def test_the_ledger_keeps_the_message_and_moves_each_channel_once(state_url: str) -> None:
    two = [Stores.open(state_url), Stores.open(state_url)]
    ledger = two[0].ledger
    ledger.claim(11)
    assert ledger.owner(11).alive() is True and ledger.owner(12) is None
    assert ledger.message(11) is None
    message = ReportMessage(UNICODE, LONG, ("a", "b"), (("x", None), (UNICODE, 1.5)),
                            link="https://app.example", report=UNICODE,
                            run_at="2026-11-20T07:00:00", as_of="2026-11-20", row_count=2,
                            interpretation=LONG)
    channels = [("email", "ops@bank.example"), ("slack", "h.example"), ("folder", UNICODE)]
    ledger.plan(11, message, (f"/r/{UNICODE}.csv",), channels)
    fields, files = ledger.message(11)
    assert fields == {"subject": UNICODE, "body": LONG, "columns": ("a", "b"),
                      "rows": (("x", None), (UNICODE, 1.5)), "link": "https://app.example",
                      "report": UNICODE, "run_at": "2026-11-20T07:00:00",
                      "as_of": "2026-11-20", "row_count": 2, "interpretation": LONG}
    assert files == (f"/r/{UNICODE}.csv",)
    owed = [(o.position, o.channel, o.target) for o in ledger.owed(11)]
    assert owed == [(p, c, t) for p, (c, t) in enumerate(channels)]
    for position in range(3):  # two processes, three threads each: one sends
        won = race(6, lambda i, p=position: two[i % 2].ledger.start(11, p))
        assert won.count(True) == 1 and won.count(False) == 5, won
    ledger.finish(11, 0, DeliveryOutcome("email", "ops", True, 1, files=(UNICODE,)))
    ledger.finish(11, 1, DeliveryOutcome("slack", "h", False, 3, error=UNICODE))
    assert ledger.abandon_sending(11) == 1 and ledger.owed(11) == []
    states = [(d["state"], d["attempts"], d["error"], d["files"]) for d in ledger.deliveries(11)]
    assert states[:2] == [("sent", 1, "", [UNICODE]), ("failed", 3, UNICODE, [])]
    assert states[2][0] == "uncertain"
    ledger.plan(12, ReportMessage("s", "b"), (), [("email", "x@y.example")])
    ledger.give_up(12, 0, "no SMTP server")
    assert [(d["state"], d["error"]) for d in two[1].ledger.deliveries(12)] == [
        ("failed", "no SMTP server")]
    for store in two:
        store.dispose()


# ---- the scheduler's job store ----------------------------------------------------------

def test_scheduled_jobs_survive_in_the_state_database(state_url: str) -> None:
    """The job store as reports/scheduler.py configures it, beside the other tables."""
    Stores.open(state_url).dispose()
    trigger = trigger_for(Schedule("daily", at="07:00", timezone="Europe/London"))
    first = SQLAlchemyJobStore(url=state_url, tablename="report_jobs")
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_jobstore(first, "default")
    scheduler.start(paused=True)
    job = scheduler.add_job(run_job, trigger, args=[state_url, 5], id="report-5", name=UNICODE)
    due = job.next_run_time
    scheduler.shutdown(wait=False)
    second = SQLAlchemyJobStore(url=state_url, tablename="report_jobs")
    second.start(BackgroundScheduler(timezone=UTC), "default")
    [read] = second.get_all_jobs()
    assert (read.id, read.name, read.args, read.func) == ("report-5", UNICODE, (state_url, 5),
                                                         run_job)
    assert read.next_run_time == due and read.next_run_time.utcoffset() is not None
    assert str(read.trigger) == str(trigger)
    second.remove_job("report-5")
    assert second.get_all_jobs() == [] and set(inspect(second.engine).get_table_names()) > TABLES
    second.shutdown()


# ---- a database that is down ------------------------------------------------------------

def _every_call(stores: Stores) -> dict[str, object]:
    return {
        "profiles": lambda: stores.profiles.versions("demo"),
        "llm": stores.llm.load,
        "dashboards": stores.dashboards.dashboards,
        "reports": stores.reports.templates,
        "ledger": lambda: stores.ledger.owed(1),
        "directory": lambda: stores.directory.membership("anna"),
        "sign-ins": lambda: stores.sign_ins.touch("k", "anna", timeout=None),
        "api tokens": stores.api_tokens.tokens,
    }


def test_a_stopped_server_gives_a_typed_error_and_a_started_one_answers_again() -> None:
    with running_postgres() as server:  # its own server: the shared one is never stopped
        url = fresh_database(server)
        stores = Stores.open(url)
        stores.dashboards.create_dashboard("Kept", by="anna")
        stop_server(server)
        try:
            for name, call in _every_call(stores).items():
                with pytest.raises(CopilotError, match="state database") as caught:
                    call()
                assert f"127.0.0.1:{server.port}" in str(caught.value), name
            with pytest.raises(CopilotError, match="cannot be reached"):
                Stores.open(url)
        finally:
            start_server(server)
        assert [d.name for d in stores.dashboards.dashboards()] == ["Kept"]
        for call in _every_call(stores).values():
            call()  # the pools reconnect: no stale connection error after the restart
        stores.dispose()


def test_an_unusable_sqlite_path_gives_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(CopilotError, match="state database") as caught:
        Stores.open(f"sqlite:///{tmp_path / 'a-file' / 'state.db'}")
    assert "a-file" in str(caught.value)
    (tmp_path / "junk.db").write_bytes(b"this is not a database file" * 100)
    with pytest.raises(CopilotError, match=r"junk\.db cannot be reached or used: file is not"):
        Stores.open(f"sqlite:///{tmp_path / 'junk.db'}")


def test_an_unreachable_server_is_named_without_its_password() -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    where = re.escape(f"127.0.0.1:{port}/state cannot be reached")
    with pytest.raises(CopilotError, match=where) as caught:
        Stores.open(f"postgresql+psycopg://ops:s3cret@127.0.0.1:{port}/state")
    assert "s3cret" not in str(caught.value) and "refused" in str(caught.value)



# ---- four eyes: pending changes and approved settings ----------------------------------

def _pending(target: str = "glossary", **changes: object) -> PendingChange:
    return replace(PendingChange(
        kind="glossary change", summary="taught " + UNICODE, payload={"files": {"a": LONG}},
        diff="--- a\n+++ b\n+" + UNICODE + "\n", maker="ann " + UNICODE, target=target,
        base="f" * 64), **changes)


def test_pending_changes_read_back_whole_newest_first_and_supersede_their_target(
        state_url: str) -> None:
    store = ApprovalStore(state_url)
    first = store.add(_pending())
    other = store.add(_pending(target="activation"))
    again = store.add(_pending())  # the same target: the first is superseded
    read = store.get(again.id)
    assert read == again and read.payload == {"files": {"a": LONG}} and STAMP.fullmatch(
        read.created_at)
    assert store.get(first.id).state == "superseded"
    assert [c.id for c in store.changes(state="pending")] == [again.id, other.id]
    assert ApprovalStore(state_url).get(other.id).diff == other.diff  # another process reads


def test_two_checkers_deciding_one_change_leave_one_winner(state_url: str) -> None:
    change = ApprovalStore(state_url).add(_pending())
    won = race(6, lambda i: ApprovalStore(state_url).decide(change.id, "approved",
                                                             checker=f"checker {i}"))
    assert won.count(True) == 1 and won.count(False) == 5
    decided = ApprovalStore(state_url).get(change.id)
    assert decided.state == "approved" and decided.checker == f"checker {won.index(True)}"


def test_an_approved_setting_is_replaced_whole(state_url: str) -> None:
    store = ApprovalStore(state_url)
    assert store.approved("entitlements") is None
    store.set_approved("entitlements", LONG, by="ada")
    store.set_approved("entitlements", UNICODE, by="adam")
    found = store.approved("entitlements")
    assert (found.value, found.approved_by) == (UNICODE, "adam")
