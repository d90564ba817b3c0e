"""Report file formats: one module per format (a `Renderer`: its name, which is also the
file's suffix, its MIME type, and a streaming writer), listed once in
`reports.renderers.registry`. Its public names load on first use."""

from copilot.core.lazy import lazy_exports

_EXPORTS = {
    "RENDERERS": ".registry",
    "Renderer": ".base",
}
__all__ = ["RENDERERS", "Renderer"]
__getattr__ = lazy_exports(__name__, _EXPORTS)
