"""The 2-D playground's exported script draws the app's data and builds the app's network."""

from __future__ import annotations

import ast
import json
import runpy
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import tensorflow as tf

from core.export.plane_script import export_plane_script, plane_script_filename
from core.plane.data import make_data
from core.plane.model import build_plane_model
from core.plane.runner import EpochRunner
from core.plane.spec import PlaneSpec
from tests.conftest import REPO

SPECS = [
    PlaneSpec(),
    PlaneSpec(data="cloud", x1_times_x2=True, hidden_layers=0, batch_size=16),
    PlaneSpec(
        data="circle",
        x1_squared=True,
        x2_squared=True,
        hidden_layers=2,
        dropout=0.1,
        regularization="l2",
        regularization_rate=0.001,
        loss="crossentropy",
        seed=5,
        sample=2,
    ),
    PlaneSpec(data="gaussians", noise=0.3, optimizer="sgd", learning_rate=0.03),
    PlaneSpec(data="spiral", sin_x1=True, sin_x2=True, hidden_layers=3, units_3=4),
    PlaneSpec(
        data="blobs",
        classes=4,
        loss="crossentropy",
        regularization="l1",
        regularization_rate=0.003,
        activation_1="tanh",
    ),
]
# The four points are one batch of four, so fit and the page's trainer take the same steps; only
# the order of the four rows inside the batch may differ, which changes float32 sums in the
# last bits. Observed: agreement to about 1e-7 over 50 epochs; the test trains 20.
POINTS_TOLERANCE = 1e-5


def run_script(spec: PlaneSpec, epochs: int, folder, eagerly: bool = False) -> dict:
    """The script run as `python plane_....py` would run it, here (Keras is imported already);
    `eagerly`: with TensorFlow's functions run eagerly, for a script only checked for its data
    and the model it builds and saves (the same layers and file, no step traced)."""
    script = folder / plane_script_filename(spec)
    script.write_text(export_plane_script(spec, epochs=epochs))
    tf.config.run_functions_eagerly(eagerly)
    try:
        return runpy.run_path(str(script), run_name="__main__")
    finally:
        tf.config.run_functions_eagerly(False)


def dense_configs(model) -> list[dict]:
    rows = []
    for layer in model.layers:
        if type(layer).__name__ in ("Dense", "Dropout"):
            config = layer.get_config()
            config.pop("name")  # the same here; checked apart below
            rows.append(json.loads(json.dumps(config, default=str)))
    return rows


@pytest.mark.filterwarnings("ignore:Even though the `tf.config.experimental_run_functions_eagerly")
@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.data)
def test_the_script_draws_the_apps_data_and_builds_its_network(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = run_script(spec, epochs=1, folder=tmp_path, eagerly=True)
    data = make_data(spec)
    assert np.array_equal(names["x_train"], data.x_train)
    assert np.array_equal(names["targets"](names["classes_train"]), data.y_train)
    if data.has_test:
        assert np.array_equal(names["x_test"], data.x_test)
        assert np.array_equal(names["targets"](names["classes_test"]), data.y_test)
    app = build_plane_model(spec)
    script_model = names["model"]
    # The features: the app's feature layer gives the script's numpy columns.
    app_features = app.get_layer("features")(data.x_train)
    assert np.allclose(app_features, names["features"](data.x_train), atol=1e-6)
    assert dense_configs(script_model) == dense_configs(app)
    assert [w.name for w in script_model.layers] == [
        w.name for w in app.layers if w.name != "features"
    ]
    assert (tmp_path / (plane_script_filename(spec)[:-3] + ".keras")).exists()


def test_on_the_four_points_the_script_trains_as_the_page_does(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = PlaneSpec(seed=3)
    epochs = 20
    script_history = run_script(spec, epochs=epochs, folder=tmp_path)["history"].history
    model = build_plane_model(spec)
    logs = EpochRunner(model, make_data(spec), spec.seed, shuffle=False).run(0, epochs)
    assert np.allclose(script_history["loss"], logs["loss"], rtol=0, atol=POINTS_TOLERANCE)
    assert np.allclose(script_history["accuracy"], logs["accuracy"], atol=POINTS_TOLERANCE)


def test_plane_scripts_import_only_keras_numpy_and_the_standard_library():
    for spec in SPECS:
        tree = ast.parse(export_plane_script(spec))
        modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert {m.split(".")[0] for m in modules} - sys.stdlib_module_names <= {"keras", "numpy"}


def test_plane_scripts_are_lint_clean_and_formatted(tmp_path):
    ruff = REPO / ".venv" / "bin" / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed in .venv")
    for i, spec in enumerate(SPECS + [replace(SPECS[2], dropout=0.0, regularization="none")]):
        (tmp_path / f"plane_{i}.py").write_text(export_plane_script(spec))
    for command in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        done = subprocess.run([str(ruff), *command, str(tmp_path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
