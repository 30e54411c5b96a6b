"""core.training.job: a training job run to its end on its own thread. What it learns and
reports (test loss and accuracy, confusion, the outcome in words), how it fails or stops
early, and the models it frees. Stop is test_job_stop.py's, the job registry
test_registry.py's, the data's tensors and batches test_prepared.py's."""

import gc
import threading
import weakref
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from core.mnist.data import MNIST, one_hot, to_model_inputs
from core.nets.model import build_model
from core.training.job import (
    TrainingJob,
    epoch_of_best_weights,
    epochs,
    predict_eagerly,
    steps_per_execution_for,
    training_outcome,
)
from core.training.prepared import prepare
from tests.support.digits import patch_digits
from tests.support.specs import small_spec


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


def test_epochs_are_counted_in_words():
    assert epochs(1) == "1 epoch"
    assert epochs(3, "complete ") == "3 complete epochs"
    assert epochs(1, "complete ") == "1 complete epoch"
