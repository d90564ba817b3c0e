"""The command line: `python -m copilot COMMAND ...` for ops automation and benchmarks.

Errors the user can fix are printed as one line on stderr with exit status 2; nothing prints
a traceback for a CopilotError.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TextIO

from copilot.api_cli import add_api_commands, run_api, run_api_token
from copilot.core.errors import CopilotError
from copilot.core.guard.guard import DIALECTS
from copilot.core.settings import settings_in_force
from copilot.glossary_cli import add_glossary_commands
from copilot.metrics_cli import add_metrics_command, run_metrics
from copilot.reports_cli import add_report_commands, run_reports, run_scheduler, run_worker
from copilot.settings import load_settings

__all__ = ["main"]


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-20") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m copilot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo-db", help="build the demo OTC warehouse (SQLite)")
    demo.add_argument("--out", type=Path, required=True, help="SQLite file to write")
    demo.add_argument("--as-of", type=_iso_date, default=None, help="today of the data")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--trades", type=int, default=20_000, help="trades (default 20000)")

    check = commands.add_parser(
        "sql-check",
        help="the SQL guard's verdict on statements: one JSON line each, exit 0 if all allowed",
    )
    check.add_argument("--dialect", required=True, choices=DIALECTS,
                       help="dialect the SQL is written in and checked for")
    check.add_argument("--db", default=None,
                       help="warehouse URL whose tables are known (default: the configured one)")
    source = check.add_mutually_exclusive_group(required=True)
    source.add_argument("sql", nargs="?", help="one SQL statement")
    source.add_argument("--jsonl", type=Path, help='file of {"sql": ...} lines ("-" for stdin)')

    train = commands.add_parser(
        "train", help="train the copilot (schema, glossary, rules), list, diff, roll back"
    )
    train.add_argument("--db", default=None, help="warehouse URL (default: the configured one)")
    train.add_argument("--glossary", type=Path, default=None,
                       help="glossary folder (default: OPSCOPILOT_GLOSSARY_DIR)")
    train.add_argument("--profile", default=None,
                       help="training profile (default: OPSCOPILOT_PROFILE; with --db: main)")
    train.add_argument("--note", default="", help="a note kept with the new version")
    action = train.add_mutually_exclusive_group()
    action.add_argument("--status", action="store_true",
                        help="the active version and whether the copilot may answer")
    action.add_argument("--list", action="store_true", help="every version, newest first")
    action.add_argument("--diff", nargs=2, type=int, metavar=("OLD", "NEW"),
                        help="what changed between two versions")
    action.add_argument("--rollback", type=int, metavar="VERSION",
                        help="answer from an earlier (or any) version again")
    action.add_argument("--pairs", type=Path, metavar="FILE",
                        help="add verified question/SQL pairs (YAML list or JSON lines of "
                             "{question, sql}); every SQL passes the guard first")
    action.add_argument("--document", type=Path, metavar="FILE",
                        help="add a Markdown or text document")

    ask = commands.add_parser("ask", help="answer one question (no LLM)")
    ask.add_argument("question")
    ask.add_argument("--db", default=None, help="warehouse URL (default: the configured one)")
    ask.add_argument("--as-of", type=_iso_date, default=None, help="today of the question")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--conversation", type=Path, default=None, metavar="FILE",
                     help="ask as the next turn of the conversation kept in FILE (JSON; "
                          "started when FILE does not exist, updated after the answer), so "
                          "the question may edit the previous one ('only GBP')")

    evaluate = commands.add_parser(
        "eval", help="answer a question file with no LLM; score by execution against gold SQL"
    )
    evaluate.add_argument("questions", type=Path, help="YAML file of questions")
    evaluate.add_argument("--db", default=None, help="warehouse URL")
    evaluate.add_argument("--as-of", type=_iso_date, default=None,
                          help="as-of date (default: the file's as_of, else today)")
    evaluate.add_argument("--glossary", type=Path, default=None, help="glossary folder")
    evaluate.add_argument("--out", type=Path, required=True, help="predictions, JSON lines")

    audit = commands.add_parser("audit", help="verify or export the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser(
        "verify", help="walk the keyed chain against its signed checkpoints; exit 1 when "
                       "anything does not hold")
    export = audit_commands.add_parser("export", help="export records (the export is audited)")
    export.add_argument("--format", choices=("csv", "xlsx", "jsonl"), required=True)
    export.add_argument("--since", type=_iso_date, default=None, help="first day (UTC)")
    export.add_argument("--until", type=_iso_date, default=None, help="last day (UTC)")
    export.add_argument("--out", type=Path, default=None,
                        help="file to write (default: audit-export.<format>)")

    add_report_commands(commands)
    add_glossary_commands(commands)
    add_metrics_command(commands)
    add_api_commands(commands)
    commands.add_parser("settings", help="print the settings in force (passwords hidden)")
    commands.add_parser(
        "prepare", help="get ready to serve: build the demo warehouse when it is missing"
    )
    return parser


def _demo_db(args: argparse.Namespace) -> int:
    from copilot.demo import build_demo_warehouse

    summary = build_demo_warehouse(
        args.out, as_of=args.as_of or date.today(), seed=args.seed, trades=args.trades
    )
    counts = ", ".join(f"{table} {count:,}" for table, count in summary.row_counts.items())
    print(f"built {summary.path} as of {summary.as_of} (seed {summary.seed}) "
          f"in {summary.elapsed_seconds:.1f} s: {counts}")
    return 0


def _sql_check(args: argparse.Namespace) -> int:
    from copilot.core.guard import Guard, GuardSchema
    from copilot.core.warehouse import Warehouse
    from copilot.wiring import ensure_demo_warehouse, guard_policy

    settings = load_settings()
    if args.db is None:
        ensure_demo_warehouse(settings)
    warehouse = Warehouse(
        args.db or settings.warehouse.url,
        timeout_s=settings.warehouse.query_timeout_s,
        db_schema=None if args.db else settings.warehouse.schema or None,
    )
    guard = Guard(
        GuardSchema.from_warehouse(warehouse.schema()),
        dialect=args.dialect,
        row_cap=settings.warehouse.row_cap,
        policy=guard_policy(settings),
    )
    warehouse.dispose()
    all_allowed = True
    for sql in _statements(args):
        verdict = guard.check(sql)
        all_allowed &= verdict.allowed
        print(json.dumps(verdict.as_json()), flush=True)
    return 0 if all_allowed else 1


def _statements(args: argparse.Namespace) -> Iterator[str]:
    """The statements to check: the argument, or the `sql` of each JSON line, in order."""
    if args.jsonl is None:
        yield args.sql
        return
    stream = sys.stdin if str(args.jsonl) == "-" else _open_jsonl(args.jsonl)
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            item = None
        if not isinstance(item, dict) or not isinstance(item.get("sql"), str):
            # An unreadable line is checked as empty SQL: refused, and the order is kept.
            print(f"warning: line {number} is not a JSON object with a \"sql\" string",
                  file=sys.stderr)
            yield ""
            continue
        yield item["sql"]


def _open_jsonl(path: Path) -> TextIO:
    try:
        return path.open(encoding="utf-8")
    except OSError as exc:
        raise CopilotError(f"Cannot read {path}: {exc.strerror}.") from None


def _ask(args: argparse.Namespace) -> int:
    from copilot.engine_cli import run_ask

    return run_ask(args, load_settings())


def _eval(args: argparse.Namespace) -> int:
    from copilot.engine_cli import run_eval

    return run_eval(args, load_settings())


def _audit(args: argparse.Namespace) -> int:
    from copilot.core.audit.export import export_records
    from copilot.core.audit.log import AuditFilter, AuditLog

    settings = load_settings()
    if args.audit_command == "verify":
        # Opened for reading only: a verify must never create the database it checks.
        result = AuditLog.from_settings(settings, create=False).verify()
        print(result.summary())
        return 0 if result.ok else 1
    log = AuditLog.from_settings(settings)
    out = args.out or Path(f"audit-export.{args.format}")
    where = AuditFilter(since=args.since and args.since.isoformat(),
                        until=args.until and args.until.isoformat())
    count = export_records(log, args.format, out, where, user=settings.app.user)
    print(f"exported {count} records to {out}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from copilot.training_cli import run_train

    return run_train(args, load_settings())


def _glossary(args: argparse.Namespace) -> int:
    from copilot.glossary_cli import run_glossary

    return run_glossary(args, load_settings())


def _settings(_args: argparse.Namespace) -> int:
    for doc, shown in settings_in_force(load_settings()):
        print(f"{doc.env_var}={shown}")
    return 0


def _prepare(_args: argparse.Namespace) -> int:
    from copilot.wiring import build_services, dashboards_of

    services = build_services(load_settings())
    tables = services.warehouse.schema().table_names
    seeded = dashboards_of(services).ensure_demo_dashboard(
        as_of=services.settings.warehouse.effective_as_of())
    print(f"ready: {services.warehouse.display_url} with {len(tables)} tables"
          + (f"; dashboard {seeded.name!r} built" if seeded else ""))
    return 0


def _undecodable(argv: Sequence[str]) -> str | None:
    """The first argument that is not UTF-8 text, repaired for display, or None.

    Python hands undecodable bytes of argv over as lone surrogates; text like that would
    reach the engine, then fail to be hashed into the audit log after the SQL had run."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return None


