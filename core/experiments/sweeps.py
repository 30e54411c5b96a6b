"""What an experiment varies, as plain values: the settings, their values or ranges, the plan.

An `ExperimentDefinition` is JSON-serialisable (it is stored with the experiment): a base spec
(the Train page's settings, as a dict in the layer-list form), up to three `Axis` (a setting
with a list of values, or a low-high range), a method ("grid", "random" or "tpe"), seeds per
configuration and a budget of runs. `grid_configurations` expands a grid; random and TPE
configurations are sampled by Optuna from `distributions(axes)`, one Optuna trial per
configuration (see core/experiments/runner.py). `spec_for` applies a configuration and a seed to the
base spec. Nothing here imports Keras or Streamlit.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from core.experiments.settings import SETTINGS
from core.nets.model import ModelSpec, SpecError
from core.nets.presets import DEFAULT_PRESET, PRESETS

MAX_AXES = 3
MAX_SEEDS = 10
MAX_BUDGET = 500
METHODS = {
    "grid": "Grid: every combination of the listed values",
    "random": "Random sampling (Optuna's RandomSampler)",
    "tpe": "TPE: Optuna's Tree-structured Parzen Estimator, guided by earlier results",
}
BASELINE_KINDS = ("random_forest", "logistic_regression")


class DefinitionError(ValueError):
    """An experiment cannot be run as defined; the message says what to change."""


# ----- the definition -----------------------------------------------------------------------


@dataclass
class Axis:
    """One varied setting: a list of `values`, or a range from `low` to `high`."""

    setting: str
    values: list | None = None
    low: float | None = None
    high: float | None = None

    @property
    def is_range(self) -> bool:
        return self.values is None

    def describe(self) -> str:
        label = SETTINGS[self.setting].label if self.setting in SETTINGS else self.setting
        if self.is_range:
            return f"{label} from {self.low:g} to {self.high:g}"
        return f"{label} in {', '.join(str(v) for v in self.values)}"


@dataclass
class ExperimentDefinition:
    """Everything needed to plan an experiment, as plain values (stored as JSON)."""

    base_spec: dict[str, Any]
    axes: list[Axis] = field(default_factory=list)
    method: str = "grid"
    seeds: int = 1
    budget: int = 12
    baselines: list[str] = field(default_factory=list)
    sampler_seed: int = 0
    name: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentDefinition:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["axes"] = [Axis(**axis) for axis in values.get("axes", [])]
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> ExperimentDefinition:
        return cls.from_dict(json.loads(text))

    def seed_values(self) -> list[int]:
        """The seeds each configuration is trained with: the base seed, then the next ones."""
        start = int(self.base_spec.get("seed", 42))
        return [start + i for i in range(self.seeds)]

    def configurations_planned(self) -> int:
        """How many network configurations the budget pays for (each trained once per seed)."""
        room = (self.budget - len(self.baselines) * self.seeds) // self.seeds
        if not self.axes:
            return min(1, max(room, 0))
        if self.method == "grid":
            return min(len(grid_configurations(self.axes)), max(room, 0))
        return max(room, 0)

    def runs_planned(self) -> int:
        return (self.configurations_planned() + len(self.baselines)) * self.seeds

    def validate(self) -> None:
        if self.method not in METHODS:
            raise DefinitionError(f"unknown method {self.method!r}; choose grid, random or tpe.")
        if len(self.axes) > MAX_AXES:
            raise DefinitionError(
                f"{len(self.axes)} settings varied; an experiment varies at most {MAX_AXES}, "
                "so that its results can still be read."
            )
        names = [axis.setting for axis in self.axes]
        if len(set(names)) != len(names):
            raise DefinitionError("a setting is varied twice; vary each setting once.")
        for axis in self.axes:
            _validate_axis(axis, self.method)
        if not 1 <= self.seeds <= MAX_SEEDS:
            raise DefinitionError(f"{self.seeds} seeds; choose 1 to {MAX_SEEDS} per configuration.")
        if not 1 <= self.budget <= MAX_BUDGET:
            raise DefinitionError(f"a budget of {self.budget} runs; choose 1 to {MAX_BUDGET}.")
        for kind in self.baselines:
            if kind not in BASELINE_KINDS:
                raise DefinitionError(
                    f"unknown baseline {kind!r}; choose from {', '.join(BASELINE_KINDS)}."
                )
        if self.runs_planned() == 0:
            raise DefinitionError(
                f"a budget of {self.budget} runs does not pay for one configuration at "
                f"{self.seeds} seeds; raise the budget to at least {self.seeds} or lower the seeds."
            )
        if self.axes or not self.baselines:
            spec_for(self.base_spec, example_configuration(self.axes), self.seed_values()[0])


def _validate_axis(axis: Axis, method: str) -> None:
    if axis.setting not in SETTINGS:
        raise DefinitionError(
            f"{axis.setting!r} cannot be varied; choose from {', '.join(SETTINGS)}."
        )
    setting = SETTINGS[axis.setting]
    if axis.is_range:
        if method == "grid":
            raise DefinitionError(
                f"{setting.label} is given as a range, but a grid needs a list of values; list "
                "them, or choose random or TPE sampling."
            )
        if setting.kind == "choice":
            raise DefinitionError(f"{setting.label} has no range; list the values to try.")
        if axis.low is None or axis.high is None or not axis.low < axis.high:
            raise DefinitionError(
                f"{setting.label}: a range needs a low value below its high value."
            )
        if setting.log and axis.low <= 0:
            raise DefinitionError(f"{setting.label}: a range on a log scale must start above 0.")
        if setting.low is not None and axis.low < setting.low:
            raise DefinitionError(f"{setting.label} cannot go below {setting.low:g}.")
        if setting.high is not None and axis.high > setting.high:
            raise DefinitionError(f"{setting.label} cannot go above {setting.high:g}.")
        return
    if not axis.values:
        raise DefinitionError(f"{setting.label}: give at least one value.")
    if len(set(map(str, axis.values))) != len(axis.values):
        raise DefinitionError(f"{setting.label}: a value is listed twice.")
    if setting.kind == "choice":
        wrong = [v for v in axis.values if v not in setting.choices]
        if wrong:
            raise DefinitionError(
                f"{setting.label}: {wrong[0]!r} is not one of {', '.join(setting.choices)}."
            )


def parse_values(setting: str, text: str) -> list:
    """A comma-separated list typed on the page, as values of the setting's kind."""
    kind = SETTINGS[setting].kind
    items = [item.strip() for item in text.replace(";", ",").split(",") if item.strip()]
    try:
        if kind == "int":
            return [int(float(item)) for item in items]
        if kind == "float":
            return [float(item) for item in items]
    except ValueError:
        raise DefinitionError(
            f"{SETTINGS[setting].label}: {text!r} is not a list of numbers; type them with commas "
            "between, e.g. 0.001, 0.003, 0.01."
        ) from None
    return items


