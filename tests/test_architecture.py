"""Rules of the layout that docs/design.md sets and a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE_PACKAGES = ("copilot", "training", "glossary", "dashboards", "reports")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_pages_import_streamlit() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in CORE_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "streamlit" in _imports(path)
    ]
    assert not offenders, f"the core must not import streamlit: {offenders}"


def test_the_layout_of_the_product_card_exists() -> None:
    for name in (*CORE_PACKAGES, "app_pages", "tests", "benchmarks"):
        assert (ROOT / name).is_dir(), name
    for name in ("streamlit_app.py", "requirements.txt", "requirements-dev.txt", ".ci/run"):
        assert (ROOT / name).is_file(), name


def test_modules_stay_small() -> None:
    # One module, one responsibility: a file past ~400 lines is doing two jobs.
    big = [
        f"{path.relative_to(ROOT)} ({n} lines)"
        for package in (*CORE_PACKAGES, "app_pages")
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 450
    ]
    assert not big, big
