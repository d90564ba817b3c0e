"""GET /audit/verify and GET /audit/export: the Audit page's chain check and export, for
the auditor alone (anyone else is refused, and that is recorded)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from api.caller import Who
from api.calls import API_PREFIX
from copilot.core.access import Access
from copilot.core.audit import Recorder
from copilot.core.audit.export import export_records
from copilot.core.audit.log import AuditFilter

__all__ = ["audit_routes"]

_MEDIA = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def audit_routes(access: Access, recorder: Recorder) -> APIRouter:
    router = APIRouter(prefix=f"{API_PREFIX}/audit", tags=["audit"])
    log = recorder.log

    @router.get("/verify", summary="Walk the audit chain against its signed checkpoints")
    def verify(who: Who) -> dict[str, Any]:
        access.check(who.user, "read the audit trail", "audit verify (api)", recorder=recorder)
        result = log.verify()
        return {"ok": result.ok, "records": result.records, "broken_id": result.broken_id,
                "reason": result.reason, "checkpoint": result.checkpoint,
                "summary": result.summary()}

    @router.get("/export", summary="Export audit records (the export is itself audited)",
                response_class=FileResponse)
    def export(who: Who, since: date | None = None, until: date | None = None,
               format: Literal["csv", "jsonl"] = "csv") -> FileResponse:
        access.check(who.user, "read the audit trail", f"audit export ({format}, api)",
                     recorder=recorder)
        # Written to a file first (export_records streams rows from the database), sent,
        # then removed: a large export never sits whole in memory.
        folder = Path(tempfile.mkdtemp(prefix="copilot-api-export-"))
        out = folder / f"audit.{format}"
        where = AuditFilter(since=since and since.isoformat(), until=until and until.isoformat())
        export_records(log, format, out, where, user=who.user, channel="api")
        name = f"audit-{since or 'start'}-to-{until or 'now'}.{format}"
        return FileResponse(out, media_type=_MEDIA[format], filename=name,
                            background=BackgroundTask(shutil.rmtree, folder, True))

    return router
