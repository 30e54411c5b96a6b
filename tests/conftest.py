"""Shared test set-up: quiet TensorFlow, keep every run store inside a temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.runtime import ast_lock

ast_lock.install()  # CPython 3.11's AST conversion is not safe across threads (see the module)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
BROWSER_TESTS = "tests/browser/"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With pytest-xdist's `--dist loadfile` (pyproject's addopts): each test file is one unit
    of work, so a module's fixtures are made once, and the whole of tests/browser/ is one unit,
    run in file order by one worker on one shared server while the other workers take the
    rest of the suite. (xdist's own `loadgroup` cannot do this with pytest 9: it renames
    nodes through an attribute pytest no longer reads.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class BrowserTestsTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(BROWSER_TESTS):
                return BROWSER_TESTS
            return super()._split_scope(nodeid)

    return BrowserTestsTogether(config, log)


@pytest.fixture(autouse=True)
def _playground_home(tmp_path_factory, monkeypatch):
    """Every test gets its own run store, never the user's ~/.keras-playground."""
    home = tmp_path_factory.mktemp("playground-home")
    monkeypatch.setenv("KERAS_PLAYGROUND_HOME", str(home))
    return home


def full_mnist_dir() -> Path | None:
    """The folder with the four genuine MNIST files, or None where it is absent."""
    candidate = Path(os.environ.get("MNIST_DATA", SHARED_MNIST))
    names = ["train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
    if all((candidate / name).exists() for name in names):
        return candidate
    return None


@pytest.fixture
def mnist_dir() -> Path:
    """The full MNIST folder; skips the test with the reason where it is absent."""
    found = full_mnist_dir()
    if found is None:
        pytest.skip(
            f"full MNIST files not found in {SHARED_MNIST} (set MNIST_DATA to a folder with them)"
        )
    return found


@pytest.fixture
def small_mnist(tmp_path, monkeypatch):
    """Easy made-up digits (400 to train, 100 to test) written as IDX files, set as MNIST_DATA."""
    from tests.support.digits import small_digits, write_idx_folder

    data = small_digits()
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx_folder(folder, data)
    monkeypatch.setenv("MNIST_DATA", str(folder))
    return data
