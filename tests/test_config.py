"""Settings: defaults run the demo, the environment and .env override, bad values are named;
sections owned above the core are read by the one loader, under their old variable names."""

from __future__ import annotations

import ast
import dataclasses
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar, Self

import pytest

from copilot.cli import main
from copilot.core import setting_parsers as parse
from copilot.core.errors import ConfigError
from copilot.core.setting_fields import setting
from copilot.core.settings import Settings, setting_docs, settings_in_force
from copilot.core.settings_loader import read_settings
from copilot.llm.config import LLMConfig
from copilot.llm.settings import LLMSettings
from copilot.settings import SECTIONS, all_setting_docs, load_settings
from reports.settings import SMTPSettings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# Every variable of the flat Settings the sections replaced, with a text to set it to, where
# its value is read now and the value expected. Users have these names in their .env files:
# a section that renames one fails here.
OLD_VARIABLES: list[tuple[str, str, str, object]] = [
    ("OPSCOPILOT_DATA_DIR", "/srv/copilot", "app.data_dir", Path("/srv/copilot")),
    ("OPSCOPILOT_WAREHOUSE_URL", "postgresql+psycopg://ro@db/otc", "warehouse.url",
     "postgresql+psycopg://ro@db/otc"),
    ("OPSCOPILOT_WAREHOUSE_SCHEMA", "ops", "warehouse.schema", "ops"),
    ("OPSCOPILOT_STATE_URL", "sqlite:////srv/s.db", "state.url", "sqlite:////srv/s.db"),
    ("OPSCOPILOT_AUDIT_URL", "sqlite:////srv/a.db", "audit.url", "sqlite:////srv/a.db"),
    ("OPSCOPILOT_AUDIT_KEY_DIR", "/srv/keys", "audit.key_dir", Path("/srv/keys")),
    ("OPSCOPILOT_AUDIT_CHECKPOINT_DIR", "/worm", "audit.checkpoint_dir", Path("/worm")),
    ("OPSCOPILOT_CHROMA_DIR", "/srv/chroma", "state.chroma_dir", Path("/srv/chroma")),
    ("OPSCOPILOT_PROFILE", "desk-a", "app.profile", "desk-a"),
    ("OPSCOPILOT_GLOSSARY_DIR", "/srv/glossary", "app.glossary_dir", Path("/srv/glossary")),
    ("OPSCOPILOT_USER", "n.singh", "app.user", "n.singh"),
    ("OPSCOPILOT_ROW_CAP", "250", "warehouse.row_cap", 250),
    ("OPSCOPILOT_QUERY_TIMEOUT_S", "2.5", "warehouse.query_timeout_s", 2.5),
    ("OPSCOPILOT_GUARD_POLICY", "/srv/policy.yaml", "warehouse.guard_policy",
     Path("/srv/policy.yaml")),
    ("OPSCOPILOT_AS_OF", "2026-11-20", "warehouse.as_of", date(2026, 11, 20)),
    ("OPSCOPILOT_ENTITLEMENTS", "/srv/rows.yaml", "warehouse.entitlements",
     Path("/srv/rows.yaml")),
    ("OPSCOPILOT_ROLES", "/srv/roles.yaml", "app.roles", Path("/srv/roles.yaml")),
    ("OPSCOPILOT_DEMO_SEED", "11", "app.demo_seed", 11),
    ("OPSCOPILOT_DEMO_TRADES", "300", "app.demo_trades", 300),
    ("OPSCOPILOT_LLM_BASE_URL", "https://llm.bank/v1/", "llm.base_url", "https://llm.bank/v1"),
    ("OPSCOPILOT_LLM_MODEL", "gpt-4o", "llm.model", "gpt-4o"),
    ("OPSCOPILOT_LLM_API_KEY", "sk-llm-secret-1", "llm.api_key", "sk-llm-secret-1"),
    ("OPSCOPILOT_LLM_KEY_HEADER", "api-key", "llm.key_header", "api-key"),
    ("OPSCOPILOT_LLM_HEADERS", '{"X-Desk": "ops"}', "llm.headers", (("X-Desk", "ops"),)),
    ("OPSCOPILOT_LLM_TIMEOUT_S", "9", "llm.timeout_s", 9.0),
    ("OPSCOPILOT_LLM_RETRIES", "0", "llm.retries", 0),
    ("OPSCOPILOT_LLM_MAX_CORRECTIONS", "1", "llm.max_corrections", 1),
    ("OPSCOPILOT_LLM_TOKEN_BUDGET", "4000", "llm.token_budget", 4000),
    ("OPSCOPILOT_LLM_SEND_ROWS", "yes", "llm.send_rows", True),
    ("OPSCOPILOT_REPORTS_DIR", "/srv/reports", "reports.dir", Path("/srv/reports")),
    ("OPSCOPILOT_REPORT_RUN_LIMIT_MINUTES", "15", "reports.run_limit_minutes", 15),
    ("OPSCOPILOT_SMTP_HOST", "mail.bank", "smtp.host", "mail.bank"),
    ("OPSCOPILOT_SMTP_PORT", "2525", "smtp.port", 2525),
    ("OPSCOPILOT_SMTP_SECURITY", "SSL", "smtp.security", "ssl"),
    ("OPSCOPILOT_SMTP_USER", "ops-bot", "smtp.user", "ops-bot"),
    ("OPSCOPILOT_SMTP_PASSWORD", "smtp-secret-2", "smtp.password", "smtp-secret-2"),
    ("OPSCOPILOT_SMTP_SENDER", "ops@bank", "smtp.sender", "ops@bank"),
    ("OPSCOPILOT_REPORT_EXECUTION", "celery", "workers.execution", "celery"),
    ("OPSCOPILOT_APP_URL", "https://copilot.bank", "app.url", "https://copilot.bank"),
    # Added since the sections: secrets at rest and serving beyond loopback.
    ("OPSCOPILOT_SECRET_KEY", "fernet-secret-5", "app.secret_key", "fernet-secret-5"),
    ("OPSCOPILOT_TRUSTED_USER_HEADER", "X-Remote-User", "app.trusted_user_header",
     "X-Remote-User"),
    # Four eyes: the switch, and the bank's own mail domains.
    ("OPSCOPILOT_FOUR_EYES", "off", "approvals.four_eyes", False),
    ("OPSCOPILOT_BANK_DOMAINS", "Bank.example, @bank.co.uk", "reports.bank_domains",
     "bank.example,bank.co.uk"),
    # Added with the identity: claims, the groups header, the timeout, the groups' age.
    ("OPSCOPILOT_TRUSTED_GROUPS_HEADER", "X-Remote-Groups", "app.trusted_groups_header",
     "X-Remote-Groups"),
    ("OPSCOPILOT_USER_CLAIM", "upn", "app.user_claim", "upn"),
    ("OPSCOPILOT_GROUPS_CLAIM", "roles", "app.groups_claim", "roles"),
    ("OPSCOPILOT_SESSION_TIMEOUT_MINUTES", "0.5", "app.session_timeout_minutes", 0.5),
    ("OPSCOPILOT_GROUPS_MAX_AGE_DAYS", "7", "app.groups_max_age_days", 7.0),
    # Enterprise deployment: logs, the shared Redis, the queues the metrics report.
    ("OPSCOPILOT_LOG_FORMAT", "JSON", "ops.log_format", "json"),
    ("OPSCOPILOT_LOG_LEVEL", "warning", "ops.log_level", "WARNING"),
    ("OPSCOPILOT_REDIS_URL", "redis://:pw@cache.bank:6379/2", "ops.redis_url",
     "redis://:pw@cache.bank:6379/2"),
    ("OPSCOPILOT_METRICS_QUEUES", "copilot-reports, other", "ops.metrics_queues",
     "copilot-reports,other"),
]
SECRETS = ("sk-llm-secret-1", "smtp-secret-2", "fernet-secret-5")


