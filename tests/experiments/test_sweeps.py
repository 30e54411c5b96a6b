"""Experiment definitions: grid expansion, sampling inside the ranges, specs from a configuration."""

from __future__ import annotations

import itertools
import math

import optuna
import pytest

from core.experiments.sweeps import (
    CLASSIC_PRESETS,
    CLASSICS,
    Axis,
    DefinitionError,
    ExperimentDefinition,
    classic_definition,
    distributions,
    grid_configurations,
    make_sampler,
    parse_values,
    spec_dict,
    spec_for,
)
from core.nets.model import ModelSpec
from core.nets.presets import PRESETS

BASE = {
    "layers": [
        {"type": "Dense", "units": 64, "activation": "relu"},
        {"type": "Dropout", "rate": 0.2},
        {"type": "Dense", "units": 64, "activation": "relu"},
        {"type": "Dropout", "rate": 0.2},
    ],
    "optimizer": "adam",
    "learning_rate": 0.001,
    "epochs": 2,
    "batch_size": 32,
    "seed": 7,
}


def test_grid_is_the_cartesian_product_in_order():
    axes = [
        Axis("hidden_layers", [0, 1, 2]),
        Axis("learning_rate", [0.001, 0.01]),
        Axis("optimizer", ["adam", "sgd"]),
    ]
    grid = grid_configurations(axes)
    expected = [
        {"hidden_layers": a, "learning_rate": b, "optimizer": c}
        for a, b, c in itertools.product([0, 1, 2], [0.001, 0.01], ["adam", "sgd"])
    ]
    assert grid == expected
    assert len({tuple(sorted(c.items())) for c in grid}) == 12


def test_budget_limits_configurations_and_seeds_multiply_runs():
    definition = ExperimentDefinition(
        BASE, [Axis("hidden_layers", [0, 1, 2]), Axis("units", [16, 32])], seeds=3, budget=12
    )
    definition.validate()
    assert definition.configurations_planned() == 4  # 12 runs // 3 seeds, of 6 in the grid
    assert definition.runs_planned() == 12
    assert definition.seed_values() == [7, 8, 9]
    with_baseline = ExperimentDefinition(BASE, [], seeds=3, budget=6, baselines=["random_forest"])
    assert with_baseline.configurations_planned() == 1
    assert with_baseline.runs_planned() == 6


def test_spec_for_applies_every_setting():
    spec = spec_for(BASE, {"hidden_layers": 3, "units": 32, "dropout": 0.0}, seed=11)
    assert [layer["type"] for layer in spec.layers] == ["Dense"] * 3
    assert all(layer["units"] == 32 for layer in spec.layers)
    assert spec.seed == 11
    none = spec_for(BASE, {"hidden_layers": 0}, seed=1)
    assert none.layers == []
    assert none.architecture() == "784-10"
    dropout = spec_for(BASE, {"dropout": 0.5, "learning_rate": 0.03, "batch_size": 64}, seed=1)
    rates = [layer["rate"] for layer in dropout.layers if layer["type"] == "Dropout"]
    assert rates == [0.5, 0.5]
    assert dropout.learning_rate == 0.03 and dropout.batch_size == 64
    # The base itself is untouched.
    assert BASE["layers"][0]["units"] == 64


def test_spec_round_trip_from_a_model_spec():
    spec = ModelSpec.from_dict(BASE)
    assert spec_for(spec_dict(spec), {}, seed=spec.seed).to_dict() == spec.to_dict()


