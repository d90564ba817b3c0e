"""Write generated tables into a SQLite file, atomically.

The schema comes from the vendored `otc_schema.sql` (the data contract), run as is. Rows are
encoded in SQLite's storage formats: DATE as 'YYYY-MM-DD', TIMESTAMP as 'YYYY-MM-DD HH:MM:SS',
BOOLEAN as 0/1 and DECIMAL as REAL with two decimals. The file is built beside the target and
renamed over it only when complete, so a crash never leaves a half-built warehouse behind.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from copilot.core.errors import DemoDataError
from copilot.demo.columns import Column, Table
from copilot.demo.reference import SCHEMA_FILE

__all__ = ["INDEXES", "write_warehouse"]

# Indexes for the questions ops teams ask: by date, by status, and along the foreign keys.
INDEXES = (
    ("books", ("legal_entity_id",)),
    ("trades", ("trade_date",)),
    ("trades", ("counterparty_id",)),
    ("trades", ("book_id",)),
    ("trades", ("status",)),
    ("confirmations", ("trade_id",)),
    ("confirmations", ("status",)),
    ("settlements", ("value_date", "status")),
    ("settlements", ("trade_id",)),
    ("settlements", ("netting_set_id",)),
    ("settlements", ("status",)),
    ("netting_sets", ("value_date",)),
    ("netting_sets", ("counterparty_id",)),
    ("netting_sets", ("status",)),
    ("ops_exceptions", ("opened_at",)),
    ("ops_exceptions", ("status",)),
    ("ops_exceptions", ("trade_id",)),
)
_CHUNK = 200_000  # rows encoded at a time: bounds memory for million-trade warehouses


def write_warehouse(out: Path, tables: Sequence[Table]) -> None:
    """Create the SQLite warehouse at `out` from `tables`, replacing any existing file."""
    out = Path(out)
    if out.is_dir():
        raise DemoDataError(f"Cannot write the demo warehouse to {out}: it is a folder.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".building",
                                        dir=out.parent)
        os.close(handle)
    except OSError as error:
        raise DemoDataError(
            f"Cannot write the demo warehouse to {out}: {error.strerror or error}.") from error
    building = Path(name)
    try:
        _fill(building, tables)
        with building.open("rb+") as file:  # on disk before the rename makes it visible
            os.fsync(file.fileno())
        building.chmod(0o644)
        building.replace(out)
    except (OSError, sqlite3.Error) as error:
        building.unlink(missing_ok=True)
        reason = getattr(error, "strerror", None) or error
        raise DemoDataError(f"Cannot write the demo warehouse to {out}: {reason}.") from error
    except BaseException:
        building.unlink(missing_ok=True)
        raise


def _fill(path: Path, tables: Sequence[Table]) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        # A fresh file that is renamed into place only when complete needs no journal.
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-131072")
        connection.executescript(SCHEMA_FILE.read_text(encoding="utf-8"))
        connection.execute("BEGIN")
        for table in tables:
            names = [c.name for c in table.columns]
            declared = [row[1] for row in connection.execute(f"PRAGMA table_info({table.name})")]
            if names != declared:
                raise DemoDataError(f"Generated table {table.name} has columns {names}, but "
                                    f"{SCHEMA_FILE.name} declares {declared}.")
            sql = (f"INSERT INTO {table.name} ({', '.join(names)}) "
                   f"VALUES ({', '.join('?' * len(names))})")
            for lo in range(0, table.row_count, _CHUNK):
                hi = min(lo + _CHUNK, table.row_count)
                columns = [_encode(c, lo, hi) for c in table.columns]
                connection.executemany(sql, zip(*columns, strict=True))
        for table_name, columns in INDEXES:
            connection.execute(f"CREATE INDEX ix_{table_name}_{'_'.join(columns)} "
                               f"ON {table_name} ({', '.join(columns)})")
        connection.execute("COMMIT")
    finally:
        connection.close()


def _encode(column: Column, lo: int, hi: int) -> list[object]:
    """Rows lo..hi of a column as Python values in SQLite's storage format."""
    values = column.values[lo:hi]
    if column.kind == "code":
        encoded = np.asarray(column.labels, dtype=object)[np.asarray(values)]
    elif column.kind == "date":
        encoded = _dates(np.asarray(values, dtype=np.int64))
    elif column.kind == "timestamp":
        encoded = _timestamps(np.asarray(values, dtype=np.int64))
    elif column.kind == "money":  # integer cents -> the double nearest to the 2-dp value
        encoded = (np.asarray(values, dtype=np.int64) / 100).astype(object)
    elif column.kind in ("int", "bool"):
        encoded = np.asarray(values).astype(np.int64).astype(object)
    else:
        encoded = np.asarray(values, dtype=object)
    if column.nulls is not None:
        encoded = np.array(encoded, dtype=object)  # a copy: labels must not be overwritten
        encoded[np.asarray(column.nulls[lo:hi], dtype=bool)] = None
    return encoded.tolist()


def _dates(days: np.ndarray) -> np.ndarray:
    if len(days) == 0:
        return np.array([], dtype=object)
    first = int(days.min())
    # Few distinct dates per column: format each once and look the rest up.
    lookup = np.datetime_as_string(np.arange(first, int(days.max()) + 1).astype("datetime64[D]"))
    return lookup.astype(object)[days - first]


def _timestamps(seconds: np.ndarray) -> np.ndarray:
    # 'YYYY-MM-DDTHH:MM:SS' (four-digit years: the as-of date is checked to be in range)
    text = np.datetime_as_string(seconds.astype("datetime64[s]")).astype("<U19")
    chars = text.view(np.uint32).reshape(len(text), 19)
    chars[:, 10] = ord(" ")  # SQL timestamps separate date and time with a space
    return text.astype(object)
