"""Report delivery against real receivers on loopback: an SMTP server (aiosmtpd), an HTTP
webhook endpoint standing in for Slack and Teams, and folders on disk. No real sleeping: the
retry backoff goes to a recorder."""

from __future__ import annotations

import html
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from reports.delivery import (
    Attachment,
    DeliveryError,
    DeliveryOutcome,
    EmailChannel,
    FolderChannel,
    ReportMessage,
    WebhookChannel,
    deliver_all,
)
from tests.mailserver import MailServer, WebhookReceiver

PASSWORD = "Tr0ub4dor&3-smtp"
CSV = b"trade_id,counterparty,notional\nT-1,<b>,1000000\n"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MESSAGE = ReportMessage(
    subject="Unconfirmed trades over 5 days: 12",
    body="12 trades are unconfirmed for more than 5 business days, as of 2026-11-20.",
    columns=("trade_id", "counterparty", "notional"),
    rows=tuple((f"T-{i}", "<b>" if i == 1 else f"Bank {i}", 1_000_000 * i)
               for i in range(1, 13)),
    attachments=(Attachment("unconfirmed.csv", CSV, "text/csv"),
                 Attachment("unconfirmed.pdf", PDF, "application/pdf")),
    link="https://copilot.bank.example/reports/7?run=42&format=full",
)


