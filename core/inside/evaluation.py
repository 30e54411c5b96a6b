"""How good a trained network is on the test digits, and where it goes wrong.

Everything here is vectorised numpy on the model's softmax outputs: `evaluate_probabilities`
computes an `Evaluation` once per model (predictions, confidences, confusion matrix,
per-class precision/recall/F1, cross-entropy and accuracy); the Evaluate page then filters
mistakes and opens confusion-matrix cells with its methods without touching the model again.
`predict_probabilities` and `first_layer_weight_images` are the only functions that look at a
Keras model, and they import nothing from Keras until called.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.mnist.data import to_model_inputs
from core.nets.model import IMAGE_SIDE, INPUT_SIZE, NUM_CLASSES

# Keras clips probabilities to [EPSILON, 1 - EPSILON] before the log in cross-entropy.
EPSILON = 1e-7


def _labels(y: Any, name: str, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """`y` as a 1-D int64 array of digits, or a ValueError saying what is wrong and the fix."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == num_classes:
        raise ValueError(
            f"{name} has shape {y.shape}, which looks one-hot; pass the digits instead "
            f"({name}.argmax(axis=1))."
        )
    if y.ndim != 1:
        raise ValueError(f"{name} has shape {y.shape}; pass a 1-D array of digits, one per image.")
    if y.size and not np.issubdtype(y.dtype, np.integer) and not np.all(np.mod(y, 1) == 0):
        raise ValueError(f"{name} holds non-whole numbers; pass integer digits 0 to 9.")
    y = y.astype(np.int64, copy=False)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"{name} goes from {y.min()} to {y.max()}; labels must be digits 0 to {num_classes - 1}."
        )
    return y


def _digit(value: int | None, name: str) -> int | None:
    if value is None:
        return None
    if not 0 <= int(value) < NUM_CLASSES:
        raise ValueError(f"{name} is {value}; choose a digit from 0 to 9, or None for any digit.")
    return int(value)


def _probabilities(probabilities: Any, y_true: np.ndarray | None = None) -> np.ndarray:
    p = np.asarray(probabilities)
    if p.ndim != 2 or p.shape[1] != NUM_CLASSES:
        raise ValueError(
            f"probabilities have shape {p.shape}; expected (N, {NUM_CLASSES}), one softmax row "
            "per image (the output of predict_probabilities)."
        )
    if y_true is not None and len(y_true) != len(p):
        raise ValueError(
            f"{len(p):,} rows of probabilities but {len(y_true):,} labels; pass the labels of "
            "the same images, in the same order."
        )
    return p


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Counts of (true, predicted) pairs: row = true digit, column = predicted digit (int64)."""
    y_true = _labels(y_true, "y_true", num_classes)
    y_pred = _labels(y_pred, "y_pred", num_classes)
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"{len(y_true):,} true labels but {len(y_pred):,} predictions; pass one of each per image."
        )
    flat = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes).astype(np.int64, copy=False)


def normalise_rows(cm: Any) -> np.ndarray:
    """Each row divided by its total (the share of each true digit predicted as each digit).

    A row with no samples stays all zeros, without a division warning.
    """
    cm = np.asarray(cm, dtype=np.float64)
    totals = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)


def _safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator = numerator.astype(np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


@dataclass(frozen=True, eq=False)
class ClassMetrics:
    """Per-digit scores, each an array of 10 (index = digit).

    precision: of the images predicted as the digit, the share that are it (0 if never predicted).
    recall: of the images of the digit, the share predicted as it (0 if none in the test set);
        this is also the per-class accuracy.
    f1: harmonic mean of precision and recall (0 where both are 0).
    support: how many test images are the digit; predicted: how many were predicted as it.
    """

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray
    predicted: np.ndarray
    correct: np.ndarray

    @property
    def overall_accuracy(self) -> float:
        total = int(self.support.sum())
        return float(self.correct.sum() / total) if total else 0.0

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per digit, ready for a table: rates in %, to one decimal (one test
        image in a thousand), every one alike."""
        return [
            {
                "digit": str(d),
                "test images": int(self.support[d]),
                "predicted as it": int(self.predicted[d]),
                "correct": int(self.correct[d]),
                "precision %": round(100 * float(self.precision[d]), 1),
                "recall (accuracy) %": round(100 * float(self.recall[d]), 1),
                "F1 %": round(100 * float(self.f1[d]), 1),
            }
            for d in range(len(self.support))
        ]


