import gc
import logging
import math
import threading
import weakref
from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.src.trainers.trainer import Trainer

import core.training.job as job_module
from core.mnist.data import MNIST, one_hot, to_model_inputs
from core.nets.model import build_model
from core.runs.recorder import RunRecorder
from core.runs.start import start_recorded_run
from core.runs.store import RunStore
from core.training.job import (
    TrainingJob,
    _UntilStopped,
    check_keras_reads_validation_freq,
    epoch_of_best_weights,
    epochs,
    predict_eagerly,
    steps_per_execution_for,
    training_outcome,
)
from core.training.pipelines import batches
from core.training.prepared import ALIGNMENT, PreparedTensors, aligned_empty, as_tensor, prepare
from core.training.registry import JOBS, JobRegistry, TrainingBusyError
from tests.support.digits import patch_digits
from tests.support.specs import small_spec
from tests.support.waiting import eventually


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


def test_steps_per_execution_keeps_batches_per_call_bounded():
    assert steps_per_execution_for(32) == 32
    assert steps_per_execution_for(128) == 16
    assert steps_per_execution_for(4096) == 1


def test_short_run_really_learns():
    job = TrainingJob(small_spec(epochs=4, learning_rate=0.005), patch_digits()).start()
    assert job.join(timeout=120)
    snapshot = job.snapshot()
    assert snapshot.status == "completed", snapshot.message
    assert snapshot.epoch == 4 and len(snapshot.history["val_accuracy"]) == 4
    assert snapshot.history["loss"][-1] < snapshot.history["loss"][0]
    assert snapshot.test_accuracy > 0.9  # chance is 0.1
    assert snapshot.batches, "the batch-level curve got no points"
    # The result's figures against Keras's own evaluation of the same model.
    x_test, y_test = to_model_inputs(job.data.x_test), job.data.y_test
    keras_loss, keras_accuracy = job.model.evaluate(x_test, one_hot(y_test), verbose=0)
    result = job.result
    assert result.status == "completed" and result.model_epochs is None
    assert result.test_accuracy == pytest.approx(keras_accuracy, abs=1e-6)
    assert result.test_loss == pytest.approx(keras_loss, rel=1e-4)
    assert (snapshot.test_loss, snapshot.test_accuracy) == (result.test_loss, result.test_accuracy)
    predicted = job.model.predict(x_test, verbose=0).argmax(axis=1)
    counted = np.zeros((10, 10), int)
    for true, guess in zip(y_test, predicted, strict=True):
        counted[true, guess] += 1
    assert result.confusion == counted.tolist()


@pytest.fixture(scope="module")
def mse_run():
    """One epoch of an MSE-trained run, the thread of each epoch's end noted in `seen`."""
    seen = []
    job = TrainingJob(
        small_spec(epochs=1, loss="mean_squared_error"),
        patch_digits(),
        callbacks=[
            keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: seen.append(threading.current_thread().name)
            )
        ],
    ).start()
    assert job.join(timeout=120)
    return job, seen


def test_the_test_loss_is_cross_entropy_whatever_the_training_loss(mse_run):
    """Stored test losses mean one thing: an MSE-trained run's too is cross-entropy."""
    job, _ = mse_run
    p = job.model.predict(to_model_inputs(job.data.x_test), verbose=0).astype(np.float64)
    p_true = p[np.arange(len(p)), job.data.y_test.astype(int)]
    expected = -np.mean(np.log(np.clip(p_true, 1e-7, 1 - 1e-7)))
    assert job.result.test_loss == pytest.approx(expected, rel=1e-4)


def test_training_runs_off_the_calling_thread(mse_run):
    job, seen = mse_run
    assert seen == [f"train-{job.run_id}"]
    assert threading.current_thread().name not in seen


def test_stop_mid_run_keeps_model_and_history():
    job = TrainingJob(
        small_spec(epochs=200, batch_size=8), patch_digits(n_train=400), steps_per_execution=1
    )
    job.start()
    eventually(
        lambda: job.monitor.snapshot().epoch >= 1, message=lambda: job.monitor.snapshot().message
    )
    job.stop()
    assert job.join(timeout=60)
    snapshot = job.monitor.snapshot()
    assert snapshot.status == "stopped"
    assert 1 <= snapshot.epoch < 200
    assert len(snapshot.history["loss"]) == snapshot.epoch  # only whole epochs
    assert job.model is not None and snapshot.test_accuracy is not None
    assert f"after {epochs(snapshot.epoch, 'complete ')}." in snapshot.message