@pytest.mark.parametrize("method", ["random", "tpe"])
def test_sampling_stays_inside_the_ranges(method):
    axes = [
        Axis("learning_rate", low=1e-4, high=1e-1),
        Axis("units", low=16, high=256),
        Axis("activation", ["relu", "tanh"]),
    ]
    definition = ExperimentDefinition(BASE, axes, method=method, budget=30, sampler_seed=3)
    definition.validate()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=make_sampler(definition))
    seen = []
    for _ in range(30):
        trial = study.ask(distributions(axes))
        params = trial.params
        assert 1e-4 <= params["learning_rate"] <= 1e-1
        assert 16 <= params["units"] <= 256 and isinstance(params["units"], int)
        assert params["activation"] in ("relu", "tanh")
        spec_for(BASE, params, seed=1)  # every sample makes a valid network
        study.tell(trial, -abs(params["learning_rate"] - 0.01))
        seen.append(params)
    # A log-scale range is sampled across its decades, not bunched at the top.
    decades = {int(-__import__("math").log10(p["learning_rate"])) for p in seen}
    assert len(decades) >= 2


def test_tpe_moves_towards_the_better_region():
    axes = [Axis("learning_rate", low=1e-4, high=1e-1)]
    definition = ExperimentDefinition(BASE, axes, method="tpe", budget=40, sampler_seed=0)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=make_sampler(definition))

    for _ in range(40):
        trial = study.ask(distributions(axes))
        study.tell(trial, -abs(math.log10(trial.params["learning_rate"]) + 3.5))
    late = [abs(math.log10(t.params["learning_rate"]) + 3.5) for t in study.trials[-10:]]
    early = [abs(math.log10(t.params["learning_rate"]) + 3.5) for t in study.trials[:10]]
    assert sum(late) < sum(early)


def test_definition_errors_say_what_to_change():
    with pytest.raises(DefinitionError, match="grid needs a list"):
        ExperimentDefinition(BASE, [Axis("learning_rate", low=0.001, high=0.1)]).validate()
    with pytest.raises(DefinitionError, match="at most 3"):
        ExperimentDefinition(
            BASE,
            [Axis(n, [1]) for n in ("hidden_layers", "units", "epochs", "batch_size")],
        ).validate()
    with pytest.raises(DefinitionError, match="cannot be varied"):
        ExperimentDefinition(BASE, [Axis("colour", [1])]).validate()
    with pytest.raises(DefinitionError, match="not one of"):
        ExperimentDefinition(BASE, [Axis("optimizer", ["adam", "magic"])]).validate()
    with pytest.raises(DefinitionError, match="raise the budget"):
        ExperimentDefinition(BASE, [Axis("units", [8])], seeds=3, budget=2).validate()
    with pytest.raises(DefinitionError, match="Hidden layers 9"):
        ExperimentDefinition(BASE, [Axis("hidden_layers", [9])]).validate()


def test_definition_json_round_trip_and_parsing():
    definition = ExperimentDefinition(
        BASE, [Axis("units", [16, 32]), Axis("learning_rate", low=0.001, high=0.1)], "random"
    )
    assert ExperimentDefinition.from_json(definition.to_json()) == definition
    assert parse_values("learning_rate", "0.001, 0.003 ,0.01") == [0.001, 0.003, 0.01]
    assert parse_values("units", "16,32") == [16, 32]
    assert parse_values("optimizer", "adam, sgd") == ["adam", "sgd"]
    with pytest.raises(DefinitionError, match="not a list of numbers"):
        parse_values("units", "sixteen")


def test_the_classics_start_from_the_networks_they_compare():
    """Whatever the Train page shows: the hidden-layers classic compares dense networks of no,
    one and two hidden layers of 512 (it once varied the dense head of a convnet)."""
    layers = classic_definition("layers")
    built = [
        spec_for(layers.base_spec, params, 42).architecture()
        for params in grid_configurations(layers.axes)
    ]
    assert built == ["784-10", "784-512-10", "784-512-512-10"]
    assert layers.runs_planned() == 9
    forest = classic_definition("forest")
    assert ModelSpec.from_dict(forest.base_spec).architecture() == "784-512-512-10"
    assert forest.baselines == ["random_forest", "logistic_regression"]
    assert set(CLASSICS) == set(CLASSIC_PRESETS) and all(
        p in PRESETS for p in CLASSIC_PRESETS.values()
    )
