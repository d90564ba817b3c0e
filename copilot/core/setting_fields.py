"""What a settings section is: a frozen dataclass whose fields each document one variable.

A section belongs to the floor that uses it (the warehouse's in core, the LLM's in
copilot/llm, the SMTP server's in reports) and names its environment prefix: the field
`base_url` of the section with prefix `OPSCOPILOT_LLM_` is read from
`OPSCOPILOT_LLM_BASE_URL`. A field whose variable predates the sections keeps its name with
`env=` (`OPSCOPILOT_ROW_CAP` is the warehouse's `row_cap`), because users have these names in
their `.env` files. Each field carries its parser, its documentation and whether it is a
secret, so the loader, the README table, `python -m copilot settings` and the Settings page
all work from the one definition.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

from copilot.core.errors import ConfigError

__all__ = ["ENV_FILE_VAR", "ENV_PREFIX", "SettingDoc", "SettingsSection", "check_sections",
           "env_var", "parse_setting", "section_docs", "section_fields", "setting"]

ENV_PREFIX = "OPSCOPILOT_"
ENV_FILE_VAR = ENV_PREFIX + "ENV_FILE"  # names the .env file; read before any section


class SettingsSection(Protocol):
    """A frozen dataclass of settings, every field made with `setting()`."""

    name: ClassVar[str]  # the attribute of Settings it is read as: `settings.llm`
    env_prefix: ClassVar[str]  # `OPSCOPILOT_LLM_`; a field's variable is prefix + NAME

    def with_data_dir(self, data_dir: Path) -> Self:
        """This section with the defaults that live in the data folder filled in (or itself,
        when none do); called once the data folder is known."""
        ...


def setting(default: Any, *, parse: Callable[[str], Any], doc: str, default_text: str,
            secret: bool = False, env: str | None = None) -> Any:
    """One field of a section: its default, how its text is parsed, its documentation.

    `env` gives the whole variable name when it does not follow the section's prefix. A
    secret is kept out of repr() and shown only as "(set)".
    """
    metadata = {"parse": parse, "doc": doc, "default_text": default_text, "secret": secret,
                "env": env}
    return dataclasses.field(default=default, repr=not secret, metadata=metadata)


@dataclass(frozen=True)
class SettingDoc:
    """One setting as documented: its variable, meaning and default."""

    env_var: str
    doc: str
    default_text: str
    secret: bool = False  # never printed or shown back
    attribute: str = ""  # where the value is read: `llm.base_url`


def env_var(section: type[SettingsSection], field: dataclasses.Field[Any]) -> str:
    """The environment variable a section's field is read from."""
    return field.metadata["env"] or section.env_prefix + field.name.upper()


def section_fields(
    section: type[SettingsSection],
) -> Iterator[tuple[str, dataclasses.Field[Any]]]:
    """Every (variable, field) of a section, in field order."""
    for field in dataclasses.fields(section):  # type: ignore[arg-type]
        yield env_var(section, field), field


def section_docs(section: type[SettingsSection]) -> tuple[SettingDoc, ...]:
    """Every setting of a section as documented, in field order."""
    return tuple(
        SettingDoc(env_var=name, doc=field.metadata["doc"],
                   default_text=field.metadata["default_text"],
                   secret=field.metadata["secret"], attribute=f"{section.name}.{field.name}")
        for name, field in section_fields(section)
    )


def parse_setting(section: type[SettingsSection], name: str, text: str) -> Any:
    """One field's value from text, as the environment gives it; ConfigError names the
    variable when the text is not valid."""
    field = next((f for f in dataclasses.fields(section)  # type: ignore[arg-type]
                  if f.name == name), None)
    if field is None:
        raise ConfigError(f"{section.env_prefix}{name.upper()} is not a setting.")
    try:
        return field.metadata["parse"](text.strip())
    except ValueError as exc:
        raise ConfigError(
            f"{env_var(section, field)}={text!r} is not valid: {exc}.") from None


def check_sections(sections: Iterable[type[SettingsSection]], reserved: Iterable[str] = ()
                   ) -> dict[str, tuple[type[SettingsSection], str]]:
    """{variable: (section, field name)} of the sections, after checking that they fit
    together: every field made with `setting()`, no name or variable claimed twice.

    A clash is a programming error, but it is refused here, at start, rather than letting one
    section silently read another's variable.
    """
    known: dict[str, tuple[type[SettingsSection], str]] = {}
    names = set(reserved)
    for section in sections:
        if not section.env_prefix.startswith(ENV_PREFIX):
            raise ConfigError(f"Settings section {section.__name__}'s prefix "
                              f"{section.env_prefix} does not start with {ENV_PREFIX}.")
        if section.name in names:
            raise ConfigError(f"Settings section {section.__name__}'s name {section.name!r} "
                              "is taken by another section or by Settings itself.")
        names.add(section.name)
        for name, field in section_fields(section):
            if "parse" not in field.metadata:
                raise ConfigError(f"{section.__name__}.{field.name} is not made with setting().")
            if name in known or name == ENV_FILE_VAR:
                raise ConfigError(f"Two settings sections both read {name}.")
            known[name] = (section, field.name)
    return known
