"""The REST API's app: `create_app(services)` builds it over the composition root's
services, with the routes under /api/v1, the middleware that names, bounds and audits every
call (api/calls.py), typed JSON errors and the OpenAPI documentation.

The documentation is Swagger UI at /api/docs, its script and stylesheet served from the
`fastapi-offline` package's copy (Swagger UI 5, which reads the OpenAPI 3.1 that FastAPI
writes): FastAPI's default page loads them from a CDN, and nothing here downloads at run
time. The machine-readable document is /api/openapi.json.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from api.answers import answer_routes
from api.audit_routes import audit_routes
from api.boards import board_routes
from api.calls import ApiCalls
from api.errors import status_of
from api.tokens import ApiTokens
from copilot.core import __version__
from copilot.core.errors import CopilotError
from copilot.wiring import Services, dashboards_of, reports_of
from dashboards.service import DashboardService
from reports.service import ReportService

__all__ = ["MAX_BODY", "create_app"]

log = logging.getLogger(__name__)
# The largest body a call needs: SQL up to the guard's 100,000 characters, each up to four
# bytes of UTF-8, in JSON. Anything bigger is refused before it is read.
MAX_BODY = 512 * 1024


def create_app(services: Services, *, tokens: ApiTokens | None = None,
               reports: ReportService | None = None,
               dashboards: DashboardService | None = None,
               max_body: int = MAX_BODY) -> FastAPI:
    """The API over `services`. Reports run here without a scheduler of this process's own:
    the app or `python -m copilot scheduler` keeps the schedules."""
    settings = services.settings
    tokens = tokens or ApiTokens(settings.state.url)
    reports = reports or reports_of(services, start_scheduler=False)
    dashboards = dashboards or dashboards_of(services)
    app = FastAPIOffline(
        title="OTC Ops Copilot API", version=__version__,
        description="Ask the warehouse, run SQL through the guard, run reports, read "
                    "dashboards and the audit trail. Every call needs an API token "
                    "(`Authorization: Bearer ...`) and is audited on the api channel.",
        docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
        static_url="/api/docs-assets",
        swagger_ui_oauth2_redirect_url="/api/docs/oauth2-redirect")
    for router in (answer_routes(services.answering),
                   board_routes(reports, dashboards,
                                today=settings.warehouse.effective_as_of),
                   audit_routes(services.answering.access, services.recorder)):
        # Each router carries the prefix itself, so a route's path (in the audit record)
        # is the whole path on every FastAPI version.
        app.include_router(router)

    @app.get("/health", tags=["health"], summary="Alive (no token; not audited)")
    def health() -> dict[str, str]:
        # Not audited: a load balancer asks every few seconds and it reads nothing.
        return {"status": "ok", "version": __version__}

    _error_handlers(app)
    app.add_middleware(ApiCalls, tokens=tokens, recorder=services.recorder,
                       directory=services.directory, max_body=max_body)
    return app


def _error(request: Request, status: int, message: str) -> JSONResponse:
    request.scope.setdefault("state", {}).setdefault("error", message)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CopilotError)
    async def copilot_error(request: Request, exc: CopilotError) -> JSONResponse:
        return _error(request, status_of(exc), str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        messages = {404: "There is no such endpoint; /api/docs lists them.",
                    405: "This endpoint does not take that method; /api/docs says which."}
        return _error(request, exc.status_code, messages.get(exc.status_code, str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # Where and what, never the input echoed back: it is the caller's untrusted text.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'][1:]) or error['loc'][0]}: {error['msg']}"
            for error in exc.errors())
        return _error(request, 422, f"The request is not valid: {problems}.")

    @app.exception_handler(Exception)
    async def defect(request: Request, exc: Exception) -> JSONResponse:
        log.error("the API call %s failed", request.url.path, exc_info=exc)
        return _error(request, 500, f"The copilot failed on this call ({type(exc).__name__}); "
                                    "it is in the audit log and the application log.")
