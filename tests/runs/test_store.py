"""The run store: round trips, crash safety, concurrent writers, deletion, exports."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.runs.database import SCHEMA_VERSION
from core.runs.recorder import RunRecorder
from core.runs.records import MAX_STORED_BATCHES, file_stem, thin
from core.runs.store import RunNotFoundError, RunStore, RunStoreError, default_home
from core.training.job import TrainingJob
from tests.conftest import REPO
from tests.support.digits import patch_digits
from tests.support.models import outputs_of
from tests.support.runs import (
    counted_confusion,
    epoch_logs,
    fake_test_results,
    fill_run,
    leftovers,
    start_recorder,
    tiny_model,
)
from tests.support.specs import small_spec
from tests.support.waiting import eventually

# ----- round trips -------------------------------------------------------------------------


def test_store_round_trip_keeps_every_value():
    store = RunStore()
    spec = small_spec(epochs=4, learning_rate=0.01, batch_size=64)
    run_id, _ = fill_run(store, spec, epochs=4, steps=300)
    run = store.get(run_id)

    assert run.spec == spec
    assert run.status == "completed" and run.message == "Trained 4 epochs."
    assert run.epochs_done == 4 and run.epochs_planned == 4
    for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert run.history[name] == pytest.approx([epoch_logs(e)[name] for e in range(4)])
    # 1,200 batch points, thinned to the bound with the first and last kept
    assert len(run.batches) == MAX_STORED_BATCHES
    assert run.batches[0][0] == pytest.approx(1 / 300, rel=1e-5)
    assert run.batches[-1][0] == pytest.approx(4.0)
    # the matrix and accuracy as handed over: "half right", the rest right by chance
    y_test, probabilities = fake_test_results(0)
    assert run.confusion == counted_confusion(y_test, probabilities.argmax(1))
    assert np.sum(run.confusion) == 200
    right = 100 + sum(int(probabilities[i].argmax() == y_test[i]) for i in range(100, 200))
    assert run.test_accuracy == pytest.approx(right / 200)
    assert run.test_loss == pytest.approx(0.3)
    assert run.val_accuracy == pytest.approx(epoch_logs(3)["val_accuracy"])
    assert run.training_seconds is not None and run.training_seconds >= 0

    (summary,) = store.list_runs()
    assert (summary.id, summary.architecture, summary.optimizer) == (run_id, "784-8-10", "adam")
    assert (summary.learning_rate, summary.batch_size, summary.has_model) == (0.01, 64, False)


def test_default_names_count_up_and_a_given_name_is_kept():
    store = RunStore()
    first = store.create_run(small_spec(), "x")
    second = store.create_run(small_spec(optimizer="sgd", learning_rate=0.1), "x")
    third = store.create_run(small_spec(), "x", name="  my   best run ")
    assert store.get(first).name == "784-8-10 adam #1"
    assert store.get(second).name == "784-8-10 sgd #2"
    assert store.get(third).name == "my best run"
    assert [run.id for run in store.list_runs()] == [third, second, first]  # newest first


def test_a_run_survives_reopening_the_database(tmp_path):
    run_id, _ = fill_run(RunStore(tmp_path / "home"))
    reopened = RunStore(tmp_path / "home")
    run = reopened.get(run_id)
    assert run.status == "completed" and run.epochs_done == 3
    assert run.history["loss"] == pytest.approx([1.0, 0.5, 1 / 3])


def test_a_write_keeps_the_log_for_the_next_instead_of_syncing_it_away(tmp_path):
    """The database's idle connection keeps SQLite from checkpointing and deleting the WAL each
    time an operation's connection closes (a run writes one each epoch)."""
    run_id, _ = fill_run(RunStore(tmp_path / "home"))
    assert (tmp_path / "home" / "runs.sqlite3-wal").exists()
    assert RunStore(tmp_path / "home").get(run_id).status == "completed"  # durable