def _read(settings: Settings, attribute: str) -> object:
    section, name = attribute.split(".")
    return getattr(getattr(settings, section), name)


def test_defaults_run_the_embedded_demo(tmp_path: Path) -> None:
    settings = load_settings({"OPSCOPILOT_DATA_DIR": str(tmp_path)}, env_file=tmp_path / "none")
    assert settings.warehouse.url == f"sqlite:///{tmp_path / 'otc_demo.db'}"
    assert settings.state.url == f"sqlite:///{tmp_path / 'state.db'}"
    assert settings.audit.url == f"sqlite:///{tmp_path / 'audit.db'}"
    assert settings.audit.url != settings.state.url
    assert settings.state.chroma_dir == tmp_path / "chroma"
    assert settings.audit.key_dir == tmp_path / "audit-keys"
    assert settings.reports.dir == tmp_path / "reports"
    assert settings.uses_demo_warehouse and settings.app.profile == "demo"
    assert settings.warehouse.row_cap == 5000 and settings.warehouse.query_timeout_s == 30
    assert settings.warehouse.effective_as_of(today=date(2026, 1, 2)) == date(2026, 1, 2)
    assert not settings.llm.base_url and not LLMConfig.from_settings(settings).enabled


def test_environment_overrides_and_types(tmp_path: Path) -> None:
    env = {
        "OPSCOPILOT_WAREHOUSE_URL": "postgresql+psycopg://ro@db.internal/otc",
        "OPSCOPILOT_ROW_CAP": "250",
        "OPSCOPILOT_QUERY_TIMEOUT_S": "2.5",
        "OPSCOPILOT_AS_OF": "2026-11-20",
        "UNRELATED": "ignored",
    }
    settings = load_settings(env, env_file=tmp_path / "none")
    assert settings.warehouse.url == "postgresql+psycopg://ro@db.internal/otc"
    assert not settings.uses_demo_warehouse and settings.app.profile == "main"
    assert settings.warehouse.row_cap == 250
    assert settings.warehouse.query_timeout_s == 2.5
    assert settings.warehouse.effective_as_of() == date(2026, 11, 20)


