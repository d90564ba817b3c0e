"""Channels and formats as registries, and the JSON webhook channel that proves it: a
report run on a trained copy of the demo delivers to a webhook receiver on loopback, which
gets the JSON; a 500 is tried again, a 400 is not; the run log and the audit record name
the channel. Templates saved before the registry still load."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from copilot.core.statedb import now_text
from copilot.settings import load_settings
from copilot.wiring import build_services, report_runner
from reports.channels.json_webhook import SCHEMA, JsonWebhookChannel, document
from reports.channels.registry import CHANNELS
from reports.delivery import Attachment, DeliveryError, ReportMessage, deliver_all
from reports.ledger import DeliveryLedger
from reports.model import FORMATS, Recipients, ReportError, ReportRun, ReportTemplate
from reports.render import MIME
from reports.renderers.registry import RENDERERS
from reports.runner import ReportRunner
from reports.store import ReportStore
from tests.mailserver import WebhookReceiver

SQL = ("SELECT s.currency, COUNT(*) AS fails FROM settlements s WHERE s.status = 'FAILED' "
       "GROUP BY s.currency ORDER BY fails DESC")
TOKEN_PATH = "/hooks/ops/t0ps3cr3t"


def _runner(data: Path) -> ReportRunner:
    settings = load_settings({"OPSCOPILOT_DATA_DIR": str(data),
                              "OPSCOPILOT_AS_OF": "2026-11-20"}, env_file=data / "none")
    return report_runner(build_services(settings))


def _save(runner: ReportRunner, recipients: Recipients) -> ReportTemplate:
    return runner.store.save(ReportTemplate(
        name="Fails by currency", sql=SQL, formats=("csv", "xlsx"), recipients=recipients,
        interpretation="Counting failed settlements by currency."))


def _last_audit(runner: ReportRunner) -> dict[str, object]:
    record = list(runner.recorder.log.records())[-1][1]
    return {"outcome": record.outcome, "details": json.loads(record.details),
            "text": record.canonical()}


# --- the registries ------------------------------------------------------------------------

def test_every_channel_is_registered_once_under_a_name_the_ledger_can_keep() -> None:
    assert list(CHANNELS) == ["email", "slack", "teams", "folder", "json_webhook"]
    for name, kind in CHANNELS.items():
        assert kind.name == name and name.isidentifier() and len(name) <= 16
    labels = [kind.label for kind in CHANNELS.values()]
    assert len(set(labels)) == len(labels) and all(labels)


def test_formats_come_from_the_renderer_registry() -> None:
    assert FORMATS == tuple(RENDERERS) == ("csv", "xlsx", "pdf")
    assert MIME == {"csv": "text/csv", "pdf": "application/pdf",
                    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    with pytest.raises(ReportError, match="one or more of csv, xlsx, pdf"):
        ReportTemplate(name="x", sql="SELECT 1", formats=("csv", "docx"))


# --- recipients ----------------------------------------------------------------------------

def test_recipients_are_keyed_by_channel_and_checked_by_it() -> None:
    both = Recipients({"json_webhook": ["https://tickets.example/h/1"], "folders": ["/srv/a"]},
                      emails=("ops@bank.example",))
    # Kept in the registry's order, the old keys read as their channel's name.
    assert both.destinations == (("email", ("ops@bank.example",)), ("folder", ("/srv/a",)),
                                 ("json_webhook", ("https://tickets.example/h/1",)))
    assert both == Recipients(email=["ops@bank.example"], folder=["/srv/a"],
                              json_webhook=["https://tickets.example/h/1"])
    assert both["teams"] == () and not both.empty and Recipients({"slack": []}).empty
    with pytest.raises(ReportError, match="no 'fax' channel"):
        Recipients(fax=("+44 20 7946 0000",))
    for bad in ("http://tickets.example/h/1", "ftp://tickets.example/h", "file:///etc/passwd",
                "tickets.example/h", "https://user:pw@tickets.example/h"):
        with pytest.raises(ReportError, match="JSON webhook") as caught:
            Recipients(json_webhook=(bad,))
        assert "/h" not in str(caught.value) and "pw" not in str(caught.value)
    # Plain http only to loopback, where the tests' receivers are.
    assert Recipients(json_webhook=("http://127.0.0.1:8080/h",))["json_webhook"]


def test_a_template_saved_in_the_old_shape_loads_and_is_saved_in_the_new_one(
        tmp_path: Path) -> None:
    store = ReportStore(f"sqlite:///{tmp_path / 'state.db'}")
    old = {"sql": "SELECT 1", "formats": ["csv"], "question": "", "relative": False,
           "interpretation": "", "skip_when_empty": False, "subject": "{name}",
           "body": "{interpretation}",
           "schedule": {"kind": "daily", "at": "07:00", "days": [], "cron": "",
                        "timezone": "UTC", "weekdays_only": False},
           "alert": {"kind": "none", "op": ">", "value": 0.0, "k": 3.0, "trailing": 20,
                     "grace_minutes": 60},
           "recipients": {"emails": ["ops@bank.example"], "slack": ["https://hooks.example/x"],
                          "teams": [], "folders": ["/srv/share"]}}
    with sqlite3.connect(tmp_path / "state.db") as db:
        db.execute("INSERT INTO report_templates (name, definition, paused, created_by, "
                   "updated_at) VALUES (?, ?, 0, 'ops', ?)", ("Old", json.dumps(old), now_text()))
    template = store.template("Old")
    assert template.recipients.destinations == (
        ("email", ("ops@bank.example",)), ("slack", ("https://hooks.example/x",)),
        ("folder", ("/srv/share",)))
    saved = store.save(template)
    with sqlite3.connect(tmp_path / "state.db") as db:
        (text,) = db.execute("SELECT definition FROM report_templates").fetchone()
    assert json.loads(text)["recipients"] == {"email": ["ops@bank.example"],
                                              "slack": ["https://hooks.example/x"],
                                              "folder": ["/srv/share"]}
    assert store.template("Old") == saved


# --- the JSON document ---------------------------------------------------------------------

MESSAGE = ReportMessage(
    subject="Fails: 3", body="free text the author wrote",
    columns=("Currency", "Amount", "Amount", "Value date"),
    rows=(("USD", Decimal("1000000.10"), float("nan"), date(2026, 11, 20)),
          ("EUR", 5, None, datetime(2026, 11, 20, 7, 0))),
    attachments=(Attachment("../fails.csv", b"a", "text/csv"),),
    link="javascript:alert(1)", report="Fails", run_at="2026-11-20T07:00:00",
    as_of="2026-11-20", row_count=2, interpretation="Counting fails.")


def test_the_document_holds_plain_values_under_the_column_labels() -> None:
    doc = document(MESSAGE)
    assert doc["schema"] == SCHEMA and doc["report"] == "Fails" and doc["row_count"] == 2
    assert doc["columns"] == ["Currency", "Amount", "Amount (2)", "Value date"]
    assert doc["rows"] == [
        {"Currency": "USD", "Amount": "1000000.10", "Amount (2)": None,
         "Value date": "2026-11-20"},
        {"Currency": "EUR", "Amount": 5, "Amount (2)": None,
         "Value date": "2026-11-20T07:00:00"}]
    assert doc["files"] == ["_fails.csv"]  # no folder in a name
    assert doc["link"] is None  # no javascript: link
    json.dumps(doc, allow_nan=False)  # strict JSON: no NaN
    many = ReportMessage("s", "b", columns=("n",), rows=tuple((i,) for i in range(30)))
    assert len(document(many)["rows"]) == 10


def test_a_hand_built_channel_refuses_plain_http_off_loopback() -> None:
    with pytest.raises(DeliveryError, match="https://"):
        JsonWebhookChannel(url="http://tickets.bank.example/h")


def test_the_same_message_carries_the_same_idempotency_key_on_every_try() -> None:
    sleeps: list[float] = []
    with WebhookReceiver(statuses=(503, 429)) as hook:
        channel = JsonWebhookChannel(url=hook.url(TOKEN_PATH), timeout_s=5)
        (outcome,) = deliver_all(MESSAGE, [channel], retries=2, sleep=sleeps.append)
    assert outcome.ok and outcome.attempts == 3 and len(sleeps) == 2
    keys = {post.headers["idempotency-key"] for post in hook.posts}
    assert len(keys) == 1 and len(next(iter(keys))) == 32
    assert outcome.target == "json_webhook:127.0.0.1"


def test_the_ledger_keeps_the_facts_a_recovered_run_sends(tmp_path: Path) -> None:
    ledger = DeliveryLedger(f"sqlite:///{tmp_path / 'state.db'}")
    ledger.claim(1)
    message = ReportMessage("s", "b", columns=("a",), rows=(("x",),), report="Fails",
                            run_at="2026-11-20T07:00:00", as_of="2026-11-20", row_count=7,
                            interpretation="Counting.")
    ledger.plan(1, message, ("/tmp/a.csv",), [("json_webhook", "json_webhook:h")])
    planned = ledger.message(1)
    assert planned is not None
    fields, files = planned
    assert ReportMessage(**fields) == message and files == ("/tmp/a.csv",)


# --- a report run, end to end --------------------------------------------------------------

def test_a_run_delivers_the_json_and_the_log_and_audit_name_the_channel(
        trained_data: Path, tmp_path: Path) -> None:
    runner = _runner(trained_data)
    with WebhookReceiver(statuses=(500,)) as hook:
        template = _save(runner, Recipients(json_webhook=(hook.url(TOKEN_PATH),),
                                            folder=(str(tmp_path / "share"),)))
        run = runner.run(template, by="lead")
    assert run.state == "success", run.error
    folder, webhook = run.deliveries
    assert folder["channel"] == "folder" and folder["ok"]
    # The 500 was tried again, and the second try delivered.
    assert webhook["channel"] == "json_webhook" and webhook["ok"] and webhook["attempts"] == 2
    assert webhook["target"] == "json_webhook:127.0.0.1"
    first, second = hook.posts
    assert first.body == second.body and first.path == TOKEN_PATH
    assert first.headers["content-type"].startswith("application/json")
    doc = second.body
    assert doc["schema"] == SCHEMA and doc["report"] == "Fails by currency"
    assert doc["as_of"] == "2026-11-20" and doc["row_count"] == run.row_count > 1
    assert datetime.fromisoformat(doc["run_at"]).date() == datetime.now().date()
    assert doc["interpretation"] == "Counting failed settlements by currency."
    assert doc["columns"] == ["Currency", "Fails"]
    assert set(doc["rows"][0]) == {"Currency", "Fails"} and isinstance(
        doc["rows"][0]["Fails"], int)
    assert sorted(doc["files"]) == sorted(Path(f).name for f in run.files)
    assert TOKEN_PATH not in json.dumps(doc)
    [logged] = runner.store.runs(template_id=template.id)
    assert [d["channel"] for d in logged.deliveries] == ["folder", "json_webhook"]
    audit = _last_audit(runner)
    assert audit["outcome"] == "answered"
    assert [d["channel"] for d in audit["details"]["deliveries"]] == ["folder", "json_webhook"]
    assert "t0ps3cr3t" not in audit["text"]


def test_a_400_is_not_tried_again_and_the_run_is_partial(
        trained_data: Path, tmp_path: Path) -> None:
    runner = _runner(trained_data)
    with WebhookReceiver(then_status=400) as hook:
        template = _save(runner, Recipients(json_webhook=(hook.url(TOKEN_PATH),),
                                            folder=(str(tmp_path / "share"),)))
        run = runner.run(template)
    folder, webhook = run.deliveries
    assert folder["ok"] and len(hook.posts) == 1
    assert not webhook["ok"] and webhook["attempts"] == 1 and webhook["state"] == "failed"
    assert "The JSON webhook on 127.0.0.1 answered HTTP 400" in webhook["error"]
    assert run.state == "partial" and "json_webhook json_webhook:127.0.0.1" in run.error
    audit = _last_audit(runner)
    assert audit["outcome"] == "partial" and "t0ps3cr3t" not in audit["text"]
    assert audit["details"]["deliveries"][1]["channel"] == "json_webhook"


def test_a_run_log_entry_of_an_old_run_still_reads(tmp_path: Path) -> None:
    store = ReportStore(f"sqlite:///{tmp_path / 'state.db'}")
    run = store.start_run(ReportRun(1, "Old", "manual", now_text()))
    assert store.run(run.id or 0).deliveries == ()
