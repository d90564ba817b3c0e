"""Rules of the layout that docs/design.md sets and a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE_PACKAGES = ("copilot", "training", "glossary", "dashboards", "reports", "api")


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
    # One module, one responsibility: a file past 400 lines is doing two jobs.
    big = [
        f"{path.relative_to(ROOT)} ({n} lines)"
        for package in (*CORE_PACKAGES, "app_pages")
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400
    ]
    assert not big, big


# The floors (docs/architecture.md), lowest first, each named by the modules it holds; a
# module belongs to the floor of its longest matching prefix.
FLOORS: dict[str, tuple[str, ...]] = {
    "core": ("copilot.core",),
    "demo": ("copilot.demo",),
    "training": ("training", "glossary"),
    "values": ("copilot.values",),
    "engine": ("copilot.engine",),
    "llm": ("copilot.llm",),
    "services": ("copilot.routing", "copilot.answering", "copilot.training_actions",
                 "copilot.conversations", "copilot.approvals"),
    "dashboards": ("dashboards",),
    "reports": ("reports",),
    "wiring": ("copilot.wiring",),
    "api": ("api",),
    "commands": ("copilot", "copilot.cli", "copilot.api_cli", "copilot.engine_cli",
                 "copilot.glossary_cli",
                 "copilot.reports_cli", "copilot.training_cli", "copilot.eval_report",
                 "copilot.__main__"),
    "pages": ("app_pages", "streamlit_app"),
}
# What each floor may import besides itself (and the standard library, third parties).
MAY_IMPORT: dict[str, set[str]] = {
    "core": set(),
    "demo": {"core"},
    "training": {"core"},
    "values": {"core"},
    "engine": {"core", "training", "values"},
    "llm": {"core", "training", "values"},
    "services": {"core", "training", "values", "engine", "llm", "demo"},
    "dashboards": {"core", "training", "values", "engine", "services"},
    "reports": {"core", "training", "values", "engine", "services"},
    "wiring": {"core", "demo", "training", "values", "engine", "llm", "services",
               "dashboards", "reports"},
    # The REST API stands on the composition root like a page does; the command that
    # serves it is one floor up.
    "api": {"core", "training", "values", "engine", "llm", "services", "dashboards",
            "reports", "wiring"},
    "commands": {"core", "demo", "training", "values", "engine", "llm", "services",
                 "dashboards", "reports", "wiring", "api"},
    "pages": {"core", "training", "values", "engine", "llm", "services", "dashboards",
              "reports", "wiring", "commands"},
}


def _floor(module: str) -> str | None:
    best = max(((name, prefix) for name, prefixes in FLOORS.items() for prefix in prefixes
                if module == prefix or module.startswith(prefix + ".")),
               key=lambda found: len(found[1]), default=None)
    return best[0] if best else None


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _runtime_imports(path: Path) -> set[str]:
    """Modules `path` imports when it runs: not those named for type checking only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
               and "TYPE_CHECKING" in ast.unparse(block.test)
               for node in ast.walk(block)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def _sources() -> list[Path]:
    return [*(p for package in (*CORE_PACKAGES, "app_pages")
              for p in (ROOT / package).rglob("*.py")), ROOT / "streamlit_app.py"]


def _floor_edges() -> list[tuple[str, str, str, str]]:
    """(module, its floor, imported module, that floor) for every import between floors."""
    edges = []
    for path in _sources():
        module = _module(path)
        here = _floor(module)
        assert here is not None, f"{module} is on no floor: add it to FLOORS"
        for name in _runtime_imports(path):
            there = _floor(name)
            if there is not None and there != here:
                edges.append((module, here, name, there))
    return edges


def test_each_floor_imports_only_the_floors_below_it() -> None:
    wrong = [f"{module} ({here}) imports {name} ({there})"
             for module, here, name, there in _floor_edges()
             if there not in MAY_IMPORT[here]]
    assert not wrong, "\n".join(sorted(wrong))


def test_the_engine_and_the_llm_do_not_know_each_other() -> None:
    crossing = [f"{module} imports {name}" for module, here, name, there in _floor_edges()
                if {here, there} == {"engine", "llm"}]
    assert not crossing, crossing


def test_no_cycle_between_floors() -> None:
    graph: dict[str, set[str]] = {name: set() for name in FLOORS}
    for _, here, _, there in _floor_edges():
        graph[here].add(there)
    seen: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            assert seen.get(nxt) != 1, f"cycle: {' -> '.join([*path, node, nxt])}"
            if nxt not in seen:
                visit(nxt, [*path, node])
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            visit(node, [])


def test_the_floor_rules_catch_an_upward_import(tmp_path: Path) -> None:
    # The check itself must be able to fail: a core module importing the engine is named.
    probe = tmp_path / "probe.py"
    probe.write_text("from copilot.engine.answer import Engine\n"
                     "from typing import TYPE_CHECKING\n"
                     "if TYPE_CHECKING:\n    from reports.model import ReportRun\n")
    assert _runtime_imports(probe) == {"copilot.engine.answer", "typing"}
    assert _floor("copilot.engine.answer") == "engine" and "engine" not in MAY_IMPORT["core"]
    assert _floor("copilot.core.guard.rules") == "core"
    assert _floor("copilot.engine_cli") == "commands"


def test_packages_say_what_they_offer() -> None:
    # Pages and other floors import from a package's public names: each package lists them.
    missing = [str(init.relative_to(ROOT)) for package in (*CORE_PACKAGES, "app_pages")
               for init in (ROOT / package).rglob("__init__.py")
               if "__all__" not in init.read_text(encoding="utf-8")
               or not ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))]
    assert not missing, missing


def test_every_public_name_a_package_lists_is_there() -> None:
    # A name listed in __all__ but found nowhere would only fail when a page first uses it.
    import importlib

    for init in (p for package in (*CORE_PACKAGES, "app_pages")
                 for p in (ROOT / package).rglob("__init__.py")):
        package = importlib.import_module(_module(init))
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
