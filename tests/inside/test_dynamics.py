"""Weight and gradient norms against the weights read directly and the gradient's closed form."""

from __future__ import annotations

import math
import time

import keras
import numpy as np
import pytest
from keras import layers

from core.inside.dynamics import LayerNorms, NormLog, norm_log, probe_batch, weighted_layers


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _data(n: int = 96, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28)).astype(np.uint8), rng.integers(0, 10, n)


def test_norms_of_a_softmax_network_match_numpy():
    """For softmax regression, the cross-entropy's gradient is X^T (P - Y) / n."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy")
    images, labels = _data()
    log = NormLog()
    callback = LayerNorms(log, images, labels, probe_size=64, points_per_epoch=2, budget=1e9)
    x, y = probe_batch(images, labels)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[callback])
    history = log.snapshot()
    name = model.layers[0].name
    assert history.layers == [name]
    # Before training, half-way through each epoch (3 of 6 batches), and at each epoch's end.
    assert history.epochs == [0.0, 0.5, 1.0, 1.5, 2.0]
    kernel, bias = (np.asarray(w) for w in model.layers[0].get_weights())
    assert history.weight_norms[name][-1] == pytest.approx(np.linalg.norm(kernel), rel=1e-5)
    px, py = probe_batch(images, labels, 64)
    gradient = px.T @ (_softmax_rows(px @ kernel + bias) - py) / len(px)
    assert history.gradient_norms[name][-1] == pytest.approx(np.linalg.norm(gradient), rel=1e-3)
    assert history.weight_norms[name][0] != history.weight_norms[name][-1]  # it did train


def test_every_weighted_layer_of_a_nested_conv_model_is_measured():
    keras.utils.set_random_seed(1)
    inner = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(2, 3, activation="sigmoid", name="conv"),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(4, activation="sigmoid", name="hidden"),
            layers.Dense(10, activation="softmax", name="out"),
        ]
    )
    assert [layer.name for layer in weighted_layers(inner)] == ["conv", "hidden", "out"]
    inner.compile(optimizer="adam", loss="categorical_crossentropy")
    images, labels = _data(32)
    log = NormLog()
    x, y = probe_batch(images, labels)
    inner.fit(
        x.reshape(-1, 28, 28, 1),
        y,
        batch_size=8,
        epochs=1,
        verbose=0,
        callbacks=[LayerNorms(log, images, labels)],
    )
    history = log.snapshot()
    for name in ("conv", "hidden", "out"):
        kernel = np.asarray(inner.get_layer(name).kernel)
        assert history.weight_norms[name][-1] == pytest.approx(np.linalg.norm(kernel), rel=1e-5)
        assert all(math.isfinite(g) and g > 0 for g in history.gradient_norms[name])


def test_points_follow_the_schedule_when_hooks_are_called_directly():
    """As Keras's own callback tests do: call the hooks with fake params, no training."""

    log = NormLog()
    callback = _Recording(log, *_data(8), points_per_epoch=4, budget=1e9)
    callback.set_params({"steps": 8, "epochs": 2})
    log.reset(["dense"])
    for epoch in range(2):
        callback.on_epoch_begin(epoch)
        for batch in range(8):
            callback.on_train_batch_end(batch)
        callback.on_epoch_end(epoch)
    assert log.snapshot().epochs == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    # Batches reported in steps of 4 (steps_per_execution): points at the first chance.
    log.reset(["dense"])
    callback.on_epoch_begin(0)
    for batch in (3, 7):
        callback.on_train_batch_end(batch)
    assert log.snapshot().epochs == [0.5]


class _Recording(LayerNorms):
    def measure(self):
        return {"dense": 1.0}, {"dense": 2.0}


