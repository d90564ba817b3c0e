"""The REST API over real HTTP on 127.0.0.1 (uvicorn in a thread, httpx as the caller), on
the trained demo with a roles file and the shipped entitlements policy: each endpoint, the
401s and 403s, the rows a person may read, the audit records on the api channel, bodies
refused for their size and SQL refused by the guard.

People: alice and bob are analysts on the rates desk (RATES trades only, by the policy),
vera a viewer, dave the auditor (every row), ada an admin; the group ops-desk holds viewer.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from appserver import free_port
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from api.app import create_app
from api.calls import ANONYMOUS
from api.tokens import ApiTokens
from copilot.core.audit import AuditRecord
from copilot.settings import load_settings
from copilot.wiring import Services, build_services, dashboards_of, reports_of
from reports.model import Recipients, ReportTemplate

ROOT = Path(__file__).resolve().parents[1]
POLICY = ROOT / "docs" / "entitlements.example.yaml"
AS_OF = date(2026, 11, 20)
PEOPLE = {"alice": "analyst", "bob": "analyst", "vera": "viewer", "dave": "auditor",
          "ada": "admin"}
LIVE = "SELECT COUNT(*) FROM trades WHERE status = 'LIVE'"


@dataclass(frozen=True)
class Api:
    """The served API: its address, its services and a token for each person."""

    url: str
    services: Services
    tokens: ApiTokens
    token: dict[str, str]
    data: Path

    def call(self, method: str, path: str, who: str | None = None, **kwargs: object
             ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
        if who is not None:
            headers["Authorization"] = f"Bearer {self.token.get(who, who)}"
        with httpx.Client(base_url=self.url, timeout=60, trust_env=False) as client:
            return client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]

    def last_id(self) -> int:
        return max((i for i, _ in self.services.audit.records()), default=0)

    def since(self, first: int) -> list[AuditRecord]:
        return [r for i, r in self.services.audit.records() if i > first]


def _environment(data: Path) -> dict[str, str]:
    return {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": AS_OF.isoformat(),
            "OPSCOPILOT_ROLES": str(data / "roles.yaml"),
            "OPSCOPILOT_ENTITLEMENTS": str(POLICY), "OPSCOPILOT_FOUR_EYES": "off",
            "OPSCOPILOT_ENV_FILE": str(data / "no.env")}


@contextlib.contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port, in a thread; its address."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(),
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, trained_demo_dir: Path) -> Iterator[Api]:
    data = Path(shutil.copytree(trained_demo_dir, tmp_path_factory.mktemp("api") / "data"))
    (data / "roles.yaml").write_text(
        "users:\n" + "".join(f"  {u}: [{r}]\n" for u, r in PEOPLE.items())
        + "groups:\n  ops-desk: [viewer]\n", encoding="utf-8")
    services = build_services(load_settings(_environment(data), env_file=data / "no.env"))
    dashboards_of(services).ensure_demo_dashboard(as_of=AS_OF)
    tokens = ApiTokens(services.settings.state.url)
    issued = {user: tokens.create(user, by="ops")[1] for user in PEOPLE}
    with serving(create_app(services, tokens=tokens)) as url:
        yield Api(url, services, tokens, issued, data)


def _count(api: Api, where: str) -> int:
    with sqlite3.connect(api.data / "otc_demo.db") as conn:
        return conn.execute(f"SELECT COUNT(*) FROM trades WHERE {where}").fetchone()[0]


def _api_records(records: list[AuditRecord]) -> list[AuditRecord]:
    return [r for r in records if r.channel == "api" and r.question.startswith(("GET", "POST"))]


# ---- who calls ----------------------------------------------------------------------------

def test_health_needs_no_token_and_writes_no_record(api: Api) -> None:
    first = api.last_id()
    reply = api.call("GET", "/health")
    assert reply.status_code == 200 and reply.json()["status"] == "ok"
    assert api.since(first) == []


@pytest.mark.parametrize("header", [None, "Bearer", "Basic YWxpY2U6cGFzc3dvcmQ=",
                                    "Bearer occ_000000000000_not-a-secret", "Bearer junk"])
def test_a_call_without_a_valid_token_is_refused_401_and_recorded_blocked(
        api: Api, header: str | None) -> None:
    first = api.last_id()
    reply = api.call("POST", "/api/v1/ask", json={"question": "how many live trades"},
                     headers={"Authorization": header} if header else {})
    assert reply.status_code == 401
    assert reply.headers["www-authenticate"] == "Bearer"
    assert set(reply.json()) == {"error"} and "token" in reply.json()["error"].lower()
    records = api.since(first)
    assert [(r.channel, r.outcome, r.user) for r in records] == [
        ("api", "blocked", ANONYMOUS)]  # nothing was asked: only the refused call
    details = json.loads(records[0].details)
    assert details["status"] == 401 and details["endpoint"] == "/api/v1/ask"
    assert records[0].reason == reply.json()["error"]


def test_a_revoked_or_expired_token_is_refused_and_the_record_names_it(api: Api) -> None:
    revoked, revoked_text = api.tokens.create("alice", by="ops")
    assert api.call("GET", "/api/v1/dashboards", revoked_text).status_code == 200
    api.tokens.revoke(revoked.id)
    expired, expired_text = api.tokens.create(
        "alice", by="ops", expires_days=1, now=datetime.now(UTC) - timedelta(days=2))
    first = api.last_id()
    for text, word in ((revoked_text, "revoked"), (expired_text, "expired")):
        reply = api.call("GET", "/api/v1/dashboards", text)
        assert reply.status_code == 401 and word in reply.json()["error"]
    records = api.since(first)
    assert [(r.outcome, r.user, json.loads(r.details)["token"]) for r in records] == [
        ("blocked", ANONYMOUS, revoked.id), ("blocked", ANONYMOUS, expired.id)]
    # The secret is never written anywhere a reader of the trail or the state could see.
    for text in (revoked_text, expired_text):
        secret = text.split("_", 2)[2]
        assert all(secret not in r.details + r.reason + r.question for r in records)
        state = make_url(api.services.settings.state.url).database
        assert state and secret.encode() not in Path(state).read_bytes()


def test_a_role_that_may_not_is_refused_403_recorded_blocked_twice(api: Api) -> None:
    first = api.last_id()
    cases = [("vera", "POST", "/api/v1/sql", {"json": {"sql": LIVE}}),  # a viewer
             ("dave", "POST", "/api/v1/ask", {"json": {"question": "how many live trades"}}),
             ("alice", "GET", "/api/v1/audit/verify", {}),
             ("dave", "GET", "/api/v1/dashboards", {})]
    for who, method, path, kwargs in cases:
        reply = api.call(method, path, who, **kwargs)
        assert reply.status_code == 403, (who, path, reply.text)
        assert f"{who} may not" in reply.json()["error"]
    records = api.since(first)
    # Each refusal: the role check's record on its page's channel, then the call's on api.
    assert [(r.channel, r.outcome, r.user) for r in records] == [
        (channel, "blocked", who) for (who, *_), channel in zip(
            cases, ("ask", "ask", "audit", "dashboard"), strict=True)
        for channel in (channel, "api")]
    assert [json.loads(r.details)["status"] for r in _api_records(records)] == [403] * 4


def test_a_token_s_groups_give_their_roles(api: Api) -> None:
    _, grouped = api.tokens.create("gina", groups=frozenset({"ops-desk"}), by="ops")
    _, alone = api.tokens.create("henry", by="ops")
    ask = {"json": {"question": "how many live trades"}}
    assert api.call("POST", "/api/v1/ask", grouped, **ask).status_code == 200  # viewer
    assert api.call("POST", "/api/v1/sql", grouped, json={"sql": LIVE}).status_code == 403
    assert api.call("POST", "/api/v1/ask", alone, **ask).status_code == 403  # no role


# ---- asking and SQL -----------------------------------------------------------------------

def test_ask_answers_as_json_with_only_the_asker_s_rows(api: Api) -> None:
    rates = _count(api, "status = 'LIVE' AND asset_class = 'RATES'")
    everything = _count(api, "status = 'LIVE'")
    assert 0 < rates < everything
    first = api.last_id()
    reply = api.call("POST", "/api/v1/ask", "alice",
                     json={"question": "how many live trades", "as_of": "2026-11-20"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "answered" and body["rows"][0][-1] == rates
    assert body["entitlements"] == ["trades: asset_class = 'RATES'"]
    assert body["sql"].upper().startswith("SELECT") and body["interpretation"]
    assert body["chart"]["kind"] in ("number", "bar", "table") and 0 < body["confidence"] <= 1
    records = api.since(first)
    answer, call = records
    # The answer's own record (what ran, the rows' hash) and the call's, linked by id.
    assert (answer.channel, answer.user, answer.outcome) == ("api", "alice", "answered")
    assert answer.question == "how many live trades" and answer.row_count == 1
    assert body["audit_record_id"] == first + 1
    assert (call.channel, call.user, call.outcome) == ("api", "alice", "recorded")
    assert json.loads(call.details)["answer_record"] == body["audit_record_id"]
    # A question the engine cannot read is an answer too: refused, said why, audited.
    reply = api.call("POST", "/api/v1/ask", "alice", json={"question": "zzz qqq"})
    assert reply.status_code == 200 and reply.json()["status"] in ("refused", "clarify")


def test_sql_runs_through_the_guard_with_the_caller_s_rows(api: Api) -> None:
    rates = _count(api, "status = 'LIVE' AND asset_class = 'RATES'")
    reply = api.call("POST", "/api/v1/sql", "bob", json={"sql": LIVE})
    assert reply.status_code == 200 and reply.json()["rows"] == [[rates]]
    assert reply.json()["entitlements"] == ["trades: asset_class = 'RATES'"]
    ada = api.call("POST", "/api/v1/sql", "ada", json={"sql": LIVE})  # in no policy group
    assert ada.status_code == 200 and ada.json()["rows"] == [[0]]


@pytest.mark.parametrize("sql", ["DELETE FROM trades", "DROP TABLE trades",
                                 "SELECT 1; DELETE FROM trades"])
def test_destructive_sql_is_refused_by_the_guard_and_recorded_blocked(api: Api,
                                                                      sql: str) -> None:
    before = _count(api, "1 = 1")
    first = api.last_id()
    reply = api.call("POST", "/api/v1/sql", "alice", json={"sql": sql})
    assert reply.status_code == 422
    assert reply.json()["status"] == "refused" and "guard" in reply.json()["interpretation"]
    assert _count(api, "1 = 1") == before
    answer, call = api.since(first)
    assert (answer.channel, answer.outcome, answer.sql_generated) == ("api", "blocked", sql)
    assert (call.channel, call.outcome, call.user) == ("api", "blocked", "alice")
    assert "guard" in call.reason


def test_bodies_are_bounded(api: Api) -> None:
    first = api.last_id()
    long = api.call("POST", "/api/v1/ask", "alice", json={"question": "x" * 501})
    assert long.status_code == 422 and "500 characters" in long.json()["error"]
    assert "xxxx" not in long.text  # the caller's text is not echoed back
    huge = api.call("POST", "/api/v1/sql", "alice",
                    content=json.dumps({"sql": "SELECT 1 " * 300_000}).encode(),
                    headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and "larger than" in huge.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it is read
        yield b'{"sql": "'
        for _ in range(200):
            yield b"x" * 8192

    chunked = api.call("POST", "/api/v1/sql", "alice", content=chunks(),
                       headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    calls = _api_records(api.since(first))
    assert [(r.outcome, r.user, json.loads(r.details)["status"]) for r in calls] == [
        ("refused", "alice", 422), ("blocked", "alice", 413), ("blocked", "alice", 413)]


def test_errors_are_typed_json_never_a_traceback(api: Api) -> None:
    unknown = api.call("GET", "/api/v1/nothing-here", "alice")
    assert unknown.status_code == 404 and set(unknown.json()) == {"error"}
    malformed = api.call("POST", "/api/v1/ask", "alice", content=b"{not json",
                         headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422 and set(malformed.json()) == {"error"}
    extra = api.call("POST", "/api/v1/ask", "alice", json={"question": "q", "sql": "x"})
    assert extra.status_code == 422


def test_a_defect_answers_500_as_json_and_is_recorded(api: Api,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    boards = dashboards_of(api.services)
    app = create_app(api.services, tokens=api.tokens, dashboards=boards)

    def broken() -> list[object]:
        raise RuntimeError("a defect with a secret path /etc/copilot")

    monkeypatch.setattr(boards.store, "dashboards", broken)
    first = api.last_id()
    with serving(app) as url:
        reply = httpx.get(f"{url}/api/v1/dashboards", timeout=60, trust_env=False,
                          headers={"Authorization": f"Bearer {api.token['alice']}"})
    assert reply.status_code == 500 and set(reply.json()) == {"error"}
    assert "RuntimeError" in reply.json()["error"] and "/etc/copilot" not in reply.text
    assert "Traceback" not in reply.text
    [call] = _api_records(api.since(first))
    assert (call.outcome, call.user, json.loads(call.details)["status"]) == (
        "error", "alice", 500)


# ---- reports and dashboards ---------------------------------------------------------------

def test_reports_are_listed_and_run_now_by_their_owner_only(api: Api, tmp_path: Path) -> None:
    service = reports_of(api.services, start_scheduler=False)
    saved = service.save(ReportTemplate(name="API live count", sql=LIVE,
                                        recipients=Recipients(folders=(str(tmp_path),))),
                         by="alice")
    listed = api.call("GET", "/api/v1/reports", "vera")
    assert listed.status_code == 200
    mine = [r for r in listed.json() if r["id"] == saved.id]
    assert mine and mine[0]["name"] == "API live count" and mine[0]["may_run"] is False
    run = api.call("POST", f"/api/v1/reports/{saved.id}/run", "alice")
    assert run.status_code == 200, run.text
    assert run.json()["state"] == "success" and run.json()["trigger"] == "manual"
    assert run.json()["row_count"] == 1 and all("/" not in f for f in run.json()["files"])
    written = list(tmp_path.iterdir())
    assert written and written[0].name in run.json()["files"]
    rows = list(csv.reader(io.StringIO(written[0].read_text(encoding="utf-8-sig"))))
    assert int(rows[1][0]) == _count(api, "status = 'LIVE' AND asset_class = 'RATES'")
    other = api.call("POST", f"/api/v1/reports/{saved.id}/run", "bob")
    assert other.status_code == 403 and "alice's" in other.json()["error"]
    assert api.call("POST", "/api/v1/reports/999999/run", "alice").status_code == 404
    assert api.call("POST", "/api/v1/reports/999999/run", "vera").status_code == 403


def test_a_dashboard_s_widgets_are_read_with_their_results(api: Api) -> None:
    boards = api.call("GET", "/api/v1/dashboards", "vera")
    assert boards.status_code == 200 and boards.json()
    board = boards.json()[0]
    assert board["widgets"] > 0
    first = api.last_id()
    reply = api.call("GET", f"/api/v1/dashboards/{board['id']}/widgets", "vera",
                     params={"as_of": "2026-11-20"})
    assert reply.status_code == 200, reply.text
    widgets = reply.json()["widgets"]
    assert len(widgets) == board["widgets"]
    assert all(w["result"]["columns"] and not w["result"]["error"] for w in widgets)
    assert any(w["result"]["rows"] for w in widgets)
    # Each widget refreshed as the page refreshes it: audited on the dashboard channel.
    channels = [r.channel for r in api.since(first)]
    assert channels.count("dashboard") >= 1 and channels[-1] == "api"
    missing = api.call("GET", "/api/v1/dashboards/999999/widgets", "vera")
    assert missing.status_code == 404


# ---- the audit trail ----------------------------------------------------------------------

def test_the_auditor_verifies_and_exports_the_trail_with_the_api_calls(api: Api) -> None:
    api.call("POST", "/api/v1/ask", "alice", json={"question": "how many live trades"})
    verified = api.call("GET", "/api/v1/audit/verify", "dave")
    assert verified.status_code == 200 and verified.json()["ok"] is True
    assert verified.json()["records"] > 0
    exported = api.call("GET", "/api/v1/audit/export", "dave",
                        params={"format": "jsonl", "since": date.today().isoformat()})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in exported.text.splitlines()]
    assert any(r["channel"] == "api" and r["user"] == "alice" for r in lines)
    assert any(r["channel"] == "api" and r["outcome"] == "blocked" for r in lines)
    as_csv = api.call("GET", "/api/v1/audit/export", "dave", params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.text.lstrip("\ufeff").startswith("id,")
    # The export is itself recorded, as the auditor's, on the api channel.
    last = [r for _, r in api.services.audit.records()][-2:]
    assert [(r.channel, r.user) for r in last] == [("api", "dave"), ("api", "dave")]
    assert last[0].question == "audit export (csv)"
    nothing = api.call("GET", "/api/v1/audit/export", "dave", params={"until": "2000-01-01"})
    assert nothing.text.strip().count("\n") == 0  # the header alone
    bad = api.call("GET", "/api/v1/audit/export", "dave", params={"format": "xml"})
    assert bad.status_code == 422


# ---- the documentation --------------------------------------------------------------------

def test_the_docs_are_served_from_this_server_alone(api: Api) -> None:
    page = api.call("GET", "/api/docs")
    assert page.status_code == 200
    links = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]+)""", page.text)
    assert links and all(link.startswith("/api/") for link in links), links
    assert "cdn" not in page.text.lower()
    for link in links:
        assert api.call("GET", link).status_code == 200, link
    spec = api.call("GET", "/api/openapi.json").json()
    assert {"/api/v1/ask", "/api/v1/sql", "/api/v1/reports", "/api/v1/reports/{report_id}/run",
            "/api/v1/dashboards", "/api/v1/dashboards/{dashboard_id}/widgets",
            "/api/v1/audit/verify", "/api/v1/audit/export"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_swagger_ui_draws_in_a_browser_with_no_request_off_this_server(api: Api) -> None:
    from appserver import browser_tab

    requested: list[str] = []
    with browser_tab() as tab:
        tab.on("request", lambda request: requested.append(request.url))
        tab.goto(f"{api.url}/api/docs")
        tab.wait_for_selector("text=OTC Ops Copilot API", timeout=30_000)
        tab.wait_for_selector("[data-path=\"/api/v1/ask\"]", timeout=30_000)
    assert requested and all(url.startswith(("data:", api.url)) for url in requested), requested


# ---- the commands -------------------------------------------------------------------------

def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "copilot", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, **env})


