"""Experiments: vary up to three settings over several seeds, queue the runs, compare fairly.

The form is here; the chosen experiment's panel is app_pages/experiment_views.py.
"""

from __future__ import annotations

import os

import streamlit as st

from app_pages import state
from app_pages.data_source import get_data, show_data_source
from app_pages.experiment_views import experiment_panel
from app_pages.run_store import get_store, store_or_stop
from app_pages.text import plain
from app_pages.train_controls import current_spec
from core.experiments import runner
from core.experiments.baselines import BASELINES
from core.experiments.ray_backend import ADDRESS_VARIABLE, ray_available
from core.experiments.store import ExperimentStore
from core.experiments.sweeps import (
    CLASSICS,
    MAX_AXES,
    METHODS,
    SETTINGS,
    Axis,
    DefinitionError,
    ExperimentDefinition,
    classic_base,
    classic_definition,
    parse_values,
    spec_dict,
)
from core.nets.model import ModelSpec
from core.nets.presets import PRESETS
from core.training.job import epochs

CURRENT = "Current Train settings"
DEFAULT_VALUES = {
    "hidden_layers": "0, 1, 2",
    "units": "32, 128, 512",
    "activation": "relu, tanh",
    "dropout": "0, 0.2, 0.4",
    "optimizer": "adam, sgd",
    "learning_rate": "0.0003, 0.001, 0.003",
    "lr_schedule": "constant, cosine",
    "batch_size": "32, 128, 512",
    "epochs": "3, 6, 10",
}


@st.cache_resource(max_entries=4, show_spinner=False)
def experiment_store(home: str) -> ExperimentStore:
    return ExperimentStore(home)


@st.cache_resource(max_entries=4, show_spinner=False)
def resume_once(home: str, data_source: str) -> list[str]:
    """Continue the experiments a dead app left running (once per server and store)."""
    data, _ = get_data()
    return runner.resume_interrupted(
        get_store(), experiment_store(home), data, os.environ.get(ADDRESS_VARIABLE)
    )


def launch(definition: ExperimentDefinition, data, address: str) -> None:
    xstore = experiment_store(str(get_store().home))
    try:
        if data is None:  # before anything is created (the buttons are disabled then too)
            raise RuntimeError(runner.NO_DATA)
        definition.validate()
        experiment_id = runner.create_experiment(
            xstore, definition, "ray" if address else "embedded"
        )
        runner.start(get_store(), xstore, experiment_id, data, address or None)
    except (DefinitionError, RuntimeError, ImportError, ConnectionError) as error:
        state.set("experiments_notice", str(error))
        return
    state.set("experiments_selected", experiment_id)


def new_experiment_form(data) -> None:
    """Launch a classic in one click, or vary settings of a network yourself."""
    address = cluster_address()
    classic_buttons(data, address)
    st.markdown("**Or vary settings yourself**")
    base = base_network()
    method = st.radio(
        "Method",
        list(METHODS),
        format_func=METHODS.get,
        key="experiments_method",
        horizontal=True,
    )
    axes, problems = varied_settings(method)
    definition = run_plan(base, axes, method, problems)
    for problem in problems:
        st.warning(problem, icon=":material/warning:")
    if st.button(
        "Start",
        type="primary",
        icon=":material/play_arrow:",
        key="experiments_start",
        disabled=bool(problems) or data is None,
    ):
        launch(definition, data, address)
        st.rerun()


def apply_lesson_plan() -> bool:
    """A lesson's Set it up (on Learn) written into the form, once: Train's network as the
    base, its one setting and values, its seeds. True when there was one."""
    plan = state.pop("experiments_plan")
    if plan is None:
        return False
    state.set("experiments_base", CURRENT)
    state.set("experiments_method", "grid")
    state.set("experiments_setting_0", plan.setting)
    state.set(f"experiments_values_0_{plan.setting}", plan.values)
    state.set("experiments_seeds", plan.seeds)
    return True


def base_network() -> ModelSpec:
    """The network the experiment varies: Train's current one or a preset."""
    choice = st.selectbox("Start from", [CURRENT, *PRESETS], key="experiments_base")
    base = current_spec() if choice == CURRENT else PRESETS[choice].spec
    st.caption(f"Base network: {describe(base)}.")
    return base


def cluster_address() -> str:
    """The Ray cluster to train on, where Ray is installed; "" trains here."""
    if not ray_available():
        return ""
    return st.text_input(
        "Ray cluster address (empty: train here, one run after another)",
        value=os.environ.get(ADDRESS_VARIABLE, ""),
        key="experiments_ray",
        help="For example ray://head-node:10001 or 192.168.1.5:6379 (see docs/ray.md).",
    )


def classic_buttons(data, address: str) -> None:
    """One button per classic experiment, each on the network it compares; a click starts it."""
    st.markdown("**One-click classics**")
    row = st.container(
        horizontal=True
    )  # side by side where they fit whole, else one under the other
    for kind, (label, text) in CLASSICS.items():
        if row.button(
            label,
            key=f"experiments_classic_{kind}",
            help=f"{text} It starts from {describe(classic_base(kind))}, whatever Train shows.",
            width="content",
            disabled=data is None,  # nothing to train on: the page says why above
        ):
            launch(classic_definition(kind), data, address)
            st.rerun()
    st.caption(
        "Each classic trains the networks it compares, whatever Train shows: the hidden-layers "
        f"one starts from {describe(classic_base('layers'))}, the random-forest one from "
        f"{describe(classic_base('forest'))}."
    )


