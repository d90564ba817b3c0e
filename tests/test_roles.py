"""Roles checked in the services, not only by the pages (OPSCOPILOT_ROLES): each role and
action, allowed and refused, on the trained demo; a refusal is recorded as blocked and
changes nothing; the roles file's mistakes are named with file and line.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from copilot.core.access import ACTIONS, ROLES, Access, AccessDenied, load_roles
from copilot.core.errors import ConfigError
from copilot.llm.config import LLMConfig
from copilot.settings import load_settings
from copilot.wiring import Services, build_services, dashboards_of, reports_of
from dashboards.model import Refresh
from reports.model import Recipients, ReportTemplate

AS_OF = date(2026, 11, 20)
PEOPLE = {"vera": "viewer", "ann": "analyst", "tom": "trainer", "ada": "admin",
          "dave": "auditor"}


@pytest.fixture
def services(trained_data: Path) -> Services:
    roles = trained_data / "roles.yaml"
    roles.write_text("users:\n" + "".join(f"  {u}: [{r}]\n" for u, r in PEOPLE.items())
                     + "groups:\n  ops-desk: [viewer]\n")
    return build_services(load_settings(
        {"OPSCOPILOT_DATA_DIR": str(trained_data), "OPSCOPILOT_AS_OF": AS_OF.isoformat(),
         # Roles alone here: four eyes (on with a roles file) is tests/test_four_eyes.py's.
         "OPSCOPILOT_ROLES": str(roles), "OPSCOPILOT_FOUR_EYES": "off"},
        env_file=trained_data / "no.env"))


def _blocked(services: Services) -> list[tuple[str, str]]:
    return [(r.user, r.reason) for _, r in services.audit.records() if r.outcome == "blocked"]


def _try(services: Services, user: str, action: str) -> None:
    """Do `action` through the services as `user`; AccessDenied when refused."""
    answering = services.answering
    if action == "ask":
        answering.ask("how many live trades", user=user)
    elif action == "run own SQL":
        answering.run_sql("SELECT COUNT(*) FROM trades", user=user)
    elif action == "view dashboards":
        boards = dashboards_of(services)
        widget = boards.store.widgets(boards.store.dashboards()[0].id)[0]
        boards.refresh(widget, as_of=AS_OF, by=user)
    elif action == "save widgets":
        answer = answering.ask("how many live trades", user="ann")
        dashboards_of(services).save_answer(answer, dashboard=f"{user}'s", title="Live",
                                            chart="number", refresh=Refresh("minutes", 5),
                                            by=user)
    elif action == "schedule reports":
        reports_of(services, start_scheduler=False).save(ReportTemplate(
            name=f"{user}'s report", sql="SELECT COUNT(*) FROM trades",
            recipients=Recipients(folders=("/tmp/none",))), by=user)
    elif action == "train the copilot":
        answer = answering.ask("how many live trades", user="ann")
        answering.feedback(answer, correct=True, user=user)  # "Correct" teaches a pair
    elif action == "change settings":
        services.llm.save(LLMConfig(base_url="http://127.0.0.1:9/v1", model="m"), by=user)
    elif action in ("read the audit trail", "propose training", "approve training",
                    "approve settings", "approve recipients"):
        # Four eyes' actions are exercised through the approvals in tests/test_four_eyes.py.
        services.answering.access.check(user, action, "audit page",
                                        recorder=services.recorder)
    else:
        raise AssertionError(action)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_role_may_do_exactly_what_it_allows(services: Services, action: str) -> None:
    dashboards_of(services).ensure_demo_dashboard(as_of=AS_OF)  # a widget to view
    for user, role in PEOPLE.items():
        allowed = role in ACTIONS[action]
        before = len(_blocked(services))
        if allowed:
            _try(services, user, action)
            assert len(_blocked(services)) == before, (user, action)
        else:
            with pytest.raises(AccessDenied, match=f"{user} may not {action}"):
                _try(services, user, action)
            assert _blocked(services)[-1][0] == user, (user, action)


def test_a_correct_by_an_analyst_trains_nothing(services: Services) -> None:
    pairs = services.trainer.active().content.pairs
    answer = services.answering.ask("how many live trades", user="ann")
    with pytest.raises(AccessDenied, match="trainer"):
        services.answering.feedback(answer, correct=True, user="ann")
    assert services.trainer.active().content.pairs == pairs
    services.answering.feedback(answer, correct=True, user="tom")
    assert len(services.trainer.active().content.pairs) == len(pairs) + 1


def test_a_group_gives_its_roles_and_nobody_else_has_any(services: Services) -> None:
    access = services.answering.access
    assert access.roles_of("ivy", frozenset({"ops-desk"})) == {"viewer"}
    assert access.roles_of("stranger") == frozenset()
    with pytest.raises(AccessDenied):
        services.answering.ask("how many live trades", user="stranger")


def test_without_a_roles_file_everyone_holds_every_role() -> None:
    assert Access().roles_of("anyone") == frozenset(ROLES)


@pytest.mark.parametrize(("text", "says"), [
    ("users:\n  ann: analyst\n", "line 2: 'ann' needs a list of roles"),
    ("users:\n  ann: [boss]\n", "line 2: unknown role 'boss'"),
    ("people:\n  ann: [viewer]\n", "line 1: unknown key 'people'"),
    ("users: [ann]\n", "line 1: expected names"),
    ("users:\n  ann: [viewer\n", "cannot read the roles file"),
])
def test_the_roles_file_s_mistakes_name_file_and_line(tmp_path: Path, text: str,
                                                      says: str) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=says) as caught:
        load_roles(path)
    assert str(path) in str(caught.value)


def test_the_data_page_s_preview_is_for_those_who_may_ask(services: Services) -> None:
    assert services.answering.preview("trades", 5, user="vera").rows
    with pytest.raises(AccessDenied, match="may not ask"):
        services.answering.preview("trades", 5, user="dave")  # the auditor
    assert ("dave", "dave may not ask: it needs the admin or analyst or trainer or viewer "
            "role.") in _blocked(services)
