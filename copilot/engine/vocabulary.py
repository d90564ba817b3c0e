"""The parser's fixed vocabulary: the words of measures, grouping, buckets and fillers, and
the verbs that ask to change data. The trained lexicon supplies everything else."""

from __future__ import annotations

import re

__all__ = [
    "AGE_BANDS",
    "AVG",
    "BY",
    "COUNT",
    "DAILY",
    "DISTINCT",
    "FILLER",
    "LIST",
    "MAX",
    "MAX_QUESTION_CHARS",
    "MIN",
    "MONTHLY",
    "SUM",
    "WRITES",
    "WRITE_START",
]

MAX_QUESTION_CHARS = 500
# Verbs that ask to change data. A read-only copilot refuses them outright.
WRITES = re.compile(
    r"\b(delete|drop|remove|update|insert|truncate|alter|modify|purge|wipe|erase|rename|"
    r"grant|revoke|create|cancel|amend|change|overwrite|replace|restore|reset|approve|"
    r"reassign|assign|close|resolve|settle|book|release|rebook|send)\b(?!\s*(?:on|date|d\b))"
)
WRITE_START = re.compile(r"^\s*(?:please\s+|can you\s+|could you\s+|i want to\s+|go\s+)?"
                          + WRITES.pattern)
COUNT = {"how many", "number of", "count of", "count", "no of", "how much of", "tally"}
SUM = {"total", "sum", "sum of", "how much", "aggregate", "overall"}
AVG = {"average", "avg", "mean"}
MAX = {"maximum", "max", "highest", "largest", "biggest"}
MIN = {"minimum", "min", "lowest", "smallest"}
LIST = {"show", "list", "which", "give", "display", "find", "what are", "who", "detail",
         "details", "all"}
DISTINCT = {"distinct", "unique", "different"}
BY = {"by", "per", "for each", "each", "across", "broken down by", "split by", "grouped by"}
DAILY = {"daily", "per day", "by day", "each day", "day by day"}
MONTHLY = {"monthly", "per month", "by month", "each month"}
AGE_BANDS = {"age bucket", "by age", "ageing", "aging", "age band", "age profile"}
# Words that carry no meaning of their own in an ops question.
FILLER = {
    "a", "an", "the", "of", "in", "on", "at", "for", "to", "with", "and", "or", "is", "are", "was",
    "were", "be", "been", "do", "does", "did", "we", "our", "us", "i", "me", "my", "you", "your",
    "it", "its", "there", "their", "this", "that", "these", "those", "what", "whats", "what's",
    "how", "please", "can", "could", "would", "will", "shall", "should", "currently", "current",
    "now", "today's", "right", "as", "from", "into", "about", "any", "some", "all", "just", "only",
    "have", "has", "had", "get", "got", "see", "tell", "give", "show", "list", "which", "who",
    "where", "when", "whose", "than", "then", "amount", "value", "number", "count", "total", "sum",
    "average", "per", "by", "each", "across", "split", "grouped", "broken", "down", "breakdown",
    "distribution", "trend", "over", "under", "above", "below", "more", "less", "fewer", "greater",
    "least", "most", "top", "bottom", "first", "last", "largest", "biggest", "highest", "smallest",
    "lowest", "many", "much", "also", "still", "out", "up", "being", "yet", "so", "far"
}
