"""core/evaluation checked against hand-written expectations and explicit Python loops."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

from core.inside.evaluation import (
    Evaluation,
    confusion_matrix,
    cross_entropy,
    describe_prediction,
    evaluate_probabilities,
    first_layer_weight_images,
    normalise_rows,
    per_class_metrics,
    percent_text,
    predict_probabilities,
    tenths_text,
)
from core.nets.model import ModelSpec, build_model

# Five classes: 3 is present but never predicted, 4 is predicted once but never present.
Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 3])
Y_PRED = np.array([0, 0, 1, 1, 4, 2, 2, 0, 1, 2])
CM = np.array(
    [
        [2, 1, 0, 0, 0],
        [0, 1, 0, 0, 1],
        [1, 0, 2, 0, 0],
        [0, 1, 1, 0, 0],
        [0, 0, 0, 0, 0],
    ]
)


def loop_confusion(y_true, y_pred, num_classes):
    cm = [[0] * num_classes for _ in range(num_classes)]
    for t, p in zip(y_true, y_pred, strict=True):
        cm[int(t)][int(p)] += 1
    return np.array(cm)


def softmax_rows(predicted, confidence, num_classes=10):
    """Probability rows with `confidence` on the predicted digit, the rest spread evenly."""
    rows = []
    for digit, top in zip(predicted, confidence, strict=True):
        row = [(1 - top) / (num_classes - 1)] * num_classes
        row[digit] = top
        rows.append(row)
    return np.array(rows)


def tiny_spec(hidden_units=(8,)):
    layers = []
    for units in hidden_units:
        layers += [{"type": "Dense", "units": units, "activation": "relu"}]
        layers += [{"type": "Dropout", "rate": 0.1}]
    return ModelSpec(layers=layers, epochs=1, seed=3)


# --- confusion matrix -------------------------------------------------------------------


def test_confusion_matrix_matches_hand_counts():
    cm = confusion_matrix(Y_TRUE, Y_PRED, num_classes=5)
    np.testing.assert_array_equal(cm, CM)
    assert cm.dtype == np.int64


def test_confusion_matrix_matches_python_loop_on_random_labels():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, 2000)
    y_pred = np.where(rng.random(2000) < 0.7, y_true, rng.integers(0, 10, 2000))
    cm = confusion_matrix(y_true.astype(np.uint8), y_pred)
    np.testing.assert_array_equal(cm, loop_confusion(y_true, y_pred, 10))
    assert cm.sum() == 2000


def test_confusion_matrix_rejects_bad_labels_with_a_fix():
    with pytest.raises(ValueError, match="0 to 9"):
        confusion_matrix([0, 10], [0, 1])
    with pytest.raises(ValueError, match="one of each per image"):
        confusion_matrix([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="argmax"):
        confusion_matrix(np.eye(10)[[1, 2]], [1, 2])


def test_normalise_rows_gives_rates_and_zero_for_an_empty_row_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rates = normalise_rows(CM)
    expected = np.array(
        [
            [2 / 3, 1 / 3, 0, 0, 0],
            [0, 1 / 2, 0, 0, 1 / 2],
            [1 / 3, 0, 2 / 3, 0, 0],
            [0, 1 / 2, 1 / 2, 0, 0],
            [0, 0, 0, 0, 0],
        ]
    )
    np.testing.assert_allclose(rates, expected)


# --- per-class metrics -------------------------------------------------------------------


def test_per_class_metrics_match_hand_values_including_missing_classes_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics = per_class_metrics(CM)
    np.testing.assert_array_equal(metrics.support, [3, 2, 3, 2, 0])
    np.testing.assert_array_equal(metrics.predicted, [3, 3, 3, 0, 1])
    np.testing.assert_array_equal(metrics.correct, [2, 1, 2, 0, 0])
    np.testing.assert_allclose(metrics.precision, [2 / 3, 1 / 3, 2 / 3, 0, 0])
    np.testing.assert_allclose(metrics.recall, [2 / 3, 1 / 2, 2 / 3, 0, 0])
    np.testing.assert_allclose(metrics.f1, [2 / 3, 0.4, 2 / 3, 0, 0])
    assert metrics.overall_accuracy == pytest.approx(5 / 10)


def test_per_class_metrics_match_python_loops_on_random_labels():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 10, 1500)
    y_pred = np.where(rng.random(1500) < 0.6, y_true, rng.integers(0, 10, 1500))
    metrics = per_class_metrics(confusion_matrix(y_true, y_pred))
    for digit in range(10):
        tp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == digit and p == digit)
        predicted = sum(1 for p in y_pred if p == digit)
        present = sum(1 for t in y_true if t == digit)
        precision, recall = tp / predicted, tp / present
        assert metrics.precision[digit] == pytest.approx(precision)
        assert metrics.recall[digit] == pytest.approx(recall)
        assert metrics.f1[digit] == pytest.approx(2 * precision * recall / (precision + recall))
        assert metrics.support[digit] == present


def test_metric_rows_are_plain_values_in_percent_to_one_decimal():
    rows = per_class_metrics(CM).rows()
    assert len(rows) == 5
    assert rows[1] == {
        "digit": "1",
        "test images": 2,
        "predicted as it": 3,
        "correct": 1,
        "precision %": 33.3,
        "recall (accuracy) %": 50.0,
        "F1 %": 40.0,
    }


# --- mistakes and cells ------------------------------------------------------------------

MISTAKE_TRUE = np.array([0, 1, 2, 3, 4, 2])
MISTAKE_PROBS = softmax_rows(
    predicted=[0, 7, 7, 3, 9, 5], confidence=[0.9, 0.6, 0.95, 0.8, 0.8, 0.6]
)


@pytest.mark.parametrize(
    ("true_digit", "predicted_digit", "expected"),
    [
        (None, None, [2, 4, 1, 5]),  # 0.95, 0.8, then the 0.6 tie in test-set order
        (2, None, [2, 5]),
        (None, 7, [2, 1]),
        (2, 7, [2]),
        (3, None, []),
        (0, 0, []),
    ],
)
def test_misclassified_orders_most_confident_first_and_filters(
    true_digit, predicted_digit, expected
):
    evaluation = evaluate_probabilities(MISTAKE_PROBS, MISTAKE_TRUE)
    np.testing.assert_array_equal(evaluation.misclassified(true_digit, predicted_digit), expected)


def test_misclassified_rejects_a_digit_out_of_range():
    with pytest.raises(ValueError, match="0 to 9"):
        evaluate_probabilities(MISTAKE_PROBS, MISTAKE_TRUE).misclassified(true_digit=10)


def test_cell_indices_match_a_loop():
    expected = {
        (t, p): [i for i, (a, b) in enumerate(zip(Y_TRUE, Y_PRED, strict=True)) if (a, b) == (t, p)]
        for t in range(5)
        for p in range(5)
    }
    # Equal confidences: the most-confident-first order is the test-set order.
    evaluation = evaluate_probabilities(softmax_rows(Y_PRED, [0.5] * len(Y_PRED)), Y_TRUE)
    for (t, p), indices in expected.items():
        np.testing.assert_array_equal(evaluation.cell_indices(t, p), indices)
    np.testing.assert_array_equal(evaluation.cell_indices(2, 2), [5, 6])


def test_evaluation_cell_indices_put_the_most_confident_first():
    y_true = np.array([4, 4, 4, 4])
    probs = softmax_rows(predicted=[9, 9, 4, 9], confidence=[0.5, 0.9, 0.99, 0.7])
    evaluation = evaluate_probabilities(probs, y_true)
    np.testing.assert_array_equal(evaluation.cell_indices(4, 9), [1, 3, 0])
    np.testing.assert_array_equal(evaluation.cell_indices(4, 4), [2])
    np.testing.assert_array_equal(evaluation.cell_indices(0, 0), [])


# --- loss, accuracy and the Evaluation ----------------------------------------------------


def test_cross_entropy_matches_a_hand_computation_with_clipping():
    probs = np.zeros((3, 10))
    probs[0, [0, 1]] = [0.9, 0.1]  # true 0: -log 0.9
    probs[1, [2, 3]] = [0.2, 0.8]  # true 2: -log 0.2
    probs[2, [5]] = 1.0  # true 7 has probability 0: clipped to 1e-7
    expected = -(math.log(0.9) + math.log(0.2) + math.log(1e-7)) / 3
    assert cross_entropy(probs, [0, 2, 7]) == pytest.approx(expected, rel=1e-9)
    # A certain, right answer costs -log(1 - 1e-7), not log(1) = 0: Keras clips both ends.
    assert cross_entropy(np.eye(10)[[3]], [3]) == pytest.approx(-math.log(1 - 1e-7))
    # Rows are rescaled to sum to one first, as Keras does.
    assert cross_entropy(2 * probs, [0, 2, 7]) == pytest.approx(expected, rel=1e-9)


def test_cross_entropy_matches_keras():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(64, 10)) * 3
    probs = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    labels = rng.integers(0, 10, 64)
    reference = keras.losses.CategoricalCrossentropy()(np.eye(10)[labels], probs)
    assert cross_entropy(probs, labels) == pytest.approx(float(reference), rel=1e-5)


def test_evaluate_probabilities_holds_consistent_numbers():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 10, 500)
    probs = rng.dirichlet(np.ones(10), size=500)
    evaluation = evaluate_probabilities(probs, labels)
    assert isinstance(evaluation, Evaluation)
    predictions = [int(np.argmax(row)) for row in probs]
    right = sum(1 for p, t in zip(predictions, labels, strict=True) if p == t)
    np.testing.assert_array_equal(evaluation.predictions, predictions)
    np.testing.assert_allclose(evaluation.confidence, [max(row) for row in probs])
    np.testing.assert_array_equal(
        evaluation.confusion_matrix, loop_confusion(labels, predictions, 10)
    )
    assert evaluation.accuracy == pytest.approx(right / 500)
    assert evaluation.errors == 500 - right == len(evaluation.misclassified())
    assert evaluation.count == 500
    assert evaluation.loss == pytest.approx(
        -np.mean([math.log(row[t]) for row, t in zip(probs, labels, strict=True)])
    )
    np.testing.assert_array_equal(evaluation.metrics.support, np.bincount(labels, minlength=10))


def test_evaluation_describes_and_titles_images():
    evaluation = evaluate_probabilities(MISTAKE_PROBS, MISTAKE_TRUE)
    assert evaluation.describe(2) == "true 2 → predicted 7 (95 %)"
    assert evaluation.describe(0) == "true 0, predicted 0 (90 %)"
    assert evaluation.titles([2, 4]) == ["2 → 7 (95 %)", "4 → 9 (80 %)"]


def test_tenths_text_shows_a_tiny_share_as_under_a_tenth_and_never_100_short_of_certain():
    assert tenths_text(20.0) == "20.0 %"
    assert tenths_text(0.04) == "< 0.1 %"
    assert [tenths_text(v) for v in (99.6, 99.94, 99.96, 100.0)] == [
        "99.6 %",
        "99.9 %",
        "> 99.9 %",
        "100.0 %",
    ]


def test_a_probability_short_of_1_is_never_shown_as_100_percent():
    assert [percent_text(p) for p in (0.97, 0.994, 0.996, 0.99996, 1.0)] == [
        "97 %",
        "99 %",
        "99.6 %",
        "> 99.9 %",
        "100 %",
    ]
    probs = np.full((1, 10), 0.004 / 9)
    probs[0, 3] = 0.996
    assert percent_text(0.996, short=True) == "99 %" and percent_text(1.0, short=True) == "100 %"
    assert evaluate_probabilities(probs, [8]).titles([0]) == ["8 → 3 (99 %)"]  # as wide as others
    assert describe_prediction(8, 3, 0.996) == "true 8 → predicted 3 (99.6 %)"


def test_evaluate_probabilities_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="same images"):
        evaluate_probabilities(np.full((3, 10), 0.1), [1, 2])
    with pytest.raises(ValueError, match=r"\(N, 10\)"):
        evaluate_probabilities(np.full((3, 9), 0.1), [1, 2, 3])


# --- the model-facing functions -----------------------------------------------------------


def test_importing_the_modules_does_not_import_tensorflow():
    code = (
        "import sys, core.inside.evaluation, core.charts.metrics, core.charts.images; "
        "print(any(m.split('.')[0] in ('tensorflow', 'keras') for m in sys.modules))"
    )
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo, env=env
    )
    assert result.stdout.strip() == "False"


def test_predict_probabilities_matches_model_predict():
    model = build_model(tiny_spec())
    images = np.random.default_rng(4).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    inputs = images.reshape(50, 784).astype(np.float32) / 255
    expected = model.predict(inputs, verbose=0)
    found = predict_probabilities(model, images, batch_size=16)  # 3 full chunks and one of 2
    assert found.shape == (50, 10)
    assert found.dtype == np.float32
    np.testing.assert_allclose(found, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predict_probabilities(model, inputs), expected, atol=1e-6)
    assert predict_probabilities(model, images[:0]).shape == (0, 10)


def test_predict_probabilities_rejects_unscaled_or_misshapen_images():
    model = build_model(tiny_spec())
    with pytest.raises(ValueError, match="Divide by 255"):
        predict_probabilities(model, np.full((2, 28, 28), 200.0))
    with pytest.raises(ValueError, match="28, 28"):
        predict_probabilities(model, np.zeros((2, 27, 27), dtype=np.uint8))


def test_weight_images_are_the_first_kernel_columns():
    model = build_model(tiny_spec(hidden_units=(8, 5)))
    kernel = model.get_layer("dense_1").get_weights()[0]
    assert kernel.shape == (784, 8)
    images = first_layer_weight_images(model)
    assert images.shape == (8, 28, 28)
    for unit in range(8):
        np.testing.assert_array_equal(images[unit], kernel[:, unit].reshape(28, 28))
    np.testing.assert_array_equal(first_layer_weight_images(model, limit=3), images[:3])
    np.testing.assert_array_equal(first_layer_weight_images(kernel, limit=None), images)


def test_weight_images_of_a_model_without_hidden_layers_are_the_output_units():
    model = build_model(tiny_spec(hidden_units=()))
    kernel = model.get_layer("output").get_weights()[0]
    images = first_layer_weight_images(model)
    assert images.shape == (10, 28, 28)
    np.testing.assert_array_equal(images[7], kernel[:, 7].reshape(28, 28))


def test_weight_images_are_found_inside_a_wrapped_model():
    inner = build_model(tiny_spec())
    inputs = keras.Input(shape=(28, 28))
    outputs = inner(keras.layers.Reshape((784,))(inputs))
    wrapped = keras.Model(inputs, outputs)
    np.testing.assert_array_equal(
        first_layer_weight_images(wrapped), first_layer_weight_images(inner)
    )


def test_weight_images_of_a_model_without_dense_layers_say_why():
    inputs = keras.Input(shape=(784,))
    model = keras.Model(inputs, keras.layers.Softmax()(inputs))
    with pytest.raises(ValueError, match="784 pixels directly"):
        first_layer_weight_images(model)


def test_weight_images_reject_a_transposed_kernel():
    with pytest.raises(ValueError, match=r"kernel\.T"):
        first_layer_weight_images(np.zeros((5, 784)))
