"""Settings: typed sections, each owned by the floor that uses it, gathered in one Settings.

The core's sections are here: the app (`settings.app`), the warehouse (`settings.warehouse`),
the state database (`settings.state`) and the audit trail (`settings.audit`). Sections owned
above the core (the LLM's in copilot/llm/settings.py, the reports' and the SMTP server's in
reports/settings.py) are handed to the loader by the composition root (copilot/settings.py),
because the core must not import them; they are read as `settings.llm`, `settings.smtp`.
With nothing set, the defaults run the embedded demo: a SQLite warehouse, state database and
audit database in the data folder.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

from copilot.core import setting_parsers as parse
from copilot.core.serving import header_name
from copilot.core.setting_fields import SettingDoc, SettingsSection, section_docs, setting

__all__ = ["CORE_SECTIONS", "AppSettings", "AuditSettings", "Settings", "StateSettings",
           "WarehouseSettings", "setting_docs", "settings_in_force"]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_WAREHOUSE_FILE = "otc_demo.db"

S = TypeVar("S")


def _claim(text: str) -> str:
    """An ID token claim's name."""
    if not text or any(c.isspace() for c in text):
        raise ValueError("must be the name of an ID token claim, such as email or groups")
    return text


def _minutes(text: str) -> float:
    """Minutes, 0 or more (0: never)."""
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise ValueError("must be a number of minutes, 0 or more")
    return value


def _days(text: str) -> float:
    """Days above 0."""
    value = float(text)
    if not value > 0:
        raise ValueError("must be a number of days above 0")
    return value


@dataclass(frozen=True)
class AppSettings:
    """Where the app keeps its files and who it acts for."""

    name: ClassVar[str] = "app"
    env_prefix: ClassVar[str] = "OPSCOPILOT_"

    data_dir: Path = setting(
        PROJECT_ROOT / "data", parse=parse.path,
        doc="Folder for the embedded demo: the demo warehouse, state and audit databases and "
            "the ChromaDB store, unless their own settings point elsewhere.",
        default_text="`data/` in the project folder")
    profile: str = setting(
        "", parse=parse.profile_name,
        doc="Name of the training profile the copilot answers from; its versions are kept "
            "in the state database.",
        default_text="`demo` on the embedded demo, else `main`")
    glossary_dir: Path = setting(
        PROJECT_ROOT / "glossary" / "otc", parse=parse.path,
        doc="Folder of glossary and business-rule YAML files used by training "
            "(format: glossary/README.md).",
        default_text="`glossary/otc`, the OTC demo's glossary")
    user: str = setting(
        "", parse=parse.stripped,
        doc="Name recorded as the author of training versions and, later, audit records "
            "when no login is configured.",
        default_text="the operating-system user")
    demo_seed: int = setting(
        7, parse=parse.integer, doc="Random seed of the demo warehouse built on first launch.",
        default_text="`7`")
    demo_trades: int = setting(
        20_000, parse=parse.positive_int,
        doc="Number of trades in the demo warehouse built on first launch.",
        default_text="`20000`")
    url: str = setting(
        "", parse=parse.http_url, env="OPSCOPILOT_APP_URL",
        doc="The app's address, linked from report messages.", default_text="none")
    secret_key: str = setting(
        "", parse=parse.stripped, secret=True,
        doc="Key that encrypts the secrets the app keeps in the state database (the LLM API "
            "key saved on the Settings page), as Fernet: 32 bytes in URL-safe base64. Without "
            "it the Settings page saves no key. Never shown, logged or audited.",
        default_text="none (no key can be saved on the Settings page)")
    roles: Path | None = setting(
        None, parse=parse.path, env="OPSCOPILOT_ROLES",
        doc="YAML file of who holds which role (viewer, analyst, trainer, admin, auditor), "
            "by user and by group; each action is checked against it in the services "
            "(format: `copilot/core/access.py`).",
        default_text="none: everyone holds every role (the single-user demo)")
    trusted_user_header: str = setting(
        "", parse=header_name,
        doc="Name of the HTTP header in which a single sign-on proxy in front of the app "
            "passes the signed-in user; set only when every request comes through that "
            "proxy. A login (this, or Streamlit's `[auth]` in `.streamlit/secrets.toml`) is "
            "required to serve the app on any address other than localhost.",
        default_text="none")
    trusted_groups_header: str = setting(
        "", parse=header_name, env="OPSCOPILOT_TRUSTED_GROUPS_HEADER",
        doc="Name of the HTTP header in which that proxy passes the signed-in user's groups, "
            "comma-separated; read only with OPSCOPILOT_TRUSTED_USER_HEADER.",
        default_text="none: people signed in through the proxy have no groups")
    user_claim: str = setting(
        "email", parse=_claim, env="OPSCOPILOT_USER_CLAIM",
        doc="The ID token claim that names a person signed in with Streamlit's OpenID Connect "
            "login (the name in the audit trail and the roles file); when a token lacks it, "
            "`preferred_username`, then `sub`.",
        default_text="`email`")
    groups_claim: str = setting(
        "groups", parse=_claim, env="OPSCOPILOT_GROUPS_CLAIM",
        doc="The ID token claim that lists a person's groups (a list of names, or one name), "
            "which the roles file and the entitlements name.",
        default_text="`groups`")
    session_timeout_minutes: float = setting(
        30.0, parse=_minutes, env="OPSCOPILOT_SESSION_TIMEOUT_MINUTES",
        doc="Minutes without any interaction after which a person signed in with the OpenID "
            "Connect login is signed out (their next click shows the sign-in page, and the "
            "audit log records the timeout); fractions allowed, `0` for none. Behind a "
            "trusted header the proxy's own session rules.",
        default_text="`30`")
    groups_max_age_days: float = setting(
        30.0, parse=_days, env="OPSCOPILOT_GROUPS_MAX_AGE_DAYS",
        doc="Days a person's groups, as their last sign-in stated them, stay valid for what "
            "runs without them (their scheduled reports, their dashboards' refreshes); older, "
            "they count as no groups until the person signs in again.",
        default_text="`30`")

    def __post_init__(self) -> None:
        if not self.user:
            object.__setattr__(self, "user", _os_user())

    def with_data_dir(self, data_dir: Path) -> Self:
        """Itself: the app's defaults do not live in the data folder."""
        return self


