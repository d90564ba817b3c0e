"""The Approvals page through Streamlit's AppTest, per role, on the trained demo with a roles
file (four eyes on): the pending change and its diff are listed for everyone; Approve and
Reject only for a trainer who did not make it; the maker may withdraw; an approval on the
page trains the pair. Without a roles file the page and Settings say four eyes is off."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.approvals import PendingChange
from copilot.settings import load_settings
from copilot.wiring import build_services
from tests.apppage import page_as, page_text

PEOPLE = {"vera": "viewer", "ann": "analyst", "tom": "trainer", "ada": "admin"}
QUESTION = "how many live trades"






@pytest.fixture
def proposed(page_env: Path, monkeypatch: pytest.MonkeyPatch) -> PendingChange:
    """ann pressed Correct: a pair waits for a trainer."""
    roles = page_env / "roles.yaml"
    roles.write_text("users:\n" + "".join(f"  {u}: [{r}]\n" for u, r in PEOPLE.items()))
    monkeypatch.setenv("OPSCOPILOT_ROLES", str(roles))
    services = build_services(load_settings())
    answer = services.answering.ask(QUESTION, user="ann")
    change = services.answering.feedback(answer, correct=True, user="ann")
    assert change is not None
    return change


def _pairs() -> dict[str, str]:
    content = build_services(load_settings()).trainer.active().content
    return {p.question: p.sql for p in content.pairs}


def test_everyone_sees_the_change_and_its_diff_and_only_a_trainer_decides(
        proposed: PendingChange, monkeypatch: pytest.MonkeyPatch) -> None:
    for user in ("vera", "ann", "ada", "tom"):
        app = page_as("approvals", monkeypatch, user)
        assert f"#{proposed.id}" in page_text(app) and QUESTION in page_text(app)
        assert [c.value for c in app.code] == [proposed.diff.rstrip("\n")]  # as proposed
        keys = {b.key for b in app.button}
        assert (f"approve_{proposed.id}" in keys) == (user == "tom"), user
        assert (f"reject_{proposed.id}" in keys) == (user == "tom"), user
        assert (f"withdraw_{proposed.id}" in keys) == (user == "ann"), user
        assert "Four eyes is off" not in page_text(app)


def test_a_trainer_approves_on_the_page_and_the_pair_is_trained(
        proposed: PendingChange, monkeypatch: pytest.MonkeyPatch) -> None:
    assert QUESTION not in _pairs()
    app = page_as("approvals", monkeypatch, "tom")
    app.button(key=f"approve_{proposed.id}").click().run()
    assert not app.exception, app.exception
    assert f"{proposed.id} approved and applied." in page_text(app)
    assert "Nothing is waiting for approval." in page_text(app)
    assert QUESTION in _pairs()


def test_the_maker_withdraws_on_the_page(proposed: PendingChange,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    app = page_as("approvals", monkeypatch, "ann")
    app.button(key=f"withdraw_{proposed.id}").click().run()
    assert not app.exception, app.exception
    assert f"{proposed.id} withdrawn." in page_text(app)
    assert QUESTION not in _pairs()


def test_without_a_roles_file_the_pages_say_four_eyes_is_off(
        page_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "Four eyes is off" in page_text(page_as("approvals", monkeypatch, "solo"))
    assert "Four eyes is off" in page_text(page_as("settings", monkeypatch, "solo"))
