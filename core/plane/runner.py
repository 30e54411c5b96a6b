"""The playground's fast trainer: many epochs of Keras's own training step in one compiled call.

`EpochRunner.run(first_epoch, epochs)` is a `tf.function` loop over epochs and mini-batches
that runs the model's forward pass, its loss plus its regularisation penalty (as `model.fit`
adds it), and the optimizer's step, and returns per epoch what `fit` would log: the loss
weighted by batch size, the accuracy over the epoch, and the test part's loss and accuracy at
the epoch's end (NaN when there is no test part). It skips fit's per-epoch and per-batch
Python work, which is nearly all of fit's time on networks this small.

What is left is TensorFlow's cost per operation, whatever the tensor's size (a batch of a
2-8-8-1 network is about 120 operations), so the loop keeps the operations per step few:

- The optimizer's step runs once per batch on one flat vector of all the weights instead of
  once per weight matrix (`FlatWeights`): the gradients are joined into one vector, a copy of
  the model's optimizer (same class and settings) updates the weight vector and its moments,
  and the vector is cut back into the model's weights for the next batch. Every optimizer
  here works element by element, so this is fit's arithmetic: for Adam and SGD the same
  operations on each element (bit for bit with TensorFlow's oneDNN kernels off; with them
  on, the fused loop and fit may get different CPU kernels, whose sums round differently);
  RMSprop and Adagrad may differ from fit in the last bit (TensorFlow turns their
  x / sqrt(v) into a vectorised x * rsqrt(v), whose rounding depends on where an element sits
  in its vector, and the flat vector's last few elements are not each matrix's). The model's
  weights and its optimizer's state (moments, iteration count) are read in at the start of
  every call and the optimizer's state written back at its end, so between calls the model
  and its optimizer are exactly what fit would have left.
- Each epoch's rows are gathered once and cut into batches of a fixed size (the last, smaller
  batch, if any, has its own step), so every shape is known when the loop is traced.
- The loop runs on TensorFlow's single-threaded executor (`SINGLE_THREADED_EXECUTOR`, set for
  this thread only while the loop is traced and called): it runs each tiny operation where it
  is instead of handing it to a thread pool, and keeps the loops as loops.
"""

from __future__ import annotations

import math

import numpy as np

from core.plane.data import PlaneData, epoch_orders

HISTORY_METRICS = ("loss", "accuracy", "test_loss", "test_accuracy")
EXECUTOR = "SINGLE_THREADED_EXECUTOR"
# Optimizer settings that look at each weight matrix on its own (or at the model's variables),
# so a flat vector would change what they do.
PER_MATRIX_SETTINGS = (
    "weight_decay",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
    "use_ema",
    "loss_scale_factor",
    "gradient_accumulation_steps",
)


def single_threaded():
    """Run (and trace) tf.functions on the single-threaded executor, in this thread only."""
    import tensorflow as tf  # TensorFlow: not at start-up

    return tf.experimental.function_executor_type(EXECUTOR)


