"""What the page tests share: opening a page of the app in AppTest, the Train page set to a small
network, a run trained and stored."""

from __future__ import annotations

import base64
import functools
import time

import numpy as np
from streamlit.components.v2 import manifest_scanner
from streamlit.testing.v1 import AppTest

from core.mnist.data import MNIST
from core.nets.model import ModelSpec
from core.runs.start import start_recorded_run
from core.runs.store import RunStore
from core.training.job import TrainingJob
from tests.conftest import REPO


def scan_components_once() -> None:
    """Make Streamlit's scan of the installed packages for components run once per process.

    Every new AppTest, at its first run, makes a component manager that reads the metadata of
    every installed distribution (about 400 files here) to find Streamlit components; the
    installed packages do not change while the tests run, so the first scan's answer (the
    drawing canvas) serves every later AppTest. Called on import: every page test imports
    this module.
    """
    scan = manifest_scanner.scan_component_manifests
    if not hasattr(scan, "cache_info"):
        manifest_scanner.scan_component_manifests = functools.cache(scan)


scan_components_once()


def run_pages_as_the_app_does() -> None:
    """Pages opened on their own (AppTest of a page file or a function, not through app.py)
    run with the Keras session kept between runs, as app.py sets for every page of the app
    (app_pages/keras_runtime.keep_keras_state). Without it, Streamlit clears Keras's session
    after each run of such a page: a full garbage collection each time, and Keras's state
    reset under a training job. Called on import: every page test imports this module."""
    from app_pages import keras_runtime

    keras_runtime.keep_keras_state()


run_pages_as_the_app_does()


def open_page(page: str, timeout: float = 90) -> AppTest:
    """The app from its entry point, switched to `page` (e.g. "app_pages/train.py")."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def set_small_network(at: AppTest, epochs: int) -> None:
    """The Train page's controls set to one hidden layer of 32 units, `epochs` epochs and
    batches of 32: a network quick to train."""
    at.slider(key="train_w_layers").set_value(1).run()
    at.select_slider(key="train_w_units_0").set_value(32).run()
    at.slider(key="train_w_epochs").set_value(epochs).run()
    at.select_slider(key="train_w_batch_size").set_value(32).run()


def build_nothing_ahead(monkeypatch) -> None:
    """For a page test that only reads and sets widgets (it never presses Train): the networks
    the pages ask to have built ahead (core.training.warm_start: a build and a trace on a
    background thread once the settings have rested for its `delay`) are asked for but not
    built while the test runs, as if the settings never rested. Such a build would cost the
    test (and the tests after it) its processor time, and Keras's model building and
    TensorFlow's tracing on that thread can race the page's own (Python 3.11's parser is not
    safe across threads). The next request after the test builds as ever."""
    from core.training.warm_start import WARM_STARTS

    monkeypatch.setattr(WARM_STARTS, "delay", 3600.0)


def run_until(at: AppTest, condition, timeout: float = 120.0) -> None:
    """Rerun the page (as its fragment's timer would) until `condition(at)` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if condition(at):
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def train_stored_run(data: MNIST, epochs: int = 2, units: int = 16) -> tuple[str, TrainingJob]:
    """A small network trained on `data` and kept in the run store, through the same
    `start_recorded_run` that the pages' `training_session.start_training` calls."""
    spec = ModelSpec(layers=[{"type": "Dense", "units": units}], epochs=epochs, batch_size=32)
    job = start_recorded_run(RunStore(), spec, data)
    assert job.join(timeout=120)
    return job.run_id, job


def decoded(value):
    """A figure's JSON with plotly's typed arrays ({"dtype", "bdata", "shape"}) as lists."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = [int(n) for n in str(value.get("shape", len(array))).split(",")]
        return array.reshape(shape).tolist()
    if isinstance(value, dict):
        return {key: decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decoded(item) for item in value]
    return value
