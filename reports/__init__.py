"""Reports: templates, the in-process scheduler, renderers, delivery channels and the run log."""
