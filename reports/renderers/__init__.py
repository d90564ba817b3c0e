"""Report file formats: one module per format (a `Renderer`: its name, which is also the
file's suffix, its MIME type, and a streaming writer), listed once in
`reports.renderers.registry`. This package imports nothing on purpose."""
