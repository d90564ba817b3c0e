"""Issue 14, drill 9: the LLM endpoint misbehaving on purpose, against the real client and a
scripted OpenAI-compatible server on a loopback port.

(a) a trickling endpoint (one byte a second, so every socket read succeeds) is cut at the
    question's deadline: no thread, no socket, no connection stays behind;
(b) a failed exchange is audited with the requests it made and why it failed;
(c) a reply holding a write or several statements is refused as a whole, never trimmed.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from copilot.core.errors import LLMError, LLMTimeout
from copilot.core.guard import Guard
from copilot.llm.client import ChatMessage, LLMExchangeError, OpenAICompatibleClient
from copilot.llm.config import LLMConfig
from copilot.settings import load_settings
from copilot.wiring import Services, build_services
from tests.llmserver import ScriptedLLM, Step

AS_OF = "2026-11-20"
UNKNOWN = "settlements that failed twice in a row this week"  # the engine refuses it
GOOD_SQL = "SELECT COUNT(*) AS n FROM settlements WHERE status = 'FAILED'"
HELLO = [ChatMessage("user", "ping")]
PROC = Path("/proc/self/fd")
needs_proc = pytest.mark.skipif(not PROC.is_dir(), reason="counts sockets through /proc")


def _services(data: Path, base_url: str, **extra: str) -> Services:
    env = {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": AS_OF,
           "OPSCOPILOT_LLM_BASE_URL": base_url, "OPSCOPILOT_LLM_MODEL": "scripted",
           "OPSCOPILOT_LLM_TIMEOUT_S": "5"}
    env |= {f"OPSCOPILOT_LLM_{k.upper()}": v for k, v in extra.items()}
    return build_services(load_settings(env, env_file=data / "no.env"))


def _last(services: Services) -> tuple[object, dict]:
    record = list(services.audit.records())[-1][1]
    return record, json.loads(record.details)


def _free_port() -> int:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _llm_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "llm-request"]


def _client_sockets(port: int) -> int:
    """This process's TCP sockets whose far end is `port` on loopback: the client's side."""
    inodes = set()
    for fd in PROC.iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == port and fields[9] in inodes:
            count += 1
    return count


def _fds() -> set[str]:
    """What this process's file descriptors point to (a socket's inode, a file's path)."""
    targets = set()
    for fd in PROC.iterdir():
        try:
            targets.add(f"{fd.name}:{fd.readlink()}")
        except OSError:
            continue  # closed while listing
    return targets


def _new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in before]