def test_api_token_commands_make_list_and_revoke_and_are_audited(api: Api) -> None:
    env = _environment(api.data)
    made = _cli("api-token", "create", "--user", "bob", "--groups", "ops-desk,rates-desk",
                "--expires-days", "30", env=env)
    assert made.returncode == 0, made.stderr
    text = made.stdout.strip()
    assert re.fullmatch(r"occ_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", text)
    token_id = text.split("_")[1]
    assert "not shown again" in made.stderr
    assert api.call("POST", "/api/v1/sql", text, json={"sql": LIVE}).status_code == 200
    listed = _cli("api-token", "list", env=env)
    line = next(li for li in listed.stdout.splitlines() if li.startswith(token_id))
    assert "bob" in line and "ops-desk,rates-desk" in line and "active" in line
    assert text.split("_", 2)[2] not in listed.stdout
    assert _cli("api-token", "revoke", token_id, env=env).returncode == 0
    assert api.call("POST", "/api/v1/sql", text, json={"sql": LIVE}).status_code == 401
    assert "revoked" in _cli("api-token", "list", env=env).stdout
    unknown = _cli("api-token", "revoke", "ffffffffffff", env=env)
    assert unknown.returncode == 2 and "no API token" in unknown.stderr
    bad = _cli("api-token", "create", "--user", "<b>", env=env)
    assert bad.returncode == 2 and "plain name" in bad.stderr
    cli = [r.question for _, r in api.services.audit.records() if r.channel == "cli"]
    assert f"api token {token_id} created for bob" in cli
    assert f"api token {token_id} of bob revoked" in cli


def test_the_api_command_serves_on_loopback(api: Api) -> None:
    port = free_port()
    env = {**os.environ, **_environment(api.data)}
    process = subprocess.Popen([sys.executable, "-m", "copilot", "api", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the api command did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2,
                             trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        reply = httpx.post(f"http://127.0.0.1:{port}/api/v1/sql", json={"sql": LIVE},
                           headers={"Authorization": f"Bearer {api.token['alice']}"},
                           timeout=60, trust_env=False)
        assert reply.status_code == 200
        assert reply.json()["entitlements"] == ["trades: asset_class = 'RATES'"]
        assert "server" not in reply.headers  # uvicorn does not name itself
    finally:
        process.terminate()
        process.wait(30)
    refused = _cli("api", "--host", "example.org", env=_environment(api.data))
    assert refused.returncode == 2 and "not an IP address" in refused.stderr