class Sleeps(list[float]):
    """A `sleep` for deliver_all that records the pauses instead of taking them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _email(port: int, *, username: str = "reports", password: str = PASSWORD,
           recipients: tuple[str, ...] = ("ops@bank.example", "risk@bank.example"),
           timeout_s: float = 5.0) -> EmailChannel:
    return EmailChannel(host="127.0.0.1", port=port, security="none",
                        username=username, password=password, sender="copilot@bank.example",
                        recipients=recipients, timeout_s=timeout_s)


def _assert_no_secret(outcomes: tuple[DeliveryOutcome, ...], *secrets: str) -> None:
    for outcome in outcomes:
        for secret in secrets:
            assert secret not in outcome.error and secret not in outcome.target


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- email ---------------------------------------------------------------------------------

def test_the_email_arrives_with_its_table_link_and_attachments() -> None:
    with MailServer(user="reports", password=PASSWORD) as smtp:
        outcomes = deliver_all(MESSAGE, [_email(smtp.port)], sleep=Sleeps())
    assert outcomes == (DeliveryOutcome("email", "ops@bank.example, risk@bank.example", True, 1),)
    (mail,) = smtp.received
    assert mail.login == "reports"
    assert mail.mail_from == "copilot@bank.example"
    assert mail.rcpt_tos == ("ops@bank.example", "risk@bank.example")
    assert mail.message["Subject"] == MESSAGE.subject
    assert mail.message["To"] == "ops@bank.example, risk@bank.example"
    assert mail.message["Message-ID"] and mail.message["Date"]
    assert mail.attachments() == {"unconfirmed.csv": CSV, "unconfirmed.pdf": PDF}
    text, page = mail.body("plain"), mail.body("html")
    assert MESSAGE.body in text and "T-12" in text and MESSAGE.link in text
    assert "<td" in page and "&lt;b&gt;" in page and "<b>" not in page  # the cell, escaped
    assert "T-12" in page and "12000000" in page
    assert 'href="https://copilot.bank.example/reports/7?run=42&amp;format=full"' in page


def test_without_a_user_the_email_is_sent_without_logging_in() -> None:
    plain = ReportMessage("Breaks today", "No breaks.",
                          attachments=(Attachment("breaks.xlsx", b"PK\x03\x04xlsx", XLSX_MIME),))
    with MailServer() as smtp:
        channel = _email(smtp.port, username="", password="")
        (outcome,) = deliver_all(plain, [channel], sleep=Sleeps())
    assert outcome.ok
    (mail,) = smtp.received
    assert mail.login is None and not smtp.logins
    assert mail.attachments() == {"breaks.xlsx": b"PK\x03\x04xlsx"}
    assert mail.message.get_body(preferencelist=("html",)) is not None


def test_a_refused_login_is_reported_once_while_the_other_channels_deliver(
        tmp_path: Path) -> None:
    sleeps = Sleeps()
    with MailServer(user="reports", password="the-real-one") as smtp, \
            WebhookReceiver() as hook:
        channels = [_email(smtp.port), FolderChannel(folder=tmp_path / "drop"),
                    WebhookChannel(kind="slack", url=hook.url())]
        email, folder, slack = deliver_all(MESSAGE, channels, retries=2, backoff_s=0.5,
                                           sleep=sleeps)
    # Not retried: the same password is refused again, and six failed logins a run lock
    # the service account out on a per-minute schedule.
    assert not email.ok and email.attempts == 1 and not email.uncertain
    assert "refused the login of 'reports'" in email.error and "535" in email.error
    assert len(smtp.logins) == 1 and not smtp.logins[0].ok and not smtp.received
    assert sleeps == []
    assert folder.ok and folder.attempts == 1 and len(folder.files) == 2
    assert slack.ok and slack.attempts == 1 and len(hook.posts) == 1
    _assert_no_secret((email, folder, slack), PASSWORD)


def test_a_relay_that_requires_a_login_says_so() -> None:
    with MailServer(user="reports", password=PASSWORD) as smtp:
        (outcome,) = deliver_all(MESSAGE, [_email(smtp.port, username="")], retries=0)
    assert not outcome.ok and outcome.attempts == 1
    assert "SMTP 530" in outcome.error and "127.0.0.1" in outcome.error


def test_refused_recipients_are_named_and_a_partial_delivery_is_not_repeated() -> None:
    with MailServer(refuse_recipients=frozenset({"gone@bank.example"})) as smtp:
        channel = _email(smtp.port, username="", recipients=("gone@bank.example",))
        (everyone,) = deliver_all(MESSAGE, [channel], sleep=Sleeps())
        channel = _email(smtp.port, username="",
                         recipients=("ops@bank.example", "gone@bank.example"))
        (some,) = deliver_all(MESSAGE, [channel], sleep=Sleeps())
    assert not everyone.ok and everyone.attempts == 1  # 550 is for good: not asked again
    assert "refused every recipient: gone@bank.example" in everyone.error
    # ops@ already has the report: trying again would send it twice.
    assert not some.ok and some.attempts == 1
    assert "delivered the report but refused gone@bank.example" in some.error
    assert [mail.rcpt_tos for mail in smtp.received] == [("ops@bank.example",)]


def test_an_unreachable_or_silent_mail_server_fails_cleanly() -> None:
    closed = _email(_closed_port())
    with socket.socket() as silent:  # accepts connections (the backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        mute = _email(silent.getsockname()[1], timeout_s=0.3)
        unreachable, timed_out = deliver_all(MESSAGE, [closed, mute], retries=0)
    assert not unreachable.ok and "cannot be reached" in unreachable.error
    assert not timed_out.ok and "did not answer within 0.3 s" in timed_out.error
    _assert_no_secret((unreachable, timed_out), PASSWORD)


def test_bad_email_settings_are_refused_up_front() -> None:
    good = {"host": "127.0.0.1", "port": 25, "security": "none", "username": "",
            "password": PASSWORD, "sender": "copilot@bank.example",
            "recipients": ("ops@bank.example",)}
    for change in ({"security": "tls"}, {"port": 0}, {"recipients": ()},
                   {"recipients": ("ops@bank.example\r\nBcc: all@bank.example",)},
                   {"sender": "not an address"}):
        with pytest.raises(DeliveryError) as caught:
            EmailChannel(**{**good, **change})  # type: ignore[arg-type]
        assert PASSWORD not in str(caught.value)


# --- Slack and Teams -----------------------------------------------------------------------

def test_the_slack_payload_has_the_summary_the_table_and_the_link() -> None:
    with WebhookReceiver() as hook:
        channel = WebhookChannel(kind="slack", url=hook.url())
        (outcome,) = deliver_all(MESSAGE, [channel], sleep=Sleeps())
    assert outcome == DeliveryOutcome("slack", "slack:127.0.0.1", True, 1)
    (post,) = hook.posts
    assert post.path == "/services/T000/B000/s3cr3tT0ken"
    assert post.headers["content-type"].startswith("application/json")
    payload = post.body
    assert MESSAGE.subject in payload["text"]
    lead, table, context = payload["blocks"]
    assert lead["type"] == "section" and lead["text"]["type"] == "mrkdwn"
    assert lead["text"]["text"] == f"*{MESSAGE.subject}*\n{MESSAGE.body}"
    code = table["text"]["text"]
    assert code.startswith("```\n") and code.endswith("\n```")
    lines = code.strip("`\n").splitlines()
    assert lines[0].split() == ["trade_id", "counterparty", "notional"]
    assert lines[2].split() == ["T-1", "&lt;b&gt;", "1000000"]  # Slack's escaping
    assert lines[11].split() == ["T-10", "Bank", "10", "10000000"]
    assert "T-11" not in code and lines[-1] == "(first 10 of 12 rows shown)"
    # columns aligned as Slack shows them (&lt; is one character): notionals start together
    shown = [html.unescape(line) for line in lines[2:12]]
    starts = {len(line) - len(line.split()[-1]) for line in shown}
    assert starts == {lines[0].index("notional")}
    assert context["type"] == "context"
    assert context["elements"][0]["text"] == (
        "<https://copilot.bank.example/reports/7?run=42&amp;format=full|Open in OTC Ops Copilot>")


def test_the_teams_payload_is_an_adaptive_card_with_the_rows() -> None:
    with WebhookReceiver() as hook:
        channel = WebhookChannel(kind="teams", url=hook.url("/workflows/abc/invoke?sig=SIG"))
        (outcome,) = deliver_all(MESSAGE, [channel], sleep=Sleeps())
    assert outcome == DeliveryOutcome("teams", "teams:127.0.0.1", True, 1)
    payload = hook.posts[0].body
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    subject, body, table = card["body"]
    assert subject == {"type": "RichTextBlock", "inlines": [
        {"type": "TextRun", "text": MESSAGE.subject, "weight": "Bolder", "size": "Medium"}]}
    assert body == {"type": "RichTextBlock",
                    "inlines": [{"type": "TextRun", "text": MESSAGE.body}]}
    assert table["type"] == "ColumnSet"
    columns = [[item["inlines"][0]["text"] for item in column["items"]]
               for column in table["columns"]]
    assert [column[0] for column in columns] == list(MESSAGE.columns)
    assert columns[0][1:] == [f"T-{i}" for i in range(1, 11)]  # at most 10 rows
    assert columns[1][1] == "<b>"  # Teams does not render HTML: the value as it is
    assert columns[2][10] == "10000000"
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in OTC Ops Copilot",
                                "url": MESSAGE.link}]


def test_a_webhook_failing_twice_succeeds_on_the_third_attempt() -> None:
    sleeps = Sleeps()
    with WebhookReceiver(statuses=(500, 500)) as hook:
        (outcome,) = deliver_all(MESSAGE, [WebhookChannel(kind="slack", url=hook.url())],
                                 retries=2, backoff_s=0.5, sleep=sleeps)
    assert outcome.ok and outcome.attempts == 3 and outcome.error == ""
    assert len(hook.posts) == 3 and hook.posts[0].body == hook.posts[2].body
    assert sleeps == [0.5, 1.0]


def test_a_webhook_refusing_the_request_is_not_tried_again_but_a_rate_limit_is() -> None:
    sleeps = Sleeps()
    with WebhookReceiver(statuses=(404,)) as gone, WebhookReceiver(statuses=(429,)) as busy:
        refused, limited = deliver_all(MESSAGE, [
            WebhookChannel(kind="slack", url=gone.url()),
            WebhookChannel(kind="teams", url=busy.url("/workflows/x/invoke?sig=s3cr3tT0ken"))],
            retries=2, sleep=sleeps)
    # A 4xx is the URL or the document: the same request gets the same answer.
    assert not refused.ok and refused.attempts == 1 and len(gone.posts) == 1
    assert "HTTP 404" in refused.error
    assert limited.ok and limited.attempts == 2 and sleeps == [0.5]
    _assert_no_secret((refused, limited), "s3cr3tT0ken", "/services", "/workflows")


def test_a_webhook_that_keeps_failing_is_reported_while_the_others_deliver(
        tmp_path: Path) -> None:
    with WebhookReceiver(then_status=500) as broken, WebhookReceiver() as teams, \
            MailServer(user="reports", password=PASSWORD) as smtp:
        channels = [WebhookChannel(kind="slack", url=broken.url()), _email(smtp.port),
                    WebhookChannel(kind="teams", url=teams.url()),
                    FolderChannel(folder=tmp_path)]
        slack, email, teams_outcome, folder = deliver_all(MESSAGE, channels, sleep=Sleeps())
    assert not slack.ok and slack.attempts == 3 and len(broken.posts) == 3
    assert "HTTP 500" in slack.error and "127.0.0.1" in slack.error
    assert email.ok and teams_outcome.ok and folder.ok
    assert len(smtp.received) == 1 and len(teams.posts) == 1
    _assert_no_secret((slack, email, teams_outcome, folder), PASSWORD, "s3cr3tT0ken", "/services")


def test_webhook_errors_never_show_the_url() -> None:
    secret = f"http://127.0.0.1:{_closed_port()}/services/T000/B000/s3cr3tT0ken"
    with WebhookReceiver(statuses=(302,)) as hook:
        down = WebhookChannel(kind="slack", url=secret)
        moved = WebhookChannel(kind="teams", url=hook.url("/workflows/x/invoke?sig=s3cr3tT0ken"))
        unreachable, redirected = deliver_all(MESSAGE, [down, moved], retries=0)
    assert "cannot be reached" in unreachable.error and unreachable.target == "slack:127.0.0.1"
    # A redirected POST would arrive as a bodiless GET: a failure, not a silent success.
    assert "HTTP 302" in redirected.error and len(hook.posts) == 1
    _assert_no_secret((unreachable, redirected), "s3cr3tT0ken", "/services", "/workflows")
    for bad in ("file:///etc/passwd", "ftp://hooks.example/x", "hooks.slack.com/services/x"):
        with pytest.raises(DeliveryError):
            WebhookChannel(kind="slack", url=bad)


# --- folder drop ---------------------------------------------------------------------------

def test_the_folder_drop_writes_the_files_and_never_overwrites_an_earlier_one(
        tmp_path: Path) -> None:
    channel = FolderChannel(folder=tmp_path)
    (first,) = deliver_all(MESSAGE, [channel], sleep=Sleeps())
    newer = ReportMessage("again", "again", attachments=(
        Attachment("unconfirmed.csv", b"newer", "text/csv"),))
    (second,) = deliver_all(newer, [channel], sleep=Sleeps())
    assert first.ok and first.target == str(tmp_path)
    assert first.files == (str(tmp_path / "unconfirmed.csv"), str(tmp_path / "unconfirmed.pdf"))
    assert second.files == (str(tmp_path / "unconfirmed (2).csv"),)
    assert (tmp_path / "unconfirmed.csv").read_bytes() == CSV  # the earlier file, untouched
    assert (tmp_path / "unconfirmed.pdf").read_bytes() == PDF
    assert (tmp_path / "unconfirmed (2).csv").read_bytes() == b"newer"
    # nothing else: no temporary files left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "unconfirmed (2).csv", "unconfirmed.csv", "unconfirmed.pdf"]
    (third,) = deliver_all(newer, [channel], sleep=Sleeps())
    assert third.files == (str(tmp_path / "unconfirmed (3).csv"),)


def test_a_missing_folder_is_created(tmp_path: Path) -> None:
    folder = tmp_path / "share" / "ops" / "2026-11-20"
    (outcome,) = deliver_all(MESSAGE, [FolderChannel(folder=folder)], sleep=Sleeps())
    assert outcome.ok and sorted(p.name for p in folder.iterdir()) == [
        "unconfirmed.csv", "unconfirmed.pdf"]


@pytest.fixture
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder the process cannot write to. Root ignores permission bits, so as root the
    folder's parent is a regular file instead."""
    if os.geteuid() == 0:
        (tmp_path / "not-a-folder").write_text("a file")
        yield tmp_path / "not-a-folder" / "drop"
        return
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        yield locked
    finally:
        locked.chmod(0o700)  # so pytest can clean up


