"""The reports' settings sections: `settings.reports` (run files, the hung-run limit),
`settings.smtp` (the server that sends report emails) and `settings.workers` (where report
runs execute: in this process, or on Celery workers over Redis).

Owned here rather than in the core because only reports read them; the composition root
(copilot/settings.py) hands them to the loader.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Self

from copilot.core import setting_parsers as parse
from copilot.core.setting_fields import setting

__all__ = ["EXECUTIONS", "ReportsSettings", "SMTPSettings", "WorkersSettings"]

EXECUTIONS = ("inline", "celery")


def _domains(text: str) -> str:
    """Comma-separated mail domains, lower case, kept as one text (shown as set)."""
    names = [d.strip().lower().lstrip("@") for d in text.split(",") if d.strip()]
    bad = [d for d in names if "." not in d or any(c in d for c in " @/;")]
    if bad:
        raise ValueError(f"must be mail domains separated by commas, like bank.example "
                         f"(not {bad[0]!r})")
    return ",".join(names)


def _execution(text: str) -> str:
    if text.lower() not in EXECUTIONS:
        raise ValueError(f"must be one of {', '.join(EXECUTIONS)}")
    return text.lower()


def _smtp_security(text: str) -> str:
    if text.lower() not in ("starttls", "ssl", "none"):
        raise ValueError("must be starttls, ssl or none")
    return text.lower()


@dataclass(frozen=True)
class ReportsSettings:
    """Where report runs keep their files, and when a run is taken as hung."""

    name: ClassVar[str] = "reports"
    env_prefix: ClassVar[str] = "OPSCOPILOT_REPORTS_"

    dir: Path | None = setting(
        None, parse=parse.path, doc="Folder where report runs keep their files.",
        default_text="`DATA_DIR/reports`")
    run_limit_minutes: int = setting(
        60, parse=parse.positive_int, env="OPSCOPILOT_REPORT_RUN_LIMIT_MINUTES",
        doc="A report run still working after this long is taken as hung: the reaper marks it "
            "interrupted and completes the channels it had not started.",
        default_text="`60`")
    bank_domains: str = setting(
        "", parse=_domains, env="OPSCOPILOT_BANK_DOMAINS",
        doc="The bank's own mail domains, comma-separated (`bank.example,bank.co.uk`): under "
            "four eyes a report email to any other domain waits for an admin's approval; "
            "addresses in these domains (and their subdomains) apply at once.",
        default_text="none: under four eyes every email recipient waits for approval")

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(d for d in self.bank_domains.split(",") if d)

    def inside(self, address: str) -> bool:
        """True when `address` is in one of the bank's domains or their subdomains."""
        domain = address.rpartition("@")[2].strip().lower()
        return any(domain == d or domain.endswith("." + d) for d in self.domains)

    def with_data_dir(self, data_dir: Path) -> Self:
        """`reports/` in the data folder when no folder is set."""
        return self if self.dir else dataclasses.replace(self, dir=data_dir / "reports")


@dataclass(frozen=True)
class SMTPSettings:
    """The SMTP server that sends report emails; no host, no email."""

    name: ClassVar[str] = "smtp"
    env_prefix: ClassVar[str] = "OPSCOPILOT_SMTP_"

    host: str = setting("", parse=parse.stripped, doc="SMTP server that sends report emails.",
                        default_text="empty (no email)")
    port: int = setting(587, parse=parse.positive_int, doc="Port of the SMTP server.",
                        default_text="`587`")
    security: str = setting("starttls", parse=_smtp_security,
                            doc="`starttls`, `ssl` or `none`.", default_text="`starttls`")
    user: str = setting("", parse=parse.stripped,
                        doc="SMTP login; empty sends without logging in.", default_text="empty")
    password: str = setting("", parse=parse.verbatim, secret=True,
                            doc="SMTP password; never shown, logged or audited.",
                            default_text="empty")
    sender: str = setting("", parse=parse.stripped, doc="From address of report emails.",
                          default_text="`SMTP_USER`")

    def __post_init__(self) -> None:
        if not self.sender:
            object.__setattr__(self, "sender", self.user)

    def with_data_dir(self, data_dir: Path) -> Self:
        """Itself: nothing of the SMTP server's lives in the data folder."""
        return self


@dataclass(frozen=True)
class WorkersSettings:
    """Where report runs execute. `inline` (the embedded default) runs them in the process
    that fires or clicks them; `celery` puts them on a Redis queue that
    `python -m copilot worker` processes take from."""

    name: ClassVar[str] = "workers"
    env_prefix: ClassVar[str] = "OPSCOPILOT_"

    execution: str = setting(
        "inline", parse=_execution, env="OPSCOPILOT_REPORT_EXECUTION",
        doc="Where report runs execute: `inline` in the process whose schedule fires or whose "
            "Run now is clicked; `celery` on the workers (`python -m copilot worker`), the "
            "scheduler (`python -m copilot scheduler`) and Run now only queueing them.",
        default_text="`inline`")

    @property
    def queued(self) -> bool:
        return self.execution == "celery"

    def with_data_dir(self, data_dir: Path) -> Self:
        """Itself: nothing of the workers' lives in the data folder."""
        return self
