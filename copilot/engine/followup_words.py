"""The closed-class words of follow-up questions, as data: markers that say a question
continues the last one ("and", "what about", "only", "instead"), pronouns that point back
("those", "them", "the ones"), a chart asked for by name, a period shifted ("the week
before"), a comparison ("vs last month", "month on month"), a drill ("list the rows behind
MARKITWIRE") and a filter dropped ("all currencies"). Nothing here knows a warehouse.
"""

from __future__ import annotations

import re

__all__ = ["ADD", "AFRESH", "BACK", "CHART", "COMPARE", "DRILL", "DRILL_ROWS", "LEADER", "MARKER",
           "PRONOUNS", "REMOVE", "SHIFT", "UNIT_ON_UNIT", "WHICH", "split_chart",
           "strip_markers"]

# Leading words that make a question a follow-up; stripped before its words are read.
MARKER = re.compile(
    r"^(?:(?:and|now|then|ok|okay|so|but|also|plus|just|only|instead|same\s+but|same\s+for|"
    r"same\s+thing\s+for|the\s+same\s+for|what\s+about|how\s+about|what\s+if|of\s+those|"
    r"of\s+these|of\s+them|among\s+those|from\s+those|for\s+those|and\s+then|now\s+show|"
    r"show\s+only|show\s+just|keep\s+only|break\s+(?:it|that|them)\s+down|split\s+(?:it|that|"
    r"them)|group\s+(?:it|that|them))\b[\s,]*)+", re.I)
# Words that point back at the previous answer or only soften the edit; never content.
PRONOUNS = re.compile(
    r"\b(?:the\s+)?(?:ones?|those|these|them|that\s+one|it|same|instead|too|"
    r"(?:this|that)(?!\s+(?:day|week|month|quarter|year)\b)|"
    r"as\s+well|again|please|then|only|just|rather)\b", re.I)
# Words anywhere in a question that point back at the last one: it is a follow-up.
BACK = re.compile(r"\b(?:instead|too|as\s+well|ones|those|them|these|the\s+same|same\s+but|"
                  r"same\s+for|rather|of\s+them)\b", re.I)
# "also", "too", "as well", "additionally": a grouping is added, not replaced.
ADD = re.compile(r"\b(?:also|too|as\s+well|additionally|in\s+addition|"
                 r"then\s+also)\b", re.I)
# A question that says it starts afresh (the first option of a clarification).
AFRESH = re.compile(r"^\s*(?:afresh|new\s+question)\s*:\s*", re.I)
_CHART = (r"(?:as|in|into|on|with)\s+(?:a\s+|an\s+)?(?P<kind>pie|bar|line|donut|column|table)"
          r"(?:\s+(?:chart|graph|plot|view))?")
CHART = re.compile(r"[\s,]*\b(?:(?:show|draw|plot|display|make|put)\s+(?:it|that|this|them)?\s*)?"
                   + _CHART + r"\s*(?:instead|please)?\b", re.I)
_UNIT = r"(?P<unit>day|week|month|quarter|year|period)"
# "the week before", "the previous month", "a month earlier", "the one before".
SHIFT = re.compile(
    r"\b(?:(?:the|a|one)\s+)?" + _UNIT + r"\s+(?:before|earlier|prior)\b|"
    r"\b(?:the\s+)?(?:previous|prior|preceding)\s+" + _UNIT.replace("unit", "unit2") + r"\b|"
    r"\bthe\s+one\s+before\b", re.I)
# "compare with last month", "vs the previous week", "versus Q3", "against last month".
COMPARE = re.compile(
    r"^(?:compared?\s+(?:it\s+|this\s+|that\s+|them\s+)?(?:with|to|against)|vs\.?|versus|"
    r"against|compared\s+(?:with|to)|relative\s+to|change\s+(?:from|since|vs\.?|versus))"
    r"\s+(?P<other>.+)$", re.I)
UNIT_ON_UNIT = re.compile(r"^(?:(?P<unit>day|week|month|quarter|year)\s+(?:on|over)\s+"
                          r"(?P=unit)|(?P<short>dod|wow|mom|qoq|yoy))$", re.I)
# "list the rows behind MARKITWIRE", "show the confirmations behind the largest", "list them".
DRILL = re.compile(
    r"^(?:list|show|give|display|see|pull)(?:\s+me)?\s+(?:all\s+)?(?:of\s+)?(?:the\s+)?"
    r"(?P<what>[\w\s-]*?)\s*(?:\b(?:behind|making\s+up|under|in|for|of|from)\s+"
    r"(?P<target>.+))?$", re.I)
# "which ones are they?", "what are those?", "who are they?": the rows behind a number.
WHICH = re.compile(r"^(?:which|what|who)\s+(?:ones\s+)?(?:are|were|is)\s+(?:they|those|these|"
                   r"them|it)$|^which\s+ones$|^(?:which|what)\s+(?:are|were)\s+(?:the\s+)?"
                   r"(?:rows|ones)$", re.I)
DRILL_ROWS = frozenset({"rows", "records", "details", "detail", "ones", "them", "those",
                        "these", "it", "underlying rows", "underlying records", "items",
                        "lines", "entries", ""})
# What "behind the largest" points at: the previous answer's first group.
LEADER = re.compile(r"^(?:the\s+)?(?:largest|biggest|top|first|highest|leader|top\s+one|"
                    r"first\s+one|largest\s+one|biggest\s+one|top\s+group|first\s+group|it|"
                    r"that|that\s+one)$", re.I)
# "all currencies", "any counterparty", "drop the GBP filter", "regardless of currency".
REMOVE = re.compile(
    r"^(?:for\s+|across\s+|over\s+)?(?:all|any|every)\s+(?P<all>.+)$|"
    r"^(?:drop|remove|clear|without|no|ignore|lose|forget)\s+(?:the\s+)?(?P<filter>.+?)\s+"
    r"(?:filter|condition|restriction)s?$|"
    r"^regardless\s+of\s+(?:the\s+)?(?P<regardless>.+)$", re.I)


def split_chart(question: str) -> tuple[str | None, str]:
    """The chart a question asks for by name ("as a pie chart") and the question without
    those words; (None, question) when it names none."""
    match = CHART.search(question)
    if match is None:
        return None, question
    kind = {"donut": "pie", "column": "bar"}.get(match.group("kind").lower(),
                                                  match.group("kind").lower())
    rest = (question[:match.start()] + " " + question[match.end():]).strip(" ,")
    return kind, rest


def strip_markers(question: str) -> tuple[bool, str]:
    """(whether the question opens with a follow-up marker, the question without it)."""
    match = MARKER.match(question)
    if match is None or not match.group(0).strip(" ,"):
        return False, question
    return True, question[match.end():].strip(" ,")
