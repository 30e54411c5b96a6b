"""Classic baselines from scikit-learn, trained on the same split as the networks.

"Train a random forest instead; is the accuracy better?" Each baseline learns from exactly the
training part `core.training.prepared.prepare` keeps for a network with the same seed (the validation
part is held out the same way), is scored on that validation part and on the test set, and is
stored as an ordinary run: test accuracy, confusion matrix, and a model the Evaluate and Draw
pages can ask for class probabilities.

- Random forest: `RandomForestClassifier(n_estimators=RF_TREES, max_features="sqrt",
  min_samples_leaf=1, n_jobs=-1, random_state=seed)` on the 784 pixels scaled to [0, 1]. Its
  model file is `<run id>.joblib`, written by the app itself and only ever read back from the
  app's own models folder (never from an upload): joblib files run code when loaded, so the
  store keeps the file's SHA-256 and refuses a file that changed.
- Logistic regression: `LogisticRegression(C=1.0, solver="lbfgs", max_iter=100)`, multinomial.
  It is exactly a network with no hidden layer, so it is stored as that Keras model (its
  coefficients as the output layer's weights): a plain .keras file that every page, the model
  download and the first-layer weights view handle like any other.

The test loss stored is `core.inside.evaluation.cross_entropy` of the test probabilities, the
one definition every run's test loss has.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.inside.evaluation import confusion_matrix, cross_entropy
from core.mnist.data import MNIST
from core.runs.sklearn_file import SklearnModel
from core.runtime.jobs import BackgroundJob
from core.training.prepared import prepare

RF_TREES = 60
LR_MAX_ITER = 100
VALIDATION_SPLIT = 0.1
BASELINES = {
    "random_forest": {
        "label": "Random forest",
        "settings": {
            "n_estimators": RF_TREES,
            "max_features": "sqrt",
            "min_samples_leaf": 1,
        },
    },
    "logistic_regression": {
        "label": "Logistic regression",
        "settings": {"C": 1.0, "solver": "lbfgs", "max_iter": LR_MAX_ITER},
    },
}


@dataclass
class BaselineResult:
    kind: str
    model: Any  # SklearnModel (random forest) or a Keras model (logistic regression)
    train_accuracy: float
    val_accuracy: float | None
    test_loss: float
    test_accuracy: float
    test_probabilities: np.ndarray
    seconds: float  # training and evaluating


def _accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float((probabilities.argmax(axis=1) == labels).mean())


def make_estimator(kind: str, seed: int):
    """The scikit-learn estimator with the settings stated in `BASELINES`."""
    if kind == "random_forest":
        from sklearn.ensemble import RandomForestClassifier  # scikit-learn: slow to import

        return RandomForestClassifier(**BASELINES[kind]["settings"], n_jobs=-1, random_state=seed)
    if kind == "logistic_regression":
        from sklearn.linear_model import LogisticRegression  # scikit-learn: slow to import

        return LogisticRegression(**BASELINES[kind]["settings"], random_state=seed)
    raise ValueError(f"unknown baseline {kind!r}; choose from {', '.join(BASELINES)}.")


def logistic_as_keras(estimator):
    """The fitted multinomial logistic regression as a Keras Dense(10, softmax) on 784 pixels:
    softmax(x W + b) with W = coef_.T and b = intercept_ is exactly its predict_proba."""
    import keras  # Keras: not at start-up

    inputs = keras.Input(shape=(784,), name="pixels")
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(inputs)
    model = keras.Model(inputs, outputs, name="logistic_regression")
    coef = np.zeros((10, 784), dtype=np.float32)
    intercept = np.full(10, -1e4, dtype=np.float32)  # a digit never seen: probability 0
    coef[estimator.classes_] = estimator.coef_
    intercept[estimator.classes_] = estimator.intercept_
    model.set_weights([coef.T, intercept])
    return model


def train_baseline(data: MNIST, kind: str, seed: int) -> BaselineResult:
    """Fit the baseline on the network's training part for this seed; score it."""
    start = time.perf_counter()
    prepared = prepare(data, VALIDATION_SPLIT, seed)
    y_train = prepared.y_train.argmax(axis=1)
    estimator = make_estimator(kind, seed)
    with warnings.catch_warnings():
        # lbfgs stops at max_iter before its own tolerance; the accuracy has settled by then.
        warnings.filterwarnings("ignore", message=".*failed to converge.*")
        estimator.fit(prepared.x_train, y_train)
    model = SklearnModel(estimator)
    train_accuracy = _accuracy(model.predict_on_batch(prepared.x_train[:10000]), y_train[:10000])
    val_accuracy = None
    if prepared.x_val is not None:
        val_accuracy = _accuracy(
            model.predict_on_batch(prepared.x_val), prepared.y_val.argmax(axis=1)
        )
    probabilities = model.predict_on_batch(prepared.x_test)
    if kind == "logistic_regression":
        model = logistic_as_keras(estimator)
    return BaselineResult(
        kind=kind,
        model=model,
        train_accuracy=train_accuracy,
        val_accuracy=val_accuracy,
        test_loss=cross_entropy(probabilities, data.y_test),
        test_accuracy=_accuracy(probabilities, data.y_test),
        test_probabilities=probabilities,
        seconds=time.perf_counter() - start,
    )


