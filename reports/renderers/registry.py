"""Every report file format, in the order the Reports form offers them. A new format is one
module under reports/renderers/ and one line here."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from reports.renderers.base import Renderer
from reports.renderers.csv_file import CSV
from reports.renderers.pdf_file import PDF
from reports.renderers.xlsx_file import XLSX

__all__ = ["RENDERERS"]

_FORMATS: tuple[Renderer, ...] = (
    CSV,
    XLSX,
    PDF,
)

RENDERERS: Mapping[str, Renderer] = MappingProxyType({r.name: r for r in _FORMATS})

assert len(RENDERERS) == len(_FORMATS), "two renderers share a name"
