"""Shared fixtures: real SQLite files and a real PostgreSQL server started for the session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pgserver import PostgresServer, running_postgres

AS_OF = date(2026, 11, 20)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server on loopback for the whole run."""
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def small_demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo warehouse (2,000 trades, as of 2026-11-20), built once; never written to."""
    from copilot.demo import build_demo_warehouse

    path = tmp_path_factory.mktemp("demo") / "otc_demo.db"
    build_demo_warehouse(path, as_of=AS_OF, seed=7, trades=2_000)
    return path


@pytest.fixture(scope="session")
def pg_demo_url(postgres: PostgresServer, small_demo_db: Path) -> str:
    """The small demo warehouse copied into a PostgreSQL database (superuser URL)."""
    import psycopg
    from pgload import load_demo_into_postgres

    with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user={postgres.superuser} "
                         "dbname=postgres", autocommit=True) as admin:
        admin.execute("CREATE DATABASE otc_demo")
    load_demo_into_postgres(
        small_demo_db,
        f"host=127.0.0.1 port={postgres.port} user={postgres.superuser} dbname=otc_demo",
    )
    return postgres.url("otc_demo")


@pytest.fixture(scope="session")
def trained_demo_dir(tmp_path_factory: pytest.TempPathFactory, small_demo_db: Path) -> Path:
    """A data folder holding the small demo warehouse, already trained (profile `demo`, v1).
    Tests use a private copy of it: the `trained_data` fixture."""
    import shutil

    from copilot.settings import load_settings
    from copilot.wiring import build_services

    data = tmp_path_factory.mktemp("trained") / "data"
    data.mkdir()
    shutil.copy(small_demo_db, data / "otc_demo.db")
    settings = load_settings(
        {"OPSCOPILOT_DATA_DIR": str(data), "OPSCOPILOT_AS_OF": "2026-11-20"},
        env_file=data / "no.env",
    )
    services = build_services(settings)  # trains the demo profile: the first launch
    services.warehouse.dispose()
    return data


@pytest.fixture
def trained_data(tmp_path: Path, trained_demo_dir: Path) -> Path:
    """A private copy of the trained demo data folder: first launch done, nothing shared."""
    import shutil

    return Path(shutil.copytree(trained_demo_dir, tmp_path / "data"))


@pytest.fixture
def page_env(trained_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings for page tests: the trained demo copy, as of 2026-11-20, no stray .env."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPSCOPILOT_DATA_DIR", str(trained_data))
    monkeypatch.setenv("OPSCOPILOT_AS_OF", "2026-11-20")
    return trained_data
