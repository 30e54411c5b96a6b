"""The exported Keras scripts run on their own and do what the app does.

Every script here runs for real, in one fresh Python process (`DRIVER`, so TensorFlow is
imported once), on a small IDX folder (and one mnist.npz) written by the test: no network.
The scripts whose histories are compared run as they would on their own; those only checked
for the model they save run with TensorFlow's functions run eagerly (no graph traced: the
same layers, the same saved file, in a fraction of the time).
What each saved .keras file holds is compared with `core.nets.model.build_model` for the same spec,
and two scripts' training histories with `TrainingJob` runs of the same spec in this process.
The scripts of tests/export/test_steer_script.py's steered runs run in the same process.
"""

from __future__ import annotations

import ast
import json
import math
import re
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from core.export.keras_script import (
    export_script,
    layer_names,
    model_name,
    script_diff,
    script_filename,
)
from core.nets.model import ModelSpec, build_model
from core.nets.presets import DEFAULT_PRESET, KERAS_CONVNET, PRESETS, SECONDS_PRESET
from core.training.job import TrainingJob
from tests.conftest import REPO
from tests.export.test_steer_script import STEERED, steered_run
from tests.support.digits import patch_digits, write_idx_folder
from tests.support.specs import random_specs

DEFAULT_SPEC = PRESETS[DEFAULT_PRESET].spec
# The 99 % preset: its one-cycle schedule, climbing then falling, matches step for step.
REPRODUCED = [DEFAULT_PRESET, "512-512, dropout 0.2, Adam, early stopping", SECONDS_PRESET]
# The same operations on the same numbers in the same order give the same floats: the split,
# the initial weights (set_random_seed before the layers are made, in the same order), the
# dropout masks and the batch order (tf.random.shuffle's seed follows the global seed) all
# match, and in practice the histories agree to the last bit. The tolerance only leaves room
# for a float32 rounding difference, far below anything a learner could see.
HISTORY_TOLERANCE = 1e-6

# Run each script with `runpy`, as `python script.py DATA` would, each in its own folder
# (eagerly where the case says so); then record its history and what its saved model holds.
DRIVER = """
import json, os, runpy, sys
from pathlib import Path
import keras
import tensorflow as tf

plan, out = sys.argv[1:3]
results = {}
for case in json.loads(Path(plan).read_text()):
    os.chdir(case["folder"])
    sys.argv = [case["script"], case["data"]]
    tf.config.run_functions_eagerly(case["eager"])
    names = runpy.run_path(case["script"], run_name="__main__")
    model = keras.saving.load_model(case["model_file"], compile=False)
    results[case["name"]] = {
        "history": {k: [float(v) for v in vs] for k, vs in names["history"].history.items()},
        "layers": [[type(layer).__name__, layer.get_config()] for layer in model.layers
                   if type(layer).__name__ != "InputLayer"],
        "parameters": model.count_params(),
        "input_shape": list(model.input_shape),
        "model_name": model.name,
    }
Path(out).write_text(json.dumps(results, default=str))
"""


def layer_configs(model) -> list:
    """What DRIVER records of a model's layers, as JSON would give it back."""
    rows = [
        [type(layer).__name__, layer.get_config()]
        for layer in model.layers
        if type(layer).__name__ != "InputLayer"
    ]
    return json.loads(json.dumps(rows, default=str))


def cases() -> dict[str, ModelSpec]:
    """Every preset and a few random specs (at least two convolutional), 1 epoch each."""
    chosen = {name: replace(preset.spec, epochs=1) for name, preset in PRESETS.items()}
    for name in REPRODUCED:  # two epochs: the second shows the batch order matches too
        chosen[name] = replace(PRESETS[name].spec, epochs=2)
    conv = dense = 0
    for i, spec in enumerate(random_specs(40, seed=5)):
        wanted = conv < 2 if spec.is_convolutional else dense < 2
        if wanted and spec.batch_size >= 32:
            chosen[f"random {i}"] = replace(spec, epochs=1)
            conv, dense = conv + spec.is_convolutional, dense + (not spec.is_convolutional)
    assert conv == 2 and dense == 2
    chosen[MY_DIGITS_CASE] = replace(DEFAULT_SPEC, epochs=2, my_digits_repeats=3)
    for name, spec in AUGMENTED.items():
        chosen[name] = spec
    return chosen


