"""Four eyes (copilot/approvals/): a change that matters waits until a second person with the
approving role approves it, through the real services on the trained demo (SQLite state):
a "Correct" pressed by an analyst trains nothing until a trainer approves; a self-approval is
refused and recorded as blocked; each kind is proposed, listed with its diff, approved and
applied, or rejected and not applied; a stale change is refused; off, changes apply at once.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from copilot.approvals import ApprovalRefused, SelfApproval, StaleChange
from copilot.core.access import AccessDenied
from copilot.llm.config import LLMConfig
from copilot.settings import load_settings
from copilot.wiring import Services, build_services, reports_of
from reports.model import Recipients, ReportTemplate
from training import editing
from training.trainer import PairUpload

AS_OF = date(2026, 11, 20)
PEOPLE = {"vera": "viewer", "ann": "analyst", "tom": "trainer", "tess": "trainer",
          "ada": "admin", "adam": "admin", "dave": "auditor"}
QUESTION = "how many live trades"


def _services(data: Path, **env: str) -> Services:
    roles = data / "roles.yaml"
    roles.write_text("users:\n" + "".join(f"  {u}: [{r}]\n" for u, r in PEOPLE.items()))
    return build_services(load_settings(
        {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": AS_OF.isoformat(),
         "OPSCOPILOT_ROLES": str(roles), **env}, env_file=data / "no.env"))


@pytest.fixture
def services(trained_data: Path) -> Services:
    return _services(trained_data, OPSCOPILOT_SECRET_KEY=Fernet.generate_key().decode(),
                     OPSCOPILOT_BANK_DOMAINS="bank.example")


def _pairs(services: Services) -> dict[str, str]:
    content = services.trainer.active().content
    return {p.question: p.sql for p in content.pairs}


def _audit(services: Services) -> list[tuple[str, str, str, str]]:
    return [(r.outcome, r.user, r.question, r.details) for _, r in services.audit.records()]


def test_four_eyes_is_on_with_a_roles_file_and_off_without(trained_data: Path,
                                                          services: Services) -> None:
    assert services.approvals.enabled
    demo = build_services(load_settings({"OPSCOPILOT_DATA_DIR": str(trained_data)},
                                        env_file=trained_data / "no.env"))
    assert not demo.approvals.enabled
    assert not _services(trained_data, OPSCOPILOT_FOUR_EYES="off").approvals.enabled


def test_a_correct_by_an_analyst_trains_nothing_until_a_trainer_approves(
        services: Services) -> None:
    before = _pairs(services)
    answer = services.answering.ask(QUESTION, user="ann")
    change = services.answering.feedback(answer, correct=True, user="ann")
    assert change is not None and change.pending and change.maker == "ann"
    assert _pairs(services) == before  # the training profile has no new pair
    listed = services.approvals.pending()
    assert [c.id for c in listed] == [change.id]
    assert f"+- question: {QUESTION}" in listed[0].diff and "SELECT" in listed[0].diff

    services.approvals.approve(change.id, by="tom")
    after = _pairs(services)
    assert after[QUESTION] == answer.generated_sql
    assert services.approvals.get(change.id).state == "approved"
    assert services.approvals.get(change.id).checker == "tom"
    approved = [d for o, u, q, d in _audit(services) if q.startswith(f"change #{change.id} "
                                                                    "approved")]
    assert approved and '"maker": "ann"' in approved[0] and '"checker": "tom"' in approved[0]
    assert change.diff_sha256 in approved[0]


def test_a_self_approval_is_refused_and_recorded_as_blocked(services: Services) -> None:
    answer = services.answering.ask(QUESTION, user="tom")
    change = services.answering.feedback(answer, correct=True, user="tom")
    before = _pairs(services)
    with pytest.raises(SelfApproval, match=r"tom proposed change .* four eyes need a second"):
        services.approvals.approve(change.id, by="tom")
    assert _pairs(services) == before
    outcome, user, what, _details = _audit(services)[-1]
    assert (outcome, user) == ("blocked", "tom") and "self-approval" in what
    assert services.approvals.get(change.id).pending
    assert not services.approvals.may_decide("tom", change)
    assert services.approvals.may_decide("tess", change)


def test_a_person_under_the_app_s_own_name_proposes_nothing(trained_data: Path) -> None:
    """The app proposes setting changes as "the app"; a login of that name (a trusted header
    can carry any name) is a person like any other and gets no maker's privilege."""
    PEOPLE["the app"] = "analyst"
    try:
        services = _services(trained_data)
    finally:
        del PEOPLE["the app"]
    answer = services.answering.ask(QUESTION, user="ann")
    with pytest.raises(ApprovalRefused, match="the app's own name"):
        services.approvals.propose("verified pair", {
            "pairs": [{"question": QUESTION, "sql": answer.generated_sql}]},
            summary="pair", by="the app")
    assert services.approvals.pending() == []


