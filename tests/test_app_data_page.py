"""The app shell and its Data page, driven through Streamlit's AppTest on real SQLite files."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.servedlocally import served_on_loopback  # noqa: F401
from training.profiles import ProfileRepository

pytestmark = pytest.mark.usefixtures("served_on_loopback")  # the whole app, as run locally

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's folder
    monkeypatch.setenv("OPSCOPILOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OPSCOPILOT_AS_OF", "2026-11-20")
    return tmp_path / "data"


def _data_page() -> None:
    from app_pages import data

    data.render()


def _run(whole_app: bool = False) -> AppTest:
    app = (AppTest.from_file(APP, default_timeout=60) if whole_app
           else AppTest.from_function(_data_page, default_timeout=60))
    app.run()
    assert not app.exception, app.exception
    return app


def test_data_page_lists_tables_columns_and_sample(data_dir: Path, trained_data: Path) -> None:
    app = _run()

    assert app.title[0].value == "Data"
    caption = app.caption[0].value
    assert "otc_demo.db" in caption and "Fri 20 Nov 2026" in caption and "embedded demo" in caption
    tables = app.dataframe[0].value
    assert set(tables["table"]) >= {
        "trades", "confirmations", "settlements", "netting_sets", "ops_exceptions",
        "counterparties", "books", "legal_entities",
    }

    app.selectbox(key="data_table").select("settlements").run()
    columns = app.dataframe[1].value
    row = columns.set_index("column").loc["trade_id"]
    assert row["references"] == "trades.trade_id"
    assert columns.set_index("column").loc["settlement_id", "key"] == "primary"
    sample = app.dataframe[2].value
    assert len(sample) == 20 and "fail_reason" in sample.columns


def test_first_launch_builds_the_demo_warehouse(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSCOPILOT_DEMO_TRADES", "300")
    assert not (data_dir / "otc_demo.db").exists()
    app = _run(whole_app=True)  # the Ask page opens first, ready for a question
    assert (data_dir / "otc_demo.db").is_file()
    assert app.title[0].value == "Ask" and not app.warning and app.get("chat_input")
    # ... and trains the demo profile, so the copilot may answer.
    trained = ProfileRepository(f"sqlite:///{data_dir / 'state.db'}").active("demo")
    assert trained is not None and trained.version == 1
    assert trained.counts["tables"] == 8 and trained.counts["terms"] > 30
    assert (data_dir / "chroma").is_dir()


def test_unreachable_warehouse_is_one_readable_error(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSCOPILOT_WAREHOUSE_URL", f"sqlite:///{data_dir / 'gone.db'}")
    app = _run()
    assert len(app.error) == 1 and "does not exist" in app.error[0].value
    assert not app.dataframe


def test_bad_setting_is_shown_not_raised(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSCOPILOT_ROW_CAP", "many")
    app = _run()
    assert "OPSCOPILOT_ROW_CAP" in app.error[0].value


def test_guard_policy_setting_is_used(data_dir: Path, trained_data: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # The app's guard uses the bank's own policy file: this one declares `books` a catalog,
    # so the Data page's sample of books is refused with the guard's reason, as one message.
    policy = data_dir / "policy.yaml"
    policy.write_text("system_catalogs: [books]\ndangerous_functions: {all: [upper]}\n")
    monkeypatch.setenv("OPSCOPILOT_GUARD_POLICY", str(policy))
    app = _run()
    assert app.selectbox(key="data_table").value == "books"
    assert len(app.error) == 1 and "system catalog" in app.error[0].value
