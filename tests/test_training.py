import threading
import time

import numpy as np
import pytest

from core.data import MNIST, to_model_inputs
from core.model import ModelSpec
from core.training import JOBS, TrainingJob, prepare, steps_per_execution_for
from tests.synthetic import patch_digits


def small_spec(**values) -> ModelSpec:
    defaults = {
        "layers": [{"type": "Dense", "units": 32}],
        "epochs": 3,
        "batch_size": 32,
    }
    return ModelSpec(**(defaults | values))


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


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


def test_steps_per_execution_keeps_batches_per_call_bounded():
    assert steps_per_execution_for(32) == 32
    assert steps_per_execution_for(128) == 16
    assert steps_per_execution_for(4096) == 1


def test_short_run_really_learns():
    job = TrainingJob(small_spec(epochs=4), patch_digits()).start()
    assert job.join(timeout=120)
    snapshot = job.monitor.snapshot()
    assert snapshot.status == "completed", snapshot.message
    assert snapshot.epoch == 4 and len(snapshot.history["val_accuracy"]) == 4
    assert snapshot.history["loss"][-1] < snapshot.history["loss"][0]
    assert snapshot.test_accuracy > 0.9  # chance is 0.1
    assert snapshot.batches, "the batch-level curve got no points"
    assert job.test_probabilities.shape == (200, 10)
    predicted = job.test_probabilities.argmax(axis=1)
    assert np.mean(predicted == job.data.y_test) == pytest.approx(snapshot.test_accuracy, abs=1e-6)


def test_training_runs_off_the_calling_thread():
    seen = []
    job = TrainingJob(
        small_spec(epochs=1),
        patch_digits(n_train=200, n_test=50),
        listeners=(lambda job, epoch, logs: seen.append(threading.current_thread().name),),
    ).start()
    assert job.join(timeout=120)
    assert seen == [f"train-{job.run_id}"]
    assert threading.current_thread().name not in seen


def test_stop_mid_run_keeps_model_and_history():
    job = TrainingJob(
        small_spec(epochs=200, batch_size=8), patch_digits(n_train=800), steps_per_execution=1
    )
    job.start()
    assert wait_for(lambda: job.monitor.snapshot().epoch >= 1), job.monitor.snapshot().message
    job.stop()
    assert job.join(timeout=60)
    snapshot = job.monitor.snapshot()
    assert snapshot.status == "stopped"
    assert 1 <= snapshot.epoch < 200
    assert len(snapshot.history["loss"]) == snapshot.epoch  # only whole epochs
    assert job.model is not None and snapshot.test_accuracy is not None
    assert f"after {snapshot.epoch} complete epochs" in snapshot.message


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
    spec = small_spec(epochs=60, early_stopping=True, patience=1, batch_size=64, layers=[{"type": "Dense", "units": 256}])
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
    job = TrainingJob(small_spec(), bad, finish_listeners=(finished.append,)).start()
    assert job.join(timeout=60)
    snapshot = job.monitor.snapshot()
    assert snapshot.status == "failed" and snapshot.message.startswith("Training failed")
    assert finished == [job]


def test_registry_keeps_the_newest_finished_jobs():
    data = patch_digits(n_train=64, n_test=16)
    jobs = [JOBS.add(TrainingJob(small_spec(epochs=1), data)) for _ in range(3)]
    for job in jobs:
        job.start().join(timeout=60)
    JOBS.forget_finished(keep=1)
    assert JOBS.get(jobs[-1].run_id) is jobs[-1]
    assert JOBS.get(jobs[0].run_id) is None


def test_a_finished_job_frees_the_models_nothing_holds_any_more():
    """A model and its traced graphs are reference cycles; the next job's thread collects
    them, so a server does not wait for Python's rare full collection (bench/memory.py)."""
    import gc
    import weakref

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
