"""The playground's fast trainer: many epochs of Keras's own training step in one compiled call.

`EpochRunner.run(first_epoch, epochs)` is a `tf.function` loop over epochs and mini-batches
that runs the model's forward pass, its loss plus its regularisation penalty (as `model.fit`
adds it), and the optimizer's step, and returns per epoch what `fit` would log: the loss
weighted by batch size, the accuracy over the epoch, and the test part's loss and accuracy at
the epoch's end (NaN when there is no test part). It skips fit's per-epoch and per-batch
Python work, which is nearly all of fit's time on networks this small.
"""

from __future__ import annotations

import math

import numpy as np

from core.plane_data import PlaneData, epoch_orders

HISTORY_METRICS = ("loss", "accuracy", "test_loss", "test_accuracy")


class EpochRunner:
    """Trains `model` on `data` for any number of epochs in one compiled call."""

    def __init__(self, model, data: PlaneData, seed: int, shuffle: bool) -> None:
        import tensorflow as tf

        self.model = model
        self.data = data
        self.seed = seed
        self.shuffle = shuffle
        self.n = len(data.x_train)
        model.optimizer.build(model.trainable_variables)
        self._function = tf.function(
            self._make_loop(), input_signature=[tf.TensorSpec([None, None], tf.int32)]
        )

    def _make_loop(self):
        import tensorflow as tf

        model, data = self.model, self.data
        optimizer, loss_function = model.optimizer, model.loss
        variables = model.trainable_variables
        x, y = tf.constant(data.x_train), tf.constant(data.y_train)
        x_test, y_test = tf.constant(data.x_test), tf.constant(data.y_test)
        n, batch_size, has_test = self.n, min(data.batch_size, self.n), data.has_test
        steps = math.ceil(n / batch_size)
        binary = data.y_train.shape[1] == 1

        def correct(targets, outputs):
            if binary:
                right = tf.equal(outputs > 0.5, targets > 0.5)
            else:
                right = tf.equal(tf.argmax(outputs, axis=1), tf.argmax(targets, axis=1))
            return tf.reduce_sum(tf.cast(right, tf.float32))

        def full_loss(targets, outputs):
            """The loss as fit reports it: the data term plus every regularisation penalty."""
            loss = loss_function(targets, outputs)
            penalties = model.losses
            return loss + tf.add_n(penalties) if penalties else loss

        def loop(order):
            epochs = tf.shape(order)[0]
            arrays = {k: tf.TensorArray(tf.float32, size=epochs) for k in HISTORY_METRICS}
            for epoch in tf.range(epochs):
                loss_sum = tf.constant(0.0)
                right = tf.constant(0.0)
                for step in tf.range(steps):
                    rows = order[epoch, step * batch_size : tf.minimum((step + 1) * batch_size, n)]
                    xb, yb = tf.gather(x, rows), tf.gather(y, rows)
                    with tf.GradientTape() as tape:
                        outputs = model(xb, training=True)
                        loss = full_loss(yb, outputs)
                    gradients = tape.gradient(loss, variables)
                    optimizer.apply(gradients, variables)
                    loss_sum += loss * tf.cast(tf.shape(rows)[0], tf.float32)
                    right += correct(yb, outputs)
                arrays["loss"] = arrays["loss"].write(epoch, loss_sum / n)
                arrays["accuracy"] = arrays["accuracy"].write(epoch, right / n)
                if has_test:
                    outputs = model(x_test, training=False)
                    test_loss = full_loss(y_test, outputs)
                    test_right = correct(y_test, outputs) / len(data.x_test)
                else:
                    test_loss = test_right = tf.constant(math.nan)
                arrays["test_loss"] = arrays["test_loss"].write(epoch, test_loss)
                arrays["test_accuracy"] = arrays["test_accuracy"].write(epoch, test_right)
            return {k: v.stack() for k, v in arrays.items()}

        return loop

    def warm_up(self) -> None:
        """Trace the compiled loop now (zero epochs), so the first Train press is fast."""
        self._function(np.zeros((0, self.n), dtype="int32"))

    def run(self, first_epoch: int, epochs: int) -> dict[str, np.ndarray]:
        """Train epochs first_epoch+1 .. first_epoch+epochs; per-epoch logs as numpy arrays."""
        order = epoch_orders(self.seed, first_epoch, epochs, self.n, self.shuffle)
        return {k: v.numpy() for k, v in self._function(order).items()}
