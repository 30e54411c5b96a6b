"""Integrated gradients against their closed form for a linear network, and completeness."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from core.inside.activations import Inspector
from core.nets.model_files import standard_form


def _image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((28, 28), dtype=np.float32)


@pytest.fixture(scope="module")
def linear_model():
    keras.utils.set_random_seed(4)
    return keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])


def test_no_hidden_layer_saliency_is_weights_times_input(linear_model):
    kernel, bias = (np.asarray(w) for w in linear_model.layers[0].get_weights())
    inspector = Inspector(linear_model)
    for seed in range(3):
        image = _image(seed)
        x = image.reshape(784)
        logits = x @ kernel + bias
        answer, runner_up = np.argsort(logits)[::-1][:2]
        saliency = inspector.explain(image).saliency
        assert (saliency.answer, saliency.other) == (answer, runner_up)
        expected = (kernel[:, answer] - kernel[:, runner_up]) * x
        np.testing.assert_allclose(saliency.attributions.reshape(784), expected, atol=1e-6)
        assert saliency.margin == pytest.approx(logits[answer] - logits[runner_up], abs=1e-4)
        assert saliency.baseline_margin == pytest.approx(bias[answer] - bias[runner_up], abs=1e-5)
        assert saliency.completeness == pytest.approx(1.0, abs=1e-4)


def test_another_digit_can_be_compared(linear_model):
    kernel = np.asarray(linear_model.layers[0].get_weights()[0])
    inspector = Inspector(linear_model)
    image = _image(7)
    answer = inspector.explain(image).saliency.answer
    other = (answer + 3) % 10
    saliency = inspector.explain(image, other=other).saliency
    assert saliency.other == other
    expected = (kernel[:, answer] - kernel[:, other]) * image.reshape(784)
    np.testing.assert_allclose(saliency.attributions.reshape(784), expected, atol=1e-6)
    # Comparing the answer with itself makes no sense: the runner-up is used instead.
    assert inspector.explain(image, other=answer).saliency.other != answer


def test_logits_behind_an_added_softmax_give_the_closed_form():
    """An imported model giving raw scores is wrapped with a Softmax layer by standard_form."""
    keras.utils.set_random_seed(5)
    raw = keras.Sequential([keras.Input((28, 28)), layers.Flatten(), layers.Dense(10)])
    model, added = standard_form(raw)
    assert added
    kernel = np.asarray(raw.layers[-1].get_weights()[0])
    image = _image(2)
    saliency = Inspector(model).explain(image).saliency
    expected = (kernel[:, saliency.answer] - kernel[:, saliency.other]) * image.reshape(784)
    np.testing.assert_allclose(saliency.attributions.reshape(784), expected, atol=1e-6)


def _reference_integrated_gradients(model, image, answer, other, steps=400):
    """A finer Riemann sum of the same integral, with its own gradient tape, as a reference."""
    inner = model.layers[-1]
    x = tf.constant(image.reshape(1, 784))
    alphas = tf.reshape(tf.linspace(0.0, 1.0, steps + 1), (-1, 1))
    path = alphas * x
    with tf.GradientTape() as tape:
        tape.watch(path)
        h = path
        for layer in inner.layers[:-1]:
            h = layer(h)
        logits = tf.matmul(h, inner.layers[-1].kernel) + inner.layers[-1].bias
        margin = logits[:, answer] - logits[:, other]
    gradients = tape.gradient(margin, path).numpy()
    return ((gradients[:-1] + gradients[1:]) / 2).mean(axis=0) * image.reshape(784)


def test_deep_network_saliency_matches_a_finer_reference_and_adds_up():
    keras.utils.set_random_seed(6)
    inner = keras.Sequential(
        [
            keras.Input((784,)),
            layers.Dense(32, activation="tanh"),
            layers.Dense(16, activation="sigmoid"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model = keras.Sequential([keras.Input((784,)), inner])  # nested, as imported runs are
    inspector = Inspector(model)
    image = _image(9)
    explanation = inspector.explain(image)
    saliency = explanation.saliency
    reference = _reference_integrated_gradients(model, image, saliency.answer, saliency.other)
    scale = np.abs(reference).max()
    np.testing.assert_allclose(saliency.attributions.reshape(784), reference, atol=0.02 * scale)
    assert saliency.completeness == pytest.approx(1.0, abs=0.02)
    expected = np.asarray(model(image.reshape(1, 784), training=False))[0]
    np.testing.assert_allclose(explanation.activations.probabilities, expected, atol=1e-6)


def test_blank_pixels_get_nothing_and_shares_are_fractions(linear_model):
    image = np.zeros((28, 28), dtype=np.float32)
    image[10:18, 12:16] = 1.0
    saliency = Inspector(linear_model).explain(image).saliency
    assert np.all(saliency.attributions[image == 0] == 0)
    assert 0.0 <= saliency.share_towards_answer() <= 1.0
