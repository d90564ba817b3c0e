"""The SQL guard: no statement reaches the warehouse unless it is one safe, read-only query
over known tables, capped and written in the warehouse's dialect."""

from copilot.core.guard.guard import DIALECTS, MAX_SQL_CHARS, Guard
from copilot.core.guard.policy import Policy, default_policy, load_policy
from copilot.core.guard.verdict import GuardedSQL, GuardSchema, RuleName, Verdict

__all__ = [
    "DIALECTS",
    "MAX_SQL_CHARS",
    "Guard",
    "GuardSchema",
    "GuardedSQL",
    "Policy",
    "RuleName",
    "Verdict",
    "default_policy",
    "load_policy",
]
