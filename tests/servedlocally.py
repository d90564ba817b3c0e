"""A fixture for AppTest runs of the whole app (streamlit_app.py): AppTest starts no server,
so `server.address` is unset, which for a real server means every interface and makes the
app refuse to serve without a login; these tests stand for a run on this machine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit import config

__all__ = ["served_on_loopback"]


@pytest.fixture
def served_on_loopback() -> Iterator[None]:
    """`server.address` set to 127.0.0.1 for the test, then restored."""
    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield
    config.set_option("server.address", before)
