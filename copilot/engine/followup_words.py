"""The closed-class words of follow-up questions, as data: markers that say a question
continues the last one ("and", "what about", "only", "instead"), pronouns that point back
("those", "them", "the ones"), a chart asked for by name, a period shifted ("the week
before"), a comparison ("vs last month", "month on month"), a drill ("list the rows behind
MARKITWIRE") and a filter dropped ("all currencies"). Nothing here knows a warehouse.
"""

from __future__ import annotations

import re

__all__ = [
    "ADD",
    "AFRESH",
    "BACK",
    "CHART",
    "COMPARE",
    "DRILL",
    "DRILL_INTO",
    "DRILL_ROWS",
    "LEADER",
    "LEAD_VERB",
    "LEAVE_OUT",
    "MARKER",
    "PRONOUNS",
    "REMOVE",
    "SHIFT",
    "TOP_N",
    "UNIT_ON_UNIT",
    "WHICH",
    "split_chart",
    "strip_markers",
]

# Leading words that make a question a follow-up; stripped before its words are read.
MARKER = re.compile(
    r"^(?:(?:and|now|then|ok|okay|so|but|also|plus|just|only|instead|same\s+but|hmm+|hm+|um+|"
    r"uh+|right|alright|well|actually|cool|great|thanks|thank\s+you|perfect|nice|sure|"
    r"can\s+you|could\s+you|please|let'?s\s+see|make\s+(?:it|that|this)(?:\s+into)?|"
    r"(?:switch|change|move|flip|swap|go)\s+(?:it\s+|that\s+|this\s+)?(?:over\s+)?to|"
    r"(?:cut|slice|group|bucket|organi[sz]e|arrange|lay\s+out)\s+(?:it|that|this|them)?"
    r"(?=\s*by\b)|break\s+(?:it\s+|that\s+|them\s+|each\s+\w+\s+|the\s+\w+\s+)?"
    r"(?:down|out|up)(?=\s+by\b)|"
    r"(?:the\s+)?same(?:\s+thing)?(?=\s+(?:for|with|without|minus|excluding|except)\b)|"
    r"(?:can|could|may)\s+(?:i|we|you)(?:\s+please)?(?:\s+(?:see|get|have|look\s+at|show|do))?"
    r"(?:\s+(?:it|that|this|them|those|me))?|(?:filter|limit|restrict|narrow)(?![\w\s]*?\d)(?:\s+(?:it|"
    r"that|this|them|down|the\s+list))?(?:\s+(?:to|on|for|by))?|"
    r"(?:sort|order|sorted|ordered)(?=\s+(?:descending|ascending|desc|asc|in\s+(?:ascending|"
    r"descending)))|what\s+about|how\s+about|what\s+if|of\s+those|"
    r"of\s+these|of\s+them|among\s+those|from\s+those|for\s+those|and\s+then|now\s+show|"
    r"show\s+only|show\s+just|keep\s+only|break\s+(?:it|that|them)\s+down|split\s+(?:it|that|"
    r"them)|group\s+(?:it|that|them))\b[\s,]*)+", re.I)
# Words that point back at the previous answer or only soften the edit; never content.
PRONOUNS = re.compile(
    r"\b(?:the\s+)?(?:ones?|those|these|them|that\s+one|it|same|instead|too|"
    r"(?:this|that)(?!\s+(?:day|week|month|quarter|year)\b)|"
    r"as\s+well|again|please|then|only|just|rather|their|its)\b", re.I)
# Words anywhere in a question that point back at the last one: it is a follow-up.
BACK = re.compile(r"\b(?:instead|too|as\s+well|ones|those|them|these|the\s+same|same\s+but|"
                  r"same\s+for|rather|of\s+them|only|just|their|its|in\s+there|in\s+it|"
                  r"from\s+there|among\s+them|in\s+that|in\s+those)\b", re.I)
