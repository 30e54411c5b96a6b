"""core.training.pipelines: Keras's batches for arrays, with tf.data's autotuning off."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.training.pipelines import batches


def keras_batches(x, y, batch_size, shuffle, epochs):
    """The batches `fit(x, y, batch_size=..., shuffle=...)` trains on, epoch by epoch."""
    seen = []

    class Record(keras.Model):
        def train_step(self, data):
            seen[-1].append(data[0][:, 0])
            return {"rows": tf.shape(data[0])[0]}

    class Epochs(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append([])

    model = Record()
    model.compile(run_eagerly=True)
    model.fit(
        x, y, batch_size=batch_size, epochs=epochs, shuffle=shuffle, verbose=0, callbacks=[Epochs()]
    )
    return [np.concatenate([np.asarray(b) for b in epoch]) for epoch in seen]


def our_batches(x, y, batch_size, shuffle, epochs, rows=None):
    seen = []
    dataset = batches(tf.constant(x), tf.constant(y), batch_size, shuffle, rows=rows)
    for _ in range(epochs):
        epoch = list(dataset)
        seen.append(np.concatenate([np.asarray(b[0][:, 0]) for b in epoch]))
        sizes = [len(b[0]) for b in epoch]
        assert all(s == batch_size for s in sizes[:-1]) and 0 < sizes[-1] <= batch_size
    return seen


@pytest.mark.parametrize("rows, batch_size", [(100, 32), (96, 32), (7, 10)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_same_batches_in_the_same_order_as_fit(rows, batch_size, shuffle):
    x = np.arange(rows, dtype=np.float32)[:, None].repeat(3, axis=1)
    y = np.arange(rows, dtype=np.float32)[:, None]
    keras.utils.set_random_seed(5)
    expected = keras_batches(x, y, batch_size, shuffle, epochs=3)
    keras.utils.set_random_seed(5)
    got = our_batches(x, y, batch_size, shuffle, epochs=3)
    assert len(got) == len(expected) == 3
    for ours, theirs in zip(got, expected, strict=True):
        np.testing.assert_array_equal(ours, theirs)
        assert sorted(ours) == list(range(rows))  # every row once an epoch
    if shuffle and rows > 10:
        assert not np.array_equal(got[0], np.arange(rows))  # shuffled
        # (With the global seed set, Keras draws the same order every epoch: so do we.)


def test_labels_stay_with_their_images():
    x = np.arange(50, dtype=np.float32)[:, None]
    y = (np.arange(50, dtype=np.float32) * 10)[:, None]
    rows = tf.constant([3, 9, 1, 40, 41, 7, 22, 0, 5, 11], tf.int64)
    for chosen in (None, rows):
        for images, labels in batches(tf.constant(x), tf.constant(y), 4, True, rows=chosen):
            np.testing.assert_array_equal(np.asarray(labels), np.asarray(images) * 10)


def test_fit_knows_the_epoch_length_and_autotuning_is_off():
    dataset = batches(tf.zeros((100, 2)), tf.zeros((100, 1)), 32, shuffle=True)
    assert int(dataset.cardinality()) == 4
    assert dataset.options().autotune.enabled is False


@pytest.mark.parametrize("shuffle", [True, False])
def test_batches_of_chosen_rows_are_those_of_the_rows_copied_out(shuffle):
    x = np.arange(60, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    y = np.arange(60, dtype=np.float32)[:, None]
    rows = np.random.default_rng(0).permutation(60)[:45]
    keras.utils.set_random_seed(8)
    chosen = our_batches(x, y, 16, shuffle, epochs=2, rows=tf.constant(rows, tf.int64))
    keras.utils.set_random_seed(8)
    copied = our_batches(x[rows], y[rows], 16, shuffle, epochs=2)
    for a, b in zip(chosen, copied, strict=True):
        np.testing.assert_array_equal(a, b)
    assert sorted(chosen[0]) == sorted(rows)
