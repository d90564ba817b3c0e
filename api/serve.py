"""`python -m copilot api`: the API served by uvicorn, built once from the settings."""

from __future__ import annotations

import ipaddress

import uvicorn

from api.app import create_app
from copilot.core.errors import ConfigError
from copilot.core.settings import Settings
from copilot.wiring import build_services

__all__ = ["serve"]


def _host(host: str) -> str:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if host != "localhost":
            raise ConfigError(f"--host {host!r} is not an IP address to listen on "
                              "(127.0.0.1, 0.0.0.0, ::1 ...).") from None
    return host


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000) -> int:
    """Serve until stopped (Ctrl-C or SIGTERM). Every call needs a token, so any address
    may be listened on; loopback is the default, and TLS is the reverse proxy's."""
    app = create_app(build_services(settings))
    uvicorn.run(app, host=_host(host), port=port, log_level="info", proxy_headers=False,
                server_header=False)
    return 0