def test_a_viewer_cannot_propose_and_an_analyst_cannot_approve(services: Services) -> None:
    answer = services.answering.ask(QUESTION, user="vera")
    with pytest.raises(AccessDenied, match="vera may not propose training"):
        services.answering.feedback(answer, correct=True, user="vera")
    assert not services.approvals.pending()
    change = services.answering.feedback(answer, correct=True, user="tom")
    with pytest.raises(AccessDenied, match="ann may not approve training"):
        services.approvals.approve(change.id, by="ann")
    with pytest.raises(AccessDenied, match="ada may not approve training"):
        services.approvals.reject(change.id, by="ada")
    assert _audit(services)[-1][:2] == ("blocked", "ada")
    assert services.approvals.get(change.id).pending


def test_a_rejected_change_applies_nothing_and_cannot_be_approved_after(
        services: Services) -> None:
    before = _pairs(services)
    answer = services.answering.ask(QUESTION, user="ann")
    change = services.answering.feedback(answer, correct=True, user="ann")
    services.approvals.reject(change.id, by="tom", reason="wrong period")
    assert services.approvals.get(change.id).state == "rejected"
    assert services.approvals.get(change.id).reason == "wrong period"
    with pytest.raises(ApprovalRefused, match="no longer pending: it was rejected by tom"):
        services.approvals.approve(change.id, by="tess")
    assert _pairs(services) == before


def test_the_maker_withdraws_their_own_change_and_nobody_else_may(services: Services) -> None:
    answer = services.answering.ask(QUESTION, user="ann")
    change = services.answering.feedback(answer, correct=True, user="ann")
    with pytest.raises(ApprovalRefused, match="Only ann"):
        services.approvals.withdraw(change.id, by="tom")
    services.approvals.withdraw(change.id, by="ann")
    assert services.approvals.get(change.id).state == "withdrawn"
    assert not services.approvals.pending()


def test_a_glossary_change_waits_shows_its_diff_and_trains_when_approved(
        services: Services) -> None:
    glossary = editing.active_glossary(services.trainer)
    target = editing.targets(glossary, {})[0]
    version = services.trainer.active().version
    change = services.training.teach("zorblax", target, by="tom")
    assert change.pending and services.trainer.active().version == version
    assert "+" in change.diff and "zorblax" in change.diff
    assert change.diff.count("\n+") - change.diff.count("\n+++") >= 1
    services.approvals.approve(change.id, by="tess")
    active = services.trainer.active()
    assert active.version > version and active.created_by == "tom"
    assert "zorblax" in editing.glossary_files(active.content.glossary)[
        next(name for name, text in editing.glossary_files(active.content.glossary).items()
             if "zorblax" in text)]


def test_a_stale_glossary_change_is_refused_not_applied_over_newer_work(
        services: Services) -> None:
    glossary = editing.active_glossary(services.trainer)
    target = editing.targets(glossary, {})[0]
    first = services.training.teach("firstword", target, by="tom")
    # Meanwhile the active version moves: newer work, applied first.
    services.training.apply_glossary(
        editing.glossary_files(editing.add_synonym(glossary, target, "other")), by="tess",
        note="taught other")
    moved = services.trainer.active().version
    with pytest.raises(StaleChange, match="stale"):
        services.approvals.approve(first.id, by="tess")
    assert services.trainer.active().version == moved
    assert services.approvals.get(first.id).state == "superseded"
    assert _audit(services)[-1][0] == "blocked"


def test_an_activation_waits_for_a_second_trainer(services: Services) -> None:
    first = services.trainer.active().version
    services.trainer.add_pairs([PairUpload("pairs make a new version",
                                           "SELECT COUNT(*) FROM trades")], by="tom")
    newest = services.trainer.active().version
    assert newest != first
    change = services.training.activate(first, by="tom")
    assert change.pending and services.trainer.active().version == newest
    assert f"-active version: {newest}" in change.diff
    assert f"+active version: {first}" in change.diff
    services.approvals.approve(change.id, by="tess")
    assert services.trainer.active().version == first


def test_uploaded_pairs_wait_like_a_correct(services: Services) -> None:
    before = _pairs(services)
    change = services.training.add_pairs(
        [PairUpload("count the trades", "SELECT COUNT(*) FROM trades")], by="tom")
    assert change.pending and _pairs(services) == before
    services.approvals.approve(change.id, by="tess")
    assert _pairs(services)["count the trades"] == "SELECT COUNT(*) FROM trades"


