"""The app's pages: widgets and layout only; the logic they call lives in `core/`."""
