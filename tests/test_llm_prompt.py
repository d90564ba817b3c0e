"""Reading LLM replies and building prompts: pure functions, no server."""

from __future__ import annotations

from datetime import date

import pytest

from copilot.core.schema import ColumnInfo, ForeignKeyInfo, TableInfo, WarehouseSchema
from copilot.llm.prompt import build_prompt, correction
from copilot.llm.reply import read_reply
from training.glossary import Glossary
from training.profiles import ProfileContent
from training.store_items import Hit


@pytest.mark.parametrize(("text", "sql"), [
    ("```sql\nSELECT 1\n```", "SELECT 1"),
    ("Here you go:\n```SQL\nSELECT a\nFROM t;\n```\nHope it helps.", "SELECT a\nFROM t"),
    ("```\nWITH x AS (SELECT 1) SELECT * FROM x\n```", "WITH x AS (SELECT 1) SELECT * FROM x"),
    ("SELECT a FROM t\nWHERE b = 1;\n\nExplanation: it lists a.", "SELECT a FROM t\nWHERE b = 1"),
    ("The query is:\nselect count(*) from t\nExplanation: counts t.", "select count(*) from t"),
    ("```sql\nSELECT 1;\n```\n```sql\nDROP TABLE t\n```", "SELECT 1;\nDROP TABLE t"),
])
def test_the_sql_is_taken_from_fences_or_bare_lines(text: str, sql: str) -> None:
    assert read_reply(text).sql == sql


@pytest.mark.parametrize(("text", "sql"), [
    # every SQL fence counts, whatever its tag, and the text around them
    ("```postgresql\nSELECT a FROM t\n```", "SELECT a FROM t"),
    ("```sqlite\nDELETE FROM t\n```\nThen:\n```sql\nSELECT 1\n```", "DELETE FROM t;\nSELECT 1"),
    ("```text\nDROP TABLE t\n```\n```sql\nSELECT 1\n```", "DROP TABLE t;\nSELECT 1"),
    ("```sql\nSELECT 1\n```\nAfterwards run:\nDELETE FROM t;", "SELECT 1;\nDELETE FROM t"),
    ("DELETE FROM t;\nSELECT 1", "DELETE FROM t;\nSELECT 1"),
    ("SELECT 1\n\nDROP TABLE t", "SELECT 1;\nDROP TABLE t"),
    ("DELETE FROM t; SELECT 1", "DELETE FROM t; SELECT 1"),
    # what is not SQL stays out: other code, prose that starts like a keyword
    ("```python\nprint(1)\n```\n```sql\nSELECT 1\n```", "SELECT 1"),
    ("Update: fixed the join.\nWith this query you get it.\n```sql\nSELECT 1\n```", "SELECT 1"),
    ("```sql\nSELECT 1\n", "SELECT 1"),  # a fence cut off by max_tokens
])
def test_no_part_of_a_reply_is_left_out_of_its_sql(text: str, sql: str) -> None:
    assert read_reply(text).sql == sql


@pytest.mark.parametrize(("sql", "kinds"), [
    ("SELECT a FROM t", ()),
    ("WITH x AS (SELECT 1) SELECT * FROM x UNION SELECT 2", ()),
    ("SELECT REPLACE(a, 'x', 'y') AS \"update\" FROM t", ()),
    ("DELETE FROM t; SELECT 1", ("DELETE",)),
    ("WITH gone AS (DELETE FROM t RETURNING *) SELECT COUNT(*) FROM gone", ("DELETE",)),
    ("SELECT * INTO copy FROM t", ("SELECT INTO",)),
    ("SELECT 1 DELETE FROM t", ("DELETE",)),  # an "alias" to sqlglot, a statement to T-SQL
    ("GRANT ALL ON t TO bob", ("GRANT",)),
    ("DROP TABLE t; SELECT 'unterminated", ("DROP",)),  # does not parse: still named
])
def test_statements_that_are_not_queries_are_named(sql: str, kinds: tuple[str, ...]) -> None:
    assert read_reply(f"```sql\n{sql}\n```", "postgres").non_queries == kinds


