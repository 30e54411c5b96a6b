"""RunRecorder: Keras's hooks called directly with made-up logs, then once with real training."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from core.mnist.data import MNIST
from core.runs.recorder import RunRecorder
from core.runs.store import RunStore
from core.training.job import RunResult, TrainingJob
from tests.support.digits import patch_digits
from tests.support.models import outputs_of
from tests.support.runs import (
    batch_logs,
    epoch_logs,
    leftovers,
    start_recorder,
    tiny_model,
    train_epochs,
)
from tests.support.specs import small_spec


def new_run(store: RunStore, epochs: int = 3) -> str:
    return store.create_run(small_spec(epochs=epochs), "fake data")


def test_each_complete_epoch_is_stored_with_its_model():
    store = RunStore()
    run_id = new_run(store)
    model = tiny_model()
    recorder = start_recorder(store, run_id, epochs=3, steps=10, model=model)
    train_epochs(recorder, 2, 10)
    run = store.get(run_id)
    assert (run.status, run.epochs_done, run.model_epochs) == ("running", 2, 2)
    assert run.history["loss"] == pytest.approx([epoch_logs(0)["loss"], epoch_logs(1)["loss"]])
    assert len(run.batches) == 20 and run.batches[-1][0] == pytest.approx(2.0)
    assert run.val_accuracy == pytest.approx(epoch_logs(1)["val_accuracy"])
    x = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    np.testing.assert_allclose(outputs_of(store.load_model(run_id), x), model(x))
    assert leftovers(store) == []


def test_an_epoch_cut_short_or_diverged_is_not_stored():
    store = RunStore()
    run_id = new_run(store)
    recorder = start_recorder(store, run_id, epochs=3, steps=10)
    train_epochs(recorder, 1, 10)
    # Stop after 4 of 10 steps: Keras still calls on_epoch_end.
    recorder.on_epoch_begin(1)
    for step in range(1, 5):
        recorder.on_train_batch_end(step - 1, batch_logs(1, step, 10))
    recorder.on_epoch_end(1, epoch_logs(1))
    assert store.get(run_id).epochs_done == 1
    # A whole epoch whose loss became NaN: neither the epoch nor the NaN batch is kept.
    recorder.on_epoch_begin(1)
    for step in range(1, 11):
        recorder.on_train_batch_end(step - 1, {"loss": float("nan"), "accuracy": 0.1})
    recorder.on_epoch_end(1, {"loss": float("nan"), "accuracy": 0.1})
    run = store.get(run_id)
    assert run.epochs_done == 1 and len(run.history["loss"]) == 1
    assert all(np.isfinite(loss) for _, loss, _ in recorder.batches)


def test_an_epoch_whose_last_batch_saw_stop_is_not_stored_unvalidated():
    # Stop during an epoch's last batch: every batch ran, but Keras skips the validation
    # (LiveMetrics set stop_training), so the epoch's logs have no val_accuracy. The run is
    # "stopped after 2 complete epochs" and keeps epoch 2's val accuracy, not None.
    store = RunStore()
    run_id = new_run(store, epochs=5)
    model = tiny_model()
    recorder = start_recorder(store, run_id, epochs=5, steps=10, model=model)
    train_epochs(recorder, 2, 10)
    recorder.on_epoch_begin(2)
    for step in range(1, 11):
        recorder.on_train_batch_end(step - 1, batch_logs(2, step, 10))
    model.stop_training = True  # as LiveMetrics does when it sees Stop
    unvalidated = {k: v for k, v in epoch_logs(2).items() if not k.startswith("val_")}
    recorder.on_epoch_end(2, unvalidated)
    recorder.on_run_end(RunResult("stopped", "Stopped by you after 2 complete epochs.", 0.5, 0.7))
    run = store.get(run_id)
    assert (run.status, run.epochs_done, run.model_epochs) == ("stopped", 2, 2)
    assert run.val_accuracy == pytest.approx(epoch_logs(1)["val_accuracy"])
    assert len(run.history["val_accuracy"]) == 2


def test_training_begins_afresh_with_the_same_recorder():
    store = RunStore()
    run_id = new_run(store)
    recorder = start_recorder(store, run_id, epochs=3, steps=5)
    train_epochs(recorder, 3, 5)
    recorder.on_train_begin()
    train_epochs(recorder, 1, 5)
    run = store.get(run_id)
    assert run.epochs_done == 1 and len(run.history["loss"]) == 1 and len(run.batches) == 5


def test_a_run_deleted_while_it_trains_is_not_created_again():
    store = RunStore()
    run_id = new_run(store)
    recorder = start_recorder(store, run_id, epochs=3, steps=5, model=tiny_model())
    train_epochs(recorder, 1, 5)
    assert store.model_path(run_id) is not None
    with sqlite3.connect(store.db_path) as conn:  # deleted by another app on the same store
        conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
    for end in (".keras", ".start.npz"):  # its files too, as `RunStore.delete` removes them
        (store.models_dir / f"{run_id}{end}").unlink()
    train_epochs(recorder, 2, 5, first=1)
    recorder.on_run_end(RunResult("completed", "Trained 3 epochs.", 0.2, 0.9, None))
    assert recorder.deleted
    assert store.list_runs() == [] and leftovers(store) == []
    assert store.write_errors == []


def test_a_failed_run_keeps_the_model_of_its_last_good_epoch():
    store = RunStore()
    run_id = new_run(store)
    model = tiny_model()
    recorder = start_recorder(store, run_id, epochs=3, steps=5, model=model)
    train_epochs(recorder, 2, 5)
    good = [w.copy() for w in model.get_weights()]
    model.set_weights([np.full_like(w, np.nan) for w in good])  # the weights blow up
    recorder.on_run_end(RunResult("failed", "The loss became nan."))
    run = store.get(run_id)
    assert (run.status, run.message, run.model_epochs) == ("failed", "The loss became nan.", 2)
    for kept, original in zip(store.load_model(run_id).get_weights(), good, strict=True):
        np.testing.assert_array_equal(kept, original)


def test_a_run_stopped_before_it_learned_keeps_no_model():
    store = RunStore()
    run_id = new_run(store)
    recorder = start_recorder(store, run_id, epochs=3, steps=10, model=tiny_model())
    recorder.on_run_end(RunResult("stopped", "Stopped before the first batch."))
    run = store.get(run_id)
    assert (run.status, run.message) == ("stopped", "Stopped before the first batch.")
    assert store.model_path(run_id) is None and leftovers(store) == []


def test_restored_best_weights_are_recorded_as_their_epoch():
    store = RunStore()
    run_id = new_run(store, epochs=5)
    recorder = start_recorder(store, run_id, epochs=5, steps=4, model=tiny_model())
    train_epochs(recorder, 4, 4)
    recorder.on_run_end(RunResult("completed", "Early stopping.", 0.4, 0.8, None, model_epochs=2))
    run = store.get(run_id)
    assert (run.epochs_done, run.model_epochs) == (4, 2)
    assert run.val_accuracy == pytest.approx(epoch_logs(1)["val_accuracy"])  # epoch 2's
    assert len(run.history["val_loss"]) == 4  # every epoch's curve is kept


def test_a_failing_write_is_logged_and_training_goes_on(monkeypatch):
    store = RunStore()
    run_id = new_run(store)
    recorder = start_recorder(store, run_id, epochs=3, steps=2)

    def full_disk(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(store, "write_progress", full_disk)
    train_epochs(recorder, 2, 2)  # does not raise
    assert len(store.write_errors) == 2 and "No space left" in store.write_errors[0]


@pytest.mark.timeout(180)
def test_early_stopping_with_restored_weights_stores_the_best_epochs_model():
    # Labels drawn at random: only memorising is possible, so the validation loss rises soon.
    data = patch_digits(n_train=300, n_test=50)
    shuffled = MNIST(
        data.x_train,
        np.random.default_rng(5).permutation(data.y_train),
        data.x_test,
        data.y_test,
        "",
    )
    spec = small_spec(
        units=256, epochs=60, early_stopping=True, patience=2, restore_best_weights=True, seed=3
    )
    store = RunStore()
    run_id = store.create_run(spec, "shuffled")
    job = TrainingJob(spec, shuffled, run_id=run_id, callbacks=[RunRecorder(store, run_id)])
    assert job.start().join(timeout=150)
    run = store.get(run_id)
    best = int(np.argmin(run.history["val_loss"])) + 1
    assert run.status == "completed" and run.epochs_done < 60
    assert run.model_epochs == best == run.epochs_done - 2
    assert f"weights of epoch {best}" in run.message
    x = np.random.default_rng(1).random((4, 784)).astype(np.float32)
    np.testing.assert_allclose(
        outputs_of(store.load_model(run_id), x), outputs_of(job.model, x), rtol=1e-6
    )