@dataclass(frozen=True)
class WarehouseSettings:
    """Which warehouse answers, and how much one question may take from it."""

    name: ClassVar[str] = "warehouse"
    env_prefix: ClassVar[str] = "OPSCOPILOT_WAREHOUSE_"

    url: str = setting(
        "", parse=parse.database_url,
        doc="SQLAlchemy URL of the warehouse the copilot answers from: `sqlite:///PATH`, "
            "`postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB` or "
            "`mssql+pyodbc://USER:PASSWORD@DSN` (see \"Warehouse connections\" in the "
            "README). Always opened read-only.",
        default_text="the demo SQLite file `DATA_DIR/otc_demo.db`, built on first launch")
    schema: str = setting(
        "", parse=parse.stripped,
        doc="Database schema holding the warehouse tables (for example `dbo` or `ops`).",
        default_text="the connection's default schema")
    row_cap: int = setting(
        5000, parse=parse.positive_int, env="OPSCOPILOT_ROW_CAP",
        doc="Most rows a question returns to the page; more are cut and the answer says so.",
        default_text="`5000`")
    query_timeout_s: float = setting(
        30.0, parse=parse.positive_float, env="OPSCOPILOT_QUERY_TIMEOUT_S",
        doc="Seconds a warehouse query may run before it is cancelled.", default_text="`30`")
    guard_policy: Path | None = setting(
        None, parse=parse.path, env="OPSCOPILOT_GUARD_POLICY",
        doc="YAML file of the SQL guard's policy (allowed functions and types, system "
            "catalogs, never-allowed functions, allowed table hints, `max_string_growth`), in "
            "the format of `copilot/core/guard/policy.yaml`; the sections it names replace "
            "the shipped ones.",
        default_text="`copilot/core/guard/policy.yaml`")
    entitlements: Path | None = setting(
        None, parse=parse.path, env="OPSCOPILOT_ENTITLEMENTS",
        doc="YAML file of row-level entitlements: which rows of which tables each user or "
            "group may read, added to every statement whoever wrote it (format: "
            "`docs/entitlements.example.yaml`).",
        default_text="none: every user reads every row")
    as_of: date | None = setting(
        None, parse=parse.iso_date, env="OPSCOPILOT_AS_OF",
        doc="The \"today\" that relative periods (yesterday, this week, MTD) resolve against, "
            "as `YYYY-MM-DD`; handy for replaying a past day.",
        default_text="the real today")

    def with_data_dir(self, data_dir: Path) -> Self:
        """The demo warehouse in the data folder when no warehouse is named."""
        if self.url:
            return self
        return dataclasses.replace(self, url=f"sqlite:///{data_dir / DEMO_WAREHOUSE_FILE}")

    def effective_as_of(self, today: date | None = None) -> date:
        """The as-of date questions resolve against: the override, else today."""
        return self.as_of or today or date.today()


