"""A scikit-learn baseline's model file: the fitted estimator wrapped to answer like the app's
Keras models, saved with joblib, and loaded back only when its checksum is the stored one
(joblib files can run code)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.nets.model_files import file_sha256


class SklearnModel:
    """A fitted scikit-learn classifier that answers like a Keras model of the playground:
    (N, 784) floats in [0, 1] in, (N, 10) probabilities out."""

    is_baseline = True
    file_suffix = ".joblib"  # the store saves it under this name and keeps its checksum

    def __init__(self, estimator) -> None:
        self.estimator = estimator
        self.name = type(estimator).__name__

    def predict_on_batch(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
        probabilities = np.zeros((len(x), 10), dtype=np.float32)
        probabilities[:, self.estimator.classes_] = self.estimator.predict_proba(x)
        return probabilities

    def __call__(self, x, training: bool = False) -> np.ndarray:
        return self.predict_on_batch(x)

    def save(self, path) -> None:
        import joblib  # joblib: slow to import; only for a baseline's file

        joblib.dump(self.estimator, path, compress=3)


def load_baseline(path: Path, expected_sha256: str | None) -> SklearnModel:
    """A stored random forest, only if the file is the one the app wrote."""
    import joblib  # joblib: slow to import; only for a baseline's file

    if not expected_sha256 or file_sha256(path) != expected_sha256:
        raise ValueError(
            f"{path.name} is not the file the playground saved for this run (its checksum "
            "differs), so it is not loaded: joblib files can run code. Train the baseline again."
        )
    return SklearnModel(joblib.load(path))
