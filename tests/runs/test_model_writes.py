"""Model files are written whole or not at all, and the process's exit waits for a write
under way (core.runs.model_writes)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from core.runs.model_writes import ModelWrites, save_atomically
from tests.conftest import REPO


class FakeModel:
    """Writes `text` where `save` is told, or fails half way through."""

    def __init__(self, text: str = "weights", fail: bool = False) -> None:
        self.text, self.fail, self.saved_to = text, fail, []

    def save(self, path: Path) -> None:
        self.saved_to.append(path)
        path.write_text(self.text[:3] if self.fail else self.text)
        if self.fail:
            raise OSError("disk full")


def test_a_model_is_saved_beside_its_file_then_renamed_over_it(tmp_path):
    final = tmp_path / "abc123.keras"
    final.write_text("old")
    model = FakeModel()
    save_atomically(model, final)
    assert final.read_text() == "weights"
    (partial,) = model.saved_to
    assert partial.parent == tmp_path and partial.name.startswith("abc123.")
    assert partial.name.endswith(".partial.keras") and not partial.exists()


def test_a_failed_save_keeps_the_old_file_and_leaves_no_partial_one(tmp_path):
    final = tmp_path / "abc123.joblib"
    final.write_text("old")
    with pytest.raises(OSError, match="disk full"):
        save_atomically(FakeModel(fail=True), final)
    assert final.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["abc123.joblib"]


def test_the_exit_waits_for_a_model_being_written(tmp_path):
    """A training thread is a daemon, which Python's shutdown freezes where it stands: one
    frozen while writing a model (inside h5py) hung the server's exit. The exit now lets the
    write end first."""
    saved = tmp_path / "saved"
    script = textwrap.dedent(
        f"""
        import sys, threading, time
        sys.path.insert(0, {str(REPO)!r})
        from core.runs.model_writes import MODEL_WRITES

        def save():
            with MODEL_WRITES.writing():
                time.sleep(0.5)  # as Keras writes the weights
                open({str(saved)!r}, "w").write("saved")

        threading.Thread(target=save, daemon=True).start()
        time.sleep(0.1)
        """
    )  # the script ends while the model is being written
    subprocess.run([sys.executable, "-c", script], timeout=60, check=True)
    assert saved.read_text() == "saved"


def test_no_model_write_starts_once_the_exit_has_begun():
    writes, started = ModelWrites(), threading.Event()
    assert writes.close(timeout=1)

    def save() -> None:
        with writes.writing():
            started.set()

    thread = threading.Thread(target=save, daemon=True)
    thread.start()
    assert not started.wait(0.3) and thread.is_alive()
