"""The route dependency naming who calls: the person the middleware found behind the
bearer token (api/calls.py), or a 401 saying why there is none."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.calls import Caller
from api.tokens import TokenRefused

__all__ = ["Who", "caller"]

# Declared so that the OpenAPI document names the scheme and Swagger UI offers "Authorize";
# the token itself was already read, once, by the middleware.
_bearer = HTTPBearer(auto_error=False, description="An API token: python -m copilot "
                                                   "api-token create --user NAME")


def caller(request: Request,
           _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
           ) -> Caller:
    found = request.scope.get("state", {}).get("caller")
    if isinstance(found, Caller):
        return found
    raise TokenRefused(getattr(found, "reason", "This call has no valid API token."))


Who = Annotated[Caller, Depends(caller)]
