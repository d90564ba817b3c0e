"""Exporting audit records: CSV, Excel or JSON lines, streamed, each export itself audited.
CSV and Excel go through `copilot.core.tabular`, so no recorded text becomes a live formula."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Literal

from copilot.core.audit.log import AuditFilter, AuditLog
from copilot.core.audit.record import AuditRecord, Channel
from copilot.core.tabular import TableWriter

__all__ = ["EXPORT_COLUMNS", "ExportFormat", "export_records"]

ExportFormat = Literal["csv", "xlsx", "jsonl"]
EXPORT_COLUMNS = ("id", *AuditRecord.field_names())


_TABLES = EXPORT_COLUMNS.index("tables")


def _plain(row: tuple[object, ...]) -> list[object]:
    """A raw row with its tables as 'a,b' rather than JSON."""
    values = list(row)
    values[_TABLES] = ",".join(json.loads(str(values[_TABLES]) or "[]"))
    return values


def export_records(log: AuditLog, fmt: ExportFormat, out: Path, where: AuditFilter,
                   *, user: str, channel: Channel = "cli") -> int:
    """Write the filtered records to `out`; returns how many. The export is audited."""
    count = 0
    rows = log.rows(where)
    if fmt == "jsonl":
        with out.open("w", encoding="utf-8") as handle:
            for row in rows:
                data = dict(zip(EXPORT_COLUMNS, row, strict=True))
                data["tables"] = json.loads(str(data["tables"]) or "[]")
                handle.write(json.dumps(data, ensure_ascii=False) + "\n")
                count += 1
    else:
        # One writer for CSV and Excel: a typed question like =HYPERLINK(...) stays text.
        with TableWriter(out, fmt, sheet="audit") as writer:
            writer.writerow(EXPORT_COLUMNS)
            count = writer.writerows(_plain(row) for row in rows)
    log.append(AuditRecord(
        channel=channel, outcome="recorded", user=user, question=f"audit export ({fmt})",
        row_count=count,
        details=json.dumps({"export": fmt, "file": out.name, **{
            k: v for k, v in asdict(where).items() if v}}),
    ))
    return count
