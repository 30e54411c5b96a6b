"""What the Runs page shows: the table of runs and, for runs chosen to compare, their curves on
one chart, their specs side by side with the differences marked, and their confusion matrices.

Builders take `RunSummary`/`Run` records from `core.runs.store` and return a pandas table, a pandas
Styler or plotly figures; the page decides where they go.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import fields
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from core.charts.metrics import confusion_matrix_figure
from core.charts.style import empty_figure, figure_text
from core.nets.model import ModelSpec, describe_layer
from core.runs.lineage import Lineage
from core.runs.store import Run, RunSummary

METRICS = {
    "loss": "Training loss",
    "accuracy": "Training accuracy",
    "val_loss": "Validation loss",
    "val_accuracy": "Validation accuracy",
}
COLOURS = qualitative.Plotly
UNKNOWN = "—"
SETTING_LABELS = {
    "lr_schedule": "Learning-rate schedule",
    "epochs": "Epochs asked for",
    "my_digits_repeats": "My digits, times each (0: none)",
    "augment_shift": "Augmentation: shift",
    "augment_rotation": "Augmentation: rotation (degrees)",
    "augment_zoom": "Augmentation: zoom",
    "augment_thickness": "Augmentation: stroke thickness (pixels)",
}
DIFFERENCE_STYLE = "background-color: rgba(255, 190, 0, 0.30); font-weight: 600"
# Results first, after the name: at 900 px only the first few columns show without scrolling.
TABLE_COLUMNS = (
    "Name",
    "Status",
    "Test accuracy (%)",
    "Val accuracy (%)",
    "My digits (%)",  # only once some run has been evaluated on My digits
    "Epochs",
    "Time (s)",
    "Architecture",
    "Optimizer",
    "Learning rate",
    "Batch size",
    "Created",
)
# A compared confusion matrix: wide enough for "1135" in a cell; two fit side by side in the
# page's column at 1440 px, one at 900 px.
MATRIX_WIDTH = 420
MATRIX_HEIGHT = 440


def run_labels(runs: list[RunSummary]) -> list[str]:
    """Each run's name, with its number added where two runs share a name (always unique)."""
    names = [run.name for run in runs]
    labels = [
        f"{run.name} (#{run.number})" if names.count(run.name) > 1 else run.name for run in runs
    ]
    return [
        f"{label} [{run.id}]" if labels.count(label) > 1 else label
        for label, run in zip(labels, runs, strict=True)
    ]


def as_percent(value: float | None) -> float | None:
    """A fraction (0-1) as a percentage, None kept."""
    return None if value is None else 100.0 * value


def runs_table(
    runs: list[RunSummary], my_digits: dict[str, tuple[float, int]] | None = None
) -> pd.DataFrame:
    """One row per run, indexed by run id, with numbers kept numeric so columns sort.
    `my_digits`: a run's (accuracy, digits counted) on My digits, by run id, where measured."""
    mine = my_digits or {}
    local = datetime.datetime.now().astimezone().tzinfo
    table = pd.DataFrame(
        {
            "Name": [run.name for run in runs],
            "Status": [run.status for run in runs],
            "Architecture": [run.architecture for run in runs],
            "Optimizer": [run.optimizer or UNKNOWN for run in runs],
            "Learning rate": pd.array([run.learning_rate for run in runs], dtype="Float64"),
            "Batch size": pd.array([run.batch_size for run in runs], dtype="Int64"),
            "Epochs": pd.array([run.epochs_done for run in runs], dtype="Int64"),
            "Val accuracy (%)": pd.array(
                [as_percent(run.val_accuracy) for run in runs], dtype="Float64"
            ),
            "Test accuracy (%)": pd.array(
                [as_percent(run.test_accuracy) for run in runs], dtype="Float64"
            ),
            "My digits (%)": pd.array(
                [as_percent(mine[run.id][0]) if run.id in mine else None for run in runs],
                dtype="Float64",
            ),
            "Time (s)": pd.array([run.training_seconds for run in runs], dtype="Float64"),
            "Created": pd.to_datetime([run.created for run in runs], unit="s", utc=True)
            .tz_convert(local)
            .tz_localize(None),
        },
        index=pd.Index([run.id for run in runs], name="id"),
    )
    return table[[c for c in TABLE_COLUMNS if mine or c != "My digits (%)"]]