MY_DIGITS_CASE = "my digits, 3 times each"
# Augmentation on a dense network (rows seen as images) and on the keras.io convnet.
AUGMENTED = {
    "augmented dense": replace(
        DEFAULT_SPEC,
        epochs=2,
        augment_shift=0.1,
        augment_rotation=10.0,
        augment_zoom=0.1,
        augment_thickness=1,
    ),
    "augmented convnet": replace(
        PRESETS[KERAS_CONVNET].spec, epochs=1, augment_rotation=15.0, augment_thickness=2
    ),
}


def my_digits() -> tuple[np.ndarray, np.ndarray]:
    """Twelve own digits as My digits stores them: float32 images in [0, 1], uint8 labels."""
    rng = np.random.default_rng(8)
    return rng.random((12, 28, 28), dtype=np.float32), (np.arange(12) % 10).astype(np.uint8)


def history_compared() -> set[str]:
    """The cases whose histories are compared with the app's: they train on `small_data`."""
    return {*REPRODUCED, *AUGMENTED, MY_DIGITS_CASE}


def write_data(folder, data) -> None:
    """`data` as an IDX folder (folder/idx) and as an mnist.npz (folder/mnist.npz)."""
    (folder / "idx").mkdir(parents=True)
    write_idx_folder(folder / "idx", data)
    np.savez(
        folder / "mnist.npz",
        x_train=data.x_train,
        y_train=data.y_train,
        x_test=data.x_test,
        y_test=data.y_test,
    )


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    """400 training and 100 test made-up digits, as an IDX folder and as an mnist.npz; and,
    in root/tiny, 40 and 20 for the scripts only checked for the model they save (one batch
    an epoch: what they save does not depend on how much they train)."""
    data = patch_digits(n_train=400, n_test=100, seed=11)
    root = tmp_path_factory.mktemp("export-data")
    write_data(root, data)
    write_data(root / "tiny", patch_digits(n_train=40, n_test=20, seed=12))
    return data, root


@pytest.fixture(scope="module")
def steered(tmp_path_factory):
    """tests/export/test_steer_script.py's runs, steered while they trained (a new rate, then
    a new weight decay), by name; and the folder of their data as IDX files."""
    data = patch_digits(n_train=400, n_test=60, seed=21)
    folder = tmp_path_factory.mktemp("steered-data")
    write_idx_folder(folder, data)
    return {name: steered_run(spec, data) for name, spec in STEERED.items()}, folder


def steered_cases(steered, work) -> list[dict]:
    """DRIVER's plan for the steered runs' scripts, named "steered NAME"."""
    jobs, data = steered
    plan = []
    for name, job in jobs.items():
        folder = work / f"steered-{name}"
        folder.mkdir()
        script = folder / script_filename(STEERED[name])
        script.write_text(export_script(STEERED[name], job.steer.changes()))
        model_file = folder / (script.stem + ".keras")
        plan.append(
            {
                "name": f"steered {name}",
                "folder": str(folder),
                "script": str(script),
                "data": str(data),
                "model_file": str(model_file),
                "eager": False,
            }
        )
    return plan


