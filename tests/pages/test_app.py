"""The entry point and the server's settings (app.py, .streamlit/config.toml)."""

from __future__ import annotations

import builtins
import tomllib

from streamlit.testing.v1 import AppTest

from core.nets.model_files import MAX_IMPORT_MEGABYTES
from core.runtime import ast_lock
from tests.conftest import REPO
from tests.support.pages import build_nothing_ahead


def test_the_server_listens_on_this_computer_only_and_takes_the_apps_upload_size():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "localhost"
    assert config["server"]["maxUploadSize"] == MAX_IMPORT_MEGABYTES


def test_the_app_takes_the_lock_round_ast_conversions_before_any_page(monkeypatch):
    build_nothing_ahead(monkeypatch)
    monkeypatch.setattr(builtins, "compile", ast_lock._compile)  # as a fresh server starts
    assert not ast_lock.installed()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert ast_lock.installed()