# Words that point back at the last answer as a whole: "in there", "of those".
POINTER = re.compile(r"(?:there|that|it|those|them|these|here|this)", re.I)
# A leading verb of a follow-up ("show by desk", "show top 3"): no meaning of its own.
LEAD_VERB = re.compile(r"^(?:show|give|display|get|see|do)(?:\s+me)?(?:\s+(?:it|that|them))?"
                       r"\s+", re.I)
# "leave out HSBC", "ignore HSBC": what is left out ("excluding HSBC").
LEAVE_OUT = re.compile(r"^(?:leave\s+out|leaving\s+out|ignore|ignoring|drop|remove|take\s+out|"
                       r"minus|omit|skip|filter\s+out|exclude|excl\.?|ex|without|"
                       r"not\s+counting|not\s+including|other\s+than|apart\s+from|not|no|"
                       r"except(?:\s+for)?|excluding|but\s+not)\s+(?:the\s+|(?:anything|"
                       r"everything|all|whatever)\s+(?:with|from|for|on|in)\s+)?", re.I)
# Politeness at the end: "..., thanks", "please". No meaning; it goes.
TRAILING = re.compile(r"[\s,;.!-]*\b(?:thanks|thank\s+you|thx|cheers|please|pls|ta)\b[\s.!]*$",
                      re.I)
# "split by", "break it down by", "subdivide by": the groups are split further (added to).
SPLIT = re.compile(r"\b(?:split|break(?:s|ing)?\s+(?:[\w]+\s+){0,2}?(?:down|out)|"
                   r"broken\s+(?:down|out)|subdivide[ds]?|further)\b", re.I)
# "swap hedge funds for asset managers", "replace EUR with GBP": one value for another.
SWAP = re.compile(r"^(?:swap|replace|switch|change|substitute)\s+(?:the\s+)?(?P<old>.+?)\s+"
                  r"(?:for|with|to|by|into)\s+(?:the\s+)?(?P<new>.+)$", re.I)
# "order it by currency", "sort them highest first": the verb of a sort, its object gone.
SORT_LEAD = re.compile(r"^(?:sort|order|rank|arrange)(?:\s+(?:it|them|that|those|these|the\s+"
                       r"(?:list|results|rows)))?\s+", re.I)
# "top 3", "the 3 biggest", "first 5", "limit to 3", "bottom 2": a cut to N groups.
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
           "eight": 8, "nine": 9, "ten": 10, "twenty": 20}
_NUM = r"(?:\d+|" + "|".join(NUMBERS) + r")"
TOP_N = re.compile(
    r"^(?:keep\s+|show\s+|only\s+|just\s+)?(?:(?:the\s+)?(?:top|first|largest|biggest|"
    r"highest|most)\s+(?P<top>" + _NUM + r")|(?:the\s+)?(?P<top2>" + _NUM + r")\s+(?:biggest|"
    r"largest|highest|top|most)|limit\s+(?:it\s+|that\s+|them\s+)?to\s+(?:the\s+top\s+)?"
    r"(?P<top3>" + _NUM + r")|(?:the\s+)?(?:bottom|smallest|lowest|least|fewest)\s+"
    r"(?P<bottom>" + _NUM + r")|(?:the\s+)?(?P<bottom2>" + _NUM + r")\s+(?:smallest|lowest|least|"
    r"fewest)|(?:which|what)\s+(?P<top4>" + _NUM + r")\s+[\w\s-]+?\s+(?:have|has|had|got|are|"
    r"is)\s+(?:the\s+)?(?:most|highest|largest|biggest)|(?:which|what)\s+(?P<bottom3>" + _NUM
    + r")\s+[\w\s-]+?\s+(?:have|has|had|got|are|is)\s+(?:the\s+)?(?:least|fewest|lowest|"
    r"smallest))(?:\s+(?:rows|groups|ones|of\s+them|of\s+those|only))?$", re.I)
# "also", "too", "as well", "additionally": a grouping is added, not replaced.
ADD = re.compile(r"\b(?:also|too|as\s+well|additionally|in\s+addition|further|"
                 r"then\s+also)\b", re.I)