def architecture(kind: str) -> str:
    if kind == "random_forest":
        return f"Random forest ({RF_TREES} trees)"
    return "Logistic regression (784-10)"


def settings(kind: str, seed: int) -> dict[str, Any]:
    """What is stored as the run's settings: the estimator's, the seed and the split."""
    return {
        "model": kind,
        **BASELINES[kind]["settings"],
        "seed": seed,
        "validation_split": VALIDATION_SPLIT,
    }


def create_baseline_run(store, kind: str, seed: int, data: MNIST, name: str, experiment_id=None):
    """A new "running" baseline run in the store; returns its id."""
    return store.create_other_run(
        name=name,
        architecture=architecture(kind),
        settings=settings(kind, seed),
        data_source=data.description,
        experiment_id=experiment_id,
    )


def record_baseline(store, run_id: str, result: BaselineResult, data: MNIST) -> None:
    """Store the result as one "epoch" (training and validation accuracy; a forest has no
    loss), then the model, test results and confusion matrix."""
    label = BASELINES[result.kind]["label"]
    val = float("nan") if result.val_accuracy is None else result.val_accuracy
    store.write_progress(
        run_id,
        {
            "loss": [float("nan")],
            "accuracy": [result.train_accuracy],
            "val_loss": [float("nan")],
            "val_accuracy": [val],
        },
        [],
        epochs_done=1,
        training_seconds=result.seconds,
        val_accuracy=result.val_accuracy,
    )
    store.save_model(run_id, result.model, 1)
    store.finish_run(
        run_id,
        "completed",
        f"{label} trained and tested in {result.seconds:.1f} s.",
        test_loss=result.test_loss,
        test_accuracy=result.test_accuracy,
        confusion=confusion_matrix(data.y_test, result.test_probabilities.argmax(axis=1)).tolist(),
    )


class BaselineJob(BackgroundJob):
    """A baseline trained on its own thread and stored, shaped like a `TrainingJob` for the
    experiment queue (start, alive, join, stop, error) through the same `BackgroundJob` base.
    Stop cannot cut a scikit-learn fit short: the baseline finishes (it is quick)."""

    thread_name = "baseline"

    def __init__(self, store, data: MNIST, kind: str, seed: int, run_id: str) -> None:
        super().__init__()
        self.store, self.data, self.kind, self.seed, self.run_id = store, data, kind, seed, run_id
        self.result: BaselineResult | None = None

    def work(self, stop: threading.Event) -> None:
        self.result = train_baseline(self.data, self.kind, self.seed)
        record_baseline(self.store, self.run_id, self.result, self.data)

    def fail(self, message: str) -> None:
        self.store.finish_run(self.run_id, "failed", message)