def test_an_unwritable_folder_fails_cleanly(unwritable_folder: Path, tmp_path: Path) -> None:
    sleeps = Sleeps()
    (outcome,) = deliver_all(MESSAGE, [FolderChannel(folder=unwritable_folder)], sleep=sleeps)
    assert not outcome.ok and outcome.attempts == 3 and outcome.files == ()
    assert outcome.error.startswith(f"The report cannot be written to the folder "
                                    f"{unwritable_folder}: ")
    assert sleeps == [0.5, 1.0]
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob("unconfirmed*"))


def test_dropped_file_names_cannot_leave_the_folder(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    names = ("../../escape.csv", "a/b\\c.pdf", "..", "report:<today>?.xlsx", "/etc/passwd")
    message = ReportMessage("names", "names", attachments=tuple(
        Attachment(name, name.encode(), "text/plain") for name in names))
    (outcome,) = deliver_all(message, [FolderChannel(folder=drop)], sleep=Sleeps())
    assert outcome.ok and len(outcome.files) == len(names)
    written = sorted(p.name for p in drop.iterdir())
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == written
    assert all("/" not in name and "\\" not in name and ".." not in name for name in written)
    assert sorted(Path(path).read_bytes() for path in outcome.files) == sorted(
        name.encode() for name in names)


# --- deliver_all ---------------------------------------------------------------------------

class _Crashing:
    """A channel with a bug: it raises something that is not a DeliveryError."""

    name = "crashing"
    target = "nowhere"

    def deliver(self, message: ReportMessage) -> tuple[str, ...]:
        raise RuntimeError(f"bug holding a secret: {PASSWORD}")


def test_a_channel_with_a_bug_is_reported_without_retries_and_the_rest_go_on(
        tmp_path: Path) -> None:
    sleeps = Sleeps()
    nothing = ReportMessage("no files", "no files")
    crashed, folder = deliver_all(MESSAGE, [_Crashing(), FolderChannel(folder=tmp_path)],
                                  sleep=sleeps)
    (empty,) = deliver_all(nothing, [FolderChannel(folder=tmp_path / "empty")], sleep=sleeps)
    assert not crashed.ok and crashed.attempts == 1 and "RuntimeError" in crashed.error
    assert folder.ok
    assert not empty.ok and empty.attempts == 1 and "no files" in empty.error
    assert sleeps == []
    _assert_no_secret((crashed, folder, empty), PASSWORD)


def test_many_runs_dropping_the_same_name_at_once_each_keep_their_file(tmp_path: Path) -> None:
    """Workers finishing runs of one report in the same second give their files the same
    name: each still lands, none replaces another (a hard link, not check-then-rename)."""
    from concurrent.futures import ThreadPoolExecutor

    from reports.channels.folder import FolderChannel

    channel = FolderChannel(folder=tmp_path)
    with ThreadPoolExecutor(16) as pool:
        paths = list(pool.map(lambda n: channel._drop("fails-2026-11-20.csv",
                                                      f"run {n}".encode()), range(64)))
    assert len(set(paths)) == 64
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == sorted(
        f"run {n}" for n in range(64))
