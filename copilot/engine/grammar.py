"""The closed-class grammar of analytic constructs, as data.

Each phrase below is a cue: a construct word with no warehouse meaning of its own ("how
many", "most", "over", "not", "by", "weekly", "sorted by", "share", "how long"). The reader
gives each construct one small function (copilot/engine/stages.py); a cue that nothing can
attach to refuses the question, it is never dropped. `FILLER` holds only words with no
analytic meaning: articles, auxiliaries, pronouns, prepositions that only link, politeness.
Nothing here knows any warehouse: the trained lexicon supplies the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["CUES", "FILLER", "MAX_QUESTION_CHARS", "WRITES", "WRITE_START", "Cue", "CueKind"]

MAX_QUESTION_CHARS = 500

CueKind = Literal["count", "agg", "super", "cmp", "neg", "or", "and", "vs", "group", "bucket",
                  "order", "order_by", "share", "duration", "unit", "distinct", "age", "list"]


@dataclass(frozen=True)
class Cue:
    """A construct word: its kind and argument ("agg"/"avg", "cmp"/">=", "super"/"desc")."""

    kind: CueKind
    arg: str = ""


def _cues(kind: CueKind, arg: str, phrases: str) -> list[tuple[str, Cue]]:
    return [(p.strip(), Cue(kind, arg)) for p in phrases.split("|")]


_TABLE: list[tuple[str, Cue]] = [
    *_cues("count", "", "how many|number of|count of|count|no of|tally|how often|"
            "quantity of|total number of|total count of|the number of"),
    *_cues("agg", "sum", "total|sum|sum of|how much|aggregate|overall|combined|in total|"
            "summed|sum up|add up|tot up"),
    *_cues("agg", "avg", "average|avg|mean|typical|on average|avg."),
    *_cues("agg", "max", "maximum|max|peak|longest|slowest"),
    *_cues("agg", "min", "minimum|min|shortest|quickest|fastest"),
    *_cues("super", "desc", "most|largest|biggest|highest|greatest|top|"
            "maximum number of|the most"),
    *_cues("super", "asc", "least|fewest|smallest|lowest|bottom|the least"),
    *_cues("cmp", ">", "over|above|more than|greater than|exceeding|in excess of|bigger than|"
            "larger than|higher than|>|beyond|upwards of|north of|exceed|exceeds"),
    *_cues("cmp", ">=", "at least|>=|no less than|not less than|minimum of|or more|and above|"
            "or above|and over|and up|or greater|or bigger|or larger|or higher|or over"),
    *_cues("cmp", "<", "under|below|less than|fewer than|smaller than|lower than|<|beneath|"
            "south of"),
    *_cues("cmp", "<=", "at most|<=|no more than|not more than|up to|maximum of|or less|"
            "or fewer|and below|or below|and under|or smaller|or lower|or under"),
    *_cues("cmp", "between", "between"),
    *_cues("cmp", "older", "older than|aged over|aged more than|aged"),
    *_cues("cmp", "newer", "newer than|younger than"),
    *_cues("neg", "", "not|no|without|except|excluding|exclude|other than|non|never|none|"
            "apart from|except for|but not|aside from|excl"),
    *_cues("or", "", "or|either|/"),
    *_cues("and", "", "and|,|&|as well as|plus|along with|together with"),
    *_cues("vs", "", "vs|versus|vs.|compared to|compared with|against each other"),
    *_cues("group", "", "by|per|for each|each|for every|every|split by|broken down by|"
            "broken out by|grouped by|group by|across|by each|breakdown by|in each|within each|"
            "for all"),
    *_cues("bucket", "day", "daily|per day|by day|each day|day by day|a day|every day|"
            "by date|per date|each date|day on day"),
    *_cues("bucket", "week", "weekly|per week|by week|each week|week by week|a week|"
            "every week|week on week"),
    *_cues("bucket", "month", "monthly|per month|by month|each month|month by month|a month|"
            "every month|month on month"),
    *_cues("bucket", "auto", "trend|trends|over time|time series|evolution|history|timeline|"
            "trending|trended"),
    *_cues("order_by", "", "sorted by|sort by|ordered by|order by|ranked by|rank by|"
            "arranged by|sorted on|ranked on|in order of|sorted|ordered|ranked"),
    *_cues("order", "asc", "ascending|asc|increasing|in ascending order|lowest first|"
            "smallest first|least first|fewest first|shortest first|quickest first|"
            "fastest first"),
    *_cues("order", "desc", "descending|desc|decreasing|in descending order|highest first|"
            "largest first|biggest first|most first|longest first|slowest first"),
    *_cues("order", "newest", "newest first|latest first|most recent first|newest|latest|"
            "most recent|recent first|last first|recent"),
    *_cues("order", "oldest", "oldest first|earliest first|oldest|earliest"),
    *_cues("order", "first", "first"),
    *_cues("order", "alpha", "alphabetically|alphabetical|in alphabetical order|a to z|"
            "a-z|by name"),
    *_cues("share", "", "percentage|percent|%|share|proportion|fraction|ratio|pct|"
            "percentage of|share of|proportion of|fraction of|what part of"),
    *_cues("duration", "", "how long|time taken|time to|turnaround|take|takes|taking|took|"
            "time it takes|how much time|length of time|elapsed|time between"),
    *_cues("unit", "days", "in days|day|days|calendar days|number of days"),
    *_cues("unit", "hours", "in hours|hour|hours|number of hours"),
    *_cues("distinct", "", "distinct|unique|different|separate"),
    *_cues("age", "", "age bucket|age buckets|by age|ageing|aging|age band|age bands|"
            "age profile|by age band|by age bucket|age"),
    *_cues("list", "", "show|list|display|find|give|get|pull|fetch|bring up|see|view|"
            "return|extract|what are|which are|who are|tell|provide|report|identify|lookup|"
            "look up|details|detail|breakdown of|all details|record|records|row|rows|entry|"
            "entries|one|ones|split|break down|breakdown|broken down|single|individual"),
]
# A phrase may be more than one construct ("over" compares an amount or an age): all kept.
CUES: dict[str, tuple[Cue, ...]] = {}
for _phrase, _cue in _TABLE:
    CUES[_phrase] = (*CUES.get(_phrase, ()), _cue)

# Words with no analytic meaning: articles, auxiliaries, pronouns, linking prepositions,
# question words that only open a question, and politeness.
FILLER = frozenset("""
a an the of in on at for to from into with within about regarding concerning as is are
was were be been being am do does did doing done have has had having get got i me my
mine we our ours us you your yours it its they them their theirs he she his her there
here this that these those what which who whom whose where how please kindly thanks
thank can could would will shall should may might must let want need like wish know ask
asking tell me 's currently current now right still yet so far just only all any some
also really actually exactly precisely altogether okay ok hi hello hey dear team quick
quickly again then today's among amongst against them both based located domiciled
sitting through via
""".split())  # noqa: SIM905

# Verbs that ask to change data. A read-only copilot refuses them outright.
WRITES = re.compile(
    r"\b(delete|drop|remove|update|insert|truncate|alter|modify|purge|wipe|erase|rename|"
    r"grant|revoke|create|cancel|amend|change|overwrite|replace|restore|reset|approve|"
    r"reassign|assign|close|resolve|settle|book|release|rebook|send|mark|set|flag|escalate|"
    r"merge|upload|import|write|save|edit|fix|reject|accept|confirm|affirm|match)\b"
    r"(?!\s*(?:on|date|d\b))"
)
WRITE_START = re.compile(r"^\s*(?:please\s+|pls\s+|can you\s+|could you\s+|would you\s+|"
                         r"i want to\s+|i need to\s+|i'd like to\s+|let's\s+|go\s+|now\s+)?"
                         + WRITES.pattern)
