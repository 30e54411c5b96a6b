"""An experiment's results as numbers and plotly figures: pure functions of its trials.

A trial here is a plain dict with at least "params" (the configuration), "status" and the
metric ("val_accuracy", "test_accuracy"). `configuration_summary` groups the runs of each
configuration (one per seed) into a mean and a spread; `error_bar_figure` draws them;
`parallel_coordinates_figure` shows every run; `parameter_importance` asks Optuna's fANOVA
evaluator which setting mattered, on a study made from the runs themselves.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.experiments.sweeps import SETTINGS, configuration_key, describe_configuration

if TYPE_CHECKING:
    from core.experiments.store import Experiment, Trial

MIN_IMPORTANCE_RUNS = 8
IMPORTANCE_EVALUATOR = "fANOVA (Optuna's FanovaImportanceEvaluator, seed 0)"
METRIC_LABELS = {"val_accuracy": "Validation accuracy", "test_accuracy": "Test accuracy"}


@dataclass(frozen=True)
class ConfigurationResult:
    """One configuration's runs over its seeds."""

    params: dict[str, Any]
    label: str
    runs: int  # runs with a value for the metric
    mean: float
    spread: float  # sample standard deviation over seeds (0 with one run)
    values: tuple[float, ...]


def _value(trial: dict, metric: str) -> float | None:
    value = trial.get(metric)
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)


def configuration_summary(trials: list[dict], metric: str = "val_accuracy") -> list[dict]:
    """Each configuration's mean and sample standard deviation over its seeds, best first.

    Only runs with a value count; configurations with none are left out.
    """
    groups: dict[str, list[dict]] = {}
    for trial in trials:
        if _value(trial, metric) is not None:
            groups.setdefault(configuration_key(trial["params"]), []).append(trial)
    results = []
    for members in groups.values():
        values = np.array([_value(t, metric) for t in members], dtype=float)
        results.append(
            ConfigurationResult(
                params=members[0]["params"],
                label=describe_configuration(members[0]["params"]),
                runs=len(values),
                mean=float(values.mean()),
                spread=float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                values=tuple(float(v) for v in values),
            )
        )
    results.sort(key=lambda r: r.mean, reverse=True)
    return [vars(r) for r in results]


def best_configuration(trials: list[dict], metric: str = "val_accuracy") -> dict | None:
    """The network configuration with the best mean (baselines are not candidates)."""
    networks = [t for t in trials if "model" not in t["params"]]
    summary = configuration_summary(networks, metric)
    return summary[0] if summary else None


def error_bar_figure(summary: list[dict], metric: str = "val_accuracy") -> go.Figure:
    """Each configuration's mean as a dot with a bar of ± one standard deviation, and every
    seed's own result as a faint point beside it."""
    label = METRIC_LABELS.get(metric, metric)
    rows = list(reversed(summary))  # best at the top
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[100 * r["mean"] for r in rows],
            y=[r["label"] for r in rows],
            mode="markers",
            marker={"size": 10, "color": "#1f77b4"},
            error_x={"type": "data", "array": [100 * r["spread"] for r in rows], "width": 6},
            name="mean ± sd",
            hovertemplate="%{y}<br>mean %{x:.2f} %<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[100 * v for r in rows for v in r["values"]],
            y=[r["label"] for r in rows for _ in r["values"]],
            mode="markers",
            marker={"size": 6, "color": "rgba(120,120,120,0.5)", "symbol": "circle-open"},
            name="one seed",
            hovertemplate="%{y}<br>%{x:.2f} %<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis_title=f"{label} (%)",
        height=max(260, 60 + 34 * len(rows)),
        margin={"l": 10, "r": 10, "t": 50, "b": 40},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
    )
    figure.update_yaxes(automargin=True)
    return figure


