"""Settings: one frozen dataclass, read once from the environment and an optional `.env` file.

Every setting is an environment variable named `OPSCOPILOT_<FIELD>`; the process environment
wins over the `.env` file. With nothing set, the defaults run the embedded demo: a SQLite
warehouse, state database and audit database in the data directory. Each field's metadata
carries its documentation, so the README table and `python -m copilot settings` cannot drift
from the code (a test checks the README).
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from copilot.core.errors import ConfigError
from copilot.core.setting_parsers import PARSERS

__all__ = ["ENV_PREFIX", "SettingDoc", "Settings", "load_settings", "parse_setting",
           "read_env_file", "setting_docs", "settings_in_force"]

ENV_PREFIX = "OPSCOPILOT_"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_WAREHOUSE_FILE = "otc_demo.db"


# The audit folders are paths like chroma_dir; their parsers sit here until
# copilot/core/setting_parsers.py lists them with the others.
_PARSERS = {**PARSERS, "audit_key_dir": lambda text: Path(text).expanduser(),
            "audit_checkpoint_dir": lambda text: Path(text).expanduser()}


def _doc(text: str, default_text: str, *, secret: bool = False) -> dict[str, object]:
    return {"doc": text, "default_text": default_text, "secret": secret}


@dataclass(frozen=True)
class Settings:
    """Everything the copilot needs to know about its surroundings; immutable once loaded."""

    data_dir: Path = field(
        default=PROJECT_ROOT / "data",
        metadata=_doc(
            "Folder for the embedded demo: the demo warehouse, state and audit databases and "
            "the ChromaDB store, unless their own settings point elsewhere.",
            "`data/` in the project folder",
        ),
    )
    warehouse_url: str = field(
        default="",
        metadata=_doc(
            "SQLAlchemy URL of the warehouse the copilot answers from: `sqlite:///PATH`, "
            "`postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB` or "
            "`mssql+pyodbc://USER:PASSWORD@DSN` (see \"Warehouse connections\" in the "
            "README). Always opened read-only.",
            "the demo SQLite file `DATA_DIR/otc_demo.db`, built on first launch",
        ),
    )
    warehouse_schema: str = field(
        default="",
        metadata=_doc(
            "Database schema holding the warehouse tables (for example `dbo` or `ops`).",
            "the connection's default schema",
        ),
    )
    state_url: str = field(
        default="",
        metadata=_doc(
            "SQLAlchemy URL of the app's own state database (dashboards, widgets, report "
            "templates, training profiles). SQLite or PostgreSQL.",
            "`sqlite:///DATA_DIR/state.db`",
        ),
    )
    audit_url: str = field(
        default="",
        metadata=_doc(
            "SQLAlchemy URL of the append-only audit database, kept apart from the state "
            "database so that compliance can own it. SQLite or PostgreSQL.",
            "`sqlite:///DATA_DIR/audit.db`",
        ),
    )
    audit_key_dir: Path | None = field(
        default=None,
        metadata=_doc(
            "Folder of the audit log's keys (the chain's HMAC key, the checkpoints' Ed25519 "
            "signing key and its public key), created on first use with mode 0600; never in "
            "the audit database.",
            "`audit-keys` beside a SQLite audit database (`DATA_DIR/audit-keys`)",
        ),
    )
    audit_checkpoint_dir: Path | None = field(
        default=None,
        metadata=_doc(
            "Folder where every audit record appends a signed checkpoint (JSON lines, never "
            "rewritten) that `audit verify` checks the chain against; point it at WORM storage.",
            "`audit-checkpoints` beside a SQLite audit database (`DATA_DIR/audit-checkpoints`)",
        ),
    )
    chroma_dir: Path | None = field(
        default=None,
        metadata=_doc("Folder of the on-disk ChromaDB training store.", "`DATA_DIR/chroma`"),
    )
    profile: str = field(
        default="",
        metadata=_doc(
            "Name of the training profile the copilot answers from; its versions are kept "
            "in the state database.",
            "`demo` on the embedded demo, else `main`",
        ),
    )
    glossary_dir: Path = field(
        default=PROJECT_ROOT / "glossary" / "otc",
        metadata=_doc(
            "Folder of glossary and business-rule YAML files used by training "
            "(format: glossary/README.md).",
            "`glossary/otc`, the OTC demo's glossary",
        ),
    )
    user: str = field(
        default="",
        metadata=_doc(
            "Name recorded as the author of training versions and, later, audit records "
            "when no login is configured.",
            "the operating-system user",
        ),
    )
    row_cap: int = field(
        default=5000,
        metadata=_doc(
            "Most rows a question returns to the page; more are cut and the answer says so.",
            "`5000`",
        ),
    )
    query_timeout_s: float = field(
        default=30.0,
        metadata=_doc(
            "Seconds a warehouse query may run before it is cancelled.", "`30`"
        ),
    )
    guard_policy: Path | None = field(
        default=None,
        metadata=_doc(
            "YAML file of the SQL guard's policy (system catalogs, dangerous functions, "
            "allowed table hints), in the format of `copilot/core/guard/policy.yaml`; copy and "
            "extend that file to refuse more.",
            "`copilot/core/guard/policy.yaml`",
        ),
    )
    as_of: date | None = field(
        default=None,
        metadata=_doc(
            "The \"today\" that relative periods (yesterday, this week, MTD) resolve against, "
            "as `YYYY-MM-DD`; handy for replaying a past day.",
            "the real today",
        ),
    )
    demo_seed: int = field(
        default=7,
        metadata=_doc("Random seed of the demo warehouse built on first launch.", "`7`"),
    )
    demo_trades: int = field(
        default=20_000,
        metadata=_doc("Number of trades in the demo warehouse built on first launch.", "`20000`"),
    )

    llm_base_url: str = field(
        default="",
        metadata=_doc(
            "Base URL of an OpenAI-compatible chat-completions API (a bank's gateway, Groq, "
            "vLLM, Ollama, Azure OpenAI; see \"Using an LLM\"). Empty: no LLM, the engine "
            "alone answers.",
            "empty (no LLM)",
        ),
    )
    llm_model: str = field(
        default="", metadata=_doc("Model name sent with every LLM request.", "empty")
    )
    llm_api_key: str = field(
        default="", repr=False,
        metadata=_doc(
            "API key of the LLM endpoint. Never shown back, logged or written to the audit "
            "log.", "empty (no key, as for a local Ollama)", secret=True,
        ),
    )
    llm_key_header: str = field(
        default="Authorization",
        metadata=_doc(
            "Header that carries the key: `Authorization` sends `Bearer KEY`; any other "
            "name (Azure's `api-key`) sends the key as it is.", "`Authorization`",
        ),
    )
    llm_headers: tuple[tuple[str, str], ...] = field(
        default=(),
        metadata=_doc(
            "Extra HTTP headers for the LLM endpoint as a JSON object, for example "
            "`{\"X-Desk\": \"ops\"}`. Not for secrets: they are shown on the Settings page.",
            "none",
        ),
    )
    llm_timeout_s: float = field(
        default=30.0,
        metadata=_doc(
            "Seconds the LLM may take for one question, retries and corrections included; "
            "then the engine's answer stands.", "`30`",
        ),
    )
    llm_retries: int = field(
        default=2,
        metadata=_doc("Retries of one LLM request answered 429 or 5xx, with backoff.", "`2`"),
    )
    llm_max_corrections: int = field(
        default=2,
        metadata=_doc(
            "Times the LLM may correct its SQL after the guard or the warehouse rejected it.",
            "`2`",
        ),
    )
    llm_token_budget: int = field(
        default=12_000,
        metadata=_doc(
            "Most tokens (prompt and reply, estimated) one question may spend on the LLM; the "
            "prompt's context is trimmed to fit.", "`12000`",
        ),
    )
    llm_send_rows: bool = field(
        default=False,
        metadata=_doc(
            "Whether the LLM may see sample rows of the tables it is given (three per table). "
            "Off: it sees names, types, keys and the trained code lists only.", "`false`",
        ),
    )

    reports_dir: Path | None = field(
        default=None, metadata=_doc("Folder where report runs keep their files.",
                                    "`DATA_DIR/reports`"))
    report_run_limit_minutes: int = field(
        default=60, metadata=_doc(
            "A report run still working after this long is taken as hung: the reaper marks it "
            "interrupted and completes the channels it had not started.", "`60`"))
    smtp_host: str = field(
        default="", metadata=_doc("SMTP server that sends report emails.", "empty (no email)"))
    smtp_port: int = field(default=587, metadata=_doc("Port of the SMTP server.", "`587`"))
    smtp_security: str = field(
        default="starttls", metadata=_doc("`starttls`, `ssl` or `none`.", "`starttls`"))
    smtp_user: str = field(
        default="", metadata=_doc("SMTP login; empty sends without logging in.", "empty"))
    smtp_password: str = field(
        default="", repr=False,
        metadata=_doc("SMTP password; never shown, logged or audited.", "empty", secret=True))
    smtp_sender: str = field(
        default="", metadata=_doc("From address of report emails.", "`SMTP_USER`"))
    app_url: str = field(
        default="", metadata=_doc("The app's address, linked from report messages.", "none"))

    def __post_init__(self) -> None:
        # Fill the defaults that depend on data_dir, so every consumer sees concrete values.
        data = self.data_dir
        derived = {
            "warehouse_url": f"sqlite:///{data / DEMO_WAREHOUSE_FILE}",
            "state_url": f"sqlite:///{data / 'state.db'}",
            "audit_url": f"sqlite:///{data / 'audit.db'}",
        }
        for name, value in derived.items():
            if not getattr(self, name):
                object.__setattr__(self, name, value)
        if self.chroma_dir is None:
            object.__setattr__(self, "chroma_dir", data / "chroma")
        # The audit folders sit beside a SQLite audit file, where AuditLog(url) looks too.
        audit_folder = _sqlite_folder(self.audit_url) or data
        if self.audit_key_dir is None:
            object.__setattr__(self, "audit_key_dir", audit_folder / "audit-keys")
        if self.audit_checkpoint_dir is None:
            object.__setattr__(self, "audit_checkpoint_dir", audit_folder / "audit-checkpoints")
        if self.reports_dir is None:
            object.__setattr__(self, "reports_dir", data / "reports")
        if not self.smtp_sender:
            object.__setattr__(self, "smtp_sender", self.smtp_user)
        if not self.profile:
            object.__setattr__(self, "profile", "demo" if self.uses_demo_warehouse else "main")
        if not self.user:
            object.__setattr__(self, "user", _os_user())

    @property
    def demo_warehouse_path(self) -> Path:
        """Where the embedded demo warehouse lives (built there when it is the warehouse)."""
        return self.data_dir / DEMO_WAREHOUSE_FILE

    @property
    def uses_demo_warehouse(self) -> bool:
        """True when the warehouse is the embedded demo, which the app may build itself."""
        return self.warehouse_url == f"sqlite:///{self.demo_warehouse_path}"

    def for_warehouse(self, url: str | None, profile: str | None = None) -> Settings:
        """These settings pointed at another warehouse (and profile) for one command.

        Another warehouse answers from its own profile, never the demo's.
        """
        if url:
            default = "main" if self.profile == "demo" else self.profile
            return dataclasses.replace(self, warehouse_url=url, profile=profile or default)
        return dataclasses.replace(self, profile=profile) if profile else self

    def effective_as_of(self, today: date | None = None) -> date:
        """The as-of date questions resolve against: the override, else today."""
        return self.as_of or today or date.today()


def _sqlite_folder(url: str) -> Path | None:
    """The folder of a SQLite database file's URL; None for any other URL."""
    if not url.startswith("sqlite:///"):
        return None
    database = url.removeprefix("sqlite:///").split("?", 1)[0]
    return None if database in ("", ":memory:") else Path(database).expanduser().parent


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "unknown"