def test_an_llm_change_waits_for_another_admin_and_its_key_is_never_in_clear(
        services: Services) -> None:
    key = "sk-pending-secret-7319"
    config = LLMConfig(base_url="http://127.0.0.1:9/v1", model="m-new", api_key=key)
    change_id = services.llm.save(config, by="ada")
    assert change_id is not None and services.llm.saved() is None  # nothing in force yet
    change = services.approvals.get(change_id)
    assert '+  "model": "m-new"' in change.diff and key not in change.diff
    raw = Path(services.settings.state.url.removeprefix("sqlite:///")).read_bytes()
    assert key.encode() not in raw  # the state database file holds it only sealed
    with sqlite3.connect(services.settings.state.url.removeprefix("sqlite:///")) as db:
        payload = db.execute("SELECT payload FROM pending_changes WHERE id = ?",
                             (change_id,)).fetchone()[0]
    assert "fernet:v1:" in payload and key not in payload
    with pytest.raises(SelfApproval):
        services.approvals.approve(change_id, by="ada")
    services.approvals.approve(change_id, by="adam")
    saved = services.llm.saved()
    assert saved is not None and saved.config.model == "m-new" and saved.config.api_key == key
    assert saved.saved_by == "ada"


def test_an_llm_key_without_a_secret_key_is_not_even_proposed(trained_data: Path) -> None:
    services = _services(trained_data)
    with pytest.raises(Exception, match="OPSCOPILOT_SECRET_KEY is not set"):
        services.llm.save(LLMConfig(base_url="http://127.0.0.1:9/v1", model="m",
                                    api_key="sk-x"), by="ada")
    assert not services.approvals.pending()


def test_an_outside_recipient_waits_and_an_inside_one_applies_at_once(
        services: Services, tmp_path: Path) -> None:
    reports = reports_of(services, start_scheduler=False)
    saved = reports.save(ReportTemplate(
        name="Live trades", sql="SELECT COUNT(*) FROM trades",
        recipients=Recipients(email=["ops@bank.example", "desk@ny.bank.example",
                                     "friend@gmail.example"])), by="ann")
    assert saved.recipients["email"] == ("ops@bank.example", "desk@ny.bank.example")
    [change] = reports.pending_recipients(saved)
    assert "+  - friend@gmail.example" in change.diff or "+- friend@gmail.example" in change.diff
    with pytest.raises(AccessDenied, match="tom may not approve recipients"):
        services.approvals.approve(change.id, by="tom")
    services.approvals.approve(change.id, by="ada")
    now = reports.store.template("Live trades")
    assert now.recipients["email"] == ("ops@bank.example", "desk@ny.bank.example",
                                       "friend@gmail.example")
    # Saved again with the approved address: nothing waits.
    reports.save(now, by="ann")
    assert not reports.pending_recipients(now)


def test_a_rejected_recipient_is_never_added(services: Services) -> None:
    reports = reports_of(services, start_scheduler=False)
    saved = reports.save(ReportTemplate(
        name="Outside", sql="SELECT COUNT(*) FROM trades",
        recipients=Recipients(email=["x@elsewhere.example"])), by="ann")
    [change] = reports.pending_recipients(saved)
    services.approvals.reject(change.id, by="ada")
    assert reports.store.template("Outside").recipients["email"] == ()


def test_four_eyes_off_applies_every_change_at_once(trained_data: Path) -> None:
    services = _services(trained_data, OPSCOPILOT_FOUR_EYES="off",
                         OPSCOPILOT_BANK_DOMAINS="bank.example")
    answer = services.answering.ask(QUESTION, user="tom")
    assert services.answering.feedback(answer, correct=True, user="tom") is None
    assert _pairs(services)[QUESTION] == answer.generated_sql
    with pytest.raises(AccessDenied, match="trainer"):  # as before four eyes: a trainer's
        services.answering.feedback(answer, correct=True, user="ann")
    assert services.llm.save(LLMConfig(base_url="http://127.0.0.1:9/v1", model="m"),
                             by="ada") is None
    assert services.llm.saved().config.model == "m"
    saved = reports_of(services, start_scheduler=False).save(ReportTemplate(
        name="Out", sql="SELECT COUNT(*) FROM trades",
        recipients=Recipients(email=["x@elsewhere.example"])), by="ann")
    assert saved.recipients["email"] == ("x@elsewhere.example",)
    assert not services.approvals.pending()


def test_a_newer_proposal_of_the_same_change_supersedes_the_older(services: Services) -> None:
    first = services.llm.save(LLMConfig(base_url="http://127.0.0.1:9/v1", model="a"), by="ada")
    second = services.llm.save(LLMConfig(base_url="http://127.0.0.1:9/v1", model="b"),
                               by="adam")
    assert services.approvals.get(first).state == "superseded"
    assert [c.id for c in services.approvals.pending()] == [second]
