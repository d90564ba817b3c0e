"""The app's pages: UI only. Each module has a `render()` that calls services and draws."""