def per_class_metrics(cm: Any) -> ClassMetrics:
    """Precision, recall, F1, support and predicted counts from a confusion matrix."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix is square; got shape {cm.shape}.")
    correct = np.diagonal(cm).astype(np.int64)
    support = cm.sum(axis=1).astype(np.int64)
    predicted = cm.sum(axis=0).astype(np.int64)
    precision = _safe_ratio(correct, predicted)
    recall = _safe_ratio(correct, support)
    f1 = _safe_ratio(2 * precision * recall, precision + recall)
    return ClassMetrics(precision, recall, f1, support, predicted, correct)


def _mistakes(
    y_true: np.ndarray,
    predictions: np.ndarray,
    confidence: np.ndarray,
    true_digit: int | None,
    predicted_digit: int | None,
) -> np.ndarray:
    wrong = predictions != y_true
    if true_digit is not None:
        wrong &= y_true == true_digit
    if predicted_digit is not None:
        wrong &= predictions == predicted_digit
    indices = np.flatnonzero(wrong)
    # Most confident mistake first; equal confidences keep test-set order.
    return indices[np.argsort(-confidence[indices], kind="stable")]


def cross_entropy(probabilities: Any, y_true: Any) -> float:
    """Mean categorical cross-entropy, computed as Keras does from softmax outputs.

    Rows are rescaled to sum to 1 and clipped to [1e-7, 1 - 1e-7] before the log, so a
    probability of 0 for the true digit costs -log(1e-7) = 16.1 instead of infinity.
    """
    y_true = _labels(y_true, "y_true")
    p = _probabilities(probabilities, y_true).astype(np.float64)
    if len(p) == 0:
        return 0.0
    totals = p.sum(axis=1)
    p_true = p[np.arange(len(p)), y_true] / np.where(totals > 0, totals, 1.0)
    return float(-np.mean(np.log(np.clip(p_true, EPSILON, 1 - EPSILON))))


def tenths_text(percent: float) -> str:
    """A percentage (0-100) to a tenth: "< 0.1 %" for what would round to nothing, and
    "> 99.9 %" for what would round to 100.0 short of certain."""
    if percent < 0.05:
        return "< 0.1 %"
    if 99.95 <= percent < 100:
        return "> 99.9 %"
    return f"{percent:.1f} %"


def percent_text(probability: float, *, short: bool = False) -> str:
    """A probability as a whole percent ('97 %'), except that one short of 1 never shows as
    100, so a network very sure of a mistake is not called certain: to a tenth instead
    (`tenths_text`: '99.6 %', '> 99.9 %'), or with `short` (a gallery title, no wider than
    the others) '99 %'."""
    value = 100 * float(probability)
    if value < 100 and f"{value:.0f}" == "100":
        return "99 %" if short else tenths_text(value)
    return f"{value:.0f} %"


def describe_prediction(true_digit: int, predicted_digit: int, confidence: float) -> str:
    """'true 4 → predicted 9 (97 %)' (or 'true 4, predicted 4 (99 %)' when right)."""
    joiner = "," if true_digit == predicted_digit else " →"
    return f"true {true_digit}{joiner} predicted {predicted_digit} ({percent_text(confidence)})"


@dataclass(frozen=True, eq=False)
class Evaluation:
    """One model's results on a labelled set of images, computed once.

    `probabilities` (N, 10) are the softmax outputs, `labels` (N,) the true digits,
    `predictions` the arg-max digit and `confidence` its probability. `loss` is the mean
    cross-entropy (as Keras computes it), whatever loss the model was trained with.
    """

    probabilities: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    confidence: np.ndarray
    confusion_matrix: np.ndarray
    metrics: ClassMetrics
    loss: float
    accuracy: float
    errors: int

    @property
    def count(self) -> int:
        return len(self.labels)

    def misclassified(
        self, true_digit: int | None = None, predicted_digit: int | None = None
    ) -> np.ndarray:
        """Indices of mistakes, most confident first, optionally on one true/predicted digit."""
        return _mistakes(
            self.labels,
            self.predictions,
            self.confidence,
            _digit(true_digit, "true_digit"),
            _digit(predicted_digit, "predicted_digit"),
        )

    def cell_indices(self, true_digit: int, predicted_digit: int) -> np.ndarray:
        """Images in one confusion-matrix cell, most confident first."""
        true_digit = _digit(true_digit, "true_digit")
        predicted_digit = _digit(predicted_digit, "predicted_digit")
        indices = np.flatnonzero(
            (self.labels == true_digit) & (self.predictions == predicted_digit)
        )
        return indices[np.argsort(-self.confidence[indices], kind="stable")]

    def describe(self, index: int) -> str:
        """'true 4 → predicted 9 (97 %)' for test image `index`."""
        return describe_prediction(
            int(self.labels[index]), int(self.predictions[index]), float(self.confidence[index])
        )

    def titles(self, indices: Any) -> list[str]:
        """Short gallery titles such as '4 → 9 (97 %)', one per index."""
        indices = np.asarray(indices, dtype=np.int64)
        labels = self.labels[indices]
        predictions = self.predictions[indices]
        sure = [percent_text(c, short=True) for c in self.confidence[indices]]
        return [f"{t} → {p} ({c})" for t, p, c in zip(labels, predictions, sure, strict=True)]


def evaluate_probabilities(probabilities: Any, y_true: Any) -> Evaluation:
    """All the Evaluate page's numbers from softmax outputs (N, 10) and true digits (N,)."""
    labels = _labels(y_true, "y_true")
    p = _probabilities(probabilities, labels)
    predictions = p.argmax(axis=1)
    confidence = p.max(axis=1)
    cm = confusion_matrix(labels, predictions)
    errors = int(len(labels) - np.trace(cm))
    return Evaluation(
        probabilities=p,
        labels=labels,
        predictions=predictions,
        confidence=confidence,
        confusion_matrix=cm,
        metrics=per_class_metrics(cm),
        loss=cross_entropy(p, labels),
        accuracy=float(np.trace(cm) / len(labels)) if len(labels) else 0.0,
        errors=errors,
    )


