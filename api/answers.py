"""POST /ask and POST /sql: a question or SQL in, the answer as JSON out, through the same
Answering as the Ask page (the role check, the guard, the caller's row entitlements), each
audited on the api channel."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field

from api.caller import Who
from api.calls import API_PREFIX
from copilot.answering import Answering
from copilot.core.guard import MAX_SQL_CHARS
from copilot.engine.grammar import MAX_QUESTION_CHARS
from copilot.values import Answer

__all__ = ["AskBody", "SqlBody", "answer_json", "answer_routes"]


class AskBody(BaseModel):
    """A question, as the Ask page takes it; `as_of` the day it is about (default: the
    configured as-of date, else today)."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    as_of: date | None = None


class SqlBody(BaseModel):
    """One SELECT statement in the warehouse's dialect; the guard decides."""

    model_config = ConfigDict(extra="forbid")
    sql: str = Field(min_length=1, max_length=MAX_SQL_CHARS)


def answer_json(answer: Answer) -> dict[str, Any]:
    """What a caller needs of an answer: what was understood, the SQL as it ran, the rows,
    how to draw them, how sure, which row filters applied and the audit record's id."""
    chart = answer.chart
    return jsonable_encoder({
        "status": answer.status, "source": answer.source,
        "interpretation": answer.interpretation, "question": answer.question,
        "stands_for": answer.stands_for, "sql": answer.sql,
        "generated_sql": answer.generated_sql, "tables": list(answer.tables),
        "columns": list(answer.columns), "labels": list(answer.labels),
        "rows": [list(row) for row in answer.rows], "truncated": answer.truncated,
        "chart": {"kind": chart.kind, "x": chart.x, "y": chart.y,
                  "series": list(chart.series)},
        "confidence": answer.confidence, "suggestions": list(answer.suggestions),
        "notes": list(answer.notes), "entitlements": list(answer.entitlements),
        "audit_record_id": answer.record_id, "total_ms": round(answer.total_ms, 3)})


def answer_routes(answering: Answering) -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, tags=["answers"])

    @router.post("/ask", summary="Answer a question in plain English")
    def ask(body: AskBody, who: Who, request: Request) -> dict[str, Any]:
        # The Ask page's check: the api channel is not one Answering checks by itself.
        answering.allow(who.user, "ask", body.question[:200])
        answer = answering.ask(body.question, as_of=body.as_of, channel="api", user=who.user)
        request.scope["state"]["answer_record"] = answer.record_id
        return answer_json(answer)

    @router.post("/sql", summary="Run one SELECT through the SQL guard",
                 responses={422: {"description": "The guard refused the SQL"}})
    def run_sql(body: SqlBody, who: Who, request: Request,
                response: Response) -> dict[str, Any]:
        answering.allow(who.user, "run own SQL", "SQL over the API")
        answer = answering.run_sql(body.sql, user=who.user, channel="api",
                                   question="SQL over the API")
        if answer.status == "refused":  # nothing reached the warehouse: the guard said no
            response.status_code = 422
            request.scope["state"].update(blocked=True, error=answer.interpretation)
        elif answer.status == "error":
            response.status_code = 502
            request.scope["state"]["error"] = answer.interpretation
        return answer_json(answer)

    return router
