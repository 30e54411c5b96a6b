"""Training on MNIST plus My digits: each own digit in the training batches the stated number
of times an epoch, none of them in validation, and the run's record saying so."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from core.nets.model import ModelSpec, SpecError
from core.nets.presets import DEFAULT_PRESET, PRESETS
from core.training.job import TrainingJob, steps_per_epoch
from core.training.my_digits import with_my_digits
from core.training.prepared import PreparedTensors, prepare
from tests.support.digits import patch_digits

OWN = 7  # own digits in these tests


def own_digits(count: int = OWN) -> tuple[np.ndarray, np.ndarray]:
    """Images white all over but for one black pixel, pixel i for digit i: no patch digit
    (noise under 60 of 255, a few bright blocks) looks like one."""
    images = np.ones((count, 28, 28), np.float32)
    for i in range(count):
        images[i].flat[i] = 0.0
    return images, (np.arange(count) % 10).astype(np.uint8)


def own_index(rows: np.ndarray) -> np.ndarray:
    """For each input row: the own digit it is (its black pixel), or -1 for a patch digit."""
    flat = rows.reshape(len(rows), -1)
    mine = (flat >= 0.99).sum(axis=1) == flat.shape[1] - 1
    return np.where(mine, flat.argmin(axis=1), -1)


def seen(dataset) -> tuple[np.ndarray, int]:
    """How often each own digit is in one epoch of `dataset`, and how many rows it has."""
    counts = np.zeros(OWN, int)
    rows = 0
    for x, _ in dataset:
        found = own_index(np.asarray(x))
        counts += np.bincount(found[found >= 0], minlength=OWN)
        rows += len(found)
    return counts, rows


@pytest.mark.parametrize("convolutional", [False, True])
@pytest.mark.parametrize("repeats", [1, 5])
def test_the_batches_see_each_own_digit_the_stated_times_and_validation_none(
    repeats, convolutional
):
    base = patch_digits(n_train=300, n_test=50, seed=2)
    data = with_my_digits(base, *own_digits(), repeats=repeats)
    spec = replace(PRESETS[DEFAULT_PRESET].spec, batch_size=32, validation_split=0.2)
    if convolutional:
        spec = replace(spec, layers=[{"type": "Flatten"}, {"type": "Dense", "units": 16}])
    train, validation = PreparedTensors().batches(data, spec)
    counts, rows = seen(train)
    assert counts.tolist() == [repeats] * OWN
    assert rows == 300 - 60 + OWN * repeats  # MNIST's training rows, then the own ones
    val_counts, val_rows = seen(validation)
    assert val_counts.sum() == 0 and val_rows == 60
    assert steps_per_epoch(spec, data) == len(list(train))


def test_the_validation_split_is_mnist_s_own_with_or_without_them():
    base = patch_digits(n_train=300, n_test=50, seed=2)
    data = with_my_digits(base, *own_digits(), repeats=3)
    plain, mixed = prepare(base, 0.2, seed=9), prepare(data, 0.2, seed=9)
    assert np.array_equal(plain.x_val, mixed.x_val)
    assert np.array_equal(mixed.x_train[: len(plain.x_train)], plain.x_train)
    assert own_index(mixed.x_train[len(plain.x_train) :]).tolist() == list(range(OWN)) * 3


def test_own_digits_become_mnist_grey_levels():
    base = patch_digits(n_train=20, n_test=5)
    images = np.full((2, 28, 28), 0.5, np.float32)
    data = with_my_digits(base, images, np.array([3, 4], np.uint8), repeats=2)
    assert data.x_train.dtype == np.uint8 and data.x_train.shape == (24, 28, 28)
    assert set(np.unique(data.x_train[20:])) == {128}  # 0.5 * 255 = 127.5, rounded to even
    assert data.y_train[20:].tolist() == [3, 4, 3, 4]
    assert data.train_only == 4
    assert "2 of My digits × 2 (4 training images)" in data.description
    assert data.description.startswith("MNIST, 20 training and 5 test images")


def test_no_digits_or_no_repeats_leave_the_data_as_it_is():
    base = patch_digits(n_train=20, n_test=5)
    images, labels = own_digits()
    assert with_my_digits(base, images[:0], labels[:0], repeats=5) is base
    assert with_my_digits(base, images, labels, repeats=0) is base


def test_the_spec_holds_the_repeats_within_range():
    assert ModelSpec(my_digits_repeats=20).my_digits_repeats == 20
    for wrong in (-1, 101):
        with pytest.raises(SpecError, match="My digits repeated"):
            ModelSpec(my_digits_repeats=wrong)


def test_a_run_records_that_it_trained_on_my_digits(tmp_path):
    from core.runs.start import start_recorded_run
    from core.runs.store import RunStore
    from core.training.registry import JobRegistry

    store = RunStore(tmp_path)
    base = patch_digits(n_train=200, n_test=50, seed=4)
    spec = replace(PRESETS[DEFAULT_PRESET].spec, epochs=1, my_digits_repeats=4)
    data = with_my_digits(base, *own_digits(), repeats=spec.my_digits_repeats)
    job = start_recorded_run(store, spec, data, registry=JobRegistry())
    assert job.join(timeout=120)
    assert job.monitor.snapshot().status == "completed"
    run = store.get(job.run_id)
    assert run.spec.my_digits_repeats == 4
    assert "7 of My digits × 4 (28 training images)" in run.data_source
    assert isinstance(job, TrainingJob)
