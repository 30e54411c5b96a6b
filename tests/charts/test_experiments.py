"""Experiment results: means and spreads against numpy, importance on a synthetic study."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from core.charts.experiments import (
    MIN_IMPORTANCE_RUNS,
    best_configuration,
    configuration_summary,
    error_bar_figure,
    importance_figure,
    parallel_coordinates_figure,
    parameter_importance,
    trials_view,
)
from core.experiments.sweeps import Axis, distributions


def _trials(rng, configs, seeds=3):
    trials = []
    for params, centre in configs:
        for seed in range(seeds):
            value = float(np.clip(centre + rng.normal(0, 0.01), 0, 1))
            trials.append(
                {"params": params, "seed": seed, "val_accuracy": value, "status": "completed"}
            )
    return trials


def test_mean_and_spread_match_numpy():
    rng = np.random.default_rng(0)
    configs = [({"hidden_layers": n}, 0.9 + 0.02 * n) for n in range(3)]
    trials = _trials(rng, configs, seeds=4)
    trials.append({"params": {"hidden_layers": 2}, "seed": 9, "val_accuracy": None})  # running
    summary = configuration_summary(trials)
    for row in summary:
        values = [
            t["val_accuracy"]
            for t in trials
            if t["params"] == row["params"] and t["val_accuracy"] is not None
        ]
        assert row["runs"] == len(values) == 4
        assert np.isclose(row["mean"], np.mean(values))
        assert np.isclose(row["spread"], np.std(values, ddof=1))
    assert [row["params"]["hidden_layers"] for row in summary] == [2, 1, 0]  # best first
    one = configuration_summary([{"params": {"units": 8}, "val_accuracy": 0.5}])
    assert one[0]["spread"] == 0.0


def test_best_configuration_ignores_baselines():
    trials = [
        {"params": {"model": "random_forest"}, "val_accuracy": 0.99},
        {"params": {"units": 8}, "val_accuracy": 0.9},
        {"params": {"units": 64}, "val_accuracy": 0.95},
    ]
    assert best_configuration(trials)["params"] == {"units": 64}


def test_error_bars_carry_the_spread():
    rng = np.random.default_rng(1)
    summary = configuration_summary(_trials(rng, [({"units": 8}, 0.8), ({"units": 64}, 0.9)]))
    figure = error_bar_figure(summary)
    means = figure.data[0]
    assert list(means.error_x.array) == [100 * r["spread"] for r in reversed(summary)]
    assert list(means.x) == [100 * r["mean"] for r in reversed(summary)]
    assert len(figure.data[1].x) == 6  # every seed's own point


def test_parallel_coordinates_has_a_dimension_per_setting_and_the_score():
    rng = np.random.default_rng(2)
    trials = _trials(
        rng,
        [
            ({"optimizer": o, "learning_rate": lr}, 0.9)
            for o in ("adam", "sgd")
            for lr in (1e-3, 1e-2)
        ],
    )
    figure = parallel_coordinates_figure(trials)
    (trace,) = figure.data
    assert isinstance(trace, go.Parcoords)
    labels = [d.label for d in trace.dimensions]
    assert labels == ["Optimizer", "Learning rate (log scale)", "Seed", "Validation accuracy (%)"]
    assert list(trace.dimensions[1].ticktext) == ["0.001", "0.01"]  # ticked at the values tried
    assert list(trace.dimensions[0].ticktext) == ["adam", "sgd"]
    assert np.allclose(
        trace.dimensions[1].values, np.log10([t["params"]["learning_rate"] for t in trials])
    )


def test_importance_finds_the_setting_that_decides():
    rng = np.random.default_rng(3)
    axes = [Axis("learning_rate", low=1e-4, high=1e-1), Axis("units", low=16, high=512)]
    trials = []
    for _ in range(40):
        lr = float(10 ** rng.uniform(-4, -1))
        units = int(rng.integers(16, 513))
        # Only the learning rate matters; units add nothing.
        trials.append(
            {
                "params": {"learning_rate": lr, "units": units},
                "val_accuracy": 1 - abs(np.log10(lr) + 2.5) / 4,
            }
        )
    result = parameter_importance(trials, distributions(axes))
    assert result is not None
    importances, used = result
    assert used == 40
    assert importances["learning_rate"] > 0.8 > importances["units"]
    assert np.isclose(sum(importances.values()), 1.0)
    figure = importance_figure(importances)
    assert list(figure.data[0].y)[-1] == "Learning rate"  # largest at the top


def test_importance_waits_for_enough_runs():
    axes = [Axis("learning_rate", low=1e-4, high=1e-1), Axis("units", low=16, high=512)]
    few = [
        {"params": {"learning_rate": 0.001 * (i + 1), "units": 16 + i}, "val_accuracy": 0.5}
        for i in range(MIN_IMPORTANCE_RUNS - 1)
    ]
    assert parameter_importance(few, distributions(axes)) is None
    one_axis = [{"params": {"units": 16 + i}, "val_accuracy": 0.5 + i / 100} for i in range(20)]
    assert parameter_importance(one_axis, distributions([Axis("units", low=16, high=512)])) is None


def trial_row(status: str, val=None, test=None, seed=42) -> dict:
    return {
        "configuration": "Hidden layers 1",
        "seed": seed,
        "status": status,
        "epochs_done": 0,
        "epochs_planned": None,
        "val_accuracy": val,
        "test_accuracy": test,
        "run_number": None,
        "message": "",
    }


def test_a_runs_missing_accuracy_says_why_and_never_none():
    rows = [
        trial_row("completed", 0.97531, 0.9612),
        trial_row("running", 0.912),  # its validation accuracy so far, no test yet
        trial_row("running"),
        trial_row("queued"),
        trial_row("failed"),
    ]
    view = trials_view(rows)
    shown = [
        line.split("|") for line in view.hide(axis="index").to_string(delimiter="|").splitlines()
    ]
    header, *cells = shown
    val, test = header.index("Val accuracy (%)"), header.index("Test accuracy (%)")
    assert [(row[val], row[test]) for row in cells] == [
        ("97.53", "96.12"),
        ("91.20", "training…"),
        ("training…", "training…"),
        ("queued", "queued"),
        ("—", "—"),
    ]
    assert not any("None" in cell or "nan" in cell.lower() for row in cells for cell in row)
    assert view.data[header[val]].dtype == "Float64"  # still numbers: the column sorts as such
