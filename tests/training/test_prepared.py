"""core.training.prepared: the training data made float32 tensors once, split into training,
validation and test rows for each seed, and shuffled into batches in the seed's order."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from core.mnist.data import to_model_inputs
from core.training.pipelines import batches
from core.training.prepared import ALIGNMENT, PreparedTensors, aligned_empty, as_tensor, prepare
from tests.support.digits import patch_digits
from tests.support.specs import small_spec


def test_prepare_holds_out_validation_from_training_only():
    data = patch_digits(n_train=100, n_test=30)
    prepared = prepare(data, validation_split=0.1, seed=0)
    assert prepared.x_train.shape == (90, 784) and prepared.x_val.shape == (10, 784)
    assert prepared.x_test.shape == (30, 784)
    assert prepared.x_train.max() <= 1.0 and prepared.x_train.dtype == np.float32
    # Every training image lands in exactly one of the two parts.
    together = np.concatenate([prepared.x_train, prepared.x_val])
    expected = to_model_inputs(data.x_train)
    assert sorted(map(bytes, together)) == sorted(map(bytes, expected))
    assert prepare(data, validation_split=0.0, seed=0).x_val is None


@pytest.mark.parametrize("validation_split", [0.1, 0.0])
def test_a_split_holds_exactly_what_prepare_gives(validation_split):
    data = patch_digits(n_train=100, n_test=30)
    split = PreparedTensors().split(data, validation_split, seed=4)
    arrays = prepare(data, validation_split, seed=4)

    def rows(numbers):
        return [tf.gather(t, numbers).numpy() for t in (split.x_all, split.y_all)]

    x_train, y_train = rows(split.train_rows)
    pairs = [(x_train, arrays.x_train), (y_train, arrays.y_train)]
    if arrays.x_val is None:
        assert split.val_rows is None
    else:
        pairs += list(zip(rows(split.val_rows), (arrays.x_val, arrays.y_val), strict=True))
    pairs += [(split.x_test.numpy(), arrays.x_test), (split.y_test.numpy(), arrays.y_test)]
    for tensor, array in pairs:
        assert tensor.dtype == array.dtype == np.float32
        np.testing.assert_array_equal(tensor, array)  # bit for bit
    assert split.train_count == len(arrays.x_train)
    images = split.as_images()
    assert tuple(images.x_all.shape) == (100, 28, 28, 1)
    assert tuple(images.x_test.shape) == (30, 28, 28, 1)


def test_an_aligned_array_becomes_a_tensor_without_a_copy():
    array = aligned_empty((1000, 784))
    assert array.ctypes.data % ALIGNMENT == 0 and array.shape == (1000, 784)
    array[:] = 0.5
    tensor = as_tensor(array)
    array[3, 7] = 2.0  # the tensor shares the array's memory (nothing else may write it)
    assert float(tensor[3, 7]) == 2.0 and float(tensor[0, 0]) == 0.5
    unaligned = np.ones(1000 * 16 + 1, np.float32)[1:].reshape(1000, 16)
    assert unaligned.ctypes.data % ALIGNMENT != 0
    copy = as_tensor(unaligned)  # copied, not shared (TensorFlow would refuse the address)
    unaligned[0, 0] = 3.0
    assert float(copy[0, 0]) == 1.0


def test_the_data_is_made_tensors_once_and_each_seed_only_splits_it():
    data = patch_digits(n_train=300, n_test=40, seed=4)
    kept = PreparedTensors()
    first = kept.split(data, 0.1, seed=2)
    assert kept.split(data, 0.1, seed=2) is first  # the next run on the same split: no work
    other = kept.split(data, 0.1, seed=3)  # another seed holds out other images...
    assert other.x_all is first.x_all and other.x_test is first.x_test  # ...of the same tensors
    assert not np.array_equal(other.val_rows.numpy(), first.val_rows.numpy())
    assert kept.split(patch_digits(n_train=300, n_test=40, seed=5), 0.1, 2).x_all is not (
        first.x_all
    )  # another data set is made anew


def first_rows(dataset) -> np.ndarray:
    """The first pixel of every row, in the order the batches hold them (one epoch)."""
    return np.concatenate([np.asarray(x)[:, 0] for x, _ in dataset])


def test_batches_are_kept_and_their_order_is_the_seed_s_whatever_the_process_seed():
    data = patch_digits(n_train=300)
    spec = small_spec(seed=3, batch_size=32)
    kept = PreparedTensors()
    keras.utils.set_random_seed(99)  # another seed's build, say, seeded the process last
    train, validation = kept.batches(data, spec)
    assert kept.batches(data, spec) == (train, validation)  # made once
    prepared = prepare(data, spec.validation_split, spec.seed)  # the split, copied out
    keras.utils.set_random_seed(3)
    expected = batches(prepared.x_train, prepared.y_train, 32, shuffle=True)
    np.testing.assert_array_equal(first_rows(train), first_rows(expected))
    np.testing.assert_array_equal(first_rows(validation), prepared.x_val[:, 0])
    other = kept.batches(data, small_spec(seed=4, batch_size=32))
    assert other[0] is not train  # another seed: another split and order
    assert not np.array_equal(first_rows(other[0])[:50], first_rows(train)[:50])
