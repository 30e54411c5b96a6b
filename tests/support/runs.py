"""Runs written into a store without training: the recorder's hooks fed with made-up logs.

Shared by the store, recorder, run-chart and Runs-page tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.nets.model import ModelSpec
from core.runs.recorder import RunRecorder
from core.runs.store import RunStore
from core.training.job import RunResult
from tests.support.specs import small_spec


def epoch_logs(epoch: int) -> dict[str, float]:
    return {
        "loss": 1.0 / (epoch + 1),
        "accuracy": 0.5 + 0.04 * epoch,
        "val_loss": 1.2 / (epoch + 1),
        "val_accuracy": 0.45 + 0.04 * epoch,
    }


def batch_logs(epoch: int, step: int, steps: int) -> dict[str, float]:
    """Step `step` (1-based) of `steps`."""
    return {"loss": 2.0 / (epoch + step / steps), "accuracy": 0.1 + 0.01 * epoch}


def train_epochs(recorder: RunRecorder, epochs: int, steps: int, first: int = 0) -> None:
    """Feed the recorder's hooks `epochs` whole epochs as Keras would call them."""
    for epoch in range(first, first + epochs):
        recorder.on_epoch_begin(epoch)
        for step in range(1, steps + 1):
            recorder.on_train_batch_end(step - 1, batch_logs(epoch, step, steps))
        recorder.on_epoch_end(epoch, epoch_logs(epoch))


def start_recorder(store: RunStore, run_id: str, *, epochs: int, steps: int, model=None):
    recorder = RunRecorder(store, run_id)
    recorder.set_params({"epochs": epochs, "steps": steps, "verbose": 0})
    if model is not None:
        recorder.set_model(model)
    recorder.on_train_begin()
    return recorder


def fake_test_results(seed: int, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities, half of them right and the rest at random."""
    rng = np.random.default_rng(seed)
    y_test = rng.integers(0, 10, n)
    probabilities = rng.random((n, 10))
    probabilities[np.arange(n // 2), y_test[: n // 2]] += 5
    return y_test, probabilities


def counted_confusion(y_true, predicted) -> list[list[int]]:
    """A confusion matrix counted with a loop: rows true digit, columns predicted."""
    counted = [[0] * 10 for _ in range(10)]
    for true, guess in zip(y_true, predicted, strict=True):
        counted[int(true)][int(guess)] += 1
    return counted


def fill_run(
    store: RunStore,
    spec: ModelSpec | None = None,
    *,
    epochs: int = 3,
    steps: int = 50,
    model=None,
    status: str = "completed",
    name: str | None = None,
    seed: int = 0,
) -> tuple[str, RunRecorder]:
    """A run written by a `RunRecorder` exactly as during training, ending with a result."""
    spec = spec or small_spec(epochs=epochs)
    run_id = store.create_run(spec, "fake data", name=name)
    recorder = start_recorder(store, run_id, epochs=epochs, steps=steps, model=model)
    train_epochs(recorder, epochs, steps)
    y_test, probabilities = fake_test_results(seed)
    confusion = counted_confusion(y_test, probabilities.argmax(1))
    accuracy = float(np.trace(np.array(confusion)) / len(y_test))
    recorder.on_run_end(
        RunResult(
            status,
            f"Trained {epochs} epochs.",
            test_loss=0.3,
            test_accuracy=accuracy,
            confusion=confusion,
        )
    )
    return run_id, recorder


def tiny_model(input_shape=(784,), outputs=10, activation="softmax"):
    import keras

    keras.utils.set_random_seed(0)
    layers = [keras.Input(input_shape)]
    if len(input_shape) > 1:
        layers.append(keras.layers.Flatten())
    layers += [
        keras.layers.Dense(6, activation="relu"),
        keras.layers.Dropout(0.25),
        keras.layers.Dense(outputs, activation=activation),
    ]
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="categorical_crossentropy"
    )
    return model


def model_bytes(model, tmp_path: Path, name: str) -> bytes:
    path = tmp_path / name
    model.save(path)
    return path.read_bytes()


def leftovers(store: RunStore) -> list[str]:
    """Files in the store other than the database and the models (and starting weights,
    core/runs/lineage.py) of stored runs."""
    kept = {f"{run.id}{end}" for run in store.list_runs() for end in (".keras", ".start.npz")}
    names = [p.name for p in store.models_dir.iterdir() if p.name not in kept]
    names += [p.name for p in store.home.iterdir() if not p.name.startswith("runs.sqlite3")]
    return sorted(n for n in names if n != "models")