def _input_shape(model: Any) -> tuple[int, ...]:
    """One example's shape as the model takes it: (784,), (28, 28) or (28, 28, 1)."""
    try:
        shape = tuple(int(n) for n in model.inputs[0].shape[1:])
    except (AttributeError, IndexError, TypeError, ValueError):
        return (INPUT_SIZE,)
    return shape if int(np.prod(shape)) == INPUT_SIZE else (INPUT_SIZE,)


def predict_probabilities(model: Any, images: Any, batch_size: int = 1024) -> np.ndarray:
    """The model's softmax outputs (N, 10) float32 for images (N, 28, 28) or (N, 784).

    uint8 images (0-255) are scaled to [0, 1]; float images must already be in [0, 1].
    Uses `model.predict_on_batch` on chunks of `batch_size`: faster than `model.predict`,
    which sets up a data pipeline on every call, and than calling the model directly
    (bench/evaluate.py measures the three).
    """
    images = np.asarray(images)
    if images.ndim not in (2, 3) or int(np.prod(images.shape[1:])) != INPUT_SIZE:
        raise ValueError(
            f"images have shape {images.shape}; pass (N, 28, 28) digits or (N, 784) rows."
        )
    if images.dtype != np.uint8:
        if not np.issubdtype(images.dtype, np.floating):
            raise ValueError(
                f"images are {images.dtype}; pass uint8 pixels (0-255) or floats in [0, 1]."
            )
        if images.size and float(images.max()) > 1.0:
            raise ValueError(
                f"float images go up to {float(images.max()):g}; the network expects [0, 1]. "
                "Divide by 255, or pass the uint8 images."
            )
    if batch_size < 1:
        raise ValueError(f"batch_size {batch_size}; choose 1 or more images per batch.")
    n = len(images)
    out = np.empty((n, NUM_CLASSES), dtype=np.float32)
    shape = _input_shape(model)
    for start in range(0, n, batch_size):
        chunk = to_model_inputs(images[start : start + batch_size], shape)
        out[start : start + len(chunk)] = np.asarray(model.predict_on_batch(chunk))
    return out


