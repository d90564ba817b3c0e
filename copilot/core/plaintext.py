"""Untrusted text as plain text, one function per place that would read it as markup.

Counterparty names, column names, questions, LLM replies and error texts come from people and
systems the bank does not control. Every surface that shows them parses some markup: Plotly's
SVG text reads HTML tags, Streamlit's `st.markdown`/`st.caption`/`st.warning`/labels read
Markdown (links and images included). A name like `<a href="http://evil">x</a>` or
`![](http://evil/beacon)` must show as those characters, never become a link or fetch an
image. Slack (mrkdwn escapes), the HTML email
(`html.escape`) and Teams (text runs, never Markdown) are shaped in `reports/shaping.py`.

Standard library only; nothing here imports the rest of the project.
"""

from __future__ import annotations

import re

__all__ = ["JOIN", "markdown_text", "plotly_text"]

# U+2060 WORD JOINER: zero width, no line break. Put inside a would-be link (between "]" and
# "(", after "http:") it changes no visible character but no parser sees the syntax any more.
JOIN = "\u2060"

# Bare addresses that GFM and Streamlit's renderer turn into links after escapes are decoded
# (a regex over the text, so a backslash cannot stop it): "http://", "https://", "www.", and
# "name@host" e-mail addresses.
_AUTOLINKS = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)")


def plotly_text(text: str) -> str:
    """`text` for any string a Plotly figure shows (categories, labels, titles, hover).

    Plotly's SVG text reads a subset of HTML: `<a href>` (a live link), `<b> <i> <br> <sub>
    <sup> <span style>`, and it typesets `$...$` as TeX when MathJax is on the page (TeX has
    `\\href`). Escaping `&`, `<`, `>` and `$` as entities removes all of it; Plotly's
    `convertEntities` turns `&amp; &lt; &gt;` and numeric entities back into the characters
    when it draws, so the chart shows the text exactly as it was.
    """
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("$", "&#36;"))


# Characters that open Markdown, GFM or Streamlit syntax anywhere in a line: escapes, code,
# emphasis, strikethrough, links and images ("!" is inert once "[" is escaped), autolinks
# and HTML, entities, tables, headings, math ($), and a directive's ":name" (":red[x]" colours,
# a bare ":red" would swallow the word). A backslash before ASCII punctuation is CommonMark's
# escape; it is not shown. "," "." "'" "(" stay as they are, and so does a "_" inside a word
# (OPSCOPILOT_ROW_CAP): CommonMark never reads one there as emphasis.
_MARKDOWN_ANYWHERE = re.compile(r"[\\`*~\[\]<>&#|$]|(?<![^\W_])_|_(?![^\W_])|:(?=[A-Za-z])")
# At the start of a line only: list items ("- ", "+ ", "1. ", "1) "), block quotes, and
# setext underlines / thematic breaks ("---", "===").
_MARKDOWN_LINE_START = re.compile(r"(?m)^([ \t]*)(?:([-+])(?=[ \t]|$)|(\d+)([.)])(?=[ \t]|$)"
                                  r"|([-=])(?=[-= \t]*$))")


def markdown_text(text: str) -> str:
    """`text` for Streamlit elements that render Markdown: `st.markdown`, `st.caption`,
    `st.write` of a string, `st.info/warning/error/success`, `st.subheader`, and the labels of
    buttons, expanders and metrics (labels render links and images too).

    Streamlit renders no raw HTML without `unsafe_allow_html`, but `[x](url)`, `![](url)` (an
    image fetched on display: a beacon), `<http://x>`, a bare `http://x` or `www.x`, `**b**`,
    `:red[x]` and `$x$` are all live. Markup characters get CommonMark's backslash escape;
    bare addresses get a zero-width word joiner, because GFM links them after escapes are gone.
    Prefer `st.text` or `st.code`, which show text as it is, where the look allows.
    """
    text = _AUTOLINKS.sub(JOIN, re.sub(r"\r\n?", "\n", text))  # CommonMark: "\r" ends a line
    text = _MARKDOWN_ANYWHERE.sub(lambda m: "\\" + m.group(0), text)

    def line_start(match: re.Match[str]) -> str:
        indent, bullet, number, after, underline = match.groups()
        if bullet or underline:
            return f"{indent}\\{bullet or underline}"
        return f"{indent}{number}\\{after}"

    return _MARKDOWN_LINE_START.sub(line_start, text)

