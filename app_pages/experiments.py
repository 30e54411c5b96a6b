"""Experiments: vary up to three settings over several seeds, queue the runs, compare fairly."""

from __future__ import annotations

import os

import streamlit as st

from app_pages import state
from app_pages.data_source import get_data, show_data_source
from app_pages.run_store import get_store, store_or_stop
from app_pages.text import format_seconds, plain
from app_pages.train_controls import current_spec, set_spec
from core.charts.experiments import (
    IMPORTANCE_EVALUATOR,
    METRIC_LABELS,
    MIN_IMPORTANCE_RUNS,
    best_configuration,
    configuration_summary,
    error_bar_figure,
    importance_figure,
    parallel_coordinates_figure,
    parameter_importance,
    progress,
    trial_rows,
    trials_table,
)
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
    classic_definition,
    distributions,
    parse_values,
    spec_dict,
    spec_for,
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


def base_spec(choice: str) -> ModelSpec:
    return current_spec() if choice == CURRENT else PRESETS[choice].spec


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
    choices = [CURRENT, *PRESETS]
    start_from = st.selectbox("Start from", choices, key="experiments_base")
    base = base_spec(start_from)
    st.caption(f"Base network: {base.architecture()}, {base.optimizer}, {epochs(base.epochs)}.")
    address = ""
    if ray_available():
        address = st.text_input(
            "Ray cluster address (empty: train here, one run after another)",
            value=os.environ.get(ADDRESS_VARIABLE, ""),
            key="experiments_ray",
            help="For example ray://head-node:10001 or 192.168.1.5:6379 (see the README).",
        )
    st.markdown("**One-click classics**")
    columns = st.columns(len(CLASSICS))
    for column, (kind, (label, text)) in zip(columns, CLASSICS.items(), strict=True):
        if column.button(
            label,
            key=f"experiments_classic_{kind}",
            help=text,
            width="stretch",
            disabled=data is None,  # nothing to train on: the page says why above
        ):
            launch(classic_definition(kind, base), data, address)
            st.rerun()
    st.markdown("**Or vary settings yourself**")
    method = st.radio(
        "Method",
        list(METHODS),
        format_func=METHODS.get,
        key="experiments_method",
        horizontal=True,
    )
    axes, problems = [], []
    for i in range(MAX_AXES):
        left, right = st.columns([1, 2])
        setting = left.selectbox(
            f"Setting {i + 1}",
            [None, *SETTINGS],
            format_func=lambda s: "—" if s is None else SETTINGS[s].label,
            key=f"experiments_setting_{i}",
        )
        if setting is None:
            continue
        ranged = method != "grid" and SETTINGS[setting].kind != "choice"
        if ranged:
            low_col, high_col = right.columns(2)
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
            axes.append(Axis(setting, low=low, high=high))
        else:
            text = right.text_input(
                "Values (comma-separated)",
                value=DEFAULT_VALUES.get(setting, ""),
                key=f"experiments_values_{i}_{setting}",
            )
            try:
                axes.append(Axis(setting, parse_values(setting, text)))
            except DefinitionError as error:
                problems.append(str(error))
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


def resume(xstore: ExperimentStore, experiment_id: str, data) -> None:
    address = state.get("experiments_ray") or None
    store = get_store()
    store.mark_interrupted()  # the run a dead process left running
    xstore.requeue_running(experiment_id)
    try:
        runner.start(store, xstore, experiment_id, data, address)
    except (RuntimeError, ImportError, ConnectionError) as error:
        state.set("experiments_notice", str(error))


def open_on_train(experiment, params: dict) -> None:
    spec = spec_for(experiment.definition.base_spec, params, experiment.definition.seed_values()[0])
    set_spec(spec)
    st.switch_page("app_pages/train.py")