# ----- configurations -------------------------------------------------------------------------


def grid_configurations(axes: list[Axis]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, the first axis varying slowest."""
    names = [axis.setting for axis in axes]
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(axis.values for axis in axes))
    ]


def example_configuration(axes: list[Axis]) -> dict[str, Any]:
    """One configuration (the first value or the low end of each axis), for validating."""
    example = {}
    for axis in axes:
        if not axis.is_range:
            example[axis.setting] = axis.values[0]
        elif SETTINGS[axis.setting].kind == "int":
            example[axis.setting] = int(axis.low)
        else:
            example[axis.setting] = float(axis.low)
    return example


def distributions(axes: list[Axis]) -> dict[str, Any]:
    """Optuna distributions of the axes: lists are categorical, ranges int or float."""
    import optuna  # optuna: not at start-up (the pages' charts import this module)

    out: dict[str, Any] = {}
    for axis in axes:
        setting = SETTINGS[axis.setting]
        if not axis.is_range:
            out[axis.setting] = optuna.distributions.CategoricalDistribution(list(axis.values))
        elif setting.kind == "int":
            out[axis.setting] = optuna.distributions.IntDistribution(
                int(axis.low), int(axis.high), log=setting.log
            )
        else:
            out[axis.setting] = optuna.distributions.FloatDistribution(
                float(axis.low), float(axis.high), log=setting.log
            )
    return out


def make_sampler(definition: ExperimentDefinition):
    """The Optuna sampler for the method (grid configurations are enqueued, so any will do)."""
    import optuna  # optuna: not at start-up

    if definition.method == "tpe":
        startup = max(2, min(10, definition.configurations_planned() // 3))
        return optuna.samplers.TPESampler(seed=definition.sampler_seed, n_startup_trials=startup)
    return optuna.samplers.RandomSampler(seed=definition.sampler_seed)


def configuration_key(params: dict[str, Any]) -> str:
    """A configuration as a stable string, to group its seeds."""
    return json.dumps(params, sort_keys=True, default=str)


def describe_configuration(params: dict[str, Any]) -> str:
    """ "Hidden layers 1 · Learning rate 0.003" for tables and run names."""
    if "model" in params:
        return str(params["model"]).replace("_", " ")
    parts = []
    for name, value in params.items():
        label = SETTINGS[name].label if name in SETTINGS else name
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        parts.append(f"{label} {shown}")
    return " · ".join(parts) or "base settings"


def round_value(setting: str, value: Any) -> Any:
    """Sampled floats to three significant digits (0.0031622 -> 0.00316): readable, and the
    same value when it is read back."""
    if isinstance(value, float) and SETTINGS[setting].kind == "float" and value:
        return float(f"{value:.3g}")
    return value


# ----- specs -----------------------------------------------------------------------------------


def spec_for(base_spec: dict[str, Any], params: dict[str, Any], seed: int) -> ModelSpec:
    """The base spec with the configuration's values and the seed applied, validated."""
    spec = spec_to_layers(dict(base_spec))
    spec["layers"] = [dict(layer) for layer in spec["layers"]]
    for name in SETTINGS:
        if name in params:
            SETTINGS[name].apply(spec, params[name])
    spec["seed"] = int(seed)
    try:
        return make_spec(spec)
    except (SpecError, TypeError) as error:
        raise DefinitionError(f"{describe_configuration(params)}: {error}") from None


def spec_to_layers(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec dict in the layer-list form, whether it was stored flat or as layers."""
    return spec if "layers" in spec else ModelSpec.from_dict(spec).to_dict()


def make_spec(spec: dict[str, Any]) -> ModelSpec:
    return ModelSpec.from_dict(spec)


def spec_dict(spec: ModelSpec) -> dict[str, Any]:
    """A spec as a layer-list dict (the form a definition's base spec is stored in)."""
    return spec.to_dict()


# ----- one-click classics -------------------------------------------------------------------

# Each classic starts from the network it compares, whatever the Train page shows: the hidden
# layers one from the seed articles' one-hidden-layer network (512 ReLU, dropout 0.2), made
# with no, one and two such layers; the baselines one from the default preset, the best dense
# network of the playground.
ONE_HIDDEN_LAYER = "512 relu, dropout 0.2"
CLASSIC_PRESETS = {"layers": ONE_HIDDEN_LAYER, "forest": DEFAULT_PRESET}
CLASSICS = {
    "layers": (
        "No, one and two hidden layers × 3 seeds",
        "The first article's experiment: the same network with 0, 1 and 2 hidden layers of 512 "
        "ReLU units (dropout 0.2, Adam, 10 epochs), each trained with three seeds, so the "
        "difference can be told from the seed's noise.",
    ),
    "forest": (
        "Random forest against the network × 3 seeds",
        "The other article's exercise: a random forest and logistic regression from "
        "scikit-learn on the same split, against the playground's default network "
        "(two hidden layers of 512), three seeds each.",
    ),
}


def classic_base(kind: str) -> ModelSpec:
    """The network a classic starts from (a preset's), whatever the Train page shows."""
    return PRESETS[CLASSIC_PRESETS[kind]].spec


def classic_definition(kind: str) -> ExperimentDefinition:
    """The one-click classics: 0/1/2 hidden layers, or the baselines against the network."""
    base = spec_dict(classic_base(kind))
    if kind == "layers":
        return ExperimentDefinition(
            base,
            [Axis("hidden_layers", [0, 1, 2])],
            seeds=3,
            budget=9,
            name="No, one and two hidden layers",
        )
    return ExperimentDefinition(
        base,
        [],
        seeds=3,
        budget=9,
        baselines=["random_forest", "logistic_regression"],
        name="Random forest against the network",
    )


def is_finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