@dataclass(frozen=True)
class SettingDoc:
    """One setting as documented: its variable, meaning and default."""

    env_var: str
    doc: str
    default_text: str
    secret: bool = False  # never printed or shown back


def setting_docs() -> tuple[SettingDoc, ...]:
    """Every setting with its environment variable, description and default, in field order."""
    return tuple(
        SettingDoc(
            env_var=ENV_PREFIX + f.name.upper(),
            doc=f.metadata["doc"],
            default_text=f.metadata["default_text"],
            secret=f.metadata["secret"],
        )
        for f in dataclasses.fields(Settings)
    )


def settings_in_force(settings: Settings) -> list[tuple[SettingDoc, str]]:
    """Every setting with its value as it may be shown: secrets as "(set)", passwords in
    URLs hidden, headers as JSON."""
    from copilot.core.connections import redact_url  # the one place URLs are redacted

    shown = []
    for doc in setting_docs():
        value = getattr(settings, doc.env_var.removeprefix(ENV_PREFIX).lower())
        if doc.secret:
            text = "(set)" if value else ""
        elif doc.env_var.endswith("_URL") and value:
            text = redact_url(value)
        elif isinstance(value, tuple):
            text = json.dumps(dict(value)) if value else ""
        else:
            text = "" if value is None else str(value)
        shown.append((doc, text))
    return shown




