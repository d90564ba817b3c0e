"""Public names of a package, imported when first used (PEP 562).

A package's `__init__` lists what it offers in `__all__` without importing every module at
once: importing `training.glossary` must not load ChromaDB, and a package imported by a
module it exports must not import it back half-built.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` that finds each name of `exports` in its module (relative to
    `package` when it starts with a dot) on first use."""

    def __getattr__(name: str) -> object:
        where = exports.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(where, package), name)

    return __getattr__
