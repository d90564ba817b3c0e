"""Who may do what: roles, the actions each allows, and the check every service makes before
it acts (not only the page hiding a button). A refused action is recorded as blocked.

Roles come from a YAML file (`OPSCOPILOT_ROLES`), by user and by group (an IdP's groups
claim can name the groups), validated with file and line:

```yaml
users:  {alice: [analyst], tom: [trainer], ada: [admin], dave: [auditor]}
groups: {ops-desk: [viewer]}
```

Without a roles file every person holds every role: the embedded single-user demo, which
says so on the Settings page. With one, a person named nowhere holds no role.

A person's groups are handed in when known, else looked up in the directory
(copilot/core/directory.py: the groups their last sign-in stated), so a check made for
someone not at the keyboard (their scheduled report) sees the same groups as one made while
they click; groups confirmed too long ago count as none, and the refusal says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import yaml

from copilot.core.audit.record import Channel
from copilot.core.audit.recorder import Recorder
from copilot.core.directory import GroupLookup, Membership
from copilot.core.errors import ConfigError, CopilotError

__all__ = ["ACTIONS", "ROLES", "Access", "AccessDenied", "load_roles"]

Role = Literal["viewer", "analyst", "trainer", "admin", "auditor"]
ROLES: tuple[Role, ...] = ("viewer", "analyst", "trainer", "admin", "auditor")
_ASKERS = frozenset({"viewer", "analyst", "trainer", "admin"})
# Each action and the roles that allow it. The auditor reads the audit trail, nothing else.
ACTIONS: Mapping[str, frozenset[str]] = {
    "ask": _ASKERS,
    "view dashboards": _ASKERS,
    "run own SQL": frozenset({"analyst", "trainer", "admin"}),
    "save widgets": frozenset({"analyst", "trainer", "admin"}),
    "schedule reports": frozenset({"analyst", "trainer", "admin"}),
    "train the copilot": frozenset({"trainer"}),
    "change settings": frozenset({"admin"}),
    "read the audit trail": frozenset({"auditor"}),
    # Four eyes (copilot/approvals/): who may propose a change that waits, and who approves
    # it; the maker never approves their own.
    "propose training": frozenset({"analyst", "trainer"}),
    "approve training": frozenset({"trainer"}),
    "approve settings": frozenset({"admin"}),
    "approve recipients": frozenset({"admin"}),
}


# Where a refused action is recorded: the audit channel of what was tried.
_CHANNELS: Mapping[str, Channel] = {
    "ask": "ask", "run own SQL": "ask", "view dashboards": "dashboard",
    "save widgets": "dashboard", "schedule reports": "report",
    "train the copilot": "training", "change settings": "settings",
    "read the audit trail": "audit", "propose training": "training",
    "approve training": "training", "approve settings": "settings",
    "approve recipients": "report",
}


class AccessDenied(CopilotError):
    """A person tried an action none of their roles allows."""


@dataclass(frozen=True)
class Access:
    """The roles of each person, and the check; `open` when no roles file is configured."""

    users: Mapping[str, frozenset[str]] = field(default_factory=dict)
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)
    open: bool = True
    directory: GroupLookup | None = None  # a person's groups when the caller has none

    def with_directory(self, directory: GroupLookup) -> Access:
        """These roles, looking up groups not handed in in `directory`."""
        return replace(self, directory=directory)

    def membership(self, user: str, groups: frozenset[str] | None = None) -> Membership:
        """`user`'s groups: those handed in, else the directory's (none without one)."""
        if groups is not None:
            return Membership(user, groups)
        if self.directory is None or not user:
            return Membership(user)
        return self.directory.membership(user)

    def roles_of(self, user: str, groups: frozenset[str] | None = None) -> frozenset[str]:
        """The roles `user` (in `groups`, else in the directory's groups) holds."""
        if self.open:
            return frozenset(ROLES)
        return self._held(user, self.membership(user, groups).groups)

    def allows(self, user: str, action: str, groups: frozenset[str] | None = None) -> bool:
        return bool(self.roles_of(user, groups) & ACTIONS[action])

    def allows_any(self, user: str, actions: Iterable[str],
                   groups: frozenset[str] | None = None) -> bool:
        """True when `user` may do one of `actions` (what a page is for: navigation)."""
        roles = self.roles_of(user, groups)
        return any(roles & ACTIONS[action] for action in actions)

    def check(self, user: str, action: str, what: str, *, recorder: Recorder,
              groups: frozenset[str] | None = None) -> None:
        """Nothing when `user` may do `action`; else the attempt `what` is recorded as
        blocked and AccessDenied says which role it needs (and, when the directory's groups
        were too old to count, that too)."""
        if self.open:
            return
        member = self.membership(user, groups)
        if self._held(user, member.groups) & ACTIONS[action]:
            return
        needed = " or ".join(sorted(ACTIONS[action]))
        reason = f"{user or 'nobody'} may not {action}: it needs the {needed} role."
        if self.directory is not None:
            reason += member.note(self.directory.max_age_days)
        recorder.record(_CHANNELS[action], what, by=user,
                        outcome="blocked", reason=reason, details={"action": action})
        raise AccessDenied(reason)

    def _held(self, user: str, groups: frozenset[str]) -> frozenset[str]:
        held = set(self.users.get(user, ()))
        for group in groups:
            held |= self.groups.get(group, frozenset())
        return frozenset(held)


def load_roles(path: Path) -> Access:
    """The roles file at `path`; ConfigError naming the file and line of a mistake."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the roles file ({exc}).") from None
    found: dict[str, dict[str, frozenset[str]]] = {"users": {}, "groups": {}}
    if node is not None:
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(f"{path}, line {node.start_mark.line + 1}: the roles file is a "
                              "mapping with 'users' and 'groups'.")
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.value not in found:
                raise ConfigError(f"{path}, line {line}: unknown key {key.value!r}; the roles "
                                  "file has 'users' and 'groups'.")
            found[key.value] = _names(path, value)
    return Access(found["users"], found["groups"], open=False)


def _names(path: Path, node: yaml.Node) -> dict[str, frozenset[str]]:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{path}, line {node.start_mark.line + 1}: expected names, each "
                          "with a list of roles.")
    out: dict[str, frozenset[str]] = {}
    for name, roles in node.value:
        line = roles.start_mark.line + 1
        if not isinstance(roles, yaml.SequenceNode) or not all(
                isinstance(r, yaml.ScalarNode) for r in roles.value):
            raise ConfigError(f"{path}, line {line}: {name.value!r} needs a list of roles.")
        unknown = [r.value for r in roles.value if r.value not in ROLES]
        if unknown:
            raise ConfigError(f"{path}, line {line}: unknown role {unknown[0]!r}; the roles are "
                              f"{', '.join(ROLES)}.")
        out[str(name.value)] = frozenset(r.value for r in roles.value)
    return out
