"""The queue's planning around its runs, with a backend that "trains" instantly: a grid's first
run does not wait for Optuna, the next configuration is planned while a run trains (not for
TPE, which needs the results), and the study ends up as if every trial had been asked in turn."""

from __future__ import annotations

from types import SimpleNamespace

import optuna
import pytest

from core.experiments import runner as queue
from core.experiments.runner import ExperimentRunner, create_experiment, open_study
from core.experiments.store import ExperimentStore
from core.experiments.sweeps import Axis, ExperimentDefinition, distributions, make_sampler
from core.runs.store import RunStore

BASE = {
    "layers": [{"type": "Dense", "units": 16, "activation": "relu"}],
    "optimizer": "adam",
    "learning_rate": 0.01,
    "epochs": 2,
    "batch_size": 64,
    "seed": 1,
}


class InstantBackend:
    """Each run "trains" in no time, to a validation accuracy of 0.5 + its seed / 100; while a
    run is under way (at its poll) it notes what the experiment's trials looked like."""

    name = "embedded"

    def __init__(self, store: RunStore, experiments: ExperimentStore, opened: list) -> None:
        self.store = store
        self.experiments = experiments
        self.data = SimpleNamespace(description="no data")
        self.opened = opened
        self.launches: list[tuple[int, int, int]] = []  # config, seed, studies opened so far
        self.during: list[tuple[int, int, list]] = []  # config, seed, trials while it ran
        self.prepared: list[int] = []  # the seeds of the specs it was asked to get ready
        self._runs: dict[str, object] = {}

    def capacity(self) -> int:
        return 1

    def launch(self, trial, spec, run_id: str) -> str:
        self.launches.append((trial.config_index, trial.seed, len(self.opened)))
        self._runs[run_id] = trial
        return run_id

    def prepare(self, spec) -> None:
        self.prepared.append(spec.seed)

    def poll(self, timeout: float) -> dict[str, queue.Outcome]:
        outcomes = {}
        for run_id, trial in self._runs.items():
            trials = self.experiments.trials(trial.experiment_id)
            self.during.append((trial.config_index, trial.seed, trials))
            accuracy = 0.5 + trial.seed / 100
            self.store.write_progress(
                run_id, {}, [], epochs_done=2, training_seconds=0.0, val_accuracy=accuracy
            )
            self.store.finish_run(run_id, "completed", "Trained 2 epochs.", test_accuracy=0.5)
            outcomes[run_id] = queue.Outcome("finished")
        self._runs.clear()
        return outcomes

    def abandon(self) -> None:
        pass

    def close(self) -> None:
        pass


def _run(tmp_path, monkeypatch, definition):
    opened = []

    def counting_open_study(experiments, experiment):
        opened.append(experiment.id)
        return open_study(experiments, experiment)

    monkeypatch.setattr(queue, "open_study", counting_open_study)
    store, xstore = RunStore(tmp_path), ExperimentStore(tmp_path)
    experiment_id = create_experiment(xstore, definition)
    backend = InstantBackend(store, xstore, opened)
    runner = ExperimentRunner(store, xstore, experiment_id, backend).start()
    assert runner.join(60)
    assert runner.error is None, runner.error
    experiment = xstore.get(experiment_id)
    assert experiment.status == "completed"
    return experiment, xstore.trials(experiment_id), backend, opened


def test_a_grid_trains_its_first_run_before_optuna_opens_and_plans_ahead(tmp_path, monkeypatch):
    definition = ExperimentDefinition(
        BASE, [Axis("hidden_layers", [0, 1, 2])], seeds=2, budget=6, name="layers"
    )
    experiment, trials, backend, opened = _run(tmp_path, monkeypatch, definition)

    assert backend.launches[0] == (0, 1, 0)  # no study opened before the first run
    assert backend.prepared == [2, 1, 2, 1, 2]  # each next run made ready while one trains
    assert len(opened) == 1  # and then once for the whole experiment
    for config, seed, seen in backend.during:
        if seed == 2 and config < 2:  # the configuration's last run: the next one is queued
            following = [t for t in seen if t.config_index == config + 1]
            assert [t.status for t in following] == ["queued", "queued"]
        asked = [t for t in seen if t.config_index == config]
        assert all(t.optuna_number is not None for t in asked)  # asked while it trained
    assert [(t.params["hidden_layers"], t.seed) for t in trials] == [
        (0, 1),
        (0, 2),
        (1, 1),
        (1, 2),
        (2, 1),
        (2, 2),
    ]
    study = open_study(ExperimentStore(tmp_path), experiment)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 3
    for optuna_trial in study.trials:
        mine = [t for t in trials if t.optuna_number == optuna_trial.number]
        assert optuna_trial.params == mine[0].params
        assert optuna_trial.value == pytest.approx(0.515)  # the mean of seeds 1 and 2


def test_the_base_settings_alone_are_asked_while_they_train(tmp_path, monkeypatch):
    definition = ExperimentDefinition(BASE, [], seeds=3, budget=3)
    experiment, trials, backend, opened = _run(tmp_path, monkeypatch, definition)

    assert backend.launches[0][2] == 0 and len(opened) == 1
    assert {t.optuna_number for t in trials} == {0}
    (optuna_trial,) = open_study(ExperimentStore(tmp_path), experiment).trials
    assert optuna_trial.value == pytest.approx(0.52)


def test_random_sampling_planned_ahead_asks_what_it_would_have_asked(tmp_path, monkeypatch):
    axes = [Axis("learning_rate", low=0.0001, high=0.1), Axis("units", low=8, high=64)]
    definition = ExperimentDefinition(BASE, axes, method="random", seeds=2, budget=8)
    _, trials, backend, _ = _run(tmp_path, monkeypatch, definition)

    for config, seed, seen in backend.during:
        if seed == 2 and config < 3:
            assert {t.config_index for t in seen} >= {config + 1}
    # The same settings, in the same order, as asking the seeded sampler one after another.
    reference = optuna.create_study(direction="maximize", sampler=make_sampler(definition))
    expected = [reference.ask(distributions(axes)).params for _ in range(4)]
    assert [t.params for t in trials[::2]] == expected


def test_tpe_plans_only_once_the_results_are_in(tmp_path, monkeypatch):
    axes = [Axis("learning_rate", low=0.0001, high=0.1)]
    definition = ExperimentDefinition(BASE, axes, method="tpe", seeds=2, budget=6)
    _, trials, backend, _ = _run(tmp_path, monkeypatch, definition)

    assert len(trials) == 6
    for config, _seed, seen in backend.during:
        assert max(t.config_index for t in seen) == config