def describe(spec: ModelSpec) -> str:
    """ "784-512-10, adam, 10 epochs": a network in a few words."""
    return f"{spec.architecture()}, {spec.optimizer}, {epochs(spec.epochs)}"


def varied_settings(method: str) -> tuple[list[Axis], list[str]]:
    """Up to MAX_AXES settings and their values, and what is wrong with the values typed."""
    axes, problems = [], []
    for i in range(MAX_AXES):
        left, right = st.columns(2)
        setting = left.selectbox(
            f"Setting {i + 1}",
            [None, *SETTINGS],
            format_func=lambda s: "—" if s is None else SETTINGS[s].label,
            key=f"experiments_setting_{i}",
        )
        if setting is None:
            continue
        if method != "grid" and SETTINGS[setting].kind != "choice":
            axes.append(setting_range(right, i, setting))
            continue
        try:
            axes.append(setting_values(right, i, setting))
        except DefinitionError as error:
            problems.append(str(error))
    return axes, problems


def setting_range(column, i: int, setting: str) -> Axis:
    """A number setting a sampler draws from: from and to."""
    low_col, high_col = column.columns(2)
    low = low_col.number_input(
        "From",
        value=float(SETTINGS[setting].low or 0),
        key=f"experiments_low_{i}",
        format="%g",
    )
    high = high_col.number_input(
        "To",
        value=float(min(SETTINGS[setting].high or 1, 10 * max(low, 1e-3))),
        key=f"experiments_high_{i}",
        format="%g",
    )
    return Axis(setting, low=low, high=high)


def setting_values(column, i: int, setting: str) -> Axis:
    """A setting's values, typed comma-separated; DefinitionError says what is wrong."""
    text = column.text_input(
        "Values (comma-separated)",
        value=DEFAULT_VALUES.get(setting, ""),
        key=f"experiments_values_{i}_{setting}",
    )
    return Axis(setting, parse_values(setting, text))


def run_plan(base: ModelSpec, axes: list[Axis], method: str, problems: list[str]):
    """Seeds, budget, baselines and name; the definition, its run count said (or its problem
    added to `problems`)."""
    seeds_col, budget_col, baseline_col = st.columns(3)
    seeds = seeds_col.number_input("Seeds per configuration", 1, 10, 3, key="experiments_seeds")
    budget = budget_col.number_input("Budget (runs)", 1, 500, 12, key="experiments_budget")
    baselines = baseline_col.multiselect(
        "Baselines",
        list(BASELINES),
        format_func=lambda k: BASELINES[k]["label"],
        key="experiments_baselines",
    )
    name = st.text_input("Name (optional)", key="experiments_name")
    definition = ExperimentDefinition(
        spec_dict(base), axes, method, int(seeds), int(budget), list(baselines), name=name
    )
    try:
        definition.validate()
        st.caption(
            f"{definition.configurations_planned()} configuration(s)"
            f"{' + ' + str(len(baselines)) + ' baseline(s)' if baselines else ''} × {seeds} "
            f"seed(s) = **{definition.runs_planned()} runs**."
        )
    except DefinitionError as error:
        problems.append(str(error))
    return definition


st.title(":material/science: Experiments")
st.caption("Change one thing at a time, over several seeds, and see whether a difference is real.")
data, data_error = get_data()
show_data_source(data, data_error)
store = store_or_stop()
xstore = experiment_store(str(store.home))
if data is not None:
    resumed = resume_once(str(store.home), data.description)
    if resumed:
        st.info(f"Resumed {len(resumed)} experiment(s) the app was running when it stopped.")
notice = state.pop("experiments_notice")
if notice:
    st.error(plain(notice), icon=":material/error:")

active = runner.RUNNERS.active()
planned = apply_lesson_plan()
with st.expander("New experiment", expanded=active is None and (planned or not xstore.list())):
    if active is not None:
        st.info("An experiment is running; stop it to start another.", icon=":material/info:")
    else:
        new_experiment_form(data)

experiments = xstore.list()
if experiments:
    ids = [e.id for e in experiments]
    by_id = {e.id: e for e in experiments}
    # Set before every drawing, even to the value it has: Streamlit's select box keeps the
    # label it shows, and a label that changed (the status in it) stayed shown, stale, and
    # could lose the choice (streamlit/streamlit#13788; app_pages/run_picker.py does the same).
    chosen = state.get("experiments_selected")
    state.set("experiments_selected", chosen if chosen in ids else ids[0])
    chosen = st.selectbox(
        "Experiment",
        ids,
        format_func=lambda i: f"#{by_id[i].number} {by_id[i].name} ({by_id[i].status})",
        key="experiments_selected",
    )
    experiment_panel(xstore, chosen, data)
else:
    st.info("No experiments yet: start one above, or try a one-click classic.")
