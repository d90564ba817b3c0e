"""A widget result as JSON text and back, for the cache several processes share in Redis.

JSON rather than pickle: whatever can write to the Redis server must not be able to make an
app process run code. Warehouse values JSON has no type for (dates, timestamps, decimals,
bytes) are kept tagged, so a result read back is the one stored.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from dashboards.refresh import WidgetResult

__all__ = ["decode_result", "encode_result"]

_TUPLES = ("columns", "labels")


def _tagged(value: object) -> object:
    # datetime before date: a datetime is a date too.
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, time):
        return {"$t": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # what the page would show of a type the warehouse driver invented


def _untagged(value: Any) -> object:
    if isinstance(value, dict) and len(value) == 1:
        (tag, text), = value.items()
        read = {"$dt": datetime.fromisoformat, "$d": date.fromisoformat,
                "$t": time.fromisoformat, "$dec": Decimal,
                "$b": lambda t: base64.b64decode(t.encode("ascii"))}.get(tag)
        if read is not None:
            return read(text)
    return value


def encode_result(result: WidgetResult) -> str:
    data = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    data["refreshed_at"] = result.refreshed_at.isoformat()
    data["rows"] = [[_tagged(v) for v in row] for row in result.rows]
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def decode_result(text: str | bytes) -> WidgetResult:
    data = json.loads(text)
    data["refreshed_at"] = datetime.fromisoformat(data["refreshed_at"])
    data["rows"] = tuple(tuple(_untagged(v) for v in row) for row in data["rows"])
    for name in _TUPLES:
        data[name] = tuple(data[name])
    return WidgetResult(**data)