def _dimension(setting: str, values: list) -> dict:
    """One parallel-coordinates axis: numbers on a (log) scale ticked at the values tried,
    choices as evenly spaced names."""
    label = SETTINGS[setting].label if setting in SETTINGS else setting
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numeric:
        log = setting in SETTINGS and SETTINGS[setting].log and min(values) > 0
        shown = [math.log10(v) for v in values] if log else list(values)
        dimension = {"label": label + (" (log scale)" if log else ""), "values": shown}
        distinct = sorted(set(values))
        if len(distinct) <= 12:  # a grid: tick exactly the values tried
            dimension["tickvals"] = [math.log10(v) if log else v for v in distinct]
            dimension["ticktext"] = [f"{v:g}" for v in distinct]
        return dimension
    choices = sorted({str(v) for v in values})
    index = {c: i for i, c in enumerate(choices)}
    return {
        "label": label,
        "values": [index[str(v)] for v in values],
        "tickvals": list(range(len(choices))),
        "ticktext": choices,
    }


def parallel_coordinates_figure(trials: list[dict], metric: str = "val_accuracy") -> go.Figure:
    """Every finished network run as a line through its settings to its result."""
    finished = [t for t in trials if _value(t, metric) is not None and "model" not in t["params"]]
    figure = go.Figure()
    if not finished:
        return figure
    settings = [name for name in finished[0]["params"]]
    dimensions = [_dimension(s, [t["params"].get(s) for t in finished]) for s in settings]
    if len({t.get("seed") for t in finished}) > 1:
        dimensions.append(_dimension("Seed", [t.get("seed", 0) for t in finished]))
    scores = [100 * _value(t, metric) for t in finished]
    dimensions.append({"label": f"{METRIC_LABELS.get(metric, metric)} (%)", "values": scores})
    figure.add_trace(
        go.Parcoords(
            line={"color": scores, "colorscale": "Viridis", "showscale": True},
            dimensions=dimensions,
        )
    )
    figure.update_layout(height=380, margin={"l": 110, "r": 80, "t": 70, "b": 30})
    return figure


def parameter_importance(
    trials: list[dict], distributions: dict[str, Any], metric: str = "val_accuracy"
) -> tuple[dict[str, float], int] | None:
    """Each varied setting's share of the metric's variance, and from how many runs.

    A throwaway in-memory Optuna study gets one trial per finished run (its settings and its
    metric), and Optuna's fANOVA evaluator (seeded) answers. None while there are fewer than
    `MIN_IMPORTANCE_RUNS` finished runs or fewer than two settings varied.
    """
    import optuna  # optuna: not at start-up

    finished = [
        t
        for t in trials
        if _value(t, metric) is not None
        and "model" not in t["params"]
        and set(t["params"]) == set(distributions)
    ]
    if len(finished) < MIN_IMPORTANCE_RUNS or len(distributions) < 2:
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    for trial in finished:
        params = {name: trial["params"][name] for name in distributions}
        try:
            made = optuna.trial.create_trial(
                params=params, distributions=distributions, value=_value(trial, metric)
            )
        except ValueError:  # a value outside the distribution (the definition changed)
            continue
        study.add_trial(made)
    if len(study.trials) < MIN_IMPORTANCE_RUNS:
        return None
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    importances = optuna.importance.get_param_importances(study, evaluator=evaluator)
    return {name: float(value) for name, value in importances.items()}, len(study.trials)


def importance_figure(importances: dict[str, float]) -> go.Figure:
    """Horizontal bars of each setting's importance, largest at the top."""
    items = sorted(importances.items(), key=lambda kv: kv[1])
    figure = go.Figure(
        go.Bar(
            x=[value for _, value in items],
            y=[SETTINGS[name].label if name in SETTINGS else name for name, _ in items],
            orientation="h",
            text=[f"{value:.0%}" for _, value in items],
            textposition="auto",
            marker_color="#2ca02c",
        )
    )
    figure.update_layout(
        xaxis={"title": "Share of the variance explained", "tickformat": ".0%", "range": [0, 1]},
        height=max(200, 70 + 40 * len(items)),
        margin={"l": 10, "r": 10, "t": 20, "b": 40},
    )
    figure.update_yaxes(automargin=True)
    return figure