def _layers_in_order(model: Any):
    """Every layer, looking inside models nested in the model (as an imported run's is)."""
    for layer in getattr(model, "layers", []):
        if hasattr(layer, "layers"):
            yield from _layers_in_order(layer)
        else:
            yield layer


def first_dense_kernel(model: Any) -> tuple[str, np.ndarray]:
    """The name and kernel (784, units) of the model's first Dense layer reading the pixels."""
    import keras  # Keras: not at start-up

    for layer in _layers_in_order(model):
        if isinstance(layer, keras.layers.Dense):
            kernel = np.asarray(keras.ops.convert_to_numpy(layer.kernel))
            if kernel.ndim == 2 and kernel.shape[0] == INPUT_SIZE:
                return layer.name, kernel
    raise ValueError(
        f"model {getattr(model, 'name', '?')!r} has no Dense layer with {INPUT_SIZE} inputs; "
        "first-layer weights can only be drawn for a network that reads the 784 pixels directly."
    )


def first_layer_weight_images(model_or_weights: Any, limit: int | None = 36) -> np.ndarray:
    """The first Dense layer's input weights as images (k, 28, 28) float32, one per unit.

    Pass a Keras model (its first Dense layer with 784 inputs is used; with no hidden layer,
    that is the output layer and its 10 units) or a raw kernel of shape (784, units).
    `limit` keeps the first units only (None keeps all).
    """
    if isinstance(model_or_weights, np.ndarray):
        kernel = model_or_weights
        if kernel.ndim != 2 or kernel.shape[0] != INPUT_SIZE:
            hint = (
                " It looks transposed: pass kernel.T."
                if kernel.ndim == 2 and kernel.shape[1] == INPUT_SIZE
                else ""
            )
            raise ValueError(
                f"a first-layer kernel has shape ({INPUT_SIZE}, units), one row per pixel; "
                f"got {kernel.shape}.{hint}"
            )
    else:
        _, kernel = first_dense_kernel(model_or_weights)
    units = kernel.shape[1] if limit is None else min(int(limit), kernel.shape[1])
    return np.ascontiguousarray(
        kernel[:, :units].T.reshape(units, IMAGE_SIDE, IMAGE_SIDE), dtype=np.float32
    )


def first_conv_filters(model: Any, limit: int | None = 36) -> np.ndarray | None:
    """The first Conv2D layer's filters as small images (k, size, size) float32, or None if
    the model has no Conv2D reading the one-channel image (a dense network).

    Each filter is the pattern of size x size pixels its feature map responds to most; `limit`
    keeps the first filters only (None keeps all).
    """
    import keras  # Keras: not at start-up

    for layer in _layers_in_order(model):
        if isinstance(layer, keras.layers.Conv2D):
            kernel = np.asarray(keras.ops.convert_to_numpy(layer.kernel))  # (k, k, 1, filters)
            if kernel.ndim != 4 or kernel.shape[2] != 1:
                return None
            count = kernel.shape[3] if limit is None else min(int(limit), kernel.shape[3])
            return np.ascontiguousarray(
                np.moveaxis(kernel[:, :, 0, :count], -1, 0), dtype=np.float32
            )
    return None
