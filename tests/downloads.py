"""The file names a page gives its download buttons, for AppTest tests: AppTest keeps a
download's bytes behind a mock media URL and drops its file name, so the tests record the
names as the page passes them to Streamlit."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
import streamlit as st
from streamlit.delta_generator import DeltaGenerator


def record_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """key -> file_name of every download button drawn from now on (st.download_button and
    a column's or container's .download_button alike; the pages pass file_name by name)."""
    names: dict[str, str] = {}

    def recorder(draw: Callable[..., bool]) -> Callable[..., bool]:
        @functools.wraps(draw)
        def recording(*args: object, **kwargs: object) -> bool:
            names[str(kwargs.get("key"))] = str(kwargs.get("file_name"))
            return draw(*args, **kwargs)
        return recording

    monkeypatch.setattr(DeltaGenerator, "download_button",
                        recorder(DeltaGenerator.download_button))
    # st.download_button is the main container's method, bound when streamlit was imported.
    monkeypatch.setattr(st, "download_button", recorder(st.download_button))
    return names
