"""A SQLite warehouse file that changes under a running app (issue 14, drill 4).

Each fault is made on a real file, the way it happens at a bank: a nightly refresh that
renames a new file over the old one while analysts ask, a file deleted or cut short by a
failed copy, a page overwritten by a bad disk or a bad restore.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from copilot.core.errors import WarehouseUnavailable
from copilot.core.warehouse import Warehouse

ROWS = 2_000  # enough for several pages, so a page in the middle can be damaged


def _build(path: Path, version: int) -> Path:
    """A warehouse whose every row says which version of the file it is."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE trades (id INTEGER PRIMARY KEY, version INTEGER, note TEXT)")
    conn.executemany("INSERT INTO trades VALUES (?, ?, ?)",
                     [(i, version, f"trade {i} " + "x" * 80) for i in range(ROWS)])
    conn.execute("CREATE INDEX trades_version ON trades (version)")
    conn.commit()
    conn.close()
    return path


def _version(warehouse: Warehouse) -> int:
    rows = warehouse._run("SELECT min(version), max(version), count(*) FROM trades", 1).rows
    low, high, count = rows[0]
    assert low == high and count == ROWS  # never a mix of two files within one answer
    return low


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    return _build(tmp_path / "warehouse.db", 1)


def test_a_refresh_by_rename_is_answered_from_the_new_file_only(warehouse_file: Path) -> None:
    warehouse = Warehouse(f"sqlite:///{warehouse_file}", timeout_s=5)
    fresh = _build(warehouse_file.with_name("incoming.db"), 2)
    answers: list[tuple[float, int]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                answers.append((started, _version(warehouse)))
            except BaseException as exc:  # every failure is a finding here
                errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # every pooled connection has read the old file
    fresh.replace(warehouse_file)  # atomic, as a refresh does it
    replaced = time.monotonic()
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join()
    warehouse.dispose()
    assert not errors
    before = [v for started, v in answers if started < replaced]
    after = [v for started, v in answers if started > replaced]
    assert before and set(before) <= {1, 2} and after
    assert set(after) == {2}, f"{after.count(1)} of {len(after)} answers read the old file"


def test_a_deleted_file_is_not_answered_until_it_is_back(warehouse_file: Path) -> None:
    warehouse = Warehouse(f"sqlite:///{warehouse_file}", timeout_s=5)
    assert _version(warehouse) == 1
    kept = warehouse_file.with_name("kept.db")
    warehouse_file.rename(kept)  # the pooled connection still has the file open
    with pytest.raises(WarehouseUnavailable, match="was deleted or moved"):
        _version(warehouse)
    kept.rename(warehouse_file)
    assert _version(warehouse) == 1
    warehouse.dispose()


def test_a_truncated_file_says_it_is_damaged(warehouse_file: Path) -> None:
    warehouse = Warehouse(f"sqlite:///{warehouse_file}", timeout_s=5)
    assert _version(warehouse) == 1
    size = warehouse_file.stat().st_size
    os.truncate(warehouse_file, size // 2)  # a copy that stopped half way, in place
    with pytest.raises(WarehouseUnavailable, match=r"is damaged \(truncated: "):
        _version(warehouse)
    # Cut short and renamed into place: the same words, not "no such table".
    cut = warehouse_file.with_name("cut.db")
    cut.write_bytes(_build(warehouse_file.with_name("whole.db"), 2).read_bytes()[:8192])
    cut.replace(warehouse_file)
    with pytest.raises(WarehouseUnavailable, match="is damaged"):
        _version(warehouse)
    warehouse.dispose()


def test_a_damaged_page_is_found_before_any_answer(warehouse_file: Path) -> None:
    warehouse = Warehouse(f"sqlite:///{warehouse_file}", timeout_s=5)
    assert _version(warehouse) == 1
    page = sqlite3.connect(warehouse_file).execute("PRAGMA page_size").fetchone()[0]
    pages = warehouse_file.stat().st_size // page
    with warehouse_file.open("r+b") as handle:  # a bad sector in the table's pages
        handle.seek(page * (pages // 2))
        handle.write(b"\xff" * page)
    with pytest.raises(WarehouseUnavailable, match="is damaged") as caught:
        _version(warehouse)
    assert "Restore the file from its last good copy" in str(caught.value)
    warehouse.dispose()
    # A fresh process opening the damaged file is told the same, at its first question.
    with pytest.raises(WarehouseUnavailable, match="is damaged"):
        _version(Warehouse(f"sqlite:///{warehouse_file}", timeout_s=5))


def test_a_file_that_is_not_a_database_says_so(tmp_path: Path) -> None:
    impostor = tmp_path / "warehouse.db"
    impostor.write_bytes(b"id,version\n1,1\n" * 100)  # a CSV export saved under the name
    with pytest.raises(WarehouseUnavailable, match="not a SQLite database"):
        Warehouse(f"sqlite:///{impostor}", timeout_s=5)._run("SELECT 1", 1)
