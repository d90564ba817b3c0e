"""Time a bank's day one: `python benchmarks/bench_new_warehouse.py [--tables 500]`.

Builds a synthetic SQLite warehouse of 500 tables named the ways a bank's are (snake_case
with abbreviations `trd_dtl`, CamelCase `TradeDetail`, UPPER-case legacy `TRD_DTL`), each
with a key, a name, a status, an amount, a currency, dates, a timestamp, foreign keys to
earlier tables (sometimes two to the same one) and a few rows. Then prints, against the
targets of issue 15:
- drafting: `python -m copilot glossary draft --db URL --out DIR` (a process, as a user runs
  it: interpreter start, schema read, value sampling, writing); target < 60 s;
- training on that draft, unedited: `python -m copilot train --db URL --glossary DIR` into a
  throwaway data folder (embedding included); target < 120 s;
- question-to-SQL latency (the engine's plan: read, plan, compile; no query run, as
  benchmarks/bench_engine.py measures it) over ~200 questions generated from the tables'
  natural words, p50 target < 20 ms; with how many were planned, refused or asked to
  clarify, and how many of those using a word the schema does not hold were planned (0 is
  right).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from latency import latency_line  # benchmarks/ is on sys.path when run as a script

REPO = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 20)
# What a table is about: its words, and the abbreviation a snake_case or UPPER name uses.
SUBJECTS = (
    ("trade", "trd"), ("settlement", "sttl"), ("confirmation", "conf"), ("payment", "pmt"),
    ("account", "acct"), ("customer", "cust"), ("counterparty", "cpty"),
    ("instrument", "instr"), ("security", "sec"), ("position", "pos"),
    ("collateral", "coll"), ("margin call", "mrgn_call"), ("limit", "lmt"),
    ("exposure", "expo"), ("invoice", "inv"), ("journal", "jrnl"),
    ("ledger entry", "ldgr_ent"), ("nostro break", "nostro_brk"), ("swift message", "swift_msg"),
    ("fx deal", "fx_deal"), ("loan", "loan"), ("deposit", "dep"), ("card", "card"),
    ("branch", "brnch"), ("employee", "emp"), ("desk", "desk"), ("book", "bk"),
    ("portfolio", "pf"), ("price", "prc"), ("rating", "rtg"), ("product", "prd"),
    ("fund", "fund"), ("corporate action", "corp_act"), ("dividend", "div"),
    ("reconciliation", "recon"), ("exception", "exc"), ("alert", "alrt"), ("case", "case"),
    ("document", "doc"), ("contract", "cntrct"), ("agreement", "agmt"), ("facility", "fac"),
    ("guarantee", "gtee"), ("mortgage", "mtg"), ("repayment", "rpmt"), ("provision", "prov"),
    ("order", "ord"), ("allocation", "alloc"), ("execution", "exec"), ("quote", "qte"),
)
QUALIFIERS = (("", ""), ("detail", "dtl"), ("history", "hist"), ("snapshot", "snap"),
              ("archive", "arch"), ("stage", "stg"), ("audit", "aud"), ("queue", "q"),
              ("master", "mstr"), ("summary", "smry"), ("event", "evt"), ("extract", "ext"))
AMOUNTS = (("amount", "amt"), ("notional", "ntl"), ("balance", "bal"),
           ("market value", "mkt_val"), ("quantity", "qty"), ("fee amount", "fee_amt"))
DATES = (("trade date", "trd_dt"), ("value date", "val_dt"), ("booking date", "bkg_dt"),
         ("effective date", "eff_dt"), ("maturity date", "mat_dt"))
STATUSES = (("ACTIVE", "CLOSED", "SUSPENDED"), ("PENDING", "SETTLED", "FAILED"),
            ("OPEN", "RESOLVED", "ESCALATED"), ("NEW", "MATCHED", "UNMATCHED", "CANCELLED"))
CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF")
REGIONS = ("EMEA", "AMER", "APAC")
UNKNOWN = ("hypothecated", "ring-fenced", "grandfathered", "novated", "sweepable",
           "rehypothecated", "netted off", "collapsed")
STYLES = ("snake", "camel", "upper")


@dataclass
class Column:
    name: str
    sql_type: str
    words: str  # what a person calls it
    kind: str  # key, label, status, amount, currency, date, stamp, region, fk


@dataclass
class Table:
    name: str
    words: str
    columns: list[Column] = field(default_factory=list)
    fks: list[tuple[str, str, str]] = field(default_factory=list)  # column, table, column
    statuses: tuple[str, ...] = ()

    def column(self, kind: str) -> Column | None:
        return next((c for c in self.columns if c.kind == kind), None)


def _style(style: str, words: tuple[str, ...], abbrs: tuple[str, ...]) -> str:
    """A name in one house style from its words (CamelCase) or abbreviations (the others)."""
    if style == "camel":
        return "".join(w.capitalize() for phrase in words for w in phrase.split())
    name = "_".join(a for a in abbrs if a)
    return name.upper() if style == "upper" else name


def _plural(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last.endswith("y") and last[-2:-1] not in "aeiou":
        last = last[:-1] + "ies"
    elif last.endswith(("s", "x", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}".strip()


def _tables(count: int, rng: random.Random) -> list[Table]:
    combos = [(s, q) for s in SUBJECTS for q in QUALIFIERS]
    rng.shuffle(combos)
    tables: list[Table] = []
    for (subject, subject_abbr), (qualifier, qualifier_abbr) in combos[:count]:
        style = rng.choice(STYLES)
        words = f"{subject} {qualifier}".strip()
        name = _style(style, (subject, qualifier), (subject_abbr, qualifier_abbr))
        table = Table(name, words, statuses=rng.choice(STATUSES))

        def col(suffix_words: str, suffix_abbr: str, sql_type: str, kind: str, spoken: str,
                own: bool = True, style: str = style, name: str = name) -> Column:
            if style == "camel":
                column = (name if own else "") + "".join(
                    w.capitalize() for w in suffix_words.split())
            else:
                column = f"{name}_{suffix_abbr}" if own else suffix_abbr
                column = column.upper() if style == "upper" else column.lower()
            return Column(column, sql_type, spoken, kind)

        table.columns.append(col("id", "id", "INTEGER PRIMARY KEY", "key", f"{words} id"))
        table.columns.append(col("name", "nm", "VARCHAR(40)", "label", f"{words} name"))
        table.columns.append(col("status", "stat_cd", "VARCHAR(12)", "status", "status",
                                 own=False))
        amount_words, amount_abbr = rng.choice(AMOUNTS)
        table.columns.append(col(amount_words, amount_abbr, "DECIMAL(18,2)", "amount",
                                 amount_words, own=False))
        table.columns.append(col("currency", "ccy", "CHAR(3)", "currency", "currency",
                                 own=False))
        date_words, date_abbr = rng.choice(DATES)
        table.columns.append(col(date_words, date_abbr, "DATE", "date", date_words, own=False))
        table.columns.append(col("created at", "crt_ts", "TIMESTAMP", "stamp", "created at",
                                 own=False))
        if rng.random() < 0.35:
            table.columns.append(col("region", "rgn_cd", "VARCHAR(4)", "region", "region",
                                     own=False))
        parents = rng.sample(tables, k=min(len(tables), rng.choice((0, 1, 1, 2))))
        if parents and rng.random() < 0.1:
            parents.append(parents[0])  # two foreign keys to one table: two join paths
        for n, parent in enumerate(parents):
            key = parent.columns[0].name
            column = f"{key}_{n}" if any(c.name == key for c in table.columns) else key
            table.columns.append(Column(column, "INTEGER", f"{parent.words} id", "fk"))
            table.fks.append((column, parent.name, key))
        tables.append(table)
    return tables


def build_wide_warehouse(path: Path, count: int, seed: int = 15) -> list[Table]:
    """Write `count` bank-like tables with a few rows each to SQLite at `path`."""
    rng = random.Random(seed)
    tables = _tables(count, rng)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        for table in tables:
            lines = [f'"{c.name}" {c.sql_type}' for c in table.columns]
            lines += [f'FOREIGN KEY ("{c}") REFERENCES "{t}" ("{k}")' for c, t, k in table.fks]
            db.execute(f'CREATE TABLE "{table.name}" ({", ".join(lines)})')
            rows = []
            for r in range(1, rng.randint(4, 9)):
                day = AS_OF - dt.timedelta(days=rng.randrange(0, 90))
                value = {"key": r, "label": f"{table.words.title()} {r}",
                         "status": rng.choice(table.statuses),
                         "amount": round(rng.lognormvariate(11, 1.5), 2),
                         "currency": rng.choice(CURRENCIES), "date": day.isoformat(),
                         "stamp": f"{day.isoformat()} {rng.randrange(7, 19):02d}:00:00",
                         "region": rng.choice(REGIONS), "fk": rng.randint(1, 3)}
                rows.append(tuple(value[c.kind] for c in table.columns))
            marks = ", ".join("?" * len(table.columns))
            db.executemany(f'INSERT INTO "{table.name}" VALUES ({marks})', rows)
    db.close()
    return tables


FORMS = ("count", "count status", "sum by status", "average", "list in ccy", "top 5",
         "period", "lookup", "group by", "unknown word")


def questions(tables: list[Table], count: int, seed: int = 15) -> list[tuple[str, bool]]:
    """`count` questions in the tables' natural words, one form of FORMS after another:
    (question, uses a word the schema does not hold)."""
    rng = random.Random(seed)
    out: list[tuple[str, bool]] = []
    while len(out) < count:
        t = rng.choice(tables)
        many = _plural(t.words)
        status = rng.choice(t.statuses).lower()
        amount, date = t.column("amount"), t.column("date")
        label = f"{t.words.title()} {rng.randint(1, 3)}"
        templates = [
            (f"how many {many} are there?", False),
            (f"how many {many} are {status}?", False),
            (f"total {amount.words} of {many} by status", False),
            (f"average {amount.words} of {status} {many}", False),
            (f"list {many} in {rng.choice(CURRENCIES)}", False),
            (f"top 5 {many} by {amount.words}", False),
            (f"how many {many} had a {date.words} last week?", False),
            (f"what is the {amount.words} of {label}?", False),
            (f"{many} by region" if t.column("region") else f"{many} by currency", False),
            (f"how many {many} are {rng.choice(UNKNOWN)}?", True),
        ]
        out.append(templates[len(out) % len(templates)])
    return out


def _cli(*args: str, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "copilot", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=1800)
    return time.perf_counter() - started, done


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=500, help="tables of the warehouse")
    parser.add_argument("--questions", type=int, default=200, help="questions to plan")
    parser.add_argument("--rounds", type=int, default=3, help="plans of each question")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))  # run as a script from a checkout, no install needed

    from copilot.core.executor import Executor
    from copilot.core.guard import Guard, GuardSchema
    from copilot.core.warehouse import Warehouse
    from copilot.engine.answer import Engine
    from training.glossary import load_glossary
    from training.trainer import build_content

    with tempfile.TemporaryDirectory(prefix="bench-new-warehouse-") as folder:
        root = Path(folder)
        db = root / "wide.db"
        started = time.perf_counter()
        tables = build_wide_warehouse(db, args.tables)
        built_s = time.perf_counter() - started
        url = f"sqlite:///{db}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCOPILOT_")}
        env.update(OPSCOPILOT_DATA_DIR=str(root / "data"),
                   OPSCOPILOT_ENV_FILE=str(root / "no.env"))
        glossary = root / "glossary"
        draft_s, drafted = _cli("glossary", "draft", "--db", url, "--out", str(glossary),
                                env=env)
        if drafted.returncode:
            print(f"glossary draft failed ({drafted.returncode}): {drafted.stderr.strip()}")
            return 1
        train_s, trained = _cli("train", "--db", url, "--glossary", str(glossary),
                                "--profile", "bench", env=env)
        if trained.returncode:
            print(f"train failed ({trained.returncode}): {trained.stderr.strip()}")
            return 1

        warehouse = Warehouse(url, timeout_s=30)
        guard = Guard(GuardSchema.from_warehouse(warehouse.schema()), dialect="sqlite",
                      row_cap=5000)
        started = time.perf_counter()
        engine = Engine(build_content(warehouse, load_glossary(glossary),
                                      Executor(guard, warehouse).run))
        reader_s = time.perf_counter() - started
        warehouse.dispose()
    asked = questions(tables, args.questions)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    by_form = dict.fromkeys(FORMS, 0)
    unknown_planned = 0
    for round_ in range(args.rounds):
        for n, (question, unknown) in enumerate(asked):
            started = time.perf_counter()
            parsed = engine.plan(question, AS_OF)
            latencies.append((time.perf_counter() - started) * 1000)
            if round_ == 0:
                statuses[parsed.status] = statuses.get(parsed.status, 0) + 1
                by_form[FORMS[n % len(FORMS)]] += parsed.status == "planned"
                unknown_planned += unknown and parsed.status == "planned"
    n_unknown = sum(unknown for _, unknown in asked)
    fks = sum(len(t.fks) for t in tables)
    print(f"new warehouse: {args.tables} tables (snake_case, CamelCase, UPPER), {fks} foreign "
          f"keys, built in {built_s:.1f} s")
    said = next((line for line in drafted.stdout.splitlines() if line.startswith("drafted")), "")
    print(f"glossary draft (CLI):     {draft_s:6.1f} s  (target < 60 s)  "
          f"{said.partition(': ')[2]}")
    print(f"train on the draft (CLI): {train_s:6.1f} s  (target < 120 s)  "
          f"{trained.stdout.strip().splitlines()[0] if trained.stdout.strip() else ''}")
    print(f"engine reader built in {reader_s:.1f} s (values sampled, lexicon built)")
    print(latency_line(f"question -> SQL, {args.tables} tables", latencies, 30)
          + "  (target p50 < 20 ms)")
    print(f"questions: {len(asked)}: {statuses.get('planned', 0)} answered (planned), "
          f"{statuses.get('refused', 0)} refused, {statuses.get('clarify', 0)} asked to "
          f"clarify; {unknown_planned} of {n_unknown} with a word the schema does not hold "
          "were answered (0 is right)")
    share = len(asked) // len(FORMS)
    print("answered by form: " + ", ".join(f"{form} {n}/{share}" for form, n in by_form.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