def test_stop_can_wait_for_the_run_to_show_its_end():
    job = TrainingJob(small_spec(epochs=200, batch_size=8), patch_digits(n_train=400))
    job.start()
    eventually(
        lambda: job.monitor.snapshot().epoch >= 1, message=lambda: job.monitor.snapshot().message
    )
    assert job.stop(wait=60) is True
    # No join: when stop returns, the page's next snapshot already says training has ended,
    # and with which epochs, while the test pass may still be under way.
    snapshot = job.monitor.snapshot()
    kept = snapshot.epoch
    assert snapshot.outcome == f"Stopped by you after {epochs(kept, 'complete ')}."
    assert snapshot.outcome_status == "stopped" and not snapshot.stopping
    assert snapshot.running or snapshot.status == "stopped"
    assert len(snapshot.history["loss"]) == kept
    assert job.join(timeout=60)
    final = job.monitor.snapshot()
    assert (final.status, final.message, final.epoch) == ("stopped", snapshot.outcome, kept)
    assert final.test_accuracy is not None


def test_the_end_of_training_is_said_before_the_test_pass():
    """The outcome comes while the run is still "running" (testing), then the result."""
    seen = []
    job = TrainingJob(small_spec(epochs=2), patch_digits(n_train=200))
    real = job.monitor.end_training

    def end_training(*args, **kwargs):
        real(*args, **kwargs)
        seen.append(job.monitor.snapshot())

    job.monitor.end_training = end_training
    job.start()
    assert job.join(timeout=120)
    [during] = seen
    assert during.running and during.test_accuracy is None
    assert during.outcome == "Trained 2 epochs." and during.outcome_status == "completed"
    assert during.message.startswith("Testing on the ")
    final = job.monitor.snapshot()
    assert final.status == "completed" and final.message == "Trained 2 epochs."
    assert final.test_accuracy is not None


def test_stop_during_validation_keeps_that_epoch_in_the_page_and_the_store():
    class StopWhileValidating(keras.callbacks.Callback):
        def on_test_begin(self, logs=None):
            job.stop()

    store = RunStore()
    spec = small_spec(epochs=20)
    data = patch_digits(n_train=400)
    run_id = store.create_run(spec, "patch digits")
    job = TrainingJob(
        spec,
        data,
        run_id=run_id,
        callbacks=[RunRecorder(store, run_id), StopWhileValidating()],
    )
    job.start()
    assert job.join(timeout=120)
    snapshot = job.monitor.snapshot()
    assert snapshot.status == "stopped", snapshot.message
    assert snapshot.message.startswith("Stopped by you after 1 complete epoch.")
    assert len(snapshot.history["val_accuracy"]) == 1
    assert not math.isnan(snapshot.history["val_accuracy"][0])
    assert max(x for x, _, _ in snapshot.batches) <= 1.0  # no batch of a second epoch ran
    run = store.get(run_id)
    assert (run.status, run.epochs_done) == ("stopped", 1)
    assert run.val_accuracy == pytest.approx(snapshot.history["val_accuracy"][0])


def test_diverging_run_stops_with_the_reason():
    spec = small_spec(
        optimizer="sgd",
        learning_rate=10.0,
        layers=[{"type": "Dense", "units": 256}] * 2,
        epochs=5,
    )
    job = TrainingJob(spec, patch_digits(), steps_per_execution=1).start()
    assert job.join(timeout=120)
    snapshot = job.monitor.snapshot()
    assert snapshot.status == "failed"
    assert "learning rate is too high" in snapshot.message
    assert snapshot.epoch < 5


def test_early_stopping_ends_before_the_last_epoch():
    # Labels drawn at random: the network can only memorise them, so the validation loss
    # rises almost at once, and patience 1 ends the run long before 60 epochs.
    data = patch_digits(n_train=300)
    shuffled = MNIST(
        data.x_train,
        np.random.default_rng(5).permutation(data.y_train),
        data.x_test,
        data.y_test,
        "",
    )
    spec = small_spec(
        epochs=60,
        early_stopping=True,
        patience=1,
    )
    job = TrainingJob(spec, shuffled).start()
    assert job.join(timeout=120)
    snapshot = job.monitor.snapshot()
    assert snapshot.status == "completed"
    assert snapshot.epoch < 60
    assert "Early stopping" in snapshot.message


