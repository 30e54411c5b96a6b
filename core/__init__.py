"""Keras Playground's logic: data, models, training, evaluation, storage and charts.

Nothing in this package imports streamlit, so all of it runs and is tested without a browser.
"""