class FlatWeights:
    """The model's trainable weights as one vector, with a copy of its optimizer for it.

    `load()`, `spread()` and `store()` are graph code: copy the model's weights and its
    optimizer's state into the vector and the copy's state, the vector into the model's
    weights, and the copy's state back into the model's optimizer.
    """

    def __init__(self, model) -> None:
        import keras  # Keras: not at start-up

        optimizer = model.optimizer
        settings = optimizer.get_config()
        unsupported = [name for name in PER_MATRIX_SETTINGS if settings.get(name)]
        if unsupported:
            raise ValueError(
                f"The optimizer sets {', '.join(unsupported)}, which act on each weight "
                "matrix apart; the fast trainer updates all weights as one vector. Train "
                "this model with model.fit, or leave these settings unset."
            )
        if any(v.constraint is not None for v in model.trainable_variables):
            raise ValueError(
                "A layer has a weight constraint, which the fast trainer would skip; train "
                "this model with model.fit, or remove the constraint."
            )
        optimizer.build(model.trainable_variables)
        self.model = model
        self.variables = list(model.trainable_variables)
        self.shapes = [tuple(v.shape) for v in self.variables]
        self.sizes = [math.prod(shape) for shape in self.shapes]
        self.vector = keras.Variable(
            np.zeros(sum(self.sizes), dtype="float32"), trainable=False, name="flat"
        )
        self.optimizer = optimizer.__class__.from_config(settings)
        self.optimizer.build([self.vector])
        self.pairs = self._pair_optimizer_variables(optimizer)

    def _pair_optimizer_variables(self, optimizer) -> list:
        """(the copy's variable, the model optimizer's variables it stands for, is it a slot).

        A slot of the flat vector ("flat_momentum") stands for that slot of every weight
        matrix in order ("..._hidden_1_kernel_momentum", ...); any other variable
        (the iteration count, the learning rate) for the one of the same name.
        """
        by_name = {v.name: v for v in optimizer.variables}
        prefix = f"{self.vector.path.replace('/', '_')}_"
        pairs = []
        for variable in self.optimizer.variables:
            slot = variable.name.startswith(prefix)
            if slot:
                suffix = variable.name[len(prefix) :]
                names = [f"{v.path.replace('/', '_')}_{suffix}" for v in self.variables]
            else:
                names = [variable.name]
            missing = [name for name in names if name not in by_name]
            if missing:
                raise ValueError(
                    f"{type(optimizer).__name__} has no variable {missing[0]!r} to match the "
                    f"fast trainer's {variable.name!r}; train this model with model.fit."
                )
            pairs.append((variable, [by_name[name] for name in names], slot))
        return pairs

    def join(self, tensors):
        """Tensors shaped as the model's weights, as one vector."""
        import tensorflow as tf  # TensorFlow: not at start-up

        return tf.concat([tf.reshape(t, [-1]) for t in tensors], axis=0)

    def split(self, vector) -> list:
        """The vector cut into tensors shaped as the model's weights."""
        import tensorflow as tf  # TensorFlow: not at start-up

        parts = tf.split(vector, self.sizes)
        return [tf.reshape(part, shape) for part, shape in zip(parts, self.shapes, strict=True)]

    def spread(self) -> None:
        """Copy the vector into the model's weights."""
        for target, value in zip(self.variables, self.split(self.vector.value), strict=True):
            target.assign(value)

    def load(self) -> None:
        """The model's weights and its optimizer's state into the vector and the copy."""
        self.vector.assign(self.join([v.value for v in self.variables]))
        for ours, theirs, slot in self.pairs:
            ours.assign(self.join([v.value for v in theirs]) if slot else theirs[0].value)

    def store(self) -> None:
        """The copy's state back into the model's optimizer (the weights are already there)."""
        for ours, theirs, slot in self.pairs:
            for target, value in zip(
                theirs, self.split(ours.value) if slot else [ours.value], strict=True
            ):
                target.assign(value)