# A question that says it starts afresh (the first option of a clarification).
AFRESH = re.compile(
    r"^\s*(?:(?:ok|okay|hmm+|right|so|and|also|now)[\s,]+)*(?:afresh|(?:a\s+)?(?:new|"
    r"different|another|separate|unrelated)\s+(?:question|topic|one)|separately|unrelated|"
    r"on\s+another\s+note|change\s+of\s+(?:topic|subject)|switching\s+topics?)"
    r"\s*(?:[:,\-\u2013\u2014]+\s*|\s+)", re.I)
_CHART = (r"(?:as|in|into|on|with)\s+(?:a\s+|an\s+)?(?P<kind>pie|bar|line|donut|column|table)"
          r"(?:\s+(?:chart|graph|plot|view))?")
CHART = re.compile(
    r"[\s,]*\b(?:(?:(?:show|draw|plot|display|make|put)\s+(?:it|that|this|them)?\s*)?"
    + _CHART + r"|(?:make|turn|change|switch)\s+(?:it|that|this|them)\s+(?:(?:in)?to\s+)?"
    r"(?:a\s+|an\s+)?(?P<kind2>pie|bar|line|donut|column|table)(?:\s+(?:chart|graph))?|"
    r"^(?P<kind3>pie|bar|line|donut|column)\s+(?:chart|graph)s?)"
    r"\s*(?:instead|please)?\b", re.I)
_UNIT = r"(?P<unit>day|week|month|quarter|year|period)"
# "the week before", "the previous month", "a month earlier", "the one before".
SHIFT = re.compile(
    r"\b(?:(?:the|a|one)\s+)?" + _UNIT + r"\s+(?:before|earlier|prior)\b|"
    r"\b(?:the\s+)?(?:previous|prior|preceding)\s+" + _UNIT.replace("unit", "unit2") + r"\b|"
    r"\bthe\s+one\s+before\b", re.I)
# "compare with last month", "vs the previous week", "versus Q3", "against last month".
COMPARE = re.compile(
    r"^(?:how\s+(?:does|do|did)\s+(?:that|it|this|they|those|these)\s+(?:compare|stack\s+up|"
    r"look|measure\s+up)\s+(?:with|to|against|vs\.?|versus|compared\s+(?:to|with))|"
    r"compared?\s+(?:it\s+|this\s+|that\s+|them\s+)?(?:with|to|against)|vs\.?|versus|"
    r"against|compared\s+(?:with|to)|relative\s+to|change\s+(?:from|since|vs\.?|versus))"
    r"\s+(?P<other>.+)$", re.I)
# "put this month side by side with last month", "this week against last week".
TWO_PERIODS = re.compile(
    r"^(?:put\s+|show\s+|compare\s+|set\s+)?(?P<now>.+?)\s+(?:side\s+by\s+side\s+with|next\s+to|"
    r"alongside|against|vs\.?|versus|compared\s+(?:to|with)|and|with)\s+(?P<other>.+?)"
    r"(?:\s+side\s+by\s+side)?$", re.I)
# "assigned or not", "cleared or not": that condition goes.
OR_NOT = re.compile(r"^(?P<x>[\w\s-]+?)\s+or\s+not$", re.I)
UNIT_ON_UNIT = re.compile(r"^(?:(?P<unit>day|week|month|quarter|year)\s+(?:on|over)\s+"
                          r"(?P=unit)|(?P<short>dod|wow|mom|qoq|yoy))$", re.I)
# "list the rows behind MARKITWIRE", "show the confirmations behind the largest", "list them".
DRILL = re.compile(
    r"^(?:list|show|give|display|see|pull|(?:what|which|who)\s+(?:are|were))(?:\s+me)?\s+"
    r"(?:all\s+)?(?:of\s+)?(?:the\s+)?(?:underlying\s+|individual\s+|actual\s+)?"
    r"(?P<what>[\w\s-]*?)\s*(?:\b(?:behind|making\s+up|under|in|for|of|from|on)\s+"
    r"(?P<target>.+))?$", re.I)