def test_every_old_variable_is_still_read_where_its_section_keeps_it(tmp_path: Path) -> None:
    env = {name: text for name, text, _, _ in OLD_VARIABLES}
    settings = load_settings(env, env_file=tmp_path / "none")
    wrong = {name: _read(settings, attribute) for name, _, attribute, expected in OLD_VARIABLES
             if _read(settings, attribute) != expected}
    assert not wrong
    # ...and the documentation lists exactly these variables, each where it is read.
    documented = {doc.env_var: doc.attribute for doc in all_setting_docs()}
    assert documented == {name: attribute for name, _, attribute, _ in OLD_VARIABLES}


def test_every_old_variable_is_read_from_the_env_file_too(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{name}='{text}'\n" for name, text, _, _ in OLD_VARIABLES))
    settings = load_settings({}, env_file=env_file)
    assert all(_read(settings, attribute) == expected
               for _, _, attribute, expected in OLD_VARIABLES)


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\n"
        "export OPSCOPILOT_ROW_CAP=100\n"
        "OPSCOPILOT_AS_OF='2026-10-01'\n"
        "OPSCOPILOT_WAREHOUSE_SCHEMA=ops  # trailing comment\n"
        "OPSCOPILOT_LLM_MODEL=from-file\n"
        "OPSCOPILOT_SMTP_PORT=25\n"
    )
    settings = load_settings({"OPSCOPILOT_ROW_CAP": "7", "OPSCOPILOT_SMTP_PORT": "465"},
                             env_file=env_file)
    assert settings.warehouse.row_cap == 7
    assert settings.warehouse.as_of == date(2026, 10, 1)
    assert settings.warehouse.schema == "ops"
    assert settings.llm.model == "from-file"
    assert settings.smtp.port == 465


