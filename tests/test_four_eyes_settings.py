"""Four eyes over the settings that come from outside the app, through the real services on
the trained demo (SQLite state): the SMTP server of report emails (OPSCOPILOT_SMTP_*, sent to
a real SMTP receiver on loopback) and the entitlements policy file (OPSCOPILOT_ENTITLEMENTS).

Each "start" below builds the services afresh over the same data folder, as a restarted app
does; a changed environment or file is noticed there and proposed by the app itself.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from copilot.approvals import SelfApproval
from copilot.approvals.outside import digest
from copilot.approvals.policy_kind import (
    ENTITLEMENTS,
    NOTICE,
    ApprovedPolicy,
    policy_notice,
)
from copilot.approvals.service import SYSTEM
from copilot.core.access import AccessDenied
from copilot.core.entitlements_policy import Entitlements, EntitlementsError
from copilot.settings import load_settings
from copilot.wiring import Services, build_services, report_runner, reports_of
from reports.model import Recipients, ReportRun, ReportTemplate
from reports.scheduler import _RUNNING
from reports.smtp_kind import HELD, NOT_YET, SMTP, smtp_notice
from tests.apppage import page_as, page_text
from tests.mailserver import MailServer

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 11, 20)
PEOPLE = {"alice": "analyst", "ann": "analyst", "ada": "admin", "adam": "admin",
          "dave": "auditor"}
LIVE = "how many live trades"
RATES = "trades: \"asset_class = 'RATES'\""
WIDER = "trades: \"asset_class IN ('RATES', 'FX')\""


def _start(data: Path, **env: str) -> Services:
    """The services as a (re)started app builds them, four eyes on (a roles file)."""
    roles = data / "roles.yaml"
    if not roles.exists():
        roles.write_text("users:\n" + "".join(f"  {u}: [{r}]\n" for u, r in PEOPLE.items())
                         + '  "the app": [admin]\n')  # a login that happens to be the maker
    return build_services(load_settings(
        {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": AS_OF.isoformat(),
         "OPSCOPILOT_ROLES": str(roles), "OPSCOPILOT_BANK_DOMAINS": "bank.example", **env},
        env_file=data / "no.env"))


def _count(data: Path, where: str) -> int:
    with sqlite3.connect(data / "otc_demo.db") as conn:
        return conn.execute(f"SELECT COUNT(*) FROM trades WHERE status = 'LIVE' AND {where}"
                            ).fetchone()[0]


def _audit(services: Services) -> list[tuple[str, str, str, dict[str, object]]]:
    return [(r.outcome, r.user, r.question, json.loads(r.details or "{}"))
            for _, r in services.audit.records()]


# ---- SMTP ------------------------------------------------------------------------------


@pytest.fixture
def mail() -> Iterator[MailServer]:
    with MailServer(user="reports", password="right-pass") as server:
        yield server


def _smtp(mail: MailServer, password: str = "right-pass") -> dict[str, str]:
    return {"OPSCOPILOT_SMTP_HOST": mail.host, "OPSCOPILOT_SMTP_PORT": str(mail.port),
            "OPSCOPILOT_SMTP_SECURITY": "none", "OPSCOPILOT_SMTP_USER": "reports",
            "OPSCOPILOT_SMTP_PASSWORD": password, "OPSCOPILOT_SMTP_SENDER": "ops@bank.example"}


def _report(services: Services, drop: Path) -> ReportTemplate:
    return report_runner(services).store.save(ReportTemplate(
        name="Live trades", sql="SELECT COUNT(*) AS live FROM trades WHERE status = 'LIVE'",
        formats=("csv",), created_by="ann",
        recipients=Recipients(emails=("desk@bank.example",), folders=(str(drop),))))


def _run(services: Services, template: ReportTemplate) -> ReportRun:
    return report_runner(services).run(template, as_of=AS_OF, by="scheduler")


def test_first_sight_of_an_smtp_server_holds_email_until_an_admin_approves(
        trained_data: Path, tmp_path: Path, mail: MailServer) -> None:
    services = _start(trained_data, **_smtp(mail))
    [change] = services.approvals.pending(SMTP)
    assert change.maker == SYSTEM
    assert f"+host: {mail.host}" in change.diff and "+password: set (not shown)" in change.diff
    assert smtp_notice(services.approvals)
    template = _report(services, tmp_path / "drop")

    held = _run(services, template)
    email, folder = held.deliveries
    assert not email["ok"] and email["error"] == NOT_YET and email["attempts"] == 1
    assert folder["ok"] and list((tmp_path / "drop").rglob("*.csv"))  # the rest went out
    assert held.state == "partial" and NOT_YET in held.error
    assert mail.received == [] and mail.logins == []  # the server was not even contacted
    assert services.approvals.pending(SMTP) == [change]  # the run proposed nothing twice

    with pytest.raises(AccessDenied):  # an analyst may not approve a settings change
        services.approvals.approve(change.id, by="ann")
    with pytest.raises(SelfApproval):  # nor may anyone who signs in as its maker
        services.approvals.approve(change.id, by=SYSTEM)
    services.approvals.approve(change.id, by="ada")
    assert services.approvals.get(change.id).checker == "ada"

    sent = _run(services, template)
    assert sent.state == "success", sent.error
    [received] = mail.received
    assert received.rcpt_tos == ("desk@bank.example",) and received.login == "reports"
    assert not services.approvals.pending(SMTP) and not smtp_notice(services.approvals)

    # The maker and the checker are in the audit log; the password is nowhere in it.
    records = _audit(services)
    assert any(u == SYSTEM and q.startswith(f"change #{change.id} proposed") for _, u, q, _ in
               records)
    assert any(u == "ada" and d.get("checker") == "ada" and d.get("maker") == SYSTEM
               for _, u, _, d in records)
    assert not any("right-pass" in r.canonical() for _, r in services.audit.records())
    assert "right-pass" not in json.dumps(services.approvals.get(change.id).payload)


def test_a_second_change_of_the_environment_holds_email_again(
        trained_data: Path, tmp_path: Path, mail: MailServer) -> None:
    first = _start(trained_data, **_smtp(mail))
    first.approvals.approve(first.approvals.pending(SMTP)[0].id, by="adam")
    template = _report(first, tmp_path / "drop")
    assert _run(first, template).state == "success"
    assert len(mail.received) == 1

    # Restarted with another password: held again, and the diff says only that it changed.
    second = _start(trained_data, **_smtp(mail, password="new-pass"))
    [change] = second.approvals.pending(SMTP)
    assert "+password: changed (not shown)" in change.diff
    assert "new-pass" not in change.diff
    changed = [line for line in change.diff.splitlines()[2:] if line[:1] in "+-"]
    assert changed == ["-password: as approved (not shown)", "+password: changed (not shown)"]
    run = _run(second, template)
    assert run.deliveries[0]["error"] == HELD and len(mail.received) == 1

    # Back to the approved settings: the waiting change is withdrawn by the app, email goes.
    third = _start(trained_data, **_smtp(mail))
    assert third.approvals.pending(SMTP) == []
    assert third.approvals.get(change.id).state == "superseded"
    assert _run(third, template).state == "success" and len(mail.received) == 2


def test_a_rejected_smtp_server_stays_held_and_is_not_proposed_again(
        trained_data: Path, tmp_path: Path, mail: MailServer) -> None:
    services = _start(trained_data, **_smtp(mail))
    change = services.approvals.pending(SMTP)[0]
    services.approvals.reject(change.id, by="ada", reason="not our relay")
    again = _start(trained_data, **_smtp(mail))
    assert again.approvals.pending(SMTP) == []
    run = _run(again, _report(again, tmp_path / "drop"))
    assert "ada rejected the SMTP settings" in run.deliveries[0]["error"]
    assert mail.received == []


def test_with_four_eyes_off_email_goes_out_as_before(trained_data: Path, tmp_path: Path,
                                                     mail: MailServer) -> None:
    services = _start(trained_data, OPSCOPILOT_FOUR_EYES="off", **_smtp(mail))
    assert services.approvals.pending() == []
    run = _run(services, _report(services, tmp_path / "drop"))
    assert run.state == "success", run.error
    assert len(mail.received) == 1


# ---- the entitlements policy -----------------------------------------------------------


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "entitlements.yaml"
    path.write_text((ROOT / "docs" / "entitlements.example.yaml").read_text())
    assert RATES in path.read_text()
    return path


def _alice(services: Services) -> int:
    answer = services.answering.ask(LIVE, user="alice")
    assert answer.status == "answered", answer.interpretation
    return answer.rows[0][-1]


def test_the_edited_policy_waits_and_the_approved_one_stays_in_force(
        trained_data: Path, policy: Path) -> None:
    rates = _count(trained_data, "asset_class = 'RATES'")
    wider = _count(trained_data, "asset_class IN ('RATES', 'FX')")
    assert 0 < rates < wider  # the check can fail both ways

    first = _start(trained_data, OPSCOPILOT_ENTITLEMENTS=str(policy))
    assert _alice(first) == rates
    adopted = first.approvals.store.approved(ENTITLEMENTS)
    assert adopted is not None and adopted.value == policy.read_text()
    assert any(q == f"{ENTITLEMENTS} adopted (the first one seen)" and u == SYSTEM
               for _, u, q, _ in _audit(first))
    assert first.approvals.pending() == [] and policy_notice(first.approvals) == ""

    policy.write_text(policy.read_text().replace(RATES, WIDER))
    services = _start(trained_data, OPSCOPILOT_ENTITLEMENTS=str(policy))
    assert _alice(services) == rates  # never the unapproved file
    [change] = services.approvals.pending(ENTITLEMENTS)
    assert change.maker == SYSTEM
    assert f"-      {RATES}" in change.diff and f"+      {WIDER}" in change.diff
    assert policy_notice(services.approvals) == NOTICE

    with pytest.raises(AccessDenied):
        services.approvals.approve(change.id, by="alice")
    with pytest.raises(SelfApproval):
        services.approvals.approve(change.id, by=SYSTEM)
    assert _alice(services) == rates
    services.approvals.approve(change.id, by="ada")
    assert _alice(services) == wider  # in force at once in this process
    assert policy_notice(services.approvals) == ""
    assert _alice(_start(trained_data, OPSCOPILOT_ENTITLEMENTS=str(policy))) == wider


def test_another_process_s_approval_reaches_a_running_app(trained_data: Path,
                                                          policy: Path) -> None:
    _start(trained_data, OPSCOPILOT_ENTITLEMENTS=str(policy))
    policy.write_text(policy.read_text().replace(RATES, WIDER))
    running = _start(trained_data, OPSCOPILOT_ENTITLEMENTS=str(policy))
    now = [0.0]
    source = running.executor.entitlements
    assert isinstance(source, ApprovedPolicy)
    holder = ApprovedPolicy(running.approvals, source.file, recheck_s=5, clock=lambda: now[0])
    assert "RATES" in holder.in_force().rules[0].filters["trades"].sql()

    other = _start(trained_data, OPSCOPILOT_ENTITLEMENTS=str(policy))  # a second server
    other.approvals.approve(other.approvals.pending(ENTITLEMENTS)[0].id, by="adam")
    now[0] = 4.0
    assert "FX" not in holder.in_force().rules[0].filters["trades"].sql()  # cached still
    now[0] = 5.0
    assert "FX" in holder.in_force().rules[0].filters["trades"].sql()


def test_a_policy_file_that_fails_validation_is_never_proposed(trained_data: Path,
                                                               policy: Path) -> None:
    first = _start(trained_data, OPSCOPILOT_ENTITLEMENTS=str(policy))
    policy.write_text(policy.read_text().replace(RATES, "trades: \"no_such_column = 1\""))
    with pytest.raises(EntitlementsError, match="no column no_such_column"):
        _start(trained_data, OPSCOPILOT_ENTITLEMENTS=str(policy))
    assert first.approvals.pending() == []
    approved = first.approvals.store.approved(ENTITLEMENTS)
    assert approved is not None and digest(approved.value) != digest(policy.read_text())


def test_a_newer_edit_of_the_file_supersedes_the_waiting_change(
        trained_data: Path, policy: Path) -> None:
    _start(trained_data, OPSCOPILOT_ENTITLEMENTS=str(policy))
    policy.write_text(policy.read_text().replace(RATES, WIDER))
    services = _start(trained_data, OPSCOPILOT_ENTITLEMENTS=str(policy))
    old = services.approvals.pending(ENTITLEMENTS)[0]
    # Edited again before anyone decided: the newer proposal supersedes the older one.
    policy.write_text(policy.read_text().replace(WIDER, "trades: \"asset_class = 'FX'\""))
    again = _start(trained_data, OPSCOPILOT_ENTITLEMENTS=str(policy))
    assert again.approvals.get(old.id).state == "superseded"
    assert [c.id for c in again.approvals.pending(ENTITLEMENTS)] != [old.id]


def test_with_four_eyes_off_the_file_is_in_force_as_before(trained_data: Path,
                                                          policy: Path) -> None:
    policy.write_text(policy.read_text().replace(RATES, WIDER))
    services = _start(trained_data, OPSCOPILOT_ENTITLEMENTS=str(policy),
                      OPSCOPILOT_FOUR_EYES="off")
    assert isinstance(services.executor.entitlements, Entitlements)
    assert _alice(services) == _count(trained_data, "asset_class IN ('RATES', 'FX')")
    assert services.approvals.pending() == []
    assert services.approvals.store.approved(ENTITLEMENTS) is None


# ---- the pages -------------------------------------------------------------------------







@pytest.fixture
def roles_env(page_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    roles = page_env / "roles.yaml"
    roles.write_text("users:\n" + "".join(f"  {u}: [{r}]\n" for u, r in PEOPLE.items()))
    monkeypatch.setenv("OPSCOPILOT_ROLES", str(roles))
    monkeypatch.setenv("OPSCOPILOT_BANK_DOMAINS", "bank.example")
    return page_env


def test_the_pages_say_the_approved_policy_stays_and_an_admin_approves_the_new_one(
        roles_env: Path, policy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSCOPILOT_ENTITLEMENTS", str(policy))
    build_services(load_settings())  # the first start adopts the policy
    policy.write_text(policy.read_text().replace(RATES, WIDER))
    [change] = build_services(load_settings()).approvals.pending(ENTITLEMENTS)
    assert NOTICE in page_text(page_as("settings", monkeypatch, "alice"))
    app = page_as("approvals", monkeypatch, "ada")
    assert NOTICE in page_text(app)
    assert [c.value for c in app.code] == [change.diff.rstrip("\n")]
    app.button(key=f"approve_{change.id}").click().run()
    assert not app.exception, app.exception
    assert f"{change.id} approved and applied." in page_text(app)
    assert NOTICE not in page_text(app)
    wider = _count(roles_env, "asset_class IN ('RATES', 'FX')")
    assert _alice(build_services(load_settings())) == wider


def test_the_reports_page_names_the_outside_recipients_waiting_and_the_held_smtp(
        roles_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A server nobody approved yet (never contacted: nothing is sent while it waits).
    monkeypatch.setenv("OPSCOPILOT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("OPSCOPILOT_SMTP_PORT", "9")
    try:
        services = build_services(load_settings())
        reports_of(services, start_scheduler=False).save(ReportTemplate(
            name="Live trades", sql="SELECT COUNT(*) AS live FROM trades",
            recipients=Recipients(emails=("desk@bank.example", "x@outside.com"))), by="ann")
        app = page_as("reports", monkeypatch, "ann")
        assert "Waiting for an admin's approval: x@outside.com" in page_text(app)
        assert "desk@bank.example" not in page_text(app)  # in the bank: applied at once
        assert f"Report emails are held: {NOT_YET}" in page_text(app)
    finally:
        for scheduler in list(_RUNNING.values()):
            scheduler.shutdown()
