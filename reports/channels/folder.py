"""The folder channel: the report's files dropped into a folder (a share that SharePoint or
a pickup job watches), atomically, never replacing an earlier file."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from copilot.core.settings import Settings
from reports.channels.base import DestinationError
from reports.message import Channel, DeliveryError, ReportMessage
from reports.shaping import safe_filename

__all__ = ["FOLDER", "FolderChannel", "FolderKind"]


class FolderKind:
    """Folders, local or a mounted share, one drop each."""

    name = "folder"
    label = "Folders (local or mounted share)"
    hint = "/mnt/ops-share/reports"

    def validate(self, destination: str) -> None:
        # Lenient on purpose: templates saved before kept any text here. Only what no file
        # system takes (control characters, an empty name) is refused.
        if not destination.strip() or not destination.isprintable():
            raise DestinationError(f"{destination!r} is not a folder path.")

    def channels(self, settings: Settings, destinations: tuple[str, ...]
                 ) -> tuple[Channel, ...]:
        return tuple(FolderChannel(folder=Path(folder)) for folder in destinations)


class FolderChannel:
    """Drop the attachments into a folder, atomically, never replacing an earlier file."""

    def __init__(self, *, folder: Path) -> None:
        self.folder = Path(folder)
        self.name, self.target = "folder", str(folder)

    def deliver(self, message: ReportMessage) -> tuple[str, ...]:
        if not message.attachments:
            raise DeliveryError("The report has no files to drop in a folder.", retryable=False)
        written: list[Path] = []
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for attachment in message.attachments:
                written.append(self._drop(safe_filename(attachment.filename),
                                          attachment.content))
        except OSError as exc:
            # All or nothing: a retry must not leave "x (2).csv" beside a lone earlier half.
            for path in written:
                path.unlink(missing_ok=True)
            raise DeliveryError(f"The report cannot be written to the folder {self.folder}: "
                                f"{exc.strerror or exc}.") from None
        return tuple(str(path) for path in written)

    def _drop(self, filename: str, content: bytes) -> Path:
        # A hidden temporary name, so a pickup job never sees half a file; os.open's mode
        # honours the umask (mkstemp's 0600 would hide the file from a pickup service user).
        temp = self.folder / f".{filename}.{secrets.token_hex(6)}.part"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())  # on disk before the name appears
            final, n = self.folder / filename, 1
            while True:
                try:
                    # A hard link never replaces a file another run (another worker) has
                    # just given the same name: an atomic no-clobber.
                    os.link(temp, final)
                    return final
                except FileExistsError:
                    pass
                except OSError:  # a share without hard links: check, then rename
                    if not final.exists():
                        temp.replace(final)
                        return final
                n += 1
                final = self.folder / f"{Path(filename).stem} ({n}){Path(filename).suffix}"
        finally:
            temp.unlink(missing_ok=True)


FOLDER = FolderKind()
