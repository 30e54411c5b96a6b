"""The private Streamlit hook the app relies on (app_pages/keras_runtime.py) is still there."""

from __future__ import annotations

from streamlit.runtime.scriptrunner import script_runner

from app_pages import keras_runtime


def test_streamlits_keras_cleanup_hook_is_still_there_to_switch_off():
    """If an upgrade renames it, Streamlit clears Keras's session after every page run (the
    live curves rerun twice a second), stalling training; keep_keras_state must notice."""
    original = script_runner._clean_problem_modules
    try:
        assert keras_runtime.keep_keras_state() is True
        assert script_runner._clean_problem_modules is not original
    finally:
        script_runner._clean_problem_modules = original


def test_a_missing_hook_is_said_in_the_log(monkeypatch, caplog):
    monkeypatch.delattr(script_runner, "_clean_problem_modules")
    assert keras_runtime.keep_keras_state() is False
    assert "_clean_problem_modules" in caplog.text
