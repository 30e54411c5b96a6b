"""The batches `fit` reads: Keras's own pipeline for in-memory arrays, with tf.data's autotuning off.

Given arrays or tensors, `fit` builds a tf.data pipeline for every epoch (Keras's
`ArrayDataAdapter`): a shuffled permutation of the row indices, cut into batches, each
batch gathered from the tensors by a parallel map, prefetched. Its parallelism and prefetch
are `tf.data.AUTOTUNE`, so every epoch's iterator starts tf.data's autotuning model, and
Keras makes the next epoch's iterator as each epoch ends. Ending training then waits for
that unused iterator to be torn down, and with autotuning on that held up the end of
training after a Stop pressed during validation (and, less, at a run's natural end; neither
with autotuning off). On the two cores a person's laptop may have, autotuning
has little to tune; the fixed settings below train as fast (bench/training.py).

`batches` is the same pipeline, built with public tf.data calls and fixed settings: the same
batches in the same order as `fit(x, y, shuffle=...)` gives (the permutation is drawn by the
same op in the same place, so the seed fixes it as it does in Keras; tests/training/test_pipelines.py
holds them equal), so an exported script (`fit(shuffle=True)`) still reproduces a run.
"""

from __future__ import annotations

# A gathered batch is a few hundred kilobytes: two at once keep the training step fed.
PARALLEL_BATCHES = 2


def options():
    """tf.data options for a pipeline that holds no autotuning state of its own."""
    import tensorflow as tf  # TensorFlow: not at start-up

    chosen = tf.data.Options()
    chosen.autotune.enabled = False
    # As Keras: the pipeline's graph is not rewritten (it is small; rewriting costs time).
    chosen.experimental_optimization.apply_default_optimizations = False
    chosen.experimental_external_state_policy = tf.data.experimental.ExternalStatePolicy.IGNORE
    return chosen


def batches(x, y, batch_size: int, shuffle: bool, rows=None):
    """A dataset of (x, y) batches of `batch_size` rows, one epoch of them, in the order
    `fit(x, y, batch_size=batch_size, shuffle=shuffle)` reads them, epoch after epoch (with
    the global seed set, as the app always has it, that is the same order every epoch: the
    permutation op restarts with each epoch's iterator, in Keras as here).

    With `rows` (row numbers, an int64 tensor), the examples are those rows of `x` and `y`,
    in that order: the same batches as `batches(x[rows], y[rows], ...)`, gathered from `x`
    and `y` without copying the rows out first.
    """
    import tensorflow as tf  # TensorFlow: not at start-up

    count = int(x.shape[0]) if rows is None else int(rows.shape[0])
    full = count // batch_size
    partial = count - full * batch_size

    def permutation(_):
        # As Keras: a new range each time, shuffled by the op whose seed the global seed
        # and this function's graph fix.
        return tf.random.shuffle(tf.range(count, dtype=tf.int64))

    def slice_batch_indices(indices):
        in_full = full * batch_size
        cut = tf.data.Dataset.from_tensor_slices(
            tf.reshape(tf.slice(indices, [0], [in_full]), [full, batch_size])
        )
        if partial:
            cut = cut.concatenate(
                tf.data.Dataset.from_tensors(tf.slice(indices, [in_full], [partial]))
            )
        return cut

    if shuffle:
        index_batches = tf.data.Dataset.range(1).map(permutation).prefetch(1)
        index_batches = index_batches.flat_map(slice_batch_indices)
    else:  # the same batches, in order: consecutive slices (two functions fewer to trace)
        index_batches = tf.data.Dataset.range(count).batch(batch_size)
    data = tf.data.Dataset.from_tensors((x, y) if rows is None else (x, y, rows)).repeat()

    def gather(i, tensors):
        if rows is not None:  # positions among `rows` -> row numbers of x and y
            *tensors, numbers = tensors
            i = tf.gather(numbers, i)
        return tuple(tf.gather(t, i, axis=0) for t in tensors)

    dataset = tf.data.Dataset.zip((index_batches, data)).map(
        gather, num_parallel_calls=PARALLEL_BATCHES
    )
    # The batch count as Keras counts it (flat_map hides it from tf.data), so `fit` knows an
    # epoch's length before its end, as with arrays.
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(full + (1 if partial else 0)))
    return dataset.prefetch(PARALLEL_BATCHES).with_options(options())