def _percent(values: list) -> pd.arrays.FloatingArray:
    """Fractions as percentages, missing ones as blanks (not "None") in a table."""
    return pd.array([None if v is None else 100 * float(v) for v in values], dtype="Float64")


def trials_table(rows: list[dict]) -> pd.DataFrame:
    """The live table of trials: one row per run of the experiment, in queue order."""
    return pd.DataFrame(
        {
            "Configuration": [r["configuration"] for r in rows],
            "Seed": [r["seed"] for r in rows],
            "Status": [r["status"] for r in rows],
            "Epochs": [
                f"{r['epochs_done']}/{r['epochs_planned']}" if r["epochs_planned"] else ""
                for r in rows
            ],
            "Val accuracy (%)": _percent([r["val_accuracy"] for r in rows]),
            "Test accuracy (%)": _percent([r["test_accuracy"] for r in rows]),
            "Run": [f"#{r['run_number']}" if r["run_number"] else "" for r in rows],
            "Note": [r["message"] for r in rows],
        }
    )


ACCURACY_COLUMNS = ["Val accuracy (%)", "Test accuracy (%)"]
# What a trial's missing accuracy means, by its status; any other is "—" (none to show).
MISSING_ACCURACY = {"queued": "queued", "running": "training…"}


def trials_view(rows: list[dict]):
    """The trials table as the page shows it (a pandas Styler over `trials_table`): accuracies
    to two decimals and, where a run has none yet, what it waits for ("queued", "training…")
    or "—"; never "None". The numbers stay numbers, so the columns sort as numbers."""
    table = trials_table(rows)
    styler = table.style.format("{:.2f}", subset=ACCURACY_COLUMNS, na_rep="—")
    for status, text in MISSING_ACCURACY.items():
        waiting = table.index[table["Status"] == status]
        if len(waiting):
            cells = pd.IndexSlice[waiting, ACCURACY_COLUMNS]
            styler = styler.format("{:.2f}", subset=cells, na_rep=text)
    return styler


@dataclass
class Progress:
    runs_planned: int
    runs_done: int
    runs_failed: int
    running: int
    seconds_left: float | None


def progress(experiment: Experiment, trials: list[Trial], capacity: int = 1) -> Progress:
    """Runs done of those planned, and the time left at the pace of the finished ones."""
    planned = max(experiment.definition.runs_planned(), len(trials))
    done = [t for t in trials if t.status in ("completed", "failed")]
    running = [t for t in trials if t.status == "running"]
    durations = [t.finished - t.started for t in done if t.started and t.finished]
    seconds_left = None
    if durations:
        per_run = sum(durations) / len(durations)
        under_way = sum(min(per_run, time.time() - t.started) for t in running if t.started)
        seconds_left = max(0.0, (per_run * (planned - len(done)) - under_way) / max(1, capacity))
    return Progress(
        runs_planned=planned,
        runs_done=len(done),
        runs_failed=sum(t.status == "failed" for t in done),
        running=len(running),
        seconds_left=seconds_left,
    )


def trial_rows(trials: list[Trial], runs_by_id: dict) -> list[dict]:
    """Plain dicts of the trials with their runs' live numbers, for tables and charts."""
    rows = []
    for trial in trials:
        run = runs_by_id.get(trial.run_id)
        row = trial.as_dict()
        row["configuration"] = describe_configuration(trial.params)
        row["key"] = configuration_key(trial.params)
        row["epochs_done"] = run.epochs_done if run else 0
        row["epochs_planned"] = run.epochs_planned if run else None
        row["run_number"] = run.number if run else None
        if trial.status == "running" and run is not None:
            row["val_accuracy"] = run.val_accuracy
        rows.append(row)
    return rows
