"""Issue 14, drill 8: untrusted text rendered as markup. A counterparty named
`<a href="http://evil">x</a>` must not be a link on a chart, an LLM's error or CANNOT ANSWER
text must not fire an image beacon on the Ask page, and a Teams card must carry data as text.

On real parts: the figures `app_pages.charts.figure` builds (and, drawn by plotly.js in
Debian's headless Chromium, what the chart shows), the Ask page through AppTest with a
scripted LLM on loopback, and the Teams payload as a webhook receiver on loopback gets it.
Markdown is read with markdown-it (CommonMark, as Streamlit's and the cards' renderers are),
plus the GFM address autolinker that Streamlit runs on text after escapes are decoded."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from app_pages.charts import figure, table_frame
from copilot.core.plaintext import JOIN, markdown_text, plotly_text
from reports.delivery import ReportMessage, WebhookChannel, deliver_all
from tests.llmserver import ScriptedLLM, Step
from tests.mailserver import WebhookReceiver
from tests.test_llm_routing import GOOD_SQL, UNKNOWN

EVIL_NAME = '<a href="http://evil">x</a>'
EVIL_COLUMN = "<b>fails</b> <sup>by</sup> $x$"
BEACON = "![](http://127.0.0.1:1/beacon)"
CHROMIUM = "/usr/bin/chromium"

_MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
# Streamlit's markdown (remark-gfm) links these in text nodes, i.e. after escapes are gone.
_GFM_AUTOLINK = re.compile(r"(?i)(https?://|www(?=\.))|[-.\w+]+@[-\w]+(\.[-\w]+)+")
_LIVE = re.compile(r"<(a|img|strong|em|del|code|li|h\d|blockquote|table|hr)\b")


def _rendered(text: str) -> tuple[str, str]:
    """The HTML a CommonMark renderer makes of `text`, and the text a reader sees."""
    out = _MARKDOWN.render(text)
    return out, html.unescape(re.sub(r"<[^>]+>", "", out)).strip()


def _assert_plain(source: str, original: str | None = None) -> None:
    out, seen = _rendered(source)
    assert not _LIVE.search(out), (source, out)
    assert not _GFM_AUTOLINK.search(seen), (source, seen)
    if original is not None:
        assert seen.replace(JOIN, "") == " ".join(original.split()), (source, seen)


# --- Plotly -------------------------------------------------------------------------------

def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif hasattr(value, "tolist"):  # numpy arrays in to_dict()
        yield from _strings(value.tolist())


def _frame():
    return table_frame(("counterparty", EVIL_COLUMN),
                       ((EVIL_NAME, 3), ("Bank 2 & Co", 5), ("<img src=x>", 1)))


@pytest.mark.parametrize("kind", ["bar", "line", "pie"])
def test_a_figure_carries_no_markup_from_the_data(kind: str) -> None:
    chart = figure(kind, _frame())
    assert chart is not None
    texts = list(_strings(chart.to_dict()))
    assert not [t for t in texts if "<" in t or ">" in t], texts
    assert plotly_text(EVIL_NAME) in texts  # the name is there, as entities
    trace = chart.data[0]
    shown = trace.labels if kind == "pie" else trace.x
    assert list(shown) == ['&lt;a href="http://evil"&gt;x&lt;/a&gt;', "Bank 2 &amp; Co",
                           "&lt;img src=x&gt;"]
    assert list(trace.values if kind == "pie" else trace.y) == [3, 5, 1]  # numbers stay
    if kind != "pie":
        assert chart.layout.xaxis.title.text == "counterparty"
        assert chart.layout.yaxis.title.text == ("&lt;b&gt;fails&lt;/b&gt; &lt;sup&gt;by"
                                                 "&lt;/sup&gt; &#36;x&#36;")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_plotly_draws_the_escaped_name_as_its_characters_and_no_link(tmp_path: Path) -> None:
    """The claim plotly_text rests on: plotly.js decodes the entities when it draws, so the
    chart reads exactly as the data; the same figure unescaped has a live link (the drill)."""
    from playwright.sync_api import sync_playwright

    from tests.appserver import CHROMIUM_ARGS

    safe = figure("bar", _frame())
    raw = figure("bar", _frame())
    assert safe is not None and raw is not None
    raw.update_traces(x=list(_frame()["counterparty"]))  # what the page drew before the fix
    drawn = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            for name, chart in (("safe", safe), ("raw", raw)):
                path = tmp_path / f"{name}.html"
                path.write_text(chart.to_html(include_plotlyjs=True, full_html=True),
                                encoding="utf-8")
                page.goto(path.as_uri())
                page.wait_for_selector(".xtick text", state="attached", timeout=30_000)
                drawn[name] = page.evaluate("""() => ({
                    links: [...document.querySelectorAll('svg a')].map(a => a.outerHTML),
                    ticks: [...document.querySelectorAll('.xtick text')].map(t => t.textContent),
                    title: document.querySelector('.ytitle').textContent,
                })""")
        finally:
            browser.close()
    assert drawn["raw"]["links"], "the unescaped figure should show the drill's live link"
    assert drawn["safe"]["links"] == []
    assert drawn["safe"]["ticks"] == [EVIL_NAME, "Bank 2 & Co", "<img src=x>"]
    assert drawn["safe"]["title"] == EVIL_COLUMN


# --- Streamlit Markdown -------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "![b](http://evil/beacon)", "[x](http://e)", "<img src=x>", "<http://evil>",
    "see http://evil.example/x and www.evil.example and ops@evil.example",
    "**b** _i_ *e* `c` ~~s~~ [ref] [^1]", "# heading", "> quote", "- item", "+ item",
    "1. first", "3) third", "---", "a | b", "\\[x](http://e)", "&lt;img src=x&gt;",
    "[x]\n\n[x]: http://evil", "line one\n===", "| a | b |\n|---|---|\n| 1 | 2 |",
])
def test_markdown_text_leaves_no_live_markup(text: str) -> None:
    _assert_plain(markdown_text(text), None if "\n" in text else text)


def test_markdown_text_keeps_ordinary_text_and_streamlit_directives_inert() -> None:
    plain = "Fail rate 12.5% (by counterparty), as of 2026-11-20: OPSCOPILOT_ROW_CAP, 'x'"
    assert markdown_text(plain) == plain  # nothing to escape: the message reads the same
    escaped = markdown_text(":red[alert] :material/warning: $1 + $2")
    assert ":red[" not in escaped and "\\$1" in escaped and "\\:material" in escaped


def test_the_checks_above_catch_live_markup() -> None:
    # Without the escaper the same payloads are live: the checks are not vacuous.
    for text in ("![b](http://evil/beacon)", "[x](http://e)", "**b**", "- item"):
        with pytest.raises(AssertionError):
            _assert_plain(text)
    with pytest.raises(AssertionError):
        _assert_plain("\\[x\\](http://e)")  # escaped, but GFM still links the address


# --- Ask page -----------------------------------------------------------------------------

def _ask_page() -> None:
    from app_pages import ask

    ask.render()


@pytest.fixture
def llm(page_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as server:
        monkeypatch.setenv("OPSCOPILOT_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("OPSCOPILOT_LLM_MODEL", "scripted")
        monkeypatch.setenv("OPSCOPILOT_LLM_TIMEOUT_S", "5")
        yield server


def _asked(question: str) -> AppTest:
    app = AppTest.from_function(_ask_page, default_timeout=60)
    app.run()
    app.chat_input(key="ask_input").set_value(question).run()
    assert not app.exception, app.exception
    return app


def _page_texts(app: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "warning", "error", "info", "success")
    return ([str(e.value) for kind in kinds for e in getattr(app, kind)]
            + [b.label for b in app.button])


LLM_ERROR = {"error": {"message": f"upstream said {BEACON} and [docs](http://127.0.0.1:1/d)"}}


@pytest.mark.parametrize("step", [
    Step(text=f"CANNOT ANSWER: the warehouse has no such data {BEACON} **really**"),
    Step(status=400, raw=json.dumps(LLM_ERROR).encode()),
    # copilot.llm.reply strips links and images from an explanation and follow-ups; a nested
    # one comes out of that as an image, and a bare address is left: the page is the last wall.
    Step(text=f"```sql\n{GOOD_SQL}\n```\nExplanation: Counts fails "
              "[![x](u)](http://127.0.0.1:1/beacon) by counterparty.\n"
              "Follow-ups:\n- fails [![t](u)](http://127.0.0.1:1/beacon)\n"
              "- fails at www.example.com\n"),
], ids=["cannot-answer", "endpoint-error", "answer-and-follow-ups"])
def test_the_ask_page_shows_llm_text_as_text(llm: ScriptedLLM, step: Step) -> None:
    llm.script = [step]
    app = _asked(UNKNOWN)
    assert len(llm.requests) == 1
    texts = _page_texts(app)
    seen = " ".join(_rendered(t)[1].replace(JOIN, "") for t in texts)
    assert "](http://127.0.0.1:1/beacon)" in seen  # the LLM's words are on the page
    for text in texts:
        _assert_plain(text)


# --- Teams --------------------------------------------------------------------------------

def _card_items(card: dict) -> Iterator[dict]:
    for item in card["body"]:
        yield from ([item] if item["type"] != "ColumnSet" else
                    (block for column in item["columns"] for block in column["items"]))


def test_the_teams_card_carries_markdown_from_the_data_as_text() -> None:
    message = ReportMessage(
        subject="Fails for **[x](http://evil)**",
        body="Counterparty [x](http://evil) ![i](http://evil/beacon) **b** _i_\n"
             "- one\r2. two\nsee www.evil.example",
        columns=("counterparty", "_note_"),
        rows=(("[x](http://evil)", "**b**"), ("trade_id", "1. first")))
    with WebhookReceiver() as hook:
        teams = WebhookChannel(kind="teams", url=hook.url("/workflows/abc/invoke?sig=SIG"))
        (outcome,) = deliver_all(message, [teams], sleep=lambda _: None)
    assert outcome.ok
    card = hook.posts[0].body["attachments"][0]["content"]
    items = list(_card_items(card))
    # No TextBlock (whose Markdown has no reliable escape): every text is a TextRun, which
    # Adaptive Cards never read as Markdown, carrying the data exactly.
    assert {item["type"] for item in items} == {"RichTextBlock"}
    runs = [inline for item in items for inline in item["inlines"]]
    assert {run["type"] for run in runs} == {"TextRun"}
    assert [run["text"] for run in runs] == [
        message.subject, message.body, "counterparty", "[x](http://evil)", "trade_id",
        "_note_", "**b**", "1. first"]
