"""Training dynamics: each layer's weight norm and gradient norm as the network trains.

`LayerNorms` is a Keras callback. Up to four times per epoch (and once before the first
batch) it measures, for every layer with weights, the size of its weights (the Frobenius norm of
the kernel: the square root of the sum of the squared weights) and of the loss's gradient with
respect to them, on a fixed probe batch of training images. An epoch that Stop cuts short gets
no point at its end, as it gets none on the run's curves. A deep sigmoid network shows its
vanishing gradients as first-layer gradient norms far below the last layer's; a learning rate
that is too high shows as weight and gradient norms that shoot up.

The gradient is measured on the probe batch between training steps, not averaged over the
steps themselves: the training step stays exactly as Keras compiled it. Each measurement
costs one forward and backward pass of `PROBE_SIZE` images, and those within an epoch are
skipped when they would take more than `BUDGET` of it (see bench/inside.py). Without the
callback, nothing is measured and nothing costs anything.

The callback writes plain floats into a `NormLog`, a lock-protected record the page reads
from another thread (`norm_log(job)` finds it among a training job's callbacks).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from core.nets.model import NUM_CLASSES

PROBE_SIZE = 128
POINTS_PER_EPOCH = 4
# Measurements within an epoch may take at most this share of the epoch so far; the one at
# each epoch's end is always taken (on full MNIST it costs well under 1 % of an epoch).
BUDGET = 0.02


@dataclass
class NormHistory:
    """A copy of a `NormLog`: x in epochs (0 = before training), one list per layer."""

    layers: list[str] = field(default_factory=list)
    epochs: list[float] = field(default_factory=list)
    weight_norms: dict[str, list[float]] = field(default_factory=dict)
    gradient_norms: dict[str, list[float]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.epochs


class NormLog:
    """Per-layer norms written by the training thread, read by the page through `snapshot`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._history = NormHistory()

    def reset(self, layers: list[str]) -> None:
        with self._lock:
            self._history = NormHistory(
                layers=list(layers),
                weight_norms={name: [] for name in layers},
                gradient_norms={name: [] for name in layers},
            )

    def add(self, epoch: float, weights: dict[str, float], gradients: dict[str, float]) -> None:
        with self._lock:
            history = self._history
            history.epochs.append(float(epoch))
            for name in history.layers:
                history.weight_norms[name].append(float(weights.get(name, math.nan)))
                history.gradient_norms[name].append(float(gradients.get(name, math.nan)))

    def snapshot(self) -> NormHistory:
        with self._lock:
            history = self._history
            return NormHistory(
                layers=list(history.layers),
                epochs=list(history.epochs),
                weight_norms={k: list(v) for k, v in history.weight_norms.items()},
                gradient_norms={k: list(v) for k, v in history.gradient_norms.items()},
            )


def norm_log(job) -> NormLog | None:
    """The norms a training job records, if one of its callbacks is a `LayerNorms`."""
    for callback in getattr(job, "callbacks", ()):
        if isinstance(callback, LayerNorms):
            return callback.log
    return None


