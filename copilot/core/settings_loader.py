"""One loader for every settings section: the environment over an optional `.env` file.

The core cannot import the sections owned above it, so the loader takes them as an argument;
the composition root (copilot/settings.py) names them all once. Sections are passed rather
than registered when their module is imported because an unknown `OPSCOPILOT_` variable is
refused: with registration at import, whether `OPSCOPILOT_SMTP_HOST` is known would depend on
whether something had happened to import reports first.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from copilot.core.errors import ConfigError
from copilot.core.setting_fields import ENV_FILE_VAR, ENV_PREFIX, SettingsSection, check_sections
from copilot.core.settings import CORE_SECTIONS, Settings

__all__ = ["read_env_file", "read_settings"]


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


def read_settings(
    sections: Iterable[type[SettingsSection]] = (),
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = None,
) -> Settings:
    """Settings from the environment (default: os.environ) and a `.env` file: the core's
    sections always, and `sections`, those owned above the core.

    The `.env` file is `OPSCOPILOT_ENV_FILE` if set, else `.env` in the working directory;
    it is optional. Unknown `OPSCOPILOT_` names are refused, because a misspelt setting that
    silently does nothing is worse than an error.
    """
    extra = tuple(s for s in dict.fromkeys(sections) if s not in CORE_SECTIONS)
    # An added section may not take a name Settings already answers (`sections`, `app`).
    reserved = {name for name in dir(Settings) if not name.startswith("_")}
    reserved -= {s.name for s in CORE_SECTIONS}
    known = check_sections((*CORE_SECTIONS, *extra), reserved)

    env = dict(os.environ if environ is None else environ)
    path = env_file or Path(env.get(ENV_FILE_VAR, ".env"))
    sources: dict[str, tuple[str, str]] = {}
    if path.is_file():
        for name, (value, line) in read_env_file(path).items():
            sources[name] = (value, f"{path}, line {line}")
    for name, value in env.items():
        sources[name] = (value, "the environment")

    values: dict[type[SettingsSection], dict[str, Any]] = {}
    for name, (raw, where) in sorted(sources.items()):
        if not name.startswith(ENV_PREFIX) or name == ENV_FILE_VAR:
            continue
        if name not in known:
            raise ConfigError(f"Unknown setting {name} (from {where}); see the README's Settings.")
        if raw.strip() == "":
            continue  # an empty value means "use the default", as in most .env tooling
        section, field_name = known[name]
        parser = section.__dataclass_fields__[field_name].metadata["parse"]  # type: ignore[attr-defined]
        try:
            values.setdefault(section, {})[field_name] = parser(raw.strip())
        except ValueError as exc:
            raise ConfigError(f"{name}={raw!r} (from {where}) is not valid: {exc}.") from None

    def build(section: type[SettingsSection]) -> Any:
        return section(**values.get(section, {}))

    app, warehouse, state, audit = (build(s) for s in CORE_SECTIONS)
    return Settings(app=app, warehouse=warehouse, state=state, audit=audit,
                    extra=tuple(build(s) for s in extra))