# "which ones are they?", "which settlements are those?": the rows behind the answer.
WHICH = re.compile(r"^(?:which|what|who)\s+(?P<what>[\w\s-]*?)\s*(?:are|were|is)\s+(?:they|"
                   r"those|these|them|it)$|^which\s+ones$", re.I)
# "which trades are behind the LCH number?", "what makes up the largest?": rows behind.
BEHIND = re.compile(r"^(?:which|what)\s+(?P<what>[\w\s-]*?)\s*(?:are|were|is|make\s+up|"
                    r"makes\s+up)\s+(?:behind|in|under)?\s*(?P<target>.+)$", re.I)
# "that number", "the LCH number", "this total": the number the last answer gave.
THE_NUMBER = re.compile(r"^(?:the|that|this)\s+(?:(?P<value>[\w-]+)\s+)?(?:number|figure|count|"
                        r"total|amount|one|row|bar|group)$", re.I)
# "not just open", "not only live": that condition goes.
NOT_JUST = re.compile(r"(?:^|[,;]\s*|\s)not\s+(?:just|only)\s+(?:the\s+)?(?P<x>[\w\s-]+?)"
                      r"(?:\s+ones)?\s*(?:[,;]|$)", re.I)
# "drill into USD", "drill down on MARKITWIRE", "zoom in on EMAIL": the rows behind a group.
DRILL_INTO = re.compile(r"^(?:drill(?:\s+down)?|zoom(?:\s+in)?|dig(?:\s+in)?|expand)\s+"
                        r"(?:into|in\s+to|on|to|down\s+on)?\s*(?P<target>.+)$", re.I)
DRILL_ROWS = frozenset({"rows", "records", "details", "detail", "ones", "them", "those",
                        "these", "it", "underlying rows", "underlying records", "items",
                        "lines", "entries", "", "all", "all rows", "rows all"})
# What "behind the largest" points at: the previous answer's first group.
LEADER = re.compile(r"^(?:the\s+)?(?:largest|biggest|top|first|highest|leader|top\s+one|"
                    r"first\s+one|largest\s+one|biggest\s+one|top\s+group|first\s+group|it|"
                    r"that|that\s+one|one\s+at\s+the\s+top|top\s+row|first\s+row|number\s+one|"
                    r"#\s*1|top\s+of\s+the\s+list|winner|worst\s+one|worst|top\s+[\w-]+|"
                    r"biggest\s+[\w-]+|largest\s+[\w-]+|whoever\s+is\s+(?:top|first)|"
                    r"whoever\s+has\s+the\s+most|one\s+with\s+the\s+most)$", re.I)
# "all currencies", "any counterparty", "drop the GBP filter", "regardless of currency".
REMOVE = re.compile(
    r"^(?:for\s+|across\s+|over\s+)?(?:all|any|every|both)\s+(?P<all>.+)$|"
    r"^(?:with\s+)?(?:drop|remove|clear|without|no|ignore|lose|forget)\s+(?:the\s+)?"
    r"(?P<filter>.+?)\s+"
    r"(?:filter|condition|restriction)s?$|"
    r"^(?:drop|remove|clear|ignore|lose|forget)\s+(?:the\s+)?(?P<named>.+)$|"
    r"^regardless\s+of\s+(?:the\s+)?(?P<regardless>.+)$", re.I)


def split_chart(question: str) -> tuple[str | None, str]:
    """The chart a question asks for by name ("as a pie chart") and the question without
    those words; (None, question) when it names none."""
    match = CHART.search(question)
    if match is None:
        return None, question
    named = (match.group("kind") or match.group("kind2") or match.group("kind3")).lower()
    kind = {"donut": "pie", "column": "bar"}.get(named, named)
    rest = (question[:match.start()] + " " + question[match.end():]).strip(" ,")
    return kind, rest


def strip_markers(question: str) -> tuple[bool, str]:
    """(whether the question opens with a follow-up marker, the question without it)."""
    match = MARKER.match(question)
    if match is None or not match.group(0).strip(" ,"):
        return False, question
    return True, question[match.end():].strip(" ,")