def overlay_figure(
    runs: list[Run], metric: str = "val_accuracy", carried: dict[str, int] | None = None
) -> go.Figure:
    """The chosen metric per epoch for every run, one line each, on shared axes.

    `carried`: for a continued run (by id), the epochs it carries from its parent, drawn
    dotted; its own epochs carry on from the last of them, solid."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}.")
    figure = go.Figure()
    missing = []
    for i, (run, label) in enumerate(zip(runs, map(figure_text, run_labels(runs)), strict=True)):
        values = run.history.get(metric, [])
        if not any(math.isfinite(v) for v in values):
            missing.append(label)
            continue
        colour = COLOURS[i % len(COLOURS)]
        before = min((carried or {}).get(run.id, 0), len(values))
        y = [v if math.isfinite(v) else None for v in values]
        if before:
            figure.add_trace(_carried_trace(y[:before], label, colour))
        figure.add_trace(
            go.Scatter(
                x=list(range(max(1, before), len(values) + 1)),
                y=y[max(0, before - 1) :],
                mode="lines+markers",
                name=label,
                legendgroup=label,
                line={"color": colour, "width": 2},
                marker={"size": 5},
                hovertemplate="%{fullData.name}<br>epoch %{x}: %{y:.4f}<extra></extra>",
            )
        )
    if missing:
        figure.add_annotation(
            text=f"No {METRICS[metric].lower()} for: {', '.join(missing)}",
            xref="paper",
            yref="paper",
            x=0,
            y=1.08,
            showarrow=False,
            xanchor="left",
            font={"size": 12, "color": "#888"},
        )
    figure.update_layout(
        title={"text": f"{METRICS[metric]} per epoch"},
        xaxis={"title": {"text": "Epoch"}, "rangemode": "tozero", "dtick": None},
        yaxis={"title": {"text": METRICS[metric]}},
        hovermode="x unified" if len(runs) <= 6 else "closest",
        legend={"orientation": "h", "y": -0.2},
        height=420,
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
    )
    return figure


def _carried_trace(values: list, label: str, colour: str) -> go.Scatter:
    """A continued run's epochs carried from its parent: dotted, in its colour, unlisted."""
    return go.Scatter(
        x=list(range(1, len(values) + 1)),
        y=values,
        mode="lines+markers",
        name=f"{label} (its parent's epochs)",
        legendgroup=label,
        showlegend=False,
        line={"color": colour, "width": 2, "dash": "dot"},
        marker={"size": 4, "symbol": "circle-open"},
        opacity=0.55,
        hovertemplate="%{fullData.name}<br>epoch %{x}: %{y:.4f}<extra></extra>",
    )


def shared_start_text(runs: list[Run], found: dict[str, Lineage]) -> list[str]:
    """What the compared runs' starting weights have in common, one sentence a group: the runs
    that started from the same weights (equal fingerprints), or that none did."""
    labels = dict(zip([run.id for run in runs], run_labels(runs), strict=True))
    groups: dict[str, list[str]] = {}
    unknown = []
    for run in runs:
        known = found.get(run.id)
        if known is None or not known.start_fingerprint:
            unknown.append(labels[run.id])
        else:
            groups.setdefault(known.start_fingerprint, []).append(labels[run.id])
    said = [
        f"{_and(names)} started from the same starting weights (fingerprint {key[:8]}): they "
        "differ only in the settings shaded below."
        for key, names in groups.items()
        if len(names) > 1
    ]
    if not said and len(groups) > 1:
        said.append("No two of these runs started from the same weights.")
    if unknown:
        said.append(
            f"Starting weights not recorded for {_and(unknown)} (trained before they were kept, or imported)."
        )
    return said


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value) if value else "none"
    return str(value)


