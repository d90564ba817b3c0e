"""One report message shaped per channel: a monospace table for text, an HTML body for
email, Slack blocks (mrkdwn, escaped) and a Teams card (text runs, never Markdown). Untrusted
text (data, the interpretation) stays plain text in every shape; links are http(s) only."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from reports.message import ReportMessage

__all__ = ["CHAT_ROWS", "EMAIL_ROWS", "LINK_TITLE", "cell_text", "html_body", "one_line",
           "safe_filename", "safe_link", "slack_payload", "teams_payload", "text_table"]

CHAT_ROWS = 10  # a chat message is a glance; the attachment or the link has the rest
EMAIL_ROWS = 50
CELL_CHARS = 40  # wider cells wreck the alignment of a preview table
SLACK_TEXT_LIMIT = 3_000  # Slack rejects a section whose text is longer
LINK_TITLE = "Open in OTC Ops Copilot"


def safe_filename(name: str) -> str:
    """A plain file name: no folders, no "..", nothing a Windows share rejects."""
    name = re.sub(r"\.{2,}", ".", re.sub(r'[\x00-\x1f<>:"/\\|?*]', "_", name)).strip(" .")
    return name[:200] or "attachment"


def safe_link(link: str) -> str:
    parts = urlsplit(link := link.strip())  # no javascript: or file: links in a report
    return link if parts.scheme in ("https", "http") and parts.netloc and link.isprintable() \
        and " " not in link else ""


def one_line(text: str) -> str:
    return " ".join(text.split())


def cell_text(value: object) -> str:
    return fit("" if value is None else one_line(str(value)), CELL_CHARS)


def fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def text_table(columns: Sequence[str], rows: Sequence[Sequence[object]], limit: int) -> str:
    """The first `limit` rows as aligned monospace text."""
    cells = [[cell_text(c) for c in columns],
             *([cell_text(v) for v in row] for row in rows[:limit])]
    widths = [max(len(line[i]) for line in cells if i < len(line)) for i in range(len(columns))]
    lines = ["  ".join(text.ljust(widths[i]) for i, text in enumerate(line[:len(columns)]))
             .rstrip() for line in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    if len(rows) > limit:
        lines.append(f"(first {limit} of {len(rows)} rows shown)")
    return "\n".join(lines)


def html_body(message: ReportMessage, link: str) -> str:
    esc = html.escape
    parts = ['<html><body style="font-family:Arial,sans-serif;font-size:14px">']
    parts += [f"<p>{esc(p).replace(chr(10), '<br>')}</p>"
              for p in message.body.split("\n\n") if p.strip()]
    if message.columns:
        # Inline styles: mail clients drop <style> blocks.
        cell = 'style="border:1px solid #ccc;padding:4px 8px;text-align:left"'
        head = "".join(f"<th {cell}>{esc(cell_text(c))}</th>" for c in message.columns)
        rows = "".join("<tr>" + "".join(f"<td {cell}>{esc(cell_text(v))}</td>" for v in row)
                       + "</tr>" for row in message.rows[:EMAIL_ROWS])
        parts.append(f'<table style="border-collapse:collapse"><thead><tr>{head}</tr></thead>'
                     f"<tbody>{rows}</tbody></table>")
    if link:
        parts.append(f'<p><a href="{esc(link, quote=True)}">{LINK_TITLE}</a></p>')
    return "".join(parts) + "</body></html>"


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn treats these three as control characters everywhere, code blocks too.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: ReportMessage) -> dict[str, object]:
    lead = f"*{_slack_escape(one_line(message.subject))}*\n{_slack_escape(message.body)}"
    blocks: list[dict[str, object]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": fit(lead, SLACK_TEXT_LIMIT)}}]
    if message.columns:
        table = _slack_escape(text_table(message.columns, message.rows, CHAT_ROWS))
        code = f"```\n{fit(table, SLACK_TEXT_LIMIT - 8)}\n```"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": code}})
    if link := safe_link(message.link):
        target = _slack_escape(link).replace("|", "%7C")  # "|" would end Slack's link syntax
        blocks.append({"type": "context",
                       "elements": [{"type": "mrkdwn", "text": f"<{target}|{LINK_TITLE}>"}]})
    fallback = _slack_escape(f"{one_line(message.subject)}: {one_line(message.body)}")
    return {"text": fit(fallback, SLACK_TEXT_LIMIT), "blocks": blocks}


def _run(text: str, **style: object) -> dict[str, object]:
    """Text for a Teams card as a RichTextBlock of one TextRun: unlike a TextBlock, whose
    Markdown ([x](url), **b**) has no reliable escape, a TextRun is never read as Markdown,
    so data and questions arrive exactly as they are."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": text, **style}]}


def teams_payload(message: ReportMessage) -> dict[str, object]:
    """An Adaptive Card (1.4): the subject, the body, the first rows, the link."""
    body: list[dict[str, object]] = [
        _run(one_line(message.subject), weight="Bolder", size="Medium"), _run(message.body)]
    if message.columns:
        # Adaptive Cards 1.4 has no table: a column of one-line blocks per result column
        # keeps the rows level; an empty block would collapse its row, hence the dash.
        body.append({"type": "ColumnSet", "spacing": "Medium", "columns": [
            {"type": "Column", "width": "auto", "items": [
                _run(cell_text(column), weight="Bolder"),
                *({**_run(cell_text(row[i] if i < len(row) else None) or "—"),
                   "spacing": "Small"} for row in message.rows[:CHAT_ROWS])]}
            for i, column in enumerate(message.columns)]})
    card: dict[str, object] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                               "type": "AdaptiveCard", "version": "1.4", "body": body}
    if link := safe_link(message.link):
        card["actions"] = [{"type": "Action.OpenUrl", "title": LINK_TITLE, "url": link}]
    return {"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
         "content": card}]}
