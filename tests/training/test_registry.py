"""core.training.registry: which finished jobs it keeps and which it forgets, with their
sessions, and one run at a time for a session while other sessions train."""

import threading

import keras

from core.runs.start import start_recorded_run
from core.runs.store import RunStore
from core.training.job import TrainingJob
from core.training.registry import JOBS, JobRegistry, TrainingBusyError
from tests.support.digits import patch_digits
from tests.support.specs import small_spec


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