@pytest.fixture(scope="module")
def script_results(small_data, steered, tmp_path_factory):
    """Every case's script, and the steered runs', run to the end in one subprocess; DRIVER's
    record of each. The scripts whose histories are compared run first, in graph mode as on
    their own; then the steered runs'; then, eagerly, those only checked for their model."""
    _, root = small_data
    work = tmp_path_factory.mktemp("export-scripts")
    plan = []
    for i, (name, spec) in enumerate(cases().items()):
        folder = work / f"case{i}"
        folder.mkdir()
        images, labels = my_digits()  # the My digits page's download, beside every script
        np.savez_compressed(folder / "mydigits.npz", x_test=images, y_test=labels)
        script = folder / script_filename(spec)
        script.write_text(export_script(spec))
        folder_of = root if name in history_compared() else root / "tiny"
        data = folder_of / ("mnist.npz" if name.startswith("random") and i % 2 else "idx")
        plan.append(
            {
                "name": name,
                "folder": str(folder),
                "script": str(script),
                "data": str(data),
                "model_file": str(folder / (script.stem + ".keras")),
                "eager": name not in history_compared(),
            }
        )
    plan.sort(key=lambda case: case["eager"])  # stable: each group keeps its order
    plan[len(history_compared()) : len(history_compared())] = steered_cases(steered, work)
    (work / "plan.json").write_text(json.dumps(plan))
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(work / "plan.json"), str(work / "results.json")],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
        env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin", "HOME": str(work)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((work / "results.json").read_text())


@pytest.mark.timeout(900)  # the first to ask for `script_results`: minutes on a busy machine
def test_every_script_saves_the_model_build_model_makes(script_results):
    for name, spec in cases().items():
        result = script_results[name]
        model = build_model(spec, steps_per_epoch=1)
        assert result["layers"] == layer_configs(model), name
        assert result["parameters"] == model.count_params(), name
        assert result["input_shape"] == [None, *spec.input_shape], name
        assert result["model_name"] == model.name == model_name(spec), name
        assert len(result["history"]["loss"]) == spec.epochs, name


def test_the_script_trains_as_the_app_does(script_results, small_data):
    data, _ = small_data
    for name in [*REPRODUCED, *AUGMENTED]:
        spec = cases()[name]
        job = TrainingJob(spec, data).start()
        assert job.join(timeout=120)
        snapshot = job.monitor.snapshot()
        assert snapshot.status == "completed", snapshot.message
        script = script_results[name]["history"]
        assert set(script) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        for metric, values in script.items():
            app = snapshot.history[metric]
            assert len(values) == len(app) == spec.epochs
            assert np.allclose(values, app, rtol=0, atol=HISTORY_TOLERANCE), (name, metric)


def test_the_script_trains_on_my_digits_as_the_app_does(script_results, small_data):
    from core.training.my_digits import with_my_digits

    data, _ = small_data
    spec = cases()[MY_DIGITS_CASE]
    mixed = with_my_digits(data, *my_digits(), repeats=spec.my_digits_repeats)
    job = TrainingJob(spec, mixed).start()
    assert job.join(timeout=120)
    snapshot = job.monitor.snapshot()
    assert snapshot.status == "completed", snapshot.message
    script = script_results[MY_DIGITS_CASE]["history"]
    for metric, values in script.items():
        assert np.allclose(values, snapshot.history[metric], rtol=0, atol=HISTORY_TOLERANCE), metric


def test_the_steered_runs_script_trains_as_the_app_did(script_results, steered):
    """tests/export/test_steer_script.py's runs: each script's callback sets the same rate and
    weight decay before the same batches, and its history equals the app's."""
    jobs, _ = steered
    for name, job in jobs.items():
        changes = job.steer.changes()
        assert [c.kind for c in changes] == ["learning_rate", "weight_decay"], name
        app = job.snapshot().history
        for metric, values in script_results[f"steered {name}"]["history"].items():
            assert np.allclose(values, app[metric], rtol=0, atol=HISTORY_TOLERANCE), (name, metric)


def test_scripts_import_only_keras_numpy_and_the_standard_library():
    for spec in [*cases().values()]:
        tree = ast.parse(export_script(spec))
        modules = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        }
        assert modules - sys.stdlib_module_names <= {"keras", "numpy"}, modules


