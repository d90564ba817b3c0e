"""The repository stands alone: no file refers to a path outside it.

A user clones only the repository, so a README link, a comment, a test fixture or a default
that points beside or above it (a sibling folder, a home folder, the machine it was written
on) is a broken promise. Every file git tracks or would track (`git ls-files --cached
--others --exclude-standard`) is read as text, binary files and `docs/screenshots/` skipped,
and each path-like token is checked:

- absolute paths into a home folder (`/home/NAME`, `/root/`, `/Users/NAME`, `~/`) or into
  the machine's work folder (`/work/`);
- relative paths whose `../` steps, resolved from the file's own folder, leave the
  repository;
- paths into the folders that sat beside the repository while it was written (`shared/`,
  `.library/`, with or without `../` in front) that do not exist inside it.

Only tokens made of path characters are looked at, and a token preceded by `:` is part of a
URL, so prose ("and so on..."), regular expressions (`\\.\\./`) and links are not paths.
"""

from __future__ import annotations

import posixpath
import re
import subprocess
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()
SKIPPED_FOLDERS = ("docs/screenshots/",)
# Folders never scanned when git is not there to say what the repository holds.
UNTRACKED = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "data",
             "test-artifacts"}
SIBLINGS = ("shared", ".library")  # what sat beside the repository while it was written

# (file, token): deliberate, with the reason. Keep it short.
ALLOWED: dict[tuple[str, str], str] = {
    ("tests/test_report_delivery.py", "../../escape.csv"):
        "a report file name that tries to climb out of the report folder: the test checks "
        "it is refused",
    ("tests/test_labels.py", "../../etc/passwd"):
        "a question title that tries to climb out of the download folder: the test checks "
        "the file name keeps only its words",
}

# A run of path characters; what precedes it decides whether it starts a path.
_TOKEN = re.compile(r"[\w.~/*-]+")
_HOME = re.compile(r"^(?:/home/[\w.-]+|/root(?:/|$)|/Users/[\w.-]+|~/)")
_WORK = re.compile(r"^/work(?:/|$)")


def _problem(token: str, folder: PurePosixPath) -> str | None:
    """Why `token`, found in a file of `folder` (relative to the root), leaves the repository."""
    token = token.rstrip(".")  # a path ending a sentence
    if _HOME.match(token):
        return "a home folder"
    if _WORK.match(token):
        return "the machine's work folder, not the repository"
    if token.startswith("/"):
        return None  # /etc/passwd, /usr/bin/chromium: the system's, named on purpose
    if ".." in PurePosixPath(token).parts:
        resolved = posixpath.normpath((folder / token).as_posix())
        if resolved == ".." or resolved.startswith("../"):
            return "climbs above the repository"
    climbed = [part for part in PurePosixPath(token).parts if part not in (".", "..")]
    if climbed and climbed[0] in SIBLINGS and len(climbed) > 1:
        inside = (ROOT / folder / token, ROOT / "/".join(climbed))
        if not any(path.exists() for path in inside):
            return f"the '{climbed[0]}' folder beside the repository"
    return None


def outside_references(relative: str, text: str) -> list[tuple[int, str, str]]:
    """(line number, token, why) for every path in `text` that leaves the repository."""
    folder = PurePosixPath(relative).parent
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in _TOKEN.finditer(line):
            token = match.group()
            before = line[match.start() - 1] if match.start() else ""
            if before == ":" or before == "\\":
                continue  # the rest of a URL (https://host/path), or an escape in a regex
            if "/" not in token:
                continue
            why = _problem(token, folder)
            if why and (relative, token.rstrip(".")) not in ALLOWED:
                found.append((number, token, why))
    return found


def _repository_files() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout.decode("utf-8").split("\0")
        return sorted(name for name in listed if name and (ROOT / name).is_file())
    except (OSError, subprocess.CalledProcessError):
        return sorted(
            path.relative_to(ROOT).as_posix() for path in ROOT.rglob("*")
            if path.is_file() and not UNTRACKED & set(path.relative_to(ROOT).parts)
        )


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def test_no_file_refers_to_a_path_outside_the_repository() -> None:
    problems = []
    scanned = 0
    for relative in _repository_files():
        # This file spells out the paths it looks for, in its checks of the matcher below.
        if relative == THIS or relative.startswith(SKIPPED_FOLDERS):
            continue
        text = _text(ROOT / relative)
        if text is None:
            continue
        scanned += 1
        problems += [f"{relative}:{number}: {token} ({why})"
                     for number, token, why in outside_references(relative, text)]
    assert scanned > 100, f"only {scanned} files scanned: is this the repository?"
    assert not problems, "paths outside the repository:\n" + "\n".join(problems)


def test_the_allow_list_names_lines_that_still_exist() -> None:
    for (relative, token), reason in ALLOWED.items():
        assert reason
        assert token in (ROOT / relative).read_text(encoding="utf-8"), (relative, token)


# The cases below spell out paths that leave the repository; built with UP so that this
# file's own text never holds one.
UP = "." + "./"


@pytest.mark.parametrize(("file", "line"), [
    ("README.md", f"Design notes: {UP}shared/DESIGN.md"),
    ("tests/test_x.py", f"DESIGN = ROOT / {UP!r} / 'DESIGN.md'  # {UP}shared/DESIGN.md"),
    ("README.md", "[eval](../.library/eval/set.yaml)"),
    ("eval/a.yaml", "# different from shared/eval/otc_dev_questions.yaml (the dev set)"),
    ("tests/test_x.py", 'PATH = "/work/shared/otc_schema.sql"'),
    ("README.md", "run `/work/main/.venv/bin/python`"),
    ("docs/a.md", "see /home/alice/notes.md"),
    ("docs/a.md", "copy it to ~/bin/tool"),
    ("docs/a.md", "the file /root/.config/x"),
    ("docs/a.md", "[up](../../README.md)"),
    ("tests/payments/a.py", 'Path("../../../x.yaml")'),
    ("README.md", "`docs/../../x`"),
])
def test_the_matcher_finds_paths_outside(file: str, line: str) -> None:
    assert outside_references(file, line), line


@pytest.mark.parametrize(("file", "line"), [
    ("docs/design.md", "[README](../README.md) and [glossary](../glossary/README.md)"),
    ("tests/payments/a.py", 'Path(__file__).parent / "../questions.yaml"'),
    ("README.md", f"See https://example.com/work/{UP}shared/x for more"),
    ("README.md", "and so on... then `glossary/otc/terms.yaml`."),
    ("copilot/x.py", r'_UP = re.compile(r"\.\./")'),
    ("README.md", "SELECT ... FROM trades / 2"),
    ("README.md", "Debian's /usr/bin/chromium and /etc/odbcinst.ini"),
    ("README.md", "sqlite:////srv/ops/warehouse.db"),
    ("tests/a.py", "a shared folder, shared by every process"),
    ("README.md", "`docs/screenshots/dashboard.png`"),
])
def test_the_matcher_leaves_paths_inside_alone(file: str, line: str) -> None:
    assert not outside_references(file, line), line