def test_home_comes_from_the_environment_and_holds_the_database(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_PLAYGROUND_HOME", str(tmp_path / "elsewhere"))
    store = RunStore()
    assert store.home == tmp_path / "elsewhere" == default_home()
    assert (store.home / "runs.sqlite3").exists() and (store.home / "models").is_dir()
    monkeypatch.delenv("KERAS_PLAYGROUND_HOME")
    assert default_home() == Path.home() / ".keras-playground"


def test_schema_is_versioned_in_wal_mode_and_a_newer_one_is_refused(tmp_path):
    store = RunStore(tmp_path)
    with sqlite3.connect(store.db_path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(RunStoreError, match="newer Keras Playground"):
        RunStore(tmp_path)


def test_a_file_that_is_not_a_database_is_refused_with_advice(tmp_path):
    (tmp_path / "runs.sqlite3").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(RunStoreError, match="KERAS_PLAYGROUND_HOME"):
        RunStore(tmp_path)


# ----- interrupted runs --------------------------------------------------------------------


def run_python(code: str, home: Path, **kwargs) -> subprocess.Popen:
    env = os.environ | {"KERAS_PLAYGROUND_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        **kwargs,
    )


CREATE_RUN = (
    "from core.runs.store import RunStore; from core.nets.model import ModelSpec;"
    "print(RunStore().create_run(ModelSpec(layers=[{'type': 'Dense', 'units': 8}]), 'x'), "
    "flush=True)"
)


def test_a_run_whose_process_died_is_marked_interrupted(tmp_path):
    home = tmp_path / "home"
    child = run_python(CREATE_RUN, home)
    dead_id = child.communicate(timeout=60)[0].strip()
    store = RunStore(home)
    mine = store.create_run(small_spec(), "x")  # owned by this live process
    assert store.get(dead_id).status == "running"

    assert RunStore(home).mark_interrupted() == 1
    dead = store.get(dead_id)
    assert dead.status == "interrupted"
    assert "before the first epoch" in dead.message
    assert store.get(mine).status == "running"
    assert store.mark_interrupted() == 0  # already marked; this process's run left alone


def test_a_run_of_another_live_process_is_left_running(tmp_path):
    home = tmp_path / "home"
    child = run_python(CREATE_RUN + "; import time; time.sleep(60)", home)
    try:
        run_id = child.stdout.readline().strip()
        assert RunStore(home).mark_interrupted() == 0
        assert RunStore(home).get(run_id).status == "running"
    finally:
        child.kill()
        child.wait()
    assert RunStore(home).mark_interrupted() == 1


def test_a_reused_process_id_does_not_count_as_the_owner(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(small_spec(), "x")
    with sqlite3.connect(store.db_path) as conn:  # same pid, but a process started long ago
        conn.execute("UPDATE runs SET owner_started = 1000.0 WHERE id = ?", (run_id,))
    assert store.mark_interrupted() == 1


KILLED_TRAINING = """
from core.nets.model import ModelSpec
from core.runs.recorder import RunRecorder
from core.runs.store import RunStore
from core.training.job import TrainingJob
from tests.support.digits import patch_digits

store = RunStore()
spec = ModelSpec(layers=[{"type": "Dense", "units": 32}], epochs=500, batch_size=16,
                 validation_split=0.1)
data = patch_digits(n_train=3000, n_test=100)
run_id = store.create_run(spec, data.source)
print(run_id, flush=True)
job = TrainingJob(spec, data, run_id=run_id, callbacks=[RunRecorder(store, run_id)],
                  steps_per_execution=1)
job.start()
job.join()
"""


@pytest.mark.timeout(240)
def test_killing_training_mid_epoch_keeps_every_completed_epoch(tmp_path):
    home = tmp_path / "home"
    child = run_python(KILLED_TRAINING, home)
    try:
        run_id = child.stdout.readline().strip()
        assert run_id, "the training process printed no run id"
        store = RunStore(home)
        eventually(
            lambda: (store.get(run_id).model_epochs or 0) >= 2,
            180,
            message="training stored no epochs",
        )
        time.sleep(0.2)  # somewhere inside the next epoch (or its save)
        seen = store.get(run_id).epochs_done
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    reopened = RunStore(home)
    assert reopened.mark_interrupted() == 1
    run = reopened.get(run_id)
    assert run.status == "interrupted"
    assert run.epochs_done >= seen >= 2
    assert all(len(values) == run.epochs_done for values in run.history.values())
    assert run.model_epochs in (run.epochs_done, run.epochs_done - 1)
    assert f"after {run.epochs_done} of 500 epochs" in run.message
    model = reopened.load_model(run_id)
    assert outputs_of(model, np.zeros((1, 784))).shape == (1, 10)
    assert leftovers(reopened) == []  # no half-written model file left


# ----- concurrent writers ------------------------------------------------------------------


@pytest.mark.timeout(240)
def test_two_training_jobs_write_at_once():
    store = RunStore()
    jobs = []
    for seed in (1, 2):
        spec = small_spec(epochs=3, validation_split=0.1, batch_size=32, seed=seed)
        data = patch_digits(n_train=512, n_test=100, seed=seed)
        run_id = store.create_run(spec, data.source)
        jobs.append(TrainingJob(spec, data, run_id=run_id, callbacks=[RunRecorder(store, run_id)]))
    for job in jobs:
        job.start()
    for job in jobs:
        assert job.join(timeout=200)
        assert job.error is None, job.error

    assert store.write_errors == []
    for job in jobs:
        run = store.get(job.run_id)
        snapshot = job.snapshot()
        assert (run.status, run.epochs_done, run.model_epochs) == ("completed", 3, 3)
        assert run.history["val_loss"] == pytest.approx(snapshot.history["val_loss"])
        # The stored figures against the stored model's own predictions, made here by Keras.
        loaded = store.load_model(job.run_id)
        x_test = job.data.x_test.reshape(-1, 784).astype(np.float32) / 255
        predicted = loaded.predict(x_test, verbose=0).argmax(1)
        assert run.confusion == counted_confusion(job.data.y_test, predicted)
        assert run.test_accuracy == pytest.approx(np.mean(predicted == job.data.y_test))
        x = np.random.default_rng(0).random((5, 784)).astype(np.float32)
        np.testing.assert_allclose(outputs_of(loaded, x), outputs_of(job.model, x))


def test_many_threads_write_epochs_at_once():
    store = RunStore()
    results: list[str] = []
    errors: list[BaseException] = []

    def write(seed: int) -> None:
        try:
            results.append(fill_run(store, epochs=25, steps=10, seed=seed)[0])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and store.write_errors == []
    assert sorted(run.id for run in store.list_runs()) == sorted(results)
    assert all(store.get(i).epochs_done == 25 for i in results)
    assert sorted(run.number for run in store.list_runs()) == list(range(1, 9))


# ----- models, deletion, renaming ----------------------------------------------------------


def test_the_model_file_is_saved_whole_and_deleting_removes_it():
    store = RunStore()
    model = tiny_model()
    run_id, _ = fill_run(store, model=model)
    path = store.model_path(run_id)
    assert path == store.models_dir / f"{run_id}.keras" and path.exists()
    assert leftovers(store) == []
    x = np.random.default_rng(1).random((4, 784)).astype(np.float32)
    np.testing.assert_allclose(outputs_of(store.load_model(run_id), x), outputs_of(model, x))

    store.delete(run_id)
    assert not path.exists()
    assert store.list_runs() == []
    with pytest.raises(RunNotFoundError):
        store.get(run_id)


def test_a_run_still_training_cannot_be_deleted():
    store = RunStore()
    run_id = store.create_run(small_spec(), "x")
    with pytest.raises(RunStoreError, match="still training"):
        store.delete(run_id)
    assert store.get(run_id).status == "running"


def test_rename_keeps_the_new_name_and_refuses_an_empty_one():
    store = RunStore()
    run_id = store.create_run(small_spec(), "x")
    store.rename(run_id, "wide and shallow")
    assert RunStore().get(run_id).name == "wide and shallow"
    with pytest.raises(ValueError, match="cannot be empty"):
        store.rename(run_id, "   ")
    with pytest.raises(RunNotFoundError):
        store.rename("nope", "x")


def test_a_run_without_a_model_says_so():
    store = RunStore()
    run_id = store.create_run(small_spec(), "x")
    assert store.model_path(run_id) is None
    with pytest.raises(RunStoreError, match="no saved model"):
        store.load_model(run_id)


def test_later_test_results_are_recorded():
    store = RunStore()
    run_id = store.create_run(small_spec(), "x")
    cm = np.eye(10, dtype=int) * 7
    store.record_test_results(run_id, 0.25, 1.0, cm)
    run = store.get(run_id)
    assert (run.test_loss, run.test_accuracy, run.confusion) == (0.25, 1.0, cm.tolist())


# ----- export ------------------------------------------------------------------------------


def test_history_csv_holds_every_epoch():
    store = RunStore()
    run_id, _ = fill_run(store, epochs=3)
    text = store.history_csv(run_id)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert len(rows) == 4
    for epoch, row in enumerate(rows[1:]):
        logs = epoch_logs(epoch)
        assert int(row[0]) == epoch + 1
        assert [float(v) for v in row[1:]] == pytest.approx(
            [logs["loss"], logs["accuracy"], logs["val_loss"], logs["val_accuracy"]], rel=1e-15
        )


def test_history_csv_leaves_missing_validation_blank():
    store = RunStore()
    run_id = store.create_run(small_spec(validation_split=0.0), "x")
    recorder = start_recorder(store, run_id, epochs=1, steps=1)
    recorder.on_epoch_begin(0)
    recorder.on_train_batch_end(0, {"loss": 0.5, "accuracy": 0.75})
    recorder.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75})
    assert store.history_csv(run_id) == "epoch,loss,accuracy,val_loss,val_accuracy\n1,0.5,0.75,,\n"


def test_file_stem_makes_a_safe_download_name():
    assert file_stem("784-512-10 adam #3") == "784-512-10_adam_3"
    assert file_stem("../../etc/passwd") == "etc_passwd"
    assert file_stem("###") == "run"


# ----- import ------------------------------------------------------------------------------


# ----- small helpers -----------------------------------------------------------------------


def test_thin_keeps_the_ends_and_the_bound():
    points = list(range(2001))
    thinned = thin(points, 500)
    assert len(thinned) == 500 and thinned[0] == 0 and thinned[-1] == 2000
    assert thinned == sorted(thinned)
    assert thin(points[:10], 500) == points[:10]