def test_a_broken_data_set_fails_with_a_message_not_a_dead_thread():
    bad = MNIST(
        np.zeros((10, 28, 28), np.uint8),
        np.full(10, 12, np.uint8),
        np.zeros((2, 28, 28), np.uint8),
        np.zeros(2, np.uint8),
        "bad",
    )
    finished = []
    handed = SimpleNamespace(on_run_end=finished.append)
    job = TrainingJob(small_spec(), bad, callbacks=[handed]).start()
    assert job.join(timeout=60)
    snapshot = job.snapshot()
    assert snapshot.status == "failed" and snapshot.message.startswith("Training failed")
    assert finished == [job.result] and job.result.status == "failed"
    assert job.result.message == snapshot.message


def test_registry_keeps_the_newest_finished_jobs():
    data = patch_digits(n_train=64, n_test=16)
    jobs = [JOBS.add(TrainingJob(small_spec(epochs=1), data)) for _ in range(2)]
    for job in jobs:
        job.start().join(timeout=60)
    JOBS.forget_finished(keep=1)
    assert JOBS.get(jobs[-1].run_id) is jobs[-1]
    assert JOBS.get(jobs[0].run_id) is None


def test_the_registry_forgets_the_sessions_of_the_jobs_it_forgets():
    """Every browser session that ever trained stayed in the registry for good (issue 29)."""
    store, registry = RunStore(), JobRegistry()
    data = patch_digits(n_train=64, n_test=16)
    for number in range(4):
        job = start_recorded_run(
            store, small_spec(epochs=1), data, owner=f"session {number}", registry=registry
        )
        assert job.join(timeout=60)
    registry.forget_finished(keep=2)
    assert set(registry._owners) == {"session 2", "session 3"}


def test_a_finished_job_frees_the_models_nothing_holds_any_more():
    """A model and its traced graphs are reference cycles; the next job's thread collects
    them, so a server does not wait for Python's rare full collection (bench/memory.py)."""

    data = patch_digits(n_train=200, n_test=50)
    gc.disable()  # only the job's own collection may free the first model
    try:
        first = TrainingJob(small_spec(epochs=1), data).start()
        assert first.join(timeout=120)
        model = weakref.ref(first.model)
        del first  # forgotten, as JOBS forgets old runs
        assert model() is not None, "freed without a collection: the test proves nothing"
        second = TrainingJob(small_spec(epochs=1), data).start()
        assert second.join(timeout=120)
        assert model() is None, "the forgotten run's model is still in memory"
        assert second.model is not None  # the job's own model stays for its page
    finally:
        gc.enable()