@dataclass(frozen=True)
class StateSettings:
    """Where the app keeps its own state: the state database and the training store."""

    name: ClassVar[str] = "state"
    env_prefix: ClassVar[str] = "OPSCOPILOT_STATE_"

    url: str = setting(
        "", parse=parse.database_url,
        doc="SQLAlchemy URL of the app's own state database (dashboards, widgets, report "
            "templates, training profiles). SQLite or PostgreSQL.",
        default_text="`sqlite:///DATA_DIR/state.db`")
    chroma_dir: Path | None = setting(
        None, parse=parse.path, env="OPSCOPILOT_CHROMA_DIR",
        doc="Folder of the on-disk ChromaDB training store.", default_text="`DATA_DIR/chroma`")

    def with_data_dir(self, data_dir: Path) -> Self:
        """`state.db` and `chroma/` in the data folder, for what is not set."""
        return dataclasses.replace(self, url=self.url or f"sqlite:///{data_dir / 'state.db'}",
                                   chroma_dir=self.chroma_dir or data_dir / "chroma")


@dataclass(frozen=True)
class AuditSettings:
    """Where the audit trail, its keys and its signed checkpoints live."""

    name: ClassVar[str] = "audit"
    env_prefix: ClassVar[str] = "OPSCOPILOT_AUDIT_"

    url: str = setting(
        "", parse=parse.database_url,
        doc="SQLAlchemy URL of the append-only audit database, kept apart from the state "
            "database so that compliance can own it. SQLite or PostgreSQL.",
        default_text="`sqlite:///DATA_DIR/audit.db`")
    key_dir: Path | None = setting(
        None, parse=parse.path,
        doc="Folder of the audit log's keys (the chain's HMAC key, the checkpoints' Ed25519 "
            "signing key and its public key), created on first use with mode 0600; never in "
            "the audit database.",
        default_text="`audit-keys` beside a SQLite audit database (`DATA_DIR/audit-keys`)")
    checkpoint_dir: Path | None = setting(
        None, parse=parse.path,
        doc="Folder where every audit record appends a signed checkpoint (JSON lines, never "
            "rewritten) that `audit verify` checks the chain against; point it at WORM storage.",
        default_text="`audit-checkpoints` beside a SQLite audit database "
                     "(`DATA_DIR/audit-checkpoints`)")

    def with_data_dir(self, data_dir: Path) -> Self:
        """`audit.db` in the data folder, and the key and checkpoint folders beside a SQLite
        audit file (where `AuditLog(url)` looks too), for what is not set."""
        url = self.url or f"sqlite:///{data_dir / 'audit.db'}"
        folder = _sqlite_folder(url) or data_dir
        return dataclasses.replace(
            self, url=url, key_dir=self.key_dir or folder / "audit-keys",
            checkpoint_dir=self.checkpoint_dir or folder / "audit-checkpoints")


