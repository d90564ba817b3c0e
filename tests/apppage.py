"""One app page run through Streamlit's AppTest as a given person, and the text it shows:
what the page tests of roles, ownership and four eyes share."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def page_as(page: str, monkeypatch: pytest.MonkeyPatch, user: str) -> AppTest:
    """`app_pages.<page>` drawn for `user` (OPSCOPILOT_USER: no login configured)."""
    monkeypatch.setenv("OPSCOPILOT_USER", user)
    app = AppTest.from_string(f"from app_pages import {page}\n{page}.render()\n",
                              default_timeout=90)
    app.run()
    assert not app.exception, app.exception
    return app


def page_text(app: AppTest) -> str:
    """Every message the page shows. Markdown text keeps an address from becoming a link
    with a word joiner before "@"; it is taken out here."""
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "success", "error",
                                               "warning", "info") for e in getattr(app, kind)
                     ).replace("\u2060", "")