def test_an_epoch_cut_short_gets_no_end_point():
    """Stop (or a diverging loss) sets stop_training at a batch's end; Keras still calls
    on_epoch_end for the cut epoch, which must not be drawn as a whole one."""

    class Model:
        stop_training = False

    log = NormLog()
    callback = _Recording(log, *_data(8), points_per_epoch=2, budget=1e9)
    callback.set_params({"steps": 8, "epochs": 3})
    callback.set_model(Model())
    log.reset(["dense"])
    callback.on_epoch_begin(0)
    for batch in range(8):
        callback.on_train_batch_end(batch)
    callback.on_epoch_end(0)
    callback.on_epoch_begin(1)
    for batch in range(5):
        callback.on_train_batch_end(batch)
    callback.model.stop_training = True  # Stop seen at the end of batch 5 of 8
    callback.on_epoch_end(1)
    assert log.snapshot().epochs == [0.5, 1.0, 1.5]  # measured points only, no 2.0
    # An epoch whose batches were not all reported (a short compiled call) is no whole epoch.
    log.reset(["dense"])
    callback.model.stop_training = False
    callback.on_epoch_begin(2)
    callback.on_train_batch_end(3)
    callback.on_epoch_end(2)
    assert log.snapshot().epochs == [2.5]


def test_stop_during_fit_leaves_no_point_for_the_cut_epoch():
    """Through Keras's own fit: a callback stops training half-way through the second epoch."""
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    images, labels = _data(64)

    class StopInSecondEpoch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 1 and batch == 1:
                self.model.stop_training = True

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    log = NormLog()
    x, y = probe_batch(images, labels)
    callbacks = [StopInSecondEpoch(), LayerNorms(log, images, labels, budget=1e9)]
    model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=callbacks)
    epochs = log.snapshot().epochs
    assert epochs[0] == 0.0 and 1.0 in epochs
    assert max(epochs) < 2.0, epochs  # the second epoch ran 2 of its 4 batches


def test_measurements_within_an_epoch_keep_to_the_budget():
    """A measurement far slower than the batches: only each epoch's end is measured."""

    class Slow(LayerNorms):
        def measure(self):
            time.sleep(0.02)
            return {"dense": 1.0}, {"dense": 2.0}

    log = NormLog()
    callback = Slow(log, *_data(8), points_per_epoch=4)  # the default budget, 2 %
    callback.set_params({"steps": 40, "epochs": 2})
    log.reset(["dense"])
    callback.record(0.0)
    for epoch in range(2):
        callback.on_epoch_begin(epoch)
        for batch in range(40):
            time.sleep(0.001)
            callback.on_train_batch_end(batch)
        callback.on_epoch_end(epoch)
    assert log.snapshot().epochs == [0.0, 1.0, 2.0]


def test_norm_log_is_found_among_a_jobs_callbacks():
    class Job:
        callbacks = [object()]

    assert norm_log(Job()) is None
    log = NormLog()
    Job.callbacks = [object(), LayerNorms(log, *_data(4))]
    assert norm_log(Job()) is log
    assert norm_log(None) is None


def _first_and_last_gradient(activation: str) -> tuple[float, float]:
    keras.utils.set_random_seed(2)
    model = keras.Sequential(
        [keras.Input((784,))]
        + [layers.Dense(32, activation=activation) for _ in range(5)]
        + [layers.Dense(10, activation="softmax")]
    )
    log = NormLog()
    callback = LayerNorms(log, *_data(128))
    callback.set_model(model)
    callback.on_train_begin()  # measures the untrained network once
    history = log.snapshot()
    gradients = [history.gradient_norms[name][0] for name in history.layers]
    return gradients[0], gradients[-1]


def test_a_deep_sigmoid_network_shows_vanishing_gradients():
    """What the view is for: the sigmoid's slope (at most 1/4) shrinks the gradient at every
    layer on its way back, so the first layer gets a small fraction of the last layer's."""
    first, last = _first_and_last_gradient("sigmoid")
    relu_first, relu_last = _first_and_last_gradient("relu")
    assert first / last < 0.01
    assert relu_first / relu_last > 10 * first / last
