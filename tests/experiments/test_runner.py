"""The experiment queue: tiny experiments complete, stop, and resume after their process dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import optuna
import pytest

from core.charts.experiments import progress
from core.experiments.embedded import EmbeddedBackend
from core.experiments.runner import (
    NO_DATA,
    RUNNERS,
    ExperimentRunner,
    create_experiment,
    open_study,
    resume_interrupted,
    start,
)
from core.experiments.store import DATABASE_NAME, ExperimentStore
from core.experiments.sweeps import Axis, ExperimentDefinition
from core.runs.records import RunStoreError
from core.runs.store import RunStore
from core.training.warm_start import WarmStarts
from tests.conftest import REPO
from tests.support.digits import patch_digits
from tests.support.waiting import eventually

# Every experiment trained here varies at most the units, 8 or 16 (other axes are applied in
# test_sweeps.py): this process traces two kinds of training steps (trace_key) and keeps both.
BASE = {
    "layers": [{"type": "Dense", "units": 16, "activation": "relu"}],
    "optimizer": "adam",
    "learning_rate": 0.01,
    "epochs": 2,
    "batch_size": 64,
    "seed": 1,
}


@pytest.fixture(scope="module")
def digits():
    return patch_digits(n_train=300, n_test=100, seed=2)


def _wait(runner, timeout=600):
    assert runner.join(timeout), "the experiment did not finish in time"
    assert runner.error is None, runner.error


@pytest.mark.timeout(900)  # generous: two shared cores can be very busy
def test_a_grid_experiment_completes_as_tagged_runs(digits, tmp_path):
    store, xstore = RunStore(tmp_path), ExperimentStore(tmp_path)
    definition = ExperimentDefinition(
        BASE,
        [Axis("units", [8, 16])],
        seeds=2,
        budget=6,
        baselines=["random_forest"],
        name="units",
    )
    assert definition.runs_planned() == 6
    experiment_id = create_experiment(xstore, definition)
    _wait(start(store, xstore, experiment_id, digits))

    experiment = xstore.get(experiment_id)
    forest = [t for t in xstore.trials(experiment_id) if t.baseline]
    trials = [t for t in xstore.trials(experiment_id) if not t.baseline]
    assert experiment.status == "completed"
    assert [(t.status, t.seed) for t in forest] == [("completed", 1), ("completed", 2)]
    for trial in forest:  # queued first, stored as runs of the same experiment
        run = store.get(trial.run_id)
        assert run.experiment_id == experiment_id and run.architecture.startswith("Random forest")
        assert run.test_accuracy == pytest.approx(trial.test_accuracy)
    assert [t.status for t in trials] == ["completed"] * 4
    assert [(t.params["units"], t.seed) for t in trials] == [(8, 1), (8, 2), (16, 1), (16, 2)]
    runs = {run.id: run for run in store.list_runs()}
    for trial in trials:
        run = runs[trial.run_id]  # an ordinary run in the store, visible on Runs
        assert run.status == "completed" and run.epochs_done == 2
        assert run.experiment_id == experiment_id
        assert run.val_accuracy == pytest.approx(trial.val_accuracy)
        assert run.test_accuracy == pytest.approx(trial.test_accuracy)
        stored = store.get(trial.run_id)
        assert stored.spec.seed == trial.seed
        assert stored.architecture == f"784-{trial.params['units']}-10"
    # The Optuna study holds one trial per configuration, valued at its seeds' mean.
    study = open_study(xstore, experiment)
    assert len(study.trials) == 2
    for optuna_trial in study.trials:
        assert optuna_trial.state == optuna.trial.TrialState.COMPLETE
        mine = [t for t in trials if t.optuna_number == optuna_trial.number]
        assert optuna_trial.value == pytest.approx(np.mean([t.val_accuracy for t in mine]))
    done = progress(experiment, xstore.trials(experiment_id))
    assert (done.runs_planned, done.runs_done, done.running) == (6, 6, 0)


@pytest.mark.timeout(900)  # generous: two shared cores can be very busy
def test_tpe_plans_the_budget_and_stop_now_requeues(digits, tmp_path):
    store, xstore = RunStore(tmp_path), ExperimentStore(tmp_path)
    slow = dict(BASE, epochs=40)
    definition = ExperimentDefinition(
        slow,
        [Axis("learning_rate", low=0.001, high=0.1), Axis("units", [8, 16])],
        method="tpe",
        seeds=1,
        budget=3,
    )
    experiment_id = create_experiment(xstore, definition)
    runner = start(store, xstore, experiment_id, digits)

    def training() -> bool:
        running = [t for t in xstore.trials(experiment_id) if t.status == "running" and t.run_id]
        return bool(running) and store.get(running[0].run_id).epochs_done >= 1

    eventually(training, 120, interval=0.2, message="no run finished an epoch")
    runner.stop(abandon=True)
    _wait(runner)
    assert xstore.get(experiment_id).status == "stopped"
    (trial,) = xstore.trials(experiment_id)
    assert trial.status == "queued" and trial.attempts == 1  # goes again on resume
    assert store.get(trial.run_id).status == "stopped"  # the abandoned run stays on Runs
    assert 0.001 <= trial.params["learning_rate"] <= 0.1 and trial.params["units"] in (8, 16)
    fast = ExperimentDefinition(dict(BASE), definition.axes, "tpe", seeds=1, budget=3)
    fast_id = create_experiment(xstore, fast)
    _wait(start(store, xstore, fast_id, digits))
    assert [t.status for t in xstore.trials(fast_id)] == ["completed"] * 3
    assert len({t.config_index for t in xstore.trials(fast_id)}) == 3


SCRIPT = """
import sys
sys.path.insert(0, {repo!r})
from core.experiments.store import ExperimentStore
from core.experiments.runner import start
from core.runs.store import RunStore
from tests.support.digits import patch_digits

