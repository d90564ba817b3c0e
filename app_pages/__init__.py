"""The app's pages: UI only. Each module has a `render()` that calls services and draws."""

# Pages are run by streamlit_app.py through st.navigation, not imported by name.
__all__: list[str] = []