def parse_setting(name: str, text: str) -> Any:
    """One setting's value from text, as the environment gives it; ConfigError names the
    setting when the text is not valid."""
    try:
        return _PARSERS[name](text.strip())
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()}={text!r} is not valid: {exc}.") from None


def read_env_file(path: Path) -> dict[str, tuple[str, int]]:
    """Parse a `.env` file into {name: (value, line number)}.

    The format is the common one: `NAME=value`, optional `export `, `#` comments, values in
    single or double quotes. A malformed line raises ConfigError naming the file and line.
    """
    values: dict[str, tuple[str, int]] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ConfigError(f"{path}, line {number}: expected NAME=value, found {raw!r}.")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[name] = (value, number)
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> Settings:
    """Build Settings from the environment (default: os.environ) and a `.env` file.

    The `.env` file is `OPSCOPILOT_ENV_FILE` if set, else `.env` in the working directory;
    it is optional. Unknown `OPSCOPILOT_` names are refused, because a misspelt setting that
    silently does nothing is worse than an error.
    """
    env = dict(os.environ if environ is None else environ)
    path = env_file or Path(env.get(ENV_PREFIX + "ENV_FILE", ".env"))
    sources: dict[str, tuple[str, str]] = {}
    if path.is_file():
        for name, (value, line) in read_env_file(path).items():
            sources[name] = (value, f"{path}, line {line}")
    for name, value in env.items():
        sources[name] = (value, "the environment")

    known = {ENV_PREFIX + f.name.upper(): f.name for f in dataclasses.fields(Settings)}
    known[ENV_PREFIX + "ENV_FILE"] = ""
    values: dict[str, Any] = {}
    for name, (raw, where) in sorted(sources.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        if name not in known:
            raise ConfigError(f"Unknown setting {name} (from {where}); see the README's Settings.")
        field_name = known[name]
        if not field_name or raw.strip() == "":
            continue  # an empty value means "use the default", as in most .env tooling
        try:
            values[field_name] = _PARSERS[field_name](raw.strip())
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r} (from {where}) is not valid: {exc}.") from None
    return Settings(**values)
