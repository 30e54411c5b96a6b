"""The chosen experiment on the Experiments page: its progress, Stop or Resume, its trials and
results, and its best configuration opened on Train (through Train's own `set_spec`)."""

from __future__ import annotations

import streamlit as st

from app_pages import state
from app_pages.run_store import get_store
from app_pages.text import format_seconds, plain
from app_pages.train_controls import set_spec
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
    trials_view,
)
from core.experiments import runner
from core.experiments.store import ExperimentStore
from core.experiments.sweeps import distributions, spec_for


def experiment_panel(xstore: ExperimentStore, experiment_id: str, data) -> None:
    """The chosen experiment: progress, Stop or Resume, its trials and results; redrawn every
    second while it runs."""
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
        rows = trial_rows(trials, {run.id: run for run in store.list_runs()})
        show_progress(experiment, trials, current if running else None)
        buttons = st.columns(3)
        if running:
            stop_buttons(buttons, current)
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
        trials_dataframe(rows)
        results(experiment, rows)
        if alive and not running and not elsewhere:
            st.rerun()  # the experiment ended: redraw the page without the timer

    live_section()
    st.caption(
        f"The experiment's Optuna study is `{xstore.get(experiment_id).study_name}` in "
        f"`{xstore.optuna_path}`: `optuna-dashboard {xstore.optuna_url}` opens it."
    )


def show_progress(experiment, trials: list, running) -> None:
    """Its status and message, and a bar of the runs done (and the time left while `running`,
    the experiment's live runner, trains them)."""
    done = progress(experiment, trials, running.backend.capacity() if running else 1)
    st.markdown(f"**{experiment.status.capitalize()}.** {plain(experiment.message)}")
    left = format_seconds(done.seconds_left) if running else "—"
    st.progress(
        done.runs_done / max(1, done.runs_planned),
        text=f"{done.runs_done} of {done.runs_planned} runs done"
        f"{f', {done.runs_failed} failed' if done.runs_failed else ''}"
        f"{f' · about {left} left' if running else ''}",
    )


def stop_buttons(buttons: list, running) -> None:
    """Stop after the run under way, or now (abandoning it), for the live runner `running`."""
    buttons[0].button(
        "Stop after this run",
        key="experiments_stop",
        icon=":material/stop:",
        on_click=running.stop,
        width="stretch",
    )
    buttons[1].button(
        "Stop now",
        key="experiments_abandon",
        icon=":material/cancel:",
        on_click=running.stop,
        kwargs={"abandon": True},
        width="stretch",
        help="Abandons the run under way (kept on Runs as stopped; queued again).",
    )


def trials_dataframe(rows: list[dict]) -> None:
    """One row per run; a run's missing accuracy says why ("queued", "training…", "—")."""
    st.dataframe(trials_view(rows), hide_index=True, width="stretch", key="experiments_trials")


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


def open_on_train(experiment, params: dict) -> None:
    spec = spec_for(experiment.definition.base_spec, params, experiment.definition.seed_values()[0])
    set_spec(spec)
    st.switch_page("app_pages/train.py")


def resume(xstore: ExperimentStore, experiment_id: str, data) -> None:
    address = state.get("experiments_ray") or None
    store = get_store()
    store.mark_interrupted()  # the run a dead process left running
    xstore.requeue_running(experiment_id)
    try:
        runner.start(store, xstore, experiment_id, data, address)
    except (RuntimeError, ImportError, ConnectionError) as error:
        state.set("experiments_notice", str(error))
