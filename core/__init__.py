"""Keras Playground's logic, in packages by concern; nothing here imports Streamlit.

Lower packages never import higher ones (docs/architecture.md; import-linter checks it, the
contracts are in pyproject.toml). From the bottom: runtime, then mnist and nets, inside and
plane, training, runs, experiments, and at the top charts and export.
"""