def _refuse_undecodable(text: str) -> int:
    print("error: an argument is not valid UTF-8 text "
          f"({text[:80]!r}); set the terminal to UTF-8 (for example LANG=C.UTF-8) and "
          "run the command again. Nothing was run.", file=sys.stderr)
    from copilot.core.audit import AuditLog, Recorder

    settings = load_settings()
    log = AuditLog.from_settings(settings)
    try:  # recorded, so that an attempt refused here is not lost either
        Recorder(log, settings.app.user).record("cli", text[:4_000], outcome="blocked",
                                            reason="an argument is not valid UTF-8")
    finally:
        log.dispose()
    return 2


def _configure_logs() -> None:
    """The configured log format; a malformed setting is left for the command to report."""
    from copilot.core.logs import configure_logging

    with contextlib.suppress(CopilotError):
        configure_logging(load_settings())


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit status."""
    given = sys.argv[1:] if argv is None else argv
    if (text := _undecodable(given)) is not None:
        try:
            return _refuse_undecodable(text)
        except CopilotError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    args = _parser().parse_args(given)
    handlers = {
        "demo-db": _demo_db,
        "sql-check": _sql_check,
        "settings": _settings,
        "train": _train,
        "ask": _ask,
        "audit": _audit,
        "eval": _eval,
        "prepare": _prepare,
        "scheduler": lambda a: run_scheduler(a, load_settings()),
        "worker": lambda a: run_worker(a, load_settings()),
        "reports": lambda a: run_reports(a, load_settings()),
        "glossary": _glossary,
        "metrics": lambda a: run_metrics(a, load_settings()),
        "api": lambda a: run_api(a, load_settings()),
        "api-token": lambda a: run_api_token(a, load_settings()),
    }
    try:
        _configure_logs()
        return handlers[args.command](args)
    except CopilotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `ask ... | head` closed the pipe: the reader has what it wanted. Point stdout at
        # nothing so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
