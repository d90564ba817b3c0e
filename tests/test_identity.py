"""Who a person is: the name and groups read from ID token claims and trusted headers (and
what is refused), the directory that keeps each person's last-stated groups for what runs
without them (stale entries count as none), the sign-ins the session timeout counts from,
and the groups reaching the role check and the row entitlements, in a scheduled report too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from copilot.core.access import Access, AccessDenied
from copilot.core.directory import Directory
from copilot.core.identity import (
    MAX_GROUPS,
    MAX_NAME,
    Identity,
    IdentityRefused,
    from_claims,
    from_headers,
    login_id,
)
from copilot.core.signins import SignIns
from copilot.settings import load_settings
from copilot.wiring import Services, build_services, report_runner
from reports.model import Recipients, ReportRun, ReportTemplate

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
AS_OF = date(2026, 11, 20)
ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "docs" / "entitlements.example.yaml"


# ---- claims ------------------------------------------------------------------------------

def test_the_name_is_the_configured_claim_then_preferred_username_then_sub() -> None:
    claims = {"sub": "00u1", "preferred_username": "vera", "email": "vera@bank.test",
              "upn": "VERA@corp", "iat": NOW.timestamp(), "groups": ["ops-desk"]}
    assert from_claims(claims).user == "vera@bank.test"
    assert from_claims(claims, user_claim="upn").user == "VERA@corp"
    assert from_claims({**claims, "email": ""}).user == "vera"
    assert from_claims({"sub": "00u1"}).user == "00u1"
    identity = from_claims(claims)
    assert identity == Identity("vera@bank.test", frozenset({"ops-desk"}), "oidc", NOW)


def test_a_token_naming_nobody_is_refused() -> None:
    with pytest.raises(IdentityRefused, match="OPSCOPILOT_USER_CLAIM"):
        from_claims({"email": "  ", "name": "Vera"})


@pytest.mark.parametrize(("value", "groups"), [
    (["ops-desk", " rates ", ""], {"ops-desk", "rates"}),
    ("ops-desk", {"ops-desk"}),  # one group, as some IdPs send it
    (None, set()),
    ([], set()),
])
def test_groups_are_a_list_or_one_name(value: object, groups: set[str]) -> None:
    assert from_claims({"sub": "s", "groups": value}).groups == groups
    assert from_claims({"sub": "s", "roles": value}, groups_claim="roles").groups == groups


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], ["ok", None], 7])
def test_groups_that_are_not_names_are_refused(value: object) -> None:
    with pytest.raises(IdentityRefused, match="not a list of group names"):
        from_claims({"sub": "s", "groups": value})


def test_too_many_groups_are_refused_rather_than_cut() -> None:
    many = [f"g{i}" for i in range(MAX_GROUPS + 1)]
    assert len(from_claims({"sub": "s", "groups": many[:-1]}).groups) == MAX_GROUPS
    with pytest.raises(IdentityRefused, match=f"at most {MAX_GROUPS}"):
        from_claims({"sub": "s", "groups": many})


@pytest.mark.parametrize("name", ["ann\nadmin", "ann\u202eimda", "a\u200bnn", "<b>ann</b>",
                                  "x" * (MAX_NAME + 1), "ann\x00"])
def test_a_name_that_is_not_plain_text_is_refused(name: str) -> None:
    with pytest.raises(IdentityRefused):
        from_claims({"email": name})
    with pytest.raises(IdentityRefused):
        from_headers({"X-User": name}, user_header="X-User")
    with pytest.raises(IdentityRefused):
        from_claims({"sub": "s", "groups": ["ok", name]})


def test_each_sign_in_has_its_own_key() -> None:
    first = from_claims({"sub": "s", "iat": NOW.timestamp()})
    again = from_claims({"sub": "s", "iat": (NOW + timedelta(hours=1)).timestamp()})
    assert login_id(first, "n1") == login_id(first, "n1")
    assert len({login_id(first, "n1"), login_id(again, "n1"), login_id(first, "n2")}) == 3


# ---- trusted headers ---------------------------------------------------------------------

def test_the_trusted_header_names_the_person_and_its_groups_header_their_groups() -> None:
    headers = {"x-forwarded-user": " hal@bank.test ", "X-Forwarded-Groups": "a, b,,c "}
    identity = from_headers(headers, user_header="X-Forwarded-User",
                            groups_header="X-Forwarded-Groups")
    assert identity == Identity("hal@bank.test", frozenset({"a", "b", "c"}), "header")
    # The groups header is read only when configured.
    assert from_headers(headers, user_header="X-Forwarded-User").groups == frozenset()


@pytest.mark.parametrize("headers", [{}, {"X-Forwarded-User": ""}, {"X-Forwarded-User": "  "},
                                     {"X-Other": "hal"}])
def test_a_request_without_the_header_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(IdentityRefused, match="did not come through the sign-on proxy"):
        from_headers(headers, user_header="X-Forwarded-User")


# ---- the directory and sign-ins ----------------------------------------------------------

def test_the_directory_keeps_groups_and_says_when_they_changed(tmp_path: Path) -> None:
    directory = Directory(f"sqlite:///{tmp_path / 'state.db'}", max_age_days=30)
    vera = Identity("vera", frozenset({"ops-desk"}), "oidc", NOW)
    assert directory.membership("vera", now=NOW).groups == frozenset()
    assert directory.remember(vera, now=NOW) is True
    assert directory.remember(vera, now=NOW + timedelta(minutes=5)) is False
    assert directory.membership("vera", now=NOW).groups == {"ops-desk"}
    moved = Identity("vera", frozenset({"rates-desk"}), "oidc", NOW + timedelta(days=1))
    assert directory.remember(moved, now=NOW + timedelta(days=1)) is True
    later = NOW + timedelta(days=2)
    assert directory.membership("vera", now=later).groups == {"rates-desk"}
    # A second process (another engine) reads the same table.
    second = Directory(f"sqlite:///{tmp_path / 'state.db'}")
    assert second.membership("vera", now=later).groups == {"rates-desk"}


def test_groups_older_than_the_maximum_age_count_as_none(tmp_path: Path) -> None:
    directory = Directory(f"sqlite:///{tmp_path / 'state.db'}", max_age_days=30)
    directory.remember(Identity("vera", frozenset({"ops-desk"}), "oidc", NOW), now=NOW)
    fresh = directory.membership("vera", now=NOW + timedelta(days=29))
    assert fresh.groups == {"ops-desk"} and not fresh.stale
    stale = directory.membership("vera", now=NOW + timedelta(days=31))
    assert stale.groups == frozenset() and stale.stale
    assert "2026-11-20" in stale.note(30) and "OPSCOPILOT_GROUPS_MAX_AGE_DAYS" in stale.note(30)
    # A new sign-in confirms them again.
    later = NOW + timedelta(days=31)
    directory.remember(Identity("vera", frozenset({"ops-desk"}), "oidc", later), now=later)
    assert directory.membership("vera", now=later).groups == {"ops-desk"}


def test_a_sign_in_idle_past_the_timeout_ends_once_and_stays_ended(tmp_path: Path) -> None:
    sign_ins = SignIns(f"sqlite:///{tmp_path / 'state.db'}")
    limit = timedelta(minutes=30)
    assert sign_ins.touch("k1", "vera", timeout=limit, now=NOW) == "new"
    assert sign_ins.touch("k1", "vera", timeout=limit, now=NOW + timedelta(minutes=29)) \
        == "active"
    # Activity moved the clock: 29 minutes after the last click is still within it.
    assert sign_ins.touch("k1", "vera", timeout=limit, now=NOW + timedelta(minutes=58)) \
        == "active"
    idle = NOW + timedelta(minutes=58 + 31)
    assert sign_ins.touch("k1", "vera", timeout=limit, now=idle) == "expired"
    assert sign_ins.touch("k1", "vera", timeout=limit, now=idle) == "ended"
    assert sign_ins.touch("k1", "vera", timeout=None, now=idle) == "ended"
    # Another sign-in of the same person is its own.
    assert sign_ins.touch("k2", "vera", timeout=limit, now=idle) == "new"
    assert sign_ins.end("k2") is True and sign_ins.end("k2") is False
    assert sign_ins.touch("k2", "vera", timeout=limit, now=idle) == "ended"


def test_without_a_timeout_a_sign_in_never_expires(tmp_path: Path) -> None:
    sign_ins = SignIns(f"sqlite:///{tmp_path / 'state.db'}")
    assert sign_ins.touch("k", "vera", timeout=None, now=NOW) == "new"
    assert sign_ins.touch("k", "vera", timeout=None, now=NOW + timedelta(days=9)) == "active"


# ---- groups reach the role check and the entitlements ------------------------------------

def test_the_role_check_reads_groups_from_the_directory_and_names_stale_ones(
        tmp_path: Path) -> None:
    directory = Directory(f"sqlite:///{tmp_path / 'state.db'}", max_age_days=30)
    access = Access(groups={"ops-desk": frozenset({"viewer"})}, open=False
                    ).with_directory(directory)
    assert access.roles_of("vera") == frozenset()
    directory.remember(Identity("vera", frozenset({"ops-desk"}), "oidc"))
    assert access.roles_of("vera") == {"viewer"} and access.allows("vera", "ask")
    assert access.roles_of("vera", frozenset()) == frozenset()  # groups handed in win

    old = datetime.now(UTC) - timedelta(days=40)
    directory.remember(Identity("olga", frozenset({"ops-desk"}), "oidc", old), now=old)

    class Recorded:
        def __init__(self) -> None:
            self.records: list[tuple[str, str]] = []

        def record(self, channel: str, what: str, **kw: object) -> int:
            self.records.append((str(kw["by"]), str(kw["reason"])))
            return 1

    recorder = Recorded()
    with pytest.raises(AccessDenied, match="last confirmed by a sign-in") as refused:
        access.check("olga", "ask", "a question", recorder=recorder)  # type: ignore[arg-type]
    assert "olga signs in again" in str(refused.value)
    assert recorder.records == [("olga", str(refused.value))]


@pytest.fixture
def services(trained_data: Path) -> Services:
    roles = trained_data / "roles.yaml"
    roles.write_text("groups:\n  rates-desk: [analyst]\n", encoding="utf-8")
    return build_services(load_settings(
        {"OPSCOPILOT_DATA_DIR": str(trained_data), "OPSCOPILOT_AS_OF": AS_OF.isoformat(),
         "OPSCOPILOT_ENTITLEMENTS": str(POLICY), "OPSCOPILOT_ROLES": str(roles)},
        env_file=trained_data / "no.env"))


def test_a_report_reads_its_owner_s_signed_in_groups_and_none_once_stale(
        services: Services, trained_data: Path) -> None:
    # erin is in no group of the entitlements file or the roles file: only her IdP says
    # she is on the rates desk, and only the directory remembers it for her report.
    import sqlite3

    with sqlite3.connect(trained_data / "otc_demo.db") as conn:
        rates = conn.execute("SELECT COUNT(*) FROM trades WHERE status = 'LIVE' "
                             "AND asset_class = 'RATES'").fetchone()[0]
    assert rates > 0
    runner = report_runner(services)
    template = runner.store.save(ReportTemplate(
        name="Rates live", sql="SELECT COUNT(*) FROM trades WHERE status = 'LIVE'",
        recipients=Recipients(folders=(str(trained_data / "drop"),)), formats=("csv",),
        created_by="erin"))

    def run() -> ReportRun:
        return runner.run(template, as_of=AS_OF, by="scheduler")

    # No groups known: no role, so her report does not run (and would read no rows).
    refused = run()
    assert refused.state == "error" and "erin may not schedule reports" in refused.error
    with pytest.raises(AccessDenied):
        services.answering.ask("how many live trades", user="erin")

    old = datetime.now(UTC) - timedelta(days=45)  # her last sign-in, too long ago
    services.directory.remember(Identity("erin", frozenset({"rates-desk"}), "oidc", old),
                                now=old)
    stale = run()
    assert stale.state == "error" and "OPSCOPILOT_GROUPS_MAX_AGE_DAYS" in stale.error
    with pytest.raises(AccessDenied, match="OPSCOPILOT_GROUPS_MAX_AGE_DAYS"):
        services.answering.ask("how many live trades", user="erin")

    services.directory.remember(Identity("erin", frozenset({"rates-desk"}), "oidc"))
    fresh = run()
    assert fresh.state == "success" and fresh.value == rates  # her desk's rows, via the directory
    answer = services.answering.ask("how many live trades", user="erin")  # an analyst now
    assert answer.status == "answered" and answer.rows[0][-1] == rates
