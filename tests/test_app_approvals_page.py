"""The Approvals page through Streamlit's AppTest, per role, on the trained demo with a roles
file (four eyes on): the pending change and its diff are listed for everyone; Approve and
Reject only for a trainer who did not make it; the maker may withdraw; an approval on the
page trains the pair. Without a roles file the page and Settings say four eyes is off."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from copilot.approvals import PendingChange
from copilot.settings import load_settings
from copilot.wiring import build_services

PEOPLE = {"vera": "viewer", "ann": "analyst", "tom": "trainer", "ada": "admin"}
QUESTION = "how many live trades"


def _approvals_page() -> None:
    from app_pages import approvals

    approvals.render()


def _settings_page() -> None:
    from app_pages import settings

    settings.render()


def _run(page, monkeypatch: pytest.MonkeyPatch, user: str) -> AppTest:
    monkeypatch.setenv("OPSCOPILOT_USER", user)
    app = AppTest.from_function(page, default_timeout=90)
    app.run()
    assert not app.exception, app.exception
    return app


def _texts(app: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "success", "error",
                                               "warning", "info") for e in getattr(app, kind))


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
        app = _run(_approvals_page, monkeypatch, user)
        assert f"#{proposed.id}" in _texts(app) and QUESTION in _texts(app)
        assert [c.value for c in app.code] == [proposed.diff.rstrip("\n")]  # as proposed
        keys = {b.key for b in app.button}
        assert (f"approve_{proposed.id}" in keys) == (user == "tom"), user
        assert (f"reject_{proposed.id}" in keys) == (user == "tom"), user
        assert (f"withdraw_{proposed.id}" in keys) == (user == "ann"), user
        assert "Four eyes is off" not in _texts(app)


def test_a_trainer_approves_on_the_page_and_the_pair_is_trained(
        proposed: PendingChange, monkeypatch: pytest.MonkeyPatch) -> None:
    assert QUESTION not in _pairs()
    app = _run(_approvals_page, monkeypatch, "tom")
    app.button(key=f"approve_{proposed.id}").click().run()
    assert not app.exception, app.exception
    assert f"{proposed.id} approved and applied." in _texts(app)
    assert "Nothing is waiting for approval." in _texts(app)
    assert QUESTION in _pairs()


def test_the_maker_withdraws_on_the_page(proposed: PendingChange,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    app = _run(_approvals_page, monkeypatch, "ann")
    app.button(key=f"withdraw_{proposed.id}").click().run()
    assert not app.exception, app.exception
    assert f"{proposed.id} withdrawn." in _texts(app)
    assert QUESTION not in _pairs()


def test_without_a_roles_file_the_pages_say_four_eyes_is_off(
        page_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "Four eyes is off" in _texts(_run(_approvals_page, monkeypatch, "solo"))
    assert "Four eyes is off" in _texts(_run(_settings_page, monkeypatch, "solo"))