store, xstore = RunStore({home!r}), ExperimentStore({home!r})
runner = start(store, xstore, {experiment_id!r}, patch_digits(n_train=300, n_test=100, seed=2))
runner.join()
"""


@pytest.mark.timeout(900)  # generous: two shared cores can be very busy
def test_an_experiment_resumes_after_its_process_is_killed(digits, tmp_path):
    store, xstore = RunStore(tmp_path), ExperimentStore(tmp_path)
    definition = ExperimentDefinition(
        dict(BASE, epochs=6), [Axis("units", [8, 16])], seeds=2, budget=4
    )
    experiment_id = create_experiment(xstore, definition)
    script = SCRIPT.format(repo=str(REPO), home=str(tmp_path), experiment_id=experiment_id)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], env=env)
    try:

        def one_done_and_the_next_training() -> bool:  # then the process is killed
            trials = xstore.trials(experiment_id)
            done = [t for t in trials if t.status == "completed"]
            running = [t for t in trials if t.status == "running" and t.run_id]
            if done and running and store.get(running[0].run_id).epochs_done >= 1:
                return True
            assert process.poll() is None, "the experiment process ended on its own"
            return False

        eventually(one_done_and_the_next_training, 180, 0.1, "the experiment never got going")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    before = {t.position: t for t in xstore.trials(experiment_id)}
    killed_run = next(t.run_id for t in before.values() if t.status == "running")

    assert store.mark_interrupted() == 1
    assert [e.id for e in xstore.interrupted()] == [experiment_id]
    assert resume_interrupted(store, xstore, digits) == [experiment_id]
    _wait(RUNNERS.get(experiment_id))

    after = xstore.trials(experiment_id)
    assert [t.status for t in after] == ["completed"] * 4
    for trial in after:  # runs finished before the kill are kept, not trained again
        earlier = before.get(trial.position)
        if earlier is not None and earlier.status == "completed":
            assert trial.run_id == earlier.run_id
    assert store.get(killed_run).status == "interrupted"
    tagged = [run for run in store.list_runs() if run.experiment_id == experiment_id]
    assert len(tagged) == 5  # four completed and the interrupted one
    assert xstore.get(experiment_id).status == "completed"


def test_an_experiment_store_that_is_not_a_database_is_refused_and_kept(tmp_path):
    """The experiments' file goes through the same Database as the runs': a file that is not
    SQLite is named with the fix, and left as it was."""

    broken = tmp_path / DATABASE_NAME
    broken.write_bytes(b"not a database, just some bytes" * 100)
    with pytest.raises(RunStoreError, match=r"not a readable experiment store.*another folder"):
        ExperimentStore(tmp_path)
    assert broken.read_bytes() == b"not a database, just some bytes" * 100


@pytest.mark.timeout(900)
def test_the_next_run_is_built_once_the_run_under_way_has_trained_and_takes_it(digits, tmp_path):
    store, xstore = RunStore(tmp_path), ExperimentStore(tmp_path)
    asked = []  # (seed asked for, the run under way's snapshot then)
    taken = []  # (seed, whether its job found it built)

    class Watched(WarmStarts):
        def request(self, spec, key, data=None):
            under_way = [job for job in backend._jobs.values() if job.alive]
            asked.append((spec.seed, [job.monitor.snapshot() for job in under_way]))
            super().request(spec, key, data)

        def take(self, key, timeout=30.0):
            model = super().take(key, timeout)
            taken.append((json.loads(key.spec_json)["seed"], model is not None))
            return model

    backend = EmbeddedBackend(store, digits, warm_starts=Watched(delay=0))
    definition = ExperimentDefinition(BASE, [], seeds=3, budget=3)
    experiment_id = create_experiment(xstore, definition)
    runner = ExperimentRunner(store, xstore, experiment_id, backend).start()
    _wait(runner)
    assert [t.status for t in xstore.trials(experiment_id)] == ["completed"] * 3
    assert [seed for seed, _ in asked] == [2, 3]  # the first run's own build is not ahead
    for _, under_way in asked:
        # asked for while the run before it tested and saved, never while it trained
        assert len(under_way) == 1
        assert all(s.outcome or not s.running for s in under_way), under_way
        assert all(len(s.history["loss"]) == 2 for s in under_way)
    assert taken == [(1, False), (2, True), (3, True)]


def test_without_data_nothing_starts_and_a_run_that_cannot_be_made_fails_its_trial(tmp_path):
    """The page had a way to start an experiment while MNIST could not be loaded (a one-click
    classic): the runner died on the missing data and left its first trial "running"."""

    store, xstore = RunStore(tmp_path), ExperimentStore(tmp_path)
    experiment_id = create_experiment(xstore, ExperimentDefinition(BASE, [], seeds=2, budget=2))
    with pytest.raises(RuntimeError, match="No data to train on") as refused:
        start(store, xstore, experiment_id, None)
    assert str(refused.value) == NO_DATA
    assert RUNNERS.active() is None

    # Past that check (a backend with no data), the trial taken says why it never ran.
    runner = ExperimentRunner(store, xstore, experiment_id, EmbeddedBackend(store, None))
    runner.start()
    assert runner.join(60)
    trials = xstore.trials(experiment_id)
    assert [t.status for t in trials] == ["failed", "queued"]
    assert trials[0].message.startswith("Could not start:")
    assert xstore.get(experiment_id).status == "failed"
    assert store.list_runs() == []