def results(experiment, rows: list[dict]) -> None:
    st.subheader("Results")
    metric = st.radio(
        "Compare by",
        list(METRIC_LABELS),
        format_func=METRIC_LABELS.get,
        key="experiments_metric",
        horizontal=True,
        help="Choose settings by validation accuracy; the test set is for the final word only.",
    )
    summary = configuration_summary(rows, metric)
    if not summary:
        st.caption("Results appear here as runs finish.")
        return
    st.plotly_chart(error_bar_figure(summary, metric), key="experiments_errors", width="stretch")
    st.caption(
        "Each dot is a configuration's mean over its seeds, its bar ± one standard deviation; "
        "grey rings are single seeds. Bars that overlap mean the difference may be the seed."
    )
    best = best_configuration(rows, metric)
    if best is not None:
        st.button(
            f"Open the best configuration on Train ({best['label']})",
            icon=":material/open_in_new:",
            key="experiments_open_best",
            on_click=open_on_train,
            args=(experiment, best["params"]),
        )
    if experiment.definition.axes:
        st.plotly_chart(
            parallel_coordinates_figure(rows, metric), key="experiments_parallel", width="stretch"
        )
        found = parameter_importance(rows, distributions(experiment.definition.axes), metric)
        if found is None:
            st.caption(
                f"Parameter importance appears once at least {MIN_IMPORTANCE_RUNS} runs have "
                "finished with two or more settings varied."
            )
        else:
            importances, used = found
            st.markdown("**Which setting mattered**")
            st.plotly_chart(importance_figure(importances), key="experiments_importance")
            st.caption(f"{IMPORTANCE_EVALUATOR}, from {used} finished runs.")


def experiment_panel(xstore: ExperimentStore, experiment_id: str, data) -> None:
    store = get_store()
    live = runner.RUNNERS.get(experiment_id)
    shown = xstore.get(experiment_id)
    alive = (live is not None and live.alive) or (shown.status == "running" and shown.owner_alive)

    @st.fragment(run_every=1.0 if alive else None)
    def live_section() -> None:
        experiment = xstore.get(experiment_id)
        current = runner.RUNNERS.get(experiment_id)
        running = current is not None and current.alive
        elsewhere = not running and experiment.status == "running" and experiment.owner_alive
        trials = xstore.trials(experiment_id)
        runs = {run.id: run for run in store.list_runs()}
        rows = trial_rows(trials, runs)
        capacity = current.backend.capacity() if running else 1
        done = progress(experiment, trials, capacity)
        st.markdown(f"**{experiment.status.capitalize()}.** {plain(experiment.message)}")
        left = format_seconds(done.seconds_left) if running else "—"
        st.progress(
            done.runs_done / max(1, done.runs_planned),
            text=f"{done.runs_done} of {done.runs_planned} runs done"
            f"{f', {done.runs_failed} failed' if done.runs_failed else ''}"
            f"{f' · about {left} left' if running else ''}",
        )
        buttons = st.columns(3)
        if running:
            buttons[0].button(
                "Stop after this run",
                key="experiments_stop",
                icon=":material/stop:",
                on_click=current.stop,
                width="stretch",
            )
            buttons[1].button(
                "Stop now",
                key="experiments_abandon",
                icon=":material/cancel:",
                on_click=current.stop,
                kwargs={"abandon": True},
                width="stretch",
                help="Abandons the run under way (kept on Runs as stopped; queued again).",
            )
        elif elsewhere:
            st.caption(f"It is running in another process (pid {experiment.owner_pid}).")
        elif experiment.status != "completed" and data is not None:
            buttons[0].button(
                "Resume",
                key="experiments_resume",
                icon=":material/replay:",
                on_click=resume,
                args=(xstore, experiment_id, data),
            )
        st.dataframe(
            trials_table(rows),
            hide_index=True,
            width="stretch",
            column_config={
                "Val accuracy (%)": st.column_config.NumberColumn(format="%.2f"),
                "Test accuracy (%)": st.column_config.NumberColumn(format="%.2f"),
            },
            key="experiments_trials",
        )
        results(experiment, rows)
        if alive and not running and not elsewhere:
            st.rerun()  # the experiment ended: redraw the page without the timer

    live_section()
    st.caption(
        f"The experiment's Optuna study is `{xstore.get(experiment_id).study_name}` in "
        f"`{xstore.optuna_path}`: `optuna-dashboard {xstore.optuna_url}` opens it."
    )


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
with st.expander("New experiment", expanded=active is None and not xstore.list()):
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
