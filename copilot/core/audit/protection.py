"""Where an audit log's keys and checkpoint copies live, from the settings or beside the file.

Beside a SQLite audit database `FOLDER/audit.db` they are `FOLDER/audit-keys` and
`FOLDER/audit-checkpoints`: the settings' defaults, so `AuditLog(url)` and the settings agree
on the embedded demo. A PostgreSQL audit database has no folder of its own, so it needs the
settings (`AuditLog.from_settings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from copilot.core.audit.anchor import Anchor, open_anchor
from copilot.core.audit.errors import AuditError
from copilot.core.settings import Settings

__all__ = ["KEY_FOLDER", "Protection", "protection_beside", "protection_for"]

KEY_FOLDER = "audit-keys"
CHECKPOINT_FOLDER = "audit-checkpoints"


@dataclass(frozen=True)
class Protection:
    """The folder of the log's keys and the anchors that keep its checkpoints (the first
    one that holds lines is the one appends and `verify` compare against)."""

    key_dir: Path
    anchors: tuple[Anchor, ...]

    @classmethod
    def in_folder(cls, folder: Path) -> Protection:
        """Keys in `FOLDER/audit-keys`, checkpoints in `FOLDER/audit-checkpoints`."""
        return cls(folder / KEY_FOLDER, (open_anchor(f"folder:{folder / CHECKPOINT_FOLDER}"),))

    @property
    def lock_path(self) -> Path:
        # Appends of every process take this lock around commit and checkpoint, so the
        # checkpoint lines are in commit order. It sits with the keys: the app's own folder,
        # writable, where the checkpoint folder may be append-only storage.
        return self.key_dir / "append.lock"


def protection_beside(url: str) -> Protection:
    """The default for `AuditLog(url)`: folders beside a SQLite file; AuditError otherwise."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return Protection.in_folder(Path(parsed.database).expanduser().parent)
    raise AuditError("An audit database that is not a SQLite file needs its key and checkpoint "
                     "folders from the settings (OPSCOPILOT_AUDIT_KEY_DIR, "
                     "OPSCOPILOT_AUDIT_CHECKPOINT_DIR): open it with AuditLog.from_settings.")


def protection_for(settings: Settings) -> Protection:
    """The folders the settings name (their defaults sit beside a SQLite audit file)."""
    assert settings.audit.key_dir is not None and settings.audit.checkpoint_dir is not None
    return Protection(settings.audit.key_dir,
                      (open_anchor(f"folder:{settings.audit.checkpoint_dir}"),))