def _settles(condition: Callable[[], bool], within: float = 4.0) -> bool:
    """Whether `condition` holds within `within` seconds (the server's side notices a closed
    connection at its next write, one trickle step later)."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as server:
        yield server


# ---- (a) a trickling endpoint ----------------------------------------------------------------


@needs_proc
@pytest.mark.parametrize("body_only", [False, True], ids=["status-line", "body"])
def test_a_trickling_endpoint_is_cut_at_the_deadline_and_leaves_nothing(
        llm: ScriptedLLM, body_only: bool) -> None:
    llm.script = [Step(text="OK", trickle_s=1.0, trickle_body_only=body_only)]
    port = int(llm.root.rsplit(":", 1)[1])
    client = OpenAICompatibleClient(LLMConfig(base_url=llm.base_url, timeout_s=1.5))
    threads, fds = set(threading.enumerate()), _fds()
    started = time.monotonic()
    with pytest.raises(LLMTimeout, match=r"did not answer within 1\.5 s") as caught:
        client.complete(HELLO, max_tokens=5, deadline=started + 1.5)
    held = time.monotonic() - started
    assert held < 2.5, f"the question was held {held:.1f} s for a 1.5 s deadline"
    assert _llm_threads() == []  # the request's thread ended with the deadline
    assert _client_sockets(port) == 0  # and its socket is closed
    assert caught.value.requests == 1 and caught.value.failure == "timeout"
    assert _settles(lambda: llm.open_connections == 0), "the receiver still holds it"
    # Threads and descriptors of other tests may end meanwhile: count only what is new.
    assert _settles(lambda: not _new_threads(threads) and not _fds() - fds), \
        (_new_threads(threads), _fds() - fds)


@needs_proc
def test_a_trickling_endpoint_does_not_hold_the_question(trained_data: Path,
                                                          llm: ScriptedLLM) -> None:
    llm.script = [Step(text=f"```sql\n{GOOD_SQL}\n```", trickle_s=1.0, trickle_body_only=True)]
    services = _services(trained_data, llm.base_url, timeout_s="2")
    threads = set(threading.enumerate())
    started = time.monotonic()
    answer = services.answering.ask(UNKNOWN)
    held = time.monotonic() - started
    assert held < 3.5, f"the question was held {held:.1f} s for a 2 s LLM timeout"
    assert answer.status == "refused" and answer.source == "engine"
    assert "did not answer within 2 s" in answer.notes[0]
    assert _llm_threads() == [] and _client_sockets(int(llm.root.rsplit(":", 1)[1])) == 0
    assert _settles(lambda: llm.open_connections == 0)
    assert _settles(lambda: not _new_threads(threads)), _new_threads(threads)
    trace = _last(services)[1]["llm"]
    assert (trace["requests"], trace["failure"]) == (1, "timeout")


# ---- (b) failed exchanges are audited with what they cost -------------------------------------


@pytest.mark.parametrize(("script", "retries", "requests", "failure", "status", "says"), [
    ([Step(text="late", delay_s=3)], "2", 1, "timeout", 0, "did not answer within 1 s"),
    ([Step(status=500)] * 3, "2", 3, "http_error", 500, "kept failing (HTTP 500)"),
    ([Step(status=400)], "2", 1, "http_error", 400, "rejected the request (HTTP 400)"),
    ([Step(raw=b'{"choices": [{"message": ')], "2", 1, "malformed_reply", 200,
     "not a chat completion"),
    ([Step(raw=b"<html>gateway</html>")], "2", 1, "malformed_reply", 200,
     "not a chat completion"),
], ids=["timeout", "http-500", "http-400", "truncated-json", "html"])
def test_a_failed_exchange_is_audited_with_its_requests_and_why(
        trained_data: Path, llm: ScriptedLLM, script: list, retries: str, requests: int,
        failure: str, status: int, says: str) -> None:
    llm.script = list(script)
    timeout = "1" if failure == "timeout" else "5"
    services = _services(trained_data, llm.base_url, timeout_s=timeout, retries=retries)
    answer = services.answering.ask(UNKNOWN)
    assert answer.status == "refused" and says in answer.notes[0]
    trace = _last(services)[1]["llm"]
    assert len(llm.requests) == requests
    assert trace["requests"] == requests
    assert (trace["failure"], trace["http_status"]) == (failure, status)
    assert says in trace["error"]


def test_a_refused_connection_is_audited_as_unreachable(trained_data: Path) -> None:
    services = _services(trained_data, f"http://127.0.0.1:{_free_port()}/v1")
    answer = services.answering.ask(UNKNOWN)
    assert "cannot be reached" in answer.notes[0]
    trace = _last(services)[1]["llm"]
    assert (trace["requests"], trace["failure"]) == (1, "unreachable")


def test_a_failure_on_a_correction_counts_every_request(trained_data: Path,
                                                         llm: ScriptedLLM) -> None:
    llm.script = ["```sql\nSELECT no_such_column FROM settlements\n```",
                  Step(status=503), Step(status=503)]
    services = _services(trained_data, llm.base_url, retries="1")
    services.answering.ask(UNKNOWN)
    trace = _last(services)[1]["llm"]
    assert len(llm.requests) == 3 and trace["requests"] == 3
    assert trace["failure"] == "http_error" and len(trace["attempts"]) == 1


def test_a_busy_endpoint_that_outlasts_the_deadline_counts_its_requests(
        llm: ScriptedLLM) -> None:
    llm.script = [Step(status=429, headers={"Retry-After": "5"})]
    client = OpenAICompatibleClient(LLMConfig(base_url=llm.base_url, retries=3))
    with pytest.raises(LLMExchangeError) as caught:
        client.complete(HELLO, max_tokens=5, deadline=time.monotonic() + 1)
    assert (caught.value.requests, caught.value.failure) == (1, "timeout")
    assert caught.value.http_status == 429


def test_the_connection_test_is_audited_with_its_requests(trained_data: Path,
                                                          llm: ScriptedLLM) -> None:
    llm.script = [Step(status=502)] * 2
    services = _services(trained_data, llm.base_url, retries="1")
    with pytest.raises(LLMError, match="HTTP 502"):
        services.llm.test(services.llm.config(), by="admin")
    record, details = _last(services)
    assert record.outcome == "error" and "HTTP 502" in record.reason
    assert details == {"requests": 2, "failure": "http_error", "http_status": 502}


# ---- (c) a write or several statements: the reply is refused whole ------------------------


@pytest.mark.parametrize("reply", [
    "DELETE FROM trades; SELECT 1",
    "DELETE FROM trades;\nSELECT 1",
    "```sql\nDELETE FROM trades; SELECT 1\n```",
    "```sql\nSELECT 1;\nDELETE FROM trades\n```",
    "```sql\nDELETE FROM trades\n```\nThen:\n```sql\nSELECT 1\n```",
    "```sqlite\nDELETE FROM trades\n```\n```sql\nSELECT 1\n```",
    "```text\nDELETE FROM trades\n```\n```sql\nSELECT 1\n```",
    f"```sql\n{GOOD_SQL}\n```\nDELETE FROM trades;",
    f"{GOOD_SQL}\n\nDROP TABLE trades",
    "```sql\nWITH gone AS (DELETE FROM trades RETURNING *) SELECT COUNT(*) FROM gone\n```",
    "```sql\nUPDATE trades SET notional = 0\n```",
    "```sql\nSELECT 1 DELETE FROM trades\n```",  # two statements in a T-SQL batch
], ids=["one-line", "two-lines", "one-fence", "select-then-delete", "two-fences",
        "sqlite-fence", "text-fence", "prose-after-fence", "after-blank-line",
        "writing-cte", "update", "no-semicolon"])
def test_a_reply_holding_a_write_is_refused_whole_and_audited(
        trained_data: Path, llm: ScriptedLLM, reply: str) -> None:
    llm.script = [reply, f"```sql\n{GOOD_SQL}\n```"]
    db = trained_data / "otc_demo.db"
    before = sqlite3.connect(db).execute("SELECT COUNT(*), SUM(notional) FROM trades").fetchone()
    services = _services(trained_data, llm.base_url)
    answer = services.answering.ask(UNKNOWN)
    assert answer.source == "engine" and answer.status == "refused" and answer.rows == ()
    assert len(llm.requests) == 1  # not asked to "correct" a write into something harmless
    assert "reply was refused as a whole" in answer.notes[0]
    record, details = _last(services)
    trace = details["llm"]
    assert trace["failure"] == "unsafe_reply" and trace["requests"] == 1
    offered = trace["attempts"][0]["sql"].upper()
    assert any(w in offered for w in ("DELETE", "DROP", "UPDATE")) and "refused" in \
        trace["attempts"][0]["problem"]
    assert record.sql_run == ""
    after = sqlite3.connect(db).execute("SELECT COUNT(*), SUM(notional) FROM trades").fetchone()
    assert before == after


@pytest.mark.parametrize("reply", [
    f"```sql\n{GOOD_SQL};\nSELECT 1\n```",
    f"```sql\n{GOOD_SQL}\n```\nor\n```sql\nSELECT 1\n```",
    f"```postgresql\n{GOOD_SQL}\n```\n```sql\nSELECT 1\n```",
    f"{GOOD_SQL}\n\nSELECT 1",
], ids=["one-fence", "two-fences", "dialect-fence", "bare"])
def test_several_queries_are_never_trimmed_to_one(trained_data: Path, llm: ScriptedLLM,
                                                   reply: str) -> None:
    llm.script = [reply] * 3
    services = _services(trained_data, llm.base_url)
    answer = services.answering.ask(UNKNOWN)
    assert answer.source == "engine" and answer.status == "refused"
    trace = _last(services)[1]["llm"]
    assert all("2 statements" in a["problem"] for a in trace["attempts"])
    assert trace["failure"] == "no_usable_sql"


MULTI = [
    "SELECT 1; SELECT 2",
    "DELETE FROM trades; SELECT 1",
    "SELECT 1; DELETE FROM trades",
    "SELECT 1;\n-- harmless\nDROP TABLE trades",
    "SELECT 1 /* ; */; UPDATE trades SET notional = 0",
    "SELECT ';' AS a; DELETE FROM trades",
]


@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "tsql"])
@pytest.mark.parametrize("sql", MULTI)
def test_the_guard_refuses_several_statements_in_every_dialect(
        trained_data: Path, dialect: str, sql: str) -> None:
    services = _services(trained_data, "")
    guard = Guard(services.executor.guard.schema, dialect=dialect, row_cap=100)
    verdict = guard.check(sql)
    assert not verdict.allowed and verdict.statement is None
    assert verdict.rule in ("single_statement", "parse")


@pytest.mark.parametrize("sql", MULTI)
def test_several_statements_from_a_person_are_refused_too(trained_data: Path,
                                                           sql: str) -> None:
    services = _services(trained_data, "")
    answer = services.answering.run_sql(sql, user="analyst")
    assert answer.status == "refused" and answer.rows == ()
    assert list(services.audit.records())[-1][1].outcome == "blocked"  # by the guard