def weighted_layers(model) -> list:
    """The layers with a kernel (Dense, Conv2D), nested models opened up, in order."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(weighted_layers(layer))
        elif getattr(layer, "kernel", None) is not None:
            found.append(layer)
    return found


def probe_batch(images: np.ndarray, labels: np.ndarray, size: int = PROBE_SIZE):
    """The first `size` images scaled to [0, 1] as (n, 784) float32, labels one-hot."""
    images = np.asarray(images[:size])
    x = images.reshape(len(images), -1).astype(np.float32)
    if images.dtype == np.uint8:
        x /= np.float32(255.0)
    y = np.eye(NUM_CLASSES, dtype=np.float32)[np.asarray(labels[:size], dtype=np.int64)]
    return x, y


class LayerNorms(keras.callbacks.Callback):
    """Records each weighted layer's weight and gradient norms into `log` while training.

    `images` and `labels` are training images (uint8 (n, 28, 28) or floats (n, 784) in
    [0, 1]) and their digits; the first `probe_size` are the probe batch. Measurements
    within an epoch take at most `budget` of its time so far (1.0: all of them, for tests).
    """

    def __init__(
        self,
        log: NormLog,
        images: np.ndarray,
        labels: np.ndarray,
        *,
        probe_size: int = PROBE_SIZE,
        points_per_epoch: int = POINTS_PER_EPOCH,
        budget: float = BUDGET,
    ) -> None:
        super().__init__()
        self.log = log
        self.probe_x, self.probe_y = probe_batch(images, labels, probe_size)
        self.points_per_epoch = max(1, int(points_per_epoch))
        self.budget = float(budget)
        self._layers: list = []
        self._epoch = 0
        self._steps_done = 0  # batches of this epoch done so far
        self._next_point = 0
        self._epoch_start = 0.0
        self._spent = 0.0  # seconds spent measuring in this epoch
        self._cost = 0.0  # seconds the last measurement took

    def on_train_begin(self, logs=None):
        self._layers = weighted_layers(self.model)
        self.log.reset([layer.name for layer in self._layers])
        self._epoch = 0
        self.record(0.0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._steps_done = 0
        self._next_point = 1
        self._epoch_start = time.perf_counter()
        self._spent = 0.0

    def on_train_batch_end(self, batch, logs=None):
        steps = (self.params or {}).get("steps") or 0
        self._steps_done = min(batch + 1, steps) if steps else batch + 1
        due = self._next_point * steps / self.points_per_epoch
        # The last batch's point is the epoch's end, recorded by on_epoch_end.
        if steps and self._next_point < self.points_per_epoch and due <= batch + 1 < steps:
            self._next_point += 1
            elapsed = time.perf_counter() - self._epoch_start
            if self._spent + self._cost <= self.budget * elapsed:  # else skip this point
                self.record(self._epoch + (batch + 1) / steps)

    def on_epoch_end(self, epoch, logs=None):
        # Keras still closes an epoch that Stop or a diverging loss cut short (they set
        # stop_training at a batch's end, before this hook): its end is no point of the
        # chart, as it is no epoch of the run's curves (core.training.live_callback).
        steps = (self.params or {}).get("steps")
        stopped = bool(getattr(self.model, "stop_training", False))
        if stopped or (steps and self._steps_done < steps):
            return
        self.record(epoch + 1.0)

    def on_train_end(self, logs=None):
        self._layers = []  # keep no reference to the model's layers after training

    def record(self, epoch: float) -> None:
        start = time.perf_counter()
        weights, gradients = self.measure()
        self.log.add(epoch, weights, gradients)
        self._cost = time.perf_counter() - start
        self._spent += self._cost

    def measure(self) -> tuple[dict[str, float], dict[str, float]]:
        """Each weighted layer's kernel norm and the probe batch loss's gradient norm."""
        model = self.model
        x = self.probe_x.reshape(len(self.probe_x), *model.inputs[0].shape[1:])
        kernels = [layer.kernel for layer in self._layers]
        loss_function = _loss_function(model)
        with tf.GradientTape() as tape:
            predictions = model(x, training=False)
            loss = loss_function(self.probe_y, predictions)
        gradients = tape.gradient(loss, kernels)
        weight_norms = {
            layer.name: float(tf.norm(kernel))
            for layer, kernel in zip(self._layers, kernels, strict=True)
        }
        gradient_norms = {
            layer.name: float(tf.norm(gradient)) if gradient is not None else math.nan
            for layer, gradient in zip(self._layers, gradients, strict=True)
        }
        return weight_norms, gradient_norms


def _loss_function(model):
    """The model's compiled loss as a function of (y_true, y_pred) averaged over the batch."""
    loss = getattr(model, "loss", None)
    try:
        function = keras.losses.get(loss) if loss is not None else None
    except (ValueError, TypeError):
        function = None
    if function is None:
        function = keras.losses.categorical_crossentropy

    def mean_loss(y_true, y_pred):
        return keras.ops.mean(function(y_true, y_pred))

    return mean_loss