class EpochRunner:
    """Trains `model` on `data` for any number of epochs in one compiled call."""

    def __init__(self, model, data: PlaneData, seed: int, shuffle: bool) -> None:
        import tensorflow as tf  # TensorFlow: not at start-up

        self.model = model
        self.data = data
        self.seed = seed
        self.shuffle = shuffle
        self.n = len(data.x_train)
        self.flat = FlatWeights(model)
        self._loss = model.loss
        self._binary = data.y_train.shape[1] == 1
        self._function = tf.function(
            self._make_loop(), input_signature=[tf.TensorSpec([None, self.n], tf.int32)]
        )

    def _make_loop(self):
        """The compiled call: epochs of `_epoch_trainer`'s, each followed by the test part's
        loss and accuracy (NaN without a test part); the per-epoch logs."""
        import tensorflow as tf  # TensorFlow: not at start-up

        data, flat, n = self.data, self.flat, self.n
        x_test, y_test = tf.constant(data.x_test), tf.constant(data.y_test)
        has_test = data.has_test
        train_epoch = self._epoch_trainer()

        def loop(order):
            epochs = tf.shape(order)[0]
            arrays = {k: tf.TensorArray(tf.float32, size=epochs) for k in HISTORY_METRICS}
            flat.load()
            for epoch in tf.range(epochs):
                loss_sum, right = train_epoch(order[epoch])
                arrays["loss"] = arrays["loss"].write(epoch, loss_sum / n)
                arrays["accuracy"] = arrays["accuracy"].write(epoch, right / n)
                if has_test:
                    outputs, test_loss = self._forward(x_test, y_test, False)
                    test_right = self._correct(y_test, outputs) / len(data.x_test)
                else:
                    test_loss = test_right = tf.constant(math.nan)
                arrays["test_loss"] = arrays["test_loss"].write(epoch, test_loss)
                arrays["test_accuracy"] = arrays["test_accuracy"].write(epoch, test_right)
            flat.store()
            return {k: v.stack() for k, v in arrays.items()}

        return loop

    def _epoch_trainer(self):
        """One epoch over the training rows in a given order, batch by batch (`_step`); the
        loss summed by batch size, and the count of right answers."""
        import tensorflow as tf  # TensorFlow: not at start-up

        data, n = self.data, self.n
        x, y = tf.constant(data.x_train), tf.constant(data.y_train)
        batch_size = min(data.batch_size, n)
        full_batches, last_batch = divmod(n, batch_size)

        def train_epoch(rows):
            xs, ys = tf.gather(x, rows), tf.gather(y, rows)
            loss_sum, right = tf.constant(0.0), tf.constant(0.0)
            if full_batches:
                end = full_batches * batch_size
                x_batches = tf.reshape(xs[:end], [full_batches, batch_size, x.shape[1]])
                y_batches = tf.reshape(ys[:end], [full_batches, batch_size, y.shape[1]])
                for b in tf.range(full_batches):
                    loss, batch_right = self._step(x_batches[b], y_batches[b])
                    loss_sum += loss * batch_size
                    right += batch_right
            if last_batch:
                loss, batch_right = self._step(xs[-last_batch:], ys[-last_batch:])
                loss_sum += loss * last_batch
                right += batch_right
            return loss_sum, right

        return train_epoch

    def _step(self, xb, yb):
        """One batch: forward, gradient, optimizer; its loss and count of right answers."""
        import tensorflow as tf  # TensorFlow: not at start-up

        flat = self.flat
        with tf.GradientTape() as tape:
            outputs, loss = self._forward(xb, yb, True)
        gradients = tape.gradient(loss, flat.variables)
        flat.optimizer.apply([flat.join(gradients)], [flat.vector])
        flat.spread()
        return loss, self._correct(yb, outputs)

    def _forward(self, inputs, targets, training: bool):
        """Outputs and the loss as fit reports it: the data term plus every penalty."""
        import tensorflow as tf  # TensorFlow: not at start-up

        outputs = self.model(inputs, training=training)
        loss = self._loss(targets, outputs)
        penalties = self.model.losses
        return outputs, loss + tf.add_n(penalties) if penalties else loss

    def _correct(self, targets, outputs):
        """How many of `outputs` pick the class of `targets` (one output: on the same side
        of 0.5)."""
        import tensorflow as tf  # TensorFlow: not at start-up

        if self._binary:
            right = tf.equal(outputs > 0.5, targets > 0.5)
        else:
            right = tf.equal(tf.argmax(outputs, axis=1), tf.argmax(targets, axis=1))
        return tf.reduce_sum(tf.cast(right, tf.float32))

    def _call(self, order: np.ndarray) -> dict[str, np.ndarray]:
        with single_threaded():
            return {k: v.numpy() for k, v in self._function(order).items()}

    def warm_up(self) -> None:
        """Trace the compiled loop and run it once, so the first Train press is fast.

        The loops' bodies are made ready on their first pass, so this trains one epoch and
        then puts every weight and optimizer variable back as it was.
        """
        variables = [*self.model.variables, *self.model.optimizer.variables]
        saved = [v.numpy() for v in variables]
        self._call(epoch_orders(self.seed, 0, 1, self.n, self.shuffle))
        for variable, value in zip(variables, saved, strict=True):
            variable.assign(value)

    def run(self, first_epoch: int, epochs: int) -> dict[str, np.ndarray]:
        """Train epochs first_epoch+1 .. first_epoch+epochs; per-epoch logs as numpy arrays."""
        return self._call(epoch_orders(self.seed, first_epoch, epochs, self.n, self.shuffle))
