"""Exporting audit records: CSV, Excel or JSON lines, streamed, each export itself audited."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path
from typing import Literal

from copilot.audit.log import AuditFilter, AuditLog
from copilot.audit.record import AuditRecord, Channel

__all__ = ["EXPORT_COLUMNS", "ExportFormat", "export_records"]

ExportFormat = Literal["csv", "xlsx", "jsonl"]
EXPORT_COLUMNS = ("id", *AuditRecord.field_names())


def _row(record_id: int, record: AuditRecord) -> list[object]:
    data = asdict(record)
    data["tables"] = ",".join(record.tables)
    return [record_id, *(data[name] for name in AuditRecord.field_names())]


def export_records(log: AuditLog, fmt: ExportFormat, out: Path, where: AuditFilter,
                   *, user: str, channel: Channel = "cli") -> int:
    """Write the filtered records to `out`; returns how many. The export is audited."""
    count = 0
    records = log.records(where)
    if fmt == "csv":
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(EXPORT_COLUMNS)
            for record_id, record in records:
                writer.writerow(_row(record_id, record))
                count += 1
    elif fmt == "jsonl":
        with out.open("w", encoding="utf-8") as handle:
            for record_id, record in records:
                data = {"id": record_id, **asdict(record), "tables": list(record.tables)}
                handle.write(json.dumps(data, ensure_ascii=False) + "\n")
                count += 1
    else:
        from openpyxl import Workbook  # only Excel exports pay for it

        workbook = Workbook(write_only=True)  # streams rows: a million fit in memory
        sheet = workbook.create_sheet("audit")
        sheet.append(list(EXPORT_COLUMNS))
        for record_id, record in records:
            sheet.append(_row(record_id, record))
            count += 1
        workbook.save(out)
    log.append(AuditRecord(
        channel=channel, outcome="recorded", user=user, question=f"audit export ({fmt})",
        row_count=count,
        details=json.dumps({"export": fmt, "file": out.name, **{
            k: v for k, v in asdict(where).items() if v}}),
    ))
    return count