def setting_label(field_name: str) -> str:
    """ "learning_rate" -> "Learning rate", with a few names spelled out."""
    return SETTING_LABELS.get(field_name, field_name.replace("_", " ").capitalize())


def spec_table(runs: list[Run], found: dict[str, Lineage] | None = None) -> pd.DataFrame:
    """Settings as rows and runs as columns, as text; a setting a run does not know is "—".

    The layers come first, one row each ("Layer 1", ...), so two networks' layers sit side by
    side; a run with fewer layers has "" in the rows past its last one. With `found` (the
    runs' lineages), a last row gives each run's starting weights' fingerprint.
    """
    columns: dict[str, list[str]] = {}
    spec_fields = [f.name for f in fields(ModelSpec) if f.name != "layers"]
    specs = [run.spec for run in runs]
    depth = max((len(spec.layers) for spec in specs if spec), default=0)
    rows = [
        "Architecture",
        *(f"Layer {i}" for i in range(1, depth + 1)),
        *(setting_label(name) for name in spec_fields),
        "Data",
    ]
    for run, spec, label in zip(runs, specs, run_labels(runs), strict=True):
        known = run.spec_dict or {}
        values = [run.architecture or UNKNOWN]
        for i in range(depth):
            if spec is None:
                values.append(UNKNOWN)
            else:
                values.append(describe_layer(spec.layers[i]) if i < len(spec.layers) else "")
        for name in spec_fields:
            values.append(_show(getattr(spec, name)) if spec and name in known else UNKNOWN)
        values.append(run.data_source or UNKNOWN)
        if found is not None:
            known = found.get(run.id)
            values.append(known.short_fingerprint if known and known.start_fingerprint else UNKNOWN)
        columns[label] = values
    if found is not None:
        rows.append("Starting weights")
    return pd.DataFrame(columns, index=pd.Index(rows, name="Setting"))


def differing_rows(table: pd.DataFrame) -> pd.Series:
    """True for the rows where the runs that know the value do not all have the same one.

    A value a run does not know ("—", as for most settings of an imported model) is left out,
    so comparing with an import still points at the settings that really differ.
    """
    return table.apply(lambda row: len(set(row) - {UNKNOWN}) > 1, axis=1).astype(bool)


def highlight_differences(table: pd.DataFrame):
    """A Styler of `table` with the rows that differ between runs shaded and in bold."""
    differs = differing_rows(table)

    def shade(row: pd.Series) -> list[str]:
        return [DIFFERENCE_STYLE if differs[row.name] else "" for _ in row]

    return table.style.apply(shade, axis=1)


def confusion_figures(runs: list[Run], normalised: bool = False) -> list[go.Figure]:
    """One confusion matrix per run, MATRIX_WIDTH wide, titled with its name, its test accuracy
    beneath, without a colour bar (every cell shows its number); a run without test results
    gets a figure saying so."""
    figures = []
    for run, label in zip(runs, map(figure_text, run_labels(runs)), strict=True):
        if run.confusion is None:
            figure = empty_figure("No test results yet", height=MATRIX_HEIGHT, title=label)
            figures.append(figure.update_layout(width=MATRIX_WIDTH))
            continue
        figure = confusion_matrix_figure(run.confusion, normalised=normalised)
        accuracy = f"test {100 * run.test_accuracy:.2f} %" if run.test_accuracy else ""
        figure.update_layout(
            title={
                "text": label,
                "font": {"size": 14},
                "subtitle": {"text": accuracy, "font": {"size": 13}},
            },
            width=MATRIX_WIDTH,
            height=MATRIX_HEIGHT,
            margin={"l": 50, "r": 10, "t": 70, "b": 45},
        )
        figure.update_traces(showscale=False, textfont={"size": 11}, selector={"type": "heatmap"})
        figures.append(figure)
    return figures