def test_env_file_named_by_variable(tmp_path: Path) -> None:
    env_file = tmp_path / "copilot.env"
    env_file.write_text("OPSCOPILOT_DEMO_TRADES=1234\n")
    settings = load_settings({"OPSCOPILOT_ENV_FILE": str(env_file)})
    assert settings.app.demo_trades == 1234


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("OPSCOPILOT_ROW_CAP", "0", "OPSCOPILOT_ROW_CAP='0' (from the environment) is not valid"),
        ("OPSCOPILOT_ROW_CAP", "lots", "OPSCOPILOT_ROW_CAP"),
        ("OPSCOPILOT_QUERY_TIMEOUT_S", "-1", "seconds"),
        ("OPSCOPILOT_AS_OF", "20/11/2026", "OPSCOPILOT_AS_OF"),
        ("OPSCOPILOT_WAREHOUSE_URL", "oracle://x", "sqlite:///"),
        ("OPSCOPILOT_LLM_HEADERS", "[1]", "OPSCOPILOT_LLM_HEADERS='[1]'"),
        ("OPSCOPILOT_SMTP_SECURITY", "tls", "must be starttls, ssl or none"),
        ("OPSCOPILOT_ROWCAP", "10",
         "Unknown setting OPSCOPILOT_ROWCAP (from the environment); see the README's Settings."),
        ("OPSCOPILOT_LLM_BASEURL", "http://x", "Unknown setting OPSCOPILOT_LLM_BASEURL"),
        ("OPSCOPILOT_SMTP_DIR", "/x", "Unknown setting OPSCOPILOT_SMTP_DIR"),
    ],
)
def test_bad_values_are_refused_with_their_name(
    tmp_path: Path, name: str, value: str, fragment: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        load_settings({name: value}, env_file=tmp_path / "none")


def test_unknown_variable_in_the_env_file_names_file_and_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OPSCOPILOT_ROW_CAP=10\nOPSCOPILOT_LLM_KEY=abc\n")
    with pytest.raises(ConfigError, match=re.escape(
            f"Unknown setting OPSCOPILOT_LLM_KEY (from {env_file}, line 2)")):
        load_settings({}, env_file=env_file)


def test_bad_env_file_line_names_file_and_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OPSCOPILOT_ROW_CAP=10\nthis is not a setting\n")
    with pytest.raises(ConfigError, match=r"\.env, line 2"):
        load_settings({}, env_file=env_file)
    env_file.write_text("OPSCOPILOT_ROW_CAP=10\nOPSCOPILOT_ROW_CAP=ten\n")
    with pytest.raises(ConfigError, match=r"\.env, line 2"):
        load_settings({}, env_file=env_file)


def test_settings_and_their_sections_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.warehouse = settings.warehouse  # type: ignore[misc]
    with pytest.raises(AttributeError):
        settings.warehouse.row_cap = 1  # type: ignore[misc]


def test_for_warehouse_points_one_command_at_another_warehouse(tmp_path: Path) -> None:
    settings = load_settings({"OPSCOPILOT_DATA_DIR": str(tmp_path)}, env_file=tmp_path / "none")
    other = settings.for_warehouse("sqlite:////srv/other.db")
    assert other.warehouse.url == "sqlite:////srv/other.db" and other.app.profile == "main"
    assert other.llm == settings.llm and other.state == settings.state
    assert settings.for_warehouse(None, "desk").app.profile == "desk"
    assert settings.for_warehouse(None) is settings


# A section owned by a module the core never imports: this test file.
@dataclass(frozen=True)
class DeskSettings:
    """A desk's own settings, as a plugin above the core would add them."""

    name: ClassVar[str] = "desk"
    env_prefix: ClassVar[str] = "OPSCOPILOT_DESK_"

    code: str = setting("", parse=parse.stripped, doc="The desk's code.", default_text="empty")
    limit: int = setting(3, parse=parse.positive_int, doc="A limit.", default_text="`3`")
    token: str = setting("", parse=parse.stripped, secret=True, doc="A token.",
                         default_text="empty")
    folder: Path | None = setting(None, parse=parse.path, doc="A folder.",
                                  default_text="`DATA_DIR/desk`")

    def with_data_dir(self, data_dir: Path) -> Self:
        return self if self.folder else dataclasses.replace(self, folder=data_dir / "desk")


def test_a_section_from_outside_the_core_is_read_by_the_loader(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OPSCOPILOT_DESK_LIMIT=9\n")
    env = {"OPSCOPILOT_DATA_DIR": str(tmp_path), "OPSCOPILOT_DESK_CODE": " FX ",
           "OPSCOPILOT_DESK_TOKEN": "desk-secret-3", "OPSCOPILOT_ROW_CAP": "5"}
    settings = read_settings((DeskSettings,), env, env_file)
    assert settings.desk.code == "FX" and settings.desk.limit == 9
    assert settings.section(DeskSettings).folder == tmp_path / "desk"
    assert settings.warehouse.row_cap == 5  # the core's sections are always read
    assert "OPSCOPILOT_DESK_LIMIT" in [doc.env_var for doc in setting_docs((DeskSettings,))]
    shown = {doc.env_var: text for doc, text in settings_in_force(settings)}
    assert shown["OPSCOPILOT_DESK_TOKEN"] == "(set)" and shown["OPSCOPILOT_DESK_LIMIT"] == "9"
    assert "desk-secret-3" not in repr(settings)
    with pytest.raises(ConfigError, match=r"OPSCOPILOT_DESK_LIMIT='0' \(from .*other\.env, "
                                          r"line 1\) is not valid"):
        read_settings((DeskSettings,), {}, _written(tmp_path, "OPSCOPILOT_DESK_LIMIT=0\n"))
    # Without the section, its variables are unknown, as any misspelt name is.
    with pytest.raises(ConfigError, match="Unknown setting OPSCOPILOT_DESK_CODE"):
        read_settings((), env, tmp_path / "none")
    with pytest.raises(AttributeError, match="no settings section 'desk'"):
        _ = read_settings((), {}, tmp_path / "none").desk


def _written(folder: Path, text: str) -> Path:
    path = folder / "other.env"
    path.write_text(text)
    return path


def test_sections_that_clash_are_refused(tmp_path: Path) -> None:
    @dataclass(frozen=True)
    class Clash:
        name: ClassVar[str] = "clash"
        env_prefix: ClassVar[str] = "OPSCOPILOT_"
        row_cap: int = setting(1, parse=int, doc="", default_text="")

        def with_data_dir(self, data_dir: Path) -> Self:
            return self

    with pytest.raises(ConfigError, match="both read OPSCOPILOT_ROW_CAP"):
        read_settings((Clash,), {}, tmp_path / "none")
    named_like_a_property = type("Shadow", (), {"name": "sections", "env_prefix": "OPSCOPILOT_X_"})
    with pytest.raises(ConfigError, match="name 'sections' is taken"):
        read_settings((dataclass(frozen=True)(named_like_a_property),), {}, tmp_path / "none")


def test_the_core_imports_no_section_owned_above_it() -> None:
    above = {"copilot.llm", "reports", "copilot.settings", "copilot.services"}
    offenders = []
    for path in (ROOT / "copilot" / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {m}" for m in modules
                          if any(m == a or m.startswith(a + ".") for a in above)]
    assert not offenders
    assert {LLMSettings, SMTPSettings} <= set(SECTIONS)


def test_secrets_are_never_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    env = {name: text for name, text, _, _ in OLD_VARIABLES}
    env["OPSCOPILOT_WAREHOUSE_URL"] = "postgresql+psycopg://ro:pg-secret-4@db/otc"
    settings = load_settings(env, env_file=tmp_path / "none")
    shown = settings_in_force(settings)
    text = "\n".join(f"{doc.env_var}={value} {doc.doc}" for doc, value in shown)
    assert not any(secret in text for secret in (*SECRETS, "pg-secret-4"))
    assert not any(secret in repr(settings) for secret in SECRETS)
    values = {doc.env_var: value for doc, value in shown}
    assert values["OPSCOPILOT_LLM_API_KEY"] == values["OPSCOPILOT_SMTP_PASSWORD"] == "(set)"
    assert "***" in values["OPSCOPILOT_WAREHOUSE_URL"]
    assert [doc.env_var for doc, _ in shown] == [doc.env_var for doc in all_setting_docs()]
    # The command prints the same, from the environment.
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["settings"]) == 0
    printed = capsys.readouterr().out
    assert "OPSCOPILOT_SMTP_PASSWORD=(set)" in printed
    assert "OPSCOPILOT_SMTP_HOST=mail.bank" in printed
    assert not any(secret in printed for secret in (*SECRETS, "pg-secret-4"))


def test_llm_config_from_text_checks_each_field_as_its_setting() -> None:
    config = LLMConfig.from_text({"base_url": "http://127.0.0.1:9/v1/", "retries": "3"},
                                 api_key="k")
    assert config.base_url == "http://127.0.0.1:9/v1" and config.retries == 3
    with pytest.raises(ConfigError, match=re.escape("OPSCOPILOT_LLM_RETRIES='-1' is not valid")):
        LLMConfig.from_text({"retries": "-1"}, api_key="")


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = README.read_text(encoding="utf-8")
    missing = [doc.env_var for doc in all_setting_docs() if f"`{doc.env_var}`" not in readme]
    assert not missing, f"settings missing from README.md: {missing}"
    assert "`OPSCOPILOT_ENV_FILE`" in readme
    # The table has no row for a variable that is no longer read.
    rows = set(re.findall(r"^\| `(OPSCOPILOT_\w+)` \|", readme, flags=re.MULTILINE))
    assert rows == {doc.env_var for doc in all_setting_docs()} | {"OPSCOPILOT_ENV_FILE"}