class HeldAfterABatch(keras.callbacks.Callback):
    """Holds a run inside its training after the first batches until `release` is set: the run
    stays under way without taking the processor from the runs the test makes meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def on_train_batch_end(self, batch, logs=None):
        self.release.wait(120)


def test_a_session_cannot_start_a_second_run_while_one_trains():
    """Two quick clicks on Train: the registry checks and starts under one lock."""

    store, registry = RunStore(), JobRegistry()
    spec = small_spec(epochs=500, batch_size=8)
    data = patch_digits(n_train=400, n_test=20)
    started, refused = [], []
    barrier = threading.Barrier(4)
    held = HeldAfterABatch()

    def click() -> None:
        barrier.wait()
        try:
            started.append(
                start_recorded_run(
                    store, spec, data, owner="me", registry=registry, callbacks=[held]
                )
            )
        except TrainingBusyError:
            refused.append(True)

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert len(started) == 1 and len(refused) == 3
        assert [run.id for run in store.list_runs()] == [started[0].run_id]  # none left behind
        other = start_recorded_run(
            store, small_spec(epochs=1), data, owner="you", registry=registry
        )
        assert other.join(timeout=120)  # another session trains meanwhile
        assert started[0].running  # while the first is still under way
    finally:
        started[0].stop()
        held.release.set()
        assert started[0].join(timeout=60)
    again = start_recorded_run(store, small_spec(epochs=1), data, owner="me", registry=registry)
    assert again.join(timeout=120)  # once it has ended, the session may train again


def test_a_convolutional_network_trains_on_the_same_rows_seen_as_images():
    spec = small_spec(
        epochs=2,
        layers=[
            {"type": "Conv2D", "filters": 4, "kernel_size": 3},
            {"type": "MaxPooling2D", "pool_size": 2},
            {"type": "Flatten"},
        ],
    )
    data = patch_digits(n_train=300, n_test=50)
    prepared = prepare(data, 0.1, 0)
    images = prepared.as_images()
    assert images.x_train.shape == (270, 28, 28, 1) and images.x_val.shape == (30, 28, 28, 1)
    assert np.shares_memory(images.x_train, prepared.x_train)  # a view: no second copy
    assert np.shares_memory(images.x_test, prepared.x_test)
    job = TrainingJob(spec, data).start()
    assert job.join(timeout=120)
    assert job.snapshot().status == "completed", job.snapshot().message
    assert job.model.input_shape == (None, 28, 28, 1)
    assert job.result.test_accuracy > 0.5  # chance is 0.1


def test_validation_is_skipped_once_stop_is_pressed():
    seen = threading.Event()
    every_epoch = _UntilStopped(seen.is_set)
    assert 0 in every_epoch and 7 in every_epoch
    seen.set()
    assert 1 not in every_epoch  # the cut epoch is dropped anyway: do not validate it


class AskedEpochs(list):
    """A list-valued validation_freq that answers `answers` in turn and keeps each question."""

    def __init__(self, answers: list[bool]) -> None:
        super().__init__()
        self.answers, self.asked = answers, []

    def __contains__(self, epoch) -> bool:
        self.asked.append(epoch)
        return self.answers[len(self.asked) - 1]


def test_keras_still_reads_validation_freq_with_in():
    """`_UntilStopped` rests on Keras's private `Trainer._should_eval` asking a list-valued
    validation_freq `epoch in validation_freq` after each epoch: an upgrade of Keras that moves
    or changes it fails here (and a job logs a warning, `check_keras_reads_validation_freq`)."""
    assert callable(getattr(Trainer, "_should_eval", None))
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mean_squared_error")
    asked = AskedEpochs([True])
    assert model._should_eval(0, asked) is True and asked.asked == [1]  # epochs from 1
    assert check_keras_reads_validation_freq(model)
    # fit asks once an epoch, and validates only the epochs the answer lets it.
    x, y = np.zeros((8, 3), np.float32), np.zeros((8, 1), np.float32)
    asked = AskedEpochs([True, False, True])
    history = model.fit(x, y, epochs=3, validation_data=(x, y), validation_freq=asked, verbose=0)
    assert asked.asked == [1, 2, 3]
    assert len(history.history["loss"]) == 3 and len(history.history["val_loss"]) == 2


def test_a_keras_without_should_eval_is_warned_about_once(caplog):
    job_module._warn_validation_freq_unread.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="core.training.job"):
            assert not check_keras_reads_validation_freq(SimpleNamespace())
            assert not check_keras_reads_validation_freq(SimpleNamespace())
        warnings = [r.getMessage() for r in caplog.records if "_should_eval" in r.getMessage()]
        assert len(warnings) == 1 and "validation_freq" in warnings[0]
    finally:
        job_module._warn_validation_freq_unread.cache_clear()


def test_the_outcome_says_why_training_ended_and_which_weights_the_model_keeps():
    assert training_outcome(5, 5, False, None) == ("completed", "Trained 5 epochs.")
    assert training_outcome(3, 10, False, 1) == (
        "completed",
        "Early stopping ended training after 3 epochs. The model keeps the weights of epoch "
        "1, its best.",
    )
    assert training_outcome(1, 10, True, None) == (
        "stopped",
        "Stopped by you after 1 complete epoch.",
    )
    assert training_outcome(4, 4, False, 4) == ("completed", "Trained 4 epochs.")  # the last


def test_the_model_keeps_the_best_epoch_only_when_early_stopping_restored_it():
    def early(restore: bool = True, best_weights=(0,), best_epoch: int = 2):
        return SimpleNamespace(
            restore_best_weights=restore, best_weights=best_weights, best_epoch=best_epoch
        )

    assert epoch_of_best_weights(early(), 5) == 3  # Keras counts epochs from 0
    assert epoch_of_best_weights(early(), 2) == 2  # never past the epochs trained
    assert epoch_of_best_weights(None, 5) is None
    assert epoch_of_best_weights(early(restore=False), 5) is None
    assert epoch_of_best_weights(early(best_weights=None), 5) is None


def test_the_eager_test_pass_matches_keras_predict():
    model = build_model(small_spec())
    x = np.random.default_rng(0).random((5000, 784)).astype(np.float32)
    np.testing.assert_allclose(
        predict_eagerly(model, x), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


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


def test_epochs_are_counted_in_words():
    assert epochs(1) == "1 epoch"
    assert epochs(3, "complete ") == "3 complete epochs"
    assert epochs(1, "complete ") == "1 complete epoch"


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
