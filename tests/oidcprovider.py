"""An OpenID Connect provider on 127.0.0.1 for the login tests: `oidc-provider-mock` (built
on Authlib and Flask) in a thread of the test process. It serves discovery, JWKS, the token
and end-session endpoints; its authorize page offers one button per predefined person, whose
claims (email, groups) go into the ID token as a real IdP's would.

Its pages link a stylesheet on a CDN: `offline()` makes a browser tab fail every request
that is not to 127.0.0.1, so the tests reach nothing else.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

import werkzeug.serving
from oidc_provider_mock import User, app
from playwright.sync_api import Page, Route

__all__ = ["offline", "oidc_provider", "secrets_toml"]


@contextlib.contextmanager
def oidc_provider(people: Mapping[str, Mapping[str, object]]) -> Iterator[str]:
    """The provider with these people ({sub: claims}); its base URL (the issuer)."""
    # The provider's Authlib refuses plain HTTP unless told; loopback has no TLS here.
    old = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    provider = app(require_nonce=True, user_claims=[User(sub=sub, claims=dict(claims))
                                                    for sub, claims in people.items()])
    server = werkzeug.serving.make_server("127.0.0.1", 0, provider, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        if old is None:
            os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)
        else:
            os.environ["AUTHLIB_INSECURE_TRANSPORT"] = old


def secrets_toml(issuer: str) -> str:
    """A `.streamlit/secrets.toml` `[auth]` section, as Streamlit documents it, for the app
    signing in at `issuer` (the mock accepts any client id and secret); Streamlit puts its
    own port in place of `{port}`."""
    return (
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "test-cookie-secret-not-a-real-one-0123456789"\n'
        'client_id = "otc-ops-copilot"\n'
        'client_secret = "test-client-secret"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
    )


def offline(page: Page) -> None:
    """Fail every request of `page` that is not to 127.0.0.1."""
    def route(handle: Route) -> None:
        if urlsplit(handle.request.url).hostname == "127.0.0.1":
            handle.continue_()
        else:
            handle.abort()
    page.route("**/*", route)
