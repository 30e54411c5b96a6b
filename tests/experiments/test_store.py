"""The experiments' store: trials queued, taken in order, and given their Optuna trial later."""

from __future__ import annotations

from core.experiments.store import ExperimentStore
from core.experiments.sweeps import Axis, ExperimentDefinition

BASE = {
    "layers": [{"type": "Dense", "units": 16, "activation": "relu"}],
    "optimizer": "adam",
    "epochs": 2,
    "seed": 1,
}


def _experiment(tmp_path):
    xstore = ExperimentStore(tmp_path)
    definition = ExperimentDefinition(BASE, [Axis("hidden_layers", [0, 1])], seeds=2, budget=4)
    return xstore, xstore.create(definition)


def test_trials_are_taken_in_order(tmp_path):
    xstore, experiment_id = _experiment(tmp_path)
    xstore.add_trials(experiment_id, -1, {"model": "random_forest"}, [1, 2], None)
    xstore.add_trials(experiment_id, 0, {"hidden_layers": 0}, [1, 2], 0)
    assert xstore.next_queued(experiment_id).position == 0

    taken = xstore.take_next(experiment_id)
    assert (taken.position, taken.baseline, taken.status, taken.attempts) == (
        0,
        "random_forest",
        "running",
        1,
    )
    assert xstore.next_queued(experiment_id).position == 1
    assert xstore.next_queued(experiment_id).status == "queued"
    assert xstore.configurations(experiment_id) == 1  # baselines are not configurations


def test_configurations_queued_before_their_optuna_trial_are_asked_later(tmp_path):
    xstore, experiment_id = _experiment(tmp_path)
    xstore.add_trials(experiment_id, -1, {"model": "random_forest"}, [1, 2], None)
    xstore.add_trials(experiment_id, 1, {"hidden_layers": 1}, [1, 2], None)
    xstore.add_trials(experiment_id, 0, {"hidden_layers": 0}, [1, 2], None)
    # Baselines have no Optuna trial to ask; the networks' configurations come in order.
    assert xstore.unasked(experiment_id) == {0: {"hidden_layers": 0}, 1: {"hidden_layers": 1}}

    running = xstore.take_next(experiment_id)
    xstore.set_optuna_number(experiment_id, 1, 7)
    assert xstore.unasked(experiment_id) == {0: {"hidden_layers": 0}}
    numbers = {(t.config_index, t.seed): t.optuna_number for t in xstore.trials(experiment_id)}
    assert numbers == {
        (-1, 1): None,
        (-1, 2): None,
        (1, 1): 7,
        (1, 2): 7,
        (0, 1): None,
        (0, 2): None,
    }
    assert xstore.trials(experiment_id)[0].status == running.status == "running"


def test_a_write_keeps_the_log_for_the_next_instead_of_syncing_it_away(tmp_path):
    """The store's idle connection keeps SQLite from checkpointing and deleting the WAL each time
    an operation's connection closes (the queue's bookkeeping writes several a run)."""
    xstore, experiment_id = _experiment(tmp_path)
    xstore.add_trials(experiment_id, 0, {"hidden_layers": 0}, [1], None)
    assert xstore.take_next(experiment_id).status == "running"
    assert (tmp_path / "experiments.sqlite3-wal").exists()
    assert ExperimentStore(tmp_path).trials(experiment_id)[0].status == "running"  # durable
