"""The REST API (FastAPI, served by uvicorn): questions, SQL through the guard, reports,
dashboards and the audit trail for tools without a browser, each call made with an API
token (api/tokens.py) for one person, checked as the pages check them, and audited on the
api channel. It builds on the composition root (copilot/wiring.py); `python -m copilot api`
serves it."""

from copilot.core.lazy import lazy_exports

_EXPORTS = {
    "create_app": ".app",
    "MAX_BODY": ".app",
    "ApiToken": ".tokens",
    "ApiTokens": ".tokens",
    "TokenRefused": ".tokens",
    "serve": ".serve",
}
__all__ = ["MAX_BODY", "ApiToken", "ApiTokens", "TokenRefused", "create_app", "serve"]
__getattr__ = lazy_exports(__name__, _EXPORTS)
