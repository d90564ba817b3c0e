"""`python -m copilot glossary draft|review`: a new warehouse's glossary, drafted from its
schema and stored values, then marked reviewed by a person. Both are audited."""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from copilot.core.audit import AuditLog, Recorder
from copilot.core.audit.record import Outcome
from copilot.core.errors import CopilotError
from copilot.core.settings import Settings
from copilot.core.warehouse import Warehouse
from copilot.training_actions import draft_from_warehouse
from copilot.wiring import ensure_demo_warehouse, executor_for
from training.draft import GlossaryDraft, mark_reviewed, write_draft

__all__ = ["add_glossary_commands", "run_glossary"]


def add_glossary_commands(commands: argparse._SubParsersAction) -> None:
    glossary = commands.add_parser(
        "glossary", help="draft a glossary from a warehouse's schema, or mark one reviewed")
    actions = glossary.add_subparsers(dest="glossary_command", required=True)
    draft = actions.add_parser(
        "draft", help="write a reviewable glossary from the schema and stored values alone")
    draft.add_argument("--db", default=None,
                       help="warehouse URL (default: the configured one)")
    draft.add_argument("--out", type=Path, required=True, help="folder to write it into")
    draft.add_argument("--force", action="store_true",
                       help="replace the drafted files in a folder that holds files")
    review = actions.add_parser(
        "review", help="mark a drafted glossary reviewed (drafted: false in its rules file)")
    review.add_argument("folder", type=Path, help="the glossary folder")


def run_glossary(args: argparse.Namespace, settings: Settings) -> int:
    """Run `glossary draft` or `glossary review`; the exit status."""
    started = time.perf_counter()
    what, outcome, reason, details = "", "recorded", "", ""
    try:
        if args.glossary_command == "draft":
            what = f"glossary drafted into {args.out}"
            draft, source = _draft(args, settings)
            what = f"glossary drafted from {source} into {args.out}"
            details = json.dumps(_counts(draft), sort_keys=True)
            print(f"drafted {args.out} from {source} in {time.perf_counter() - started:.1f} s: "
                  + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in _counts(draft).items()))
            print(f"next: review it (every guess says how it was inferred), run `python -m "
                  f"copilot glossary review {args.out}`, then `python -m copilot train "
                  f"--db URL --glossary {args.out}`")
            return 0
        what = f"glossary {args.folder} marked reviewed"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d")
        changed = mark_reviewed(args.folder, note=f"reviewed by {settings.app.user or 'unknown'} "
                                                  f"on {stamp}")
        if changed is None:
            what = f"glossary {args.folder} reviewed: it was not a draft"
            print(f"{args.folder} is not a draft (no 'drafted: true'); nothing to mark")
        else:
            print(f"marked reviewed: {changed} (drafted: false); train with `python -m "
                  f"copilot train --glossary {args.folder}`")
        return 0
    except CopilotError as exc:
        outcome, reason = "error", str(exc)
        raise
    finally:
        _audit(settings, what, outcome, reason, details, time.perf_counter() - started)


def _draft(args: argparse.Namespace, settings: Settings) -> tuple[GlossaryDraft, str]:
    if args.db is None:
        ensure_demo_warehouse(settings)
    warehouse = Warehouse(args.db or settings.warehouse.url,
                          timeout_s=settings.warehouse.query_timeout_s,
                          db_schema=None if args.db else settings.warehouse.schema or None)
    try:
        draft = draft_from_warehouse(executor_for(warehouse, settings))
    finally:
        warehouse.dispose()
    write_draft(draft, args.out, force=args.force)
    return draft, warehouse.display_url


def _counts(draft: GlossaryDraft) -> dict[str, int]:
    return {"tables": draft.tables, "entities": draft.entities, "terms": draft.terms,
            "period_columns": draft.period_columns, "join_paths": draft.join_paths,
            "rules": draft.rules}


def _audit(settings: Settings, what: str, outcome: Outcome, reason: str, details: str,
           seconds: float) -> None:
    log = AuditLog.from_settings(settings)
    try:
        Recorder(log, settings.app.user).record("training", what, outcome=outcome, reason=reason,
                                            details=details, duration_ms=seconds * 1000)
    finally:
        log.dispose()
