"""`python -m copilot train ...`: training from the command line, as on the Training page."""

from __future__ import annotations

import argparse
from pathlib import Path

from copilot.core.errors import CopilotError
from copilot.core.settings import Settings
from copilot.wiring import build_services
from training.glossary import load_glossary
from training.profiles import ProfileVersion
from training.uploads import parse_pairs

__all__ = ["run_train"]


DRAFTED = "drafted, not reviewed"
SHOWN_WARNINGS = 20  # the Training page lists them all


def _print_version(version: ProfileVersion) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in version.counts.items() if v and k != "drafted")
    mark = "*" if version.active else " "
    print(f"{mark} v{version.version}  {version.created_at}  {version.created_by}  "
          f"{version.note}  [{counts}]" + (f"  ({DRAFTED})" if version.drafted else ""))


def _print_warnings(version: ProfileVersion) -> None:
    if version.drafted:
        print(f"note: {DRAFTED}: version {version.version} was trained from a drafted "
              "glossary; review it, run `python -m copilot glossary review DIR` and train again")
    for warning in version.warnings[:SHOWN_WARNINGS]:
        print(f"warning: {warning}")
    if len(version.warnings) > SHOWN_WARNINGS:
        print(f"warning: ... and {len(version.warnings) - SHOWN_WARNINGS} more")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CopilotError(f"Cannot read {path}: {exc.strerror}.") from None


def run_train(args: argparse.Namespace, settings: Settings) -> int:
    """Run the train command; returns the exit status (3: not trained, for --status)."""
    services = build_services(settings.for_warehouse(args.db, args.profile))
    trainer, user = services.trainer, settings.app.user
    if args.status:
        active = trainer.active()
        if active is not None:
            _print_version(active)
            _print_warnings(active)
        try:
            trainer.require_trained()
        except CopilotError as exc:
            print(f"not ready: {exc}")
            return 3
        print(f"ready: profile {trainer.profile!r} answers from version {active.version}"
              + (f" ({DRAFTED})" if active.drafted else ""))
        return 0
    if args.list:
        for version in trainer.versions():
            _print_version(version)
        return 0
    if args.diff:
        diff = trainer.diff(*args.diff)
        print(f"v{diff.old} -> v{diff.new}" + ("  (no change)" if diff.unchanged else ""))
        for kind, change in diff.kinds.items():
            for label, names in (("+", change.added), ("-", change.removed),
                                 ("~", change.changed)):
                if names:
                    print(f"  {kind:<9} {label} {', '.join(names)}")
        return 0
    if args.rollback is not None:
        version = trainer.activate(args.rollback, by=user)
    elif args.pairs:
        version = trainer.add_pairs(parse_pairs(_read(args.pairs), args.pairs.name), by=user)
    elif args.document:
        version = trainer.add_document(args.document.name, _read(args.document), by=user)
    else:
        glossary = load_glossary(args.glossary or settings.app.glossary_dir)
        version = trainer.train(glossary, by=user, note=args.note)
    print(f"active: profile {trainer.profile!r} version {version.version}")
    _print_version(version)
    _print_warnings(version)
    return 0
