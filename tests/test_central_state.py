"""Central state: the state and audit databases on the test-started PostgreSQL server, three
app processes at once (each built through build_services, as an app server is), sharing
widget results through a Redis server started here.

Each process asks questions, runs SQL, saves a widget of its own and refreshes one shared
widget at the same moment as the others. Afterwards the audit chain verifies
(`python -m copilot audit verify`), its ids are gapless, every process's records are there,
and the shared widget cost one warehouse query for the three of them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pgserver import PostgresServer
from test_logs_metrics import redis_url  # noqa: F401  (the fixture: our own redis-server)

from copilot.core.audit import AuditLog
from copilot.settings import load_settings
from copilot.wiring import build_services, dashboards_of
from dashboards.model import Refresh

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = 3
QUESTIONS = 4  # each process asks this many questions and runs as many statements
SHARED = "fails by counterparty this month"

# What each app process runs: build the services, say it is ready, wait for the others,
# then work; its counts on stdout as JSON.
WORKER = textwrap.dedent('''
    import faulthandler, json, sys, time
    faulthandler.dump_traceback_later(400, exit=True)  # a hung process says where, then ends
    from pathlib import Path
    from copilot.core.settings import Settings
    from copilot.settings import load_settings
    from copilot.wiring import build_services, dashboards_of
    from dashboards.model import Refresh

    name, folder = sys.argv[1], Path(sys.argv[2])
    services = build_services(load_settings())
    boards = dashboards_of(services)
    as_of = services.settings.warehouse.effective_as_of()
    shared = next(w for d in boards.store.dashboards() for w in boards.store.widgets(d.id)
                  if w.question == "{shared}")
    (folder / f"{{name}}.ready").touch()
    while not (folder / "go").exists():
        time.sleep(0.01)
    first = boards.refresh(shared, as_of=as_of, by=name)
    second = boards.refresh(shared, as_of=as_of, by=name)
    statuses = []
    for n in range({questions}):
        statuses.append(services.answering.ask("fails by counterparty this month",
                                               user=name).status)
        statuses.append(services.answering.run_sql(f"SELECT COUNT(*) + {{n}} FROM trades",
                                                   user=name).status)
    answer = services.answering.ask("fails by currency this month", user=name)
    widget = boards.save_answer(answer, dashboard=f"{{name}}'s board", title="Fails",
                                chart="bar", refresh=Refresh("minutes", 5), by=name)
    mine, _ = boards.refresh(widget, as_of=as_of, by=name)
    print(json.dumps({{"statuses": statuses, "cached": [first[1], second[1]],
                      "rows": [len(first[0].rows), len(second[0].rows)],
                      "error": first[0].error, "mine": len(mine.rows)}}))
''').format(shared=SHARED, questions=QUESTIONS)


@pytest.fixture
def central(postgres: PostgresServer, small_demo_db: Path, tmp_path: Path,
            redis_url: str) -> Iterator[dict[str, str]]:  # noqa: F811
    """The environment of an app server: the demo warehouse, state and audit on
    PostgreSQL (fresh databases), the widget cache on Redis."""
    suffix = tmp_path.name.lower().replace("-", "_")[-20:]
    with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user={postgres.superuser} "
                         "dbname=postgres", autocommit=True) as admin:
        for kind in ("state", "audit"):
            admin.execute(f'CREATE DATABASE "{kind}_{suffix}"')
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(small_demo_db, data / "otc_demo.db")
    yield {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20",
           "OPSCOPILOT_STATE_URL": postgres.url(f"state_{suffix}"),
           "OPSCOPILOT_AUDIT_URL": postgres.url(f"audit_{suffix}"),
           "OPSCOPILOT_REDIS_URL": redis_url, "OPSCOPILOT_USER": "lead"}


def test_three_app_processes_share_postgresql_state_audit_and_redis_widgets(
        central: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings(central, env_file=tmp_path / "none")
    services = build_services(settings)  # the first launch: trains the demo into PostgreSQL
    boards = dashboards_of(services)
    answer = services.answering.ask(SHARED, user="lead")
    shared = boards.save_answer(answer, dashboard="Ops", title="Fails by counterparty",
                                chart="bar", refresh=Refresh("minutes", 5), by="lead")
    before = max(i for i, _ in services.audit.records())

    script = tmp_path / "app_process.py"
    script.write_text(WORKER, encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPSCOPILOT_")},
           **central, "PYTHONPATH": str(ROOT)}
    names = [f"p{n}" for n in range(PROCESSES)]
    procs = []
    # Started one after another, as app servers behind a balancer come up: three processes
    # opening the one data folder's ChromaDB store in the same instant once hung (a single
    # host sharing a folder, which a deployment does not do). The work after "go" is at once.
    for name in names:
        procs.append(subprocess.Popen(
            [sys.executable, str(script), name, str(tmp_path)], env=env, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        deadline = time.monotonic() + 120
        while not (tmp_path / f"{name}.ready").exists():
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            assert time.monotonic() < deadline, f"the app process {name} did not start"
            time.sleep(0.05)
    (tmp_path / "go").touch()  # the three refresh the shared widget at the same moment
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=200)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))

    for result in results:
        assert result["statuses"] == ["answered"] * (2 * QUESTIONS)
        assert not result["error"] and result["rows"][0] == result["rows"][1] > 0
        assert result["cached"][1] is True and result["mine"] > 0
    # One query for the shared widget among the three: the others were served from Redis.
    assert sorted(r["cached"][0] for r in results) == [False, True, True]

    verify = subprocess.run([sys.executable, "-m", "copilot", "audit", "verify"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    log = AuditLog(central["OPSCOPILOT_AUDIT_URL"],
                   protection=services.audit.protection)
    records = list(log.records())
    assert [i for i, _ in records] == list(range(1, len(records) + 1))  # none lost
    assert log.verify().ok
    after = [r for i, r in records if i > before]
    for name in names:
        mine = [r for r in after if r.user == name]
        asked = [r for r in mine if r.channel == "ask" and r.outcome == "answered"]
        assert len(asked) == 2 * QUESTIONS + 1  # questions, statements, the widget's answer
        assert any(r.channel == "dashboard" and "saved" in r.question for r in mine)
    refreshes = [r for r in after if r.channel == "dashboard" and r.question == SHARED]
    assert len(refreshes) == 1 and refreshes[0].user in names
    # Every request id in the records is its own: processes never share one.
    ids = [json.loads(r.details)["request_id"] for r in after if r.channel == "ask"]
    assert len(ids) == len(set(ids)) == PROCESSES * (2 * QUESTIONS + 1)
    assert shared.id is not None