def test_scripts_are_lint_clean_and_formatted(tmp_path):
    ruff = REPO / ".venv" / "bin" / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed in .venv")
    for i, spec in enumerate(cases().values()):
        (tmp_path / f"script_{i}.py").write_text(export_script(spec))
    for command in (["check", "--isolated"], ["format", "--isolated", "--check"]):
        done = subprocess.run([str(ruff), *command, str(tmp_path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_the_script_says_what_the_spec_says():
    spec = ModelSpec(
        layers=[
            {"type": "Conv2D", "filters": 8, "kernel_size": 5, "strides": 2, "padding": "same"},
            {"type": "MaxPooling2D", "pool_size": 3, "strides": 1},
            {"type": "GlobalAveragePooling2D"},
            {"type": "Dense", "units": 20, "activation": "tanh"},
        ],
        optimizer="nadam",
        learning_rate=0.0003,
        lr_schedule="cosine",
        loss="mean_squared_error",
        batch_size=64,
        epochs=7,
        early_stopping=True,
        patience=3,
        restore_best_weights=False,
        validation_split=0.0,
        seed=9,
    )
    script = export_script(spec)
    # Compare without layout: a long layer call is wrapped over several lines.
    flat = re.sub(r"\s+", "", script).replace(",)", ")")
    for expected in (
        'layers.Conv2D(8,kernel_size=5,strides=2,padding="same",activation="relu",name="conv2d_1")',
        'layers.MaxPooling2D(pool_size=3,strides=1,name="max_pooling2d_1")',
        "keras.Input(shape=(28,28,1)",
        "keras.optimizers.Nadam(learning_rate=learning_rate)",
        "CosineDecay",
        "LEARNING_RATE=0.0003",
        'loss="mean_squared_error"',
        # No validation part: early stopping watches the training loss, as the app's does.
        'monitor="loss",patience=3,restore_best_weights=False',
        "SEED=9",
    ):
        assert expected in flat, expected
    assert "validation_data" not in script
    assert layer_names(spec) == [
        "conv2d_1",
        "max_pooling2d_1",
        "global_average_pooling2d_1",
        "dense_1",
    ]


def test_the_diff_of_two_scripts_shows_only_what_differs():
    before = export_script(DEFAULT_SPEC)
    assert script_diff(before, before, "a", "b") == ""
    after = export_script(replace(DEFAULT_SPEC, epochs=3, seed=7))
    changed = [
        line
        for line in script_diff(before, after, "run 1", "run 2").splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert sorted(changed) == sorted(
        [
            f"-EPOCHS = {DEFAULT_SPEC.epochs}",
            "+EPOCHS = 3",
            f"-SEED = {DEFAULT_SPEC.seed}",
            "+SEED = 7",
        ]
    )


def test_a_one_cycle_script_builds_the_apps_schedule():
    """The script's schedule code, run on its own, gives the app's rates at every step."""
    import keras

    from core.nets.schedules import learning_rate_schedule

    spec = replace(DEFAULT_SPEC, lr_schedule="one_cycle", learning_rate=0.01, epochs=2)
    script = export_script(spec)
    assert "import math" in script and "warmup_target=LEARNING_RATE" in script
    block = script[script.index("steps = math.ceil") : script.index("optimizer = keras")]
    names = {"math": __import__("math"), "keras": keras, "LEARNING_RATE": 0.01}
    names |= {"BATCH_SIZE": spec.batch_size, "EPOCHS": spec.epochs, "x_train": range(5400)}
    exec(block, names)  # noqa: S102 - the exported script's own lines
    steps = 2 * math.ceil(5400 / spec.batch_size)
    app = learning_rate_schedule("one_cycle", 0.01, steps)
    for step in range(steps + 1):
        assert float(names["learning_rate"](step)) == pytest.approx(float(app(step)), abs=1e-9)
