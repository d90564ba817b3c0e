"""The Training page through Streamlit's AppTest, on a trained copy of the demo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from copilot.config import load_settings
from copilot.services import build_services
from training.trainer import PairUpload


def _training_page() -> None:
    from app_pages import training

    training.render()


def _page() -> AppTest:
    app = AppTest.from_function(_training_page, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    return app


def test_page_shows_the_active_version_and_what_it_holds(page_env: Path) -> None:
    app = _page()
    assert "answers from version **1**" in app.caption[0].value
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Tables"] == "8" and int(metrics["Terms"]) >= 30
    versions = app.dataframe[0].value
    assert list(versions["version"]) == [1] and versions["active"][0] == "●"


def test_diff_and_roll_back_from_the_page(page_env: Path) -> None:
    services = build_services(load_settings())
    services.trainer.add_pairs(
        [PairUpload("fails today", "SELECT COUNT(*) FROM settlements WHERE status = 'FAILED'")],
        by="analyst",
    )
    app = _page()
    assert list(app.dataframe[0].value["version"]) == [2, 1]
    texts = " ".join(m.value for m in app.markdown)
    assert "**pairs** + fails today" in texts

    app.selectbox(key="rollback_version").select(1).run()
    app.button(key="rollback").click().run()
    assert not app.exception
    assert "Version 1 is active again." in app.success[0].value
    assert services.trainer.active().version == 1


def test_probe_shows_retrieved_items(page_env: Path) -> None:
    app = _page()
    app.text_input(key="training_probe").input("netting breaks this week").run()
    texts = " ".join(m.value for m in app.markdown)
    assert "**terms**: netting break" in texts


def test_untrained_profile_says_how_to_train(
    page_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same data in a warehouse of the bank's own: never trained on its own.
    own = Path(shutil.copy(page_env / "otc_demo.db", tmp_path / "own.db"))
    monkeypatch.setenv("OPSCOPILOT_WAREHOUSE_URL", f"sqlite:///{own}")
    app = _page()
    assert "python -m copilot train" in app.warning[0].value
    app.button(key="train_now").click().run()
    assert "version 1 is active" in app.success[0].value
