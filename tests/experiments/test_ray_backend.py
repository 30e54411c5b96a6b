"""The Ray backend on a local two-worker cluster the test starts: every epoch reaches the local
store, and a worker killed mid-run costs one retry, not the experiment."""

from __future__ import annotations

import os
import signal
import time

import pytest

ray = pytest.importorskip("ray")

from core.experiments import ray_backend  # noqa: E402
from core.experiments.runner import create_experiment, start  # noqa: E402
from core.experiments.store import ExperimentStore  # noqa: E402
from core.experiments.sweeps import Axis, ExperimentDefinition  # noqa: E402
from core.runs.store import RunStore  # noqa: E402
from tests.support.digits import patch_digits  # noqa: E402
from tests.support.waiting import eventually  # noqa: E402

EPOCHS = 12
BASE = {
    "layers": [{"type": "Dense", "units": 16, "activation": "relu"}],
    "optimizer": "adam",
    "learning_rate": 0.01,
    "epochs": EPOCHS,
    "batch_size": 8,
    "seed": 1,
}


@pytest.fixture
def cluster():
    options = {"num_cpus": 2, "object_store_memory": 150 * 1024 * 1024, "include_dashboard": False}
    try:
        ray_backend.connect(**options)
    except Exception:  # Ray gives a local node 30 s to start: on a very busy machine, try again
        ray.shutdown()
        ray_backend.connect(**options)
    yield
    ray.shutdown()


@pytest.mark.timeout(600)
def test_four_runs_on_two_workers_survive_a_killed_worker(cluster, tmp_path):
    digits = patch_digits(n_train=300, n_test=100, seed=2)
    store, xstore = RunStore(tmp_path), ExperimentStore(tmp_path)
    # Two learning rates, not two widths: every run traces the same steps (trace_key), so a
    # worker traces them once, not once per network it is given.
    definition = ExperimentDefinition(
        BASE, [Axis("learning_rate", [0.01, 0.003])], seeds=2, budget=4
    )
    experiment_id = create_experiment(xstore, definition, backend="ray")
    started = time.monotonic()
    runner = start(store, xstore, experiment_id, digits, ray_address="local")
    assert runner.backend.capacity() == 2

    def kill_a_worker_mid_run() -> str | None:
        for run_id, epochs in list(runner.backend.epochs.items()):
            pid = runner.backend.pids.get(run_id)
            if pid and 1 <= epochs <= EPOCHS - 3:
                os.kill(pid, signal.SIGKILL)  # a worker dies mid-run
                return run_id
        return None

    killed = eventually(kill_a_worker_mid_run, 120, message="no run was caught mid-training")
    assert runner.join(180) and runner.error is None, runner.error
    elapsed = time.monotonic() - started

    trials = xstore.trials(experiment_id)
    assert [t.status for t in trials] == ["completed"] * 4
    assert sorted(t.attempts for t in trials) == [1, 1, 1, 2]  # the killed one went again
    for trial in trials:
        run = store.get(trial.run_id)
        assert run.status == "completed" and run.epochs_done == EPOCHS
        assert len(run.history["val_accuracy"]) == EPOCHS  # every epoch reached the store
        assert run.test_accuracy is not None and run.confusion is not None
        assert store.model_path(trial.run_id) is not None
        assert run.spec.learning_rate == trial.params["learning_rate"]
    lost = store.get(killed)
    assert lost.status == "failed" and "worker" in lost.message
    assert 1 <= lost.epochs_done < EPOCHS  # the epochs it finished are kept
    assert xstore.get(experiment_id).status == "completed"
    print(f"four runs on two Ray workers, one killed: {elapsed:.1f} s")


def test_poll_answers_as_soon_as_one_of_several_runs_ends(monkeypatch):
    """With two runs on the cluster, the one that ends is reported at once, not after the
    poll's half-second wait for both (Ray's `wait` is asked for the first to end)."""

    waits = []

    class FakeRay:
        def wait(self, refs, num_returns, timeout):
            ready = [ref for ref in refs if ref == "done"]
            if len(ready) < num_returns:
                waits.append(timeout)  # Ray would wait here for num_returns, or the timeout
            return ready, [ref for ref in refs if ref not in ready]

    backend = object.__new__(ray_backend.RayBackend)
    backend._ray = FakeRay()
    backend._baselines = {}
    backend._refs = {"run-a": "done", "run-b": "training"}
    monkeypatch.setattr(backend, "drain", lambda: None, raising=False)
    monkeypatch.setattr(
        backend, "_outcome", lambda run_id, ref: ray_backend.Outcome("finished"), raising=False
    )
    outcomes = backend.poll(timeout=5.0)
    assert list(outcomes) == ["run-a"] and backend._refs == {"run-b": "training"}
    assert waits == []  # answered at once; the old wait for both sat out its 0.5 s