def test_explanation_and_follow_ups_are_read_whatever_the_markup() -> None:
    draft = read_reply("```sql\nSELECT 1\n```\n**Explanation:** Counts the fails.\n"
                       "**Follow-ups:**\n1. fails by desk\n2) fails today\n* fails by ccy\n"
                       "- a fourth one")
    assert draft.explanation == "Counts the fails."
    assert draft.follow_ups == ("fails by desk", "fails today", "fails by ccy")


def test_links_images_and_html_from_the_llm_are_reduced_to_text() -> None:
    draft = read_reply("```sql\nSELECT 1\n```\nExplanation: Counts ![x](http://x.test/a.png?d=1)"
                       "[fails](http://x.test) <img src=http://x.test/b.png> today.\n"
                       "Follow-ups:\n- [fails by desk](http://x.test)")
    assert draft.explanation == "Counts xfails  today."
    assert draft.follow_ups == ("fails by desk",)


@pytest.mark.parametrize("text", ["CANNOT ANSWER: forecasts are not data",
                                  "**Cannot answer**: forecasts are not data"])
def test_a_declined_question_has_no_sql(text: str) -> None:
    draft = read_reply(text)
    assert draft.sql is None and draft.declined == "forecasts are not data"


def test_prose_without_sql_is_no_draft() -> None:
    draft = read_reply("You should check the settlements table for that.")
    assert draft.sql is None and not draft.declined


def _warehouse(tables: int) -> ProfileContent:
    """`tables` tables of 12 columns; table_i references table_(i-1)."""
    infos = []
    for i in range(tables):
        columns = (ColumnInfo(f"t{i}_id", "INTEGER", False, True),
                   *(ColumnInfo(f"col_{i}_{j}", "TEXT", True) for j in range(10)),
                   ColumnInfo("parent_id", "INTEGER", True))
        fks = (ForeignKeyInfo(("parent_id",), f"table_{i - 1}", (f"t{i - 1}_id",)),) if i else ()
        infos.append(TableInfo(f"table_{i}", columns, (f"t{i}_id",), fks))
    values = {f"table_{i}.col_{i}_0": ("OPEN", "CLOSED") for i in range(tables)}
    return ProfileContent(WarehouseSchema(tuple(infos)), values, Glossary())


def _hits(tables: list[int]) -> dict[str, list[Hit]]:
    schema = [Hit(f"h{i}", "schema", f"Table table_{i}", {"table": f"table_{i}"}, 0.9 - i / 1000)
              for i in tables]
    return {"schema": schema, "terms": [], "rules": [], "pairs": [], "documents": []}


def test_only_retrieved_tables_and_their_bridges_are_described() -> None:
    content = _warehouse(500)
    prompt = build_prompt("q", content=content, hits=_hits([10, 12]), dialect="postgres",
                          as_of=date(2026, 11, 20), budget_tokens=10_000)
    body = prompt.messages[1].content
    assert prompt.tables == ("table_10", "table_12", "table_11")  # 11 joins 10 and 12
    assert "table_12.parent_id = table_11.t11_id" in body
    assert "col_10_0 TEXT in ('OPEN', 'CLOSED')" in body
    assert "table_400" not in body and "PostgreSQL" in prompt.messages[0].content


def test_a_small_budget_trims_the_context_to_fit() -> None:
    content = _warehouse(50)
    wide = build_prompt("q", content=content, hits=_hits(list(range(0, 40, 4))),
                        dialect="sqlite", as_of=date(2026, 11, 20), budget_tokens=100_000)
    narrow = build_prompt("q", content=content, hits=_hits(list(range(0, 40, 4))),
                          dialect="sqlite", as_of=date(2026, 11, 20), budget_tokens=600)
    assert len(wide.tables) > len(narrow.tables) and narrow.tokens <= 600 < wide.tokens


def test_a_correction_carries_the_reply_and_the_problem() -> None:
    first = build_prompt("q", content=_warehouse(3), hits=_hits([1]), dialect="sqlite",
                         as_of=date(2026, 11, 20), budget_tokens=5_000)
    fixed = correction(first, "```sql\nSELECT nope FROM table_1\n```", "no column nope")
    assert [m.role for m in fixed.messages] == ["system", "user", "assistant", "user"]
    assert "no column nope" in fixed.messages[-1].content
    assert fixed.sha256 != first.sha256 and fixed.tokens > first.tokens