CORE_SECTIONS: tuple[type[SettingsSection], ...] = (
    AppSettings, WarehouseSettings, StateSettings, AuditSettings)


@dataclass(frozen=True)
class Settings:
    """Everything the copilot needs to know about its surroundings; immutable once loaded.

    The core's sections are typed fields; a section owned above the core is in `extra` and
    read by its name (`settings.llm`) or, typed, with `section(LLMSettings)`.
    """

    app: AppSettings = field(default_factory=AppSettings)
    warehouse: WarehouseSettings = field(default_factory=WarehouseSettings)
    state: StateSettings = field(default_factory=StateSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    extra: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        # Fill the defaults that depend on the data folder, so every consumer sees concrete
        # values; each section knows its own (with_data_dir is idempotent).
        data = self.app.data_dir
        for name in ("warehouse", "state", "audit"):
            object.__setattr__(self, name, getattr(self, name).with_data_dir(data))
        object.__setattr__(self, "extra", tuple(s.with_data_dir(data) for s in self.extra))
        if not self.app.profile:  # a warehouse of the bank's answers from its own profile
            profile = "demo" if self.uses_demo_warehouse else "main"
            object.__setattr__(self, "app", dataclasses.replace(self.app, profile=profile))

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: a section owned above the core, by its name.
        if not name.startswith("_"):
            for section in object.__getattribute__(self, "extra"):
                if section.name == name:
                    return section
        raise AttributeError(f"no settings section {name!r} was read; the composition root "
                             "(copilot/settings.py) lists the sections to read")

    @property
    def sections(self) -> tuple[Any, ...]:
        """Every section read, the core's first, in the order they are documented."""
        return (self.app, self.warehouse, self.state, self.audit, *self.extra)

    def section(self, kind: type[S]) -> S:
        """The section of this type, typed; its defaults when it was not read (the loader
        refuses the variables of a section it does not read, so none can have been set)."""
        for section in self.sections:
            if type(section) is kind:
                return section  # type: ignore[no-any-return]
        return kind().with_data_dir(self.app.data_dir)  # type: ignore[attr-defined,no-any-return]

    @property
    def demo_warehouse_path(self) -> Path:
        """Where the embedded demo warehouse lives (built there when it is the warehouse)."""
        return self.app.data_dir / DEMO_WAREHOUSE_FILE

    @property
    def uses_demo_warehouse(self) -> bool:
        """True when the warehouse is the embedded demo, which the app may build itself."""
        return self.warehouse.url == f"sqlite:///{self.demo_warehouse_path}"

    def for_warehouse(self, url: str | None, profile: str | None = None) -> Settings:
        """These settings pointed at another warehouse (and profile) for one command.

        Another warehouse answers from its own profile, never the demo's.
        """
        if url:
            default = "main" if self.app.profile == "demo" else self.app.profile
            return dataclasses.replace(
                self, warehouse=dataclasses.replace(self.warehouse, url=url),
                app=dataclasses.replace(self.app, profile=profile or default))
        if profile:
            return dataclasses.replace(self, app=dataclasses.replace(self.app, profile=profile))
        return self


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


def setting_docs(sections: tuple[type[SettingsSection], ...] = ()) -> tuple[SettingDoc, ...]:
    """Every setting of the core's sections and then of `sections` (those owned above the
    core), with its variable, description and default, in section and field order."""
    every = (*CORE_SECTIONS, *(s for s in sections if s not in CORE_SECTIONS))
    return tuple(doc for section in every for doc in section_docs(section))


def settings_in_force(settings: Settings) -> list[tuple[SettingDoc, str]]:
    """Every setting read with its value as it may be shown: secrets as "(set)", passwords
    in URLs hidden, headers as JSON."""
    from copilot.core.connections import redact_url  # the one place URLs are redacted

    shown = []
    for section in settings.sections:
        for doc in section_docs(type(section)):
            value = getattr(section, doc.attribute.split(".", 1)[1])
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
