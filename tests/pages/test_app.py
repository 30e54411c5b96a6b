"""The entry point and the server's settings (app.py, .streamlit/config.toml)."""

from __future__ import annotations

import tomllib

from core.nets.model_files import MAX_IMPORT_MEGABYTES
from tests.conftest import REPO


def test_the_server_listens_on_this_computer_only_and_takes_the_apps_upload_size():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "localhost"
    assert config["server"]["maxUploadSize"] == MAX_IMPORT_MEGABYTES
