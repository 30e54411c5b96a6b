"""Runs: every stored run in a table; rename, delete or export one; compare several; import."""

from __future__ import annotations

import datetime
from functools import partial

import streamlit as st

from app_pages import code_views, lineage_views, state
from app_pages.my_digits_store import my_digits_or_none
from app_pages.run_picker import NOTHING, remember_seen, run_picker, seen_label, shown_run_id
from app_pages.run_store import store_or_stop
from app_pages.text import plain
from core.charts.runs import (
    MATRIX_WIDTH,
    METRICS,
    confusion_figures,
    highlight_differences,
    overlay_figure,
    run_labels,
    runs_table,
    spec_table,
)
from core.export.keras_script import export_script
from core.mydigits.records import MyDigitsError
from core.nets.model_files import MAX_IMPORT_MEGABYTES, ModelImportError
from core.runs.changes import read_changes
from core.runs.records import file_stem
from core.runs.store import RunNotFoundError, RunStore, RunStoreError

MAX_COMPARED = 8
ROW_HEIGHT = 35  # pixels of one st.dataframe row
# The runs table: short headings (the whole name in each one's help), results before settings
# and a name column of its own width, so that every column fits at 1440 px; at 900 px the
# name and results show first and the table scrolls sideways (the name is not pinned: a pinned
# column's text is greyed).
TABLE_CONFIG = {
    "Name": st.column_config.TextColumn(width=180),
    "Test accuracy (%)": st.column_config.NumberColumn(
        "Test acc. %", format="%.2f", help="Accuracy on the test digits, in %"
    ),
    "Val accuracy (%)": st.column_config.NumberColumn(
        "Val acc. %", format="%.2f", help="Validation accuracy after the last epoch, in %"
    ),
    "My digits (%)": st.column_config.NumberColumn(
        "Mine %",
        format="%.2f",
        help="Accuracy on My digits (your kept drawings) as last measured on Evaluate with "
        "Test on: My digits; a run's details below say on how many",
    ),
    "Time (s)": st.column_config.NumberColumn(
        "Time (s)", format="%.0f", help="Seconds of training"
    ),
    "Architecture": st.column_config.TextColumn(
        width=150,
        help="Dense: the layer sizes, 784-512-512-10. Convolutional: 28x28 image, then "
        "32C3 = 32 filters of 3x3 (p: same padding, S2: stride 2), BN = batch norm, "
        "P2 = 2x2 max pooling, F = flatten, GAP = global average pooling, then the "
        "dense sizes.",
    ),
    "Learning rate": st.column_config.NumberColumn("Rate", format="%g", help="Learning rate"),
    "Batch size": st.column_config.NumberColumn("Batch", help="Batch size"),
    "Created": st.column_config.DatetimeColumn(
        format="D MMM, HH:mm", help="When the run started (sort by it for the order)"
    ),
}


def tell(kind: str, text: str) -> None:
    state.set("runs_notice", (kind, text))


# Every action below is given the id of the run drawn with its button (the run the person was
# looking at) and reads the run again when it acts; a run deleted meanwhile changes nothing.


def deleted_meanwhile(run_id: str, nothing: str) -> str:
    """The message for an action on a run deleted in another tab: `nothing` was done."""
    return (
        f"{nothing}: {plain(seen_label(run_id))} was deleted meanwhile (in another tab or window?)."
    )


def rename(store: RunStore, run_id: str) -> None:
    try:
        store.rename(run_id, state.get(f"runs_name_{run_id}"))
        tell("success", "Renamed.")
    except RunNotFoundError:
        tell("error", deleted_meanwhile(run_id, "Nothing was renamed"))
    except (ValueError, RunStoreError) as error:
        tell("error", plain(error))


def delete(store: RunStore, run_id: str, name: str) -> None:
    try:
        store.delete(run_id)
    except RunNotFoundError:
        tell("error", deleted_meanwhile(run_id, "Nothing more to delete"))
    except RunStoreError as error:
        tell("error", plain(error))
    else:
        tell("success", f"Deleted {plain(name)} and its model file.")
        if shown_run_id() == run_id:  # nothing shown in its place until another is chosen
            state.set("selected_run_id", NOTHING)


def model_bytes(store: RunStore, run_id: str) -> bytes:
    """The run's model file as it is now (read when Model is pressed)."""
    path = store.model_path(run_id)
    if path is None:
        raise RunStoreError(f"Run {run_id} has no model file now.")
    return path.read_bytes()


def fresh_script(store: RunStore, run_id: str) -> str:
    """The run's Keras script from its spec as stored now (made when Download is pressed)."""
    return export_script(store.get(run_id).spec, read_changes(store, run_id))


def check_download(store: RunStore, run_id: str, what: str) -> None:
    """After a download (`what`: "model", "history", "code") was pressed: if the run, or for a
    model its file, was deleted meanwhile, nothing could be downloaded; say so."""
    try:
        gone = store.model_path(run_id) is None and what == "model"
    except RunNotFoundError:
        gone = True
    if gone:
        also = " or its model file" if what == "model" else ""
        tell(
            "error",
            f"Nothing was downloaded: {plain(seen_label(run_id))}{also} was deleted meanwhile "
            "(in another tab or window?).",
        )


def import_upload(store: RunStore) -> None:
    upload = state.get("runs_upload")
    if upload is None:
        state.set("runs_import_notice", ("error", "Choose a .keras or .h5 file first."))
        return
    name = (state.get("runs_import_name") or "").strip() or None
    try:
        run_id = store.import_model(upload.getvalue(), upload.name, name=name)
    except (ModelImportError, ValueError) as error:
        state.set("runs_import_notice", ("error", plain(error)))
        return
    state.set("runs_import_notice", ("success", f"Imported {plain(upload.name)}."))
    state.set("selected_run_id", run_id)


state.init()  # so that the page can be opened on its own
store = store_or_stop()
st.title(":material/history: Runs")
st.caption(f"Every training run is kept in `{store.home}`, epoch by epoch.")

notice = state.pop("runs_notice")
if notice:
    (st.success if notice[0] == "success" else st.error)(notice[1])


def my_scores() -> dict:
    """Each run's last figures on My digits, by run id (none if My digits cannot be read)."""
    mine = my_digits_or_none()
    try:
        return mine.scores() if mine is not None else {}
    except MyDigitsError:
        return {}


runs = store.list_runs()
ids = [run.id for run in runs]
labels = dict(zip(ids, run_labels(runs), strict=True))
running = any(run.status == "running" for run in runs)


@st.fragment(run_every=3 if running else None)
def show_table() -> None:
    """The table, refreshed every 3 s while a run trains; once none does, the whole page
    reruns (with the final results) and stops refreshing."""
    fresh = store.list_runs() if running else runs
    if running and not any(run.status == "running" for run in fresh):
        st.rerun(scope="app")
    st.dataframe(
        runs_table(fresh, {i: (s.accuracy, s.count) for i, s in my_scores().items()}),
        hide_index=True,
        width="stretch",
        column_config=TABLE_CONFIG,
        placeholder="—",  # not known yet (a run still training, an imported model untested)
        key="runs_table",
    )


if runs:
    show_table()
    st.caption("Click a column heading to sort.")
else:
    st.info("No runs yet. Train a network on the Train page, or import a model below.")


def one_run(store: RunStore, run) -> None:
    """The run chosen: its name, downloads, Evaluate link, deletion and Keras script."""
    st.markdown(f"**{run.status.capitalize()}.** {plain(run.message)}")
    st.caption(f"Data: {plain(run.data_source or 'unknown')} · id {run.id}")
    lineage_views.run_lineage(store, run)  # the run it continues, or was rewound to
    score = my_scores().get(run.id)
    if score is not None:
        when = datetime.datetime.fromtimestamp(score.measured).strftime("%d %b, %H:%M")
        st.caption(
            f"On My digits: {score.accuracy:.2%} of {score.count:,} digits right "
            f"(loss {score.loss:.4f}), measured on Evaluate on {when}."
        )

    name_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    name_column.text_input("Name", value=run.name, key=f"runs_name_{run.id}")
    button_column.button(
        "Rename", key="runs_rename", on_click=rename, args=(store, run.id), width="stretch"
    )
    has_model = store.model_path(run.id) is not None
    downloads(store, run, has_model)
    if has_model:
        st.caption(f"Evaluate and Draw now use {plain(run.name)}.")
    lineage_views.run_actions(store, run)  # Continue, Train again from its starting weights

    with st.expander("Delete this run"):
        # The tick belongs to this run: its key changes with the run, so choosing another
        # run shows an unticked box and a disabled Delete.
        confirmed = st.checkbox(
            f"Yes, delete {plain(run.name)} and its model file",
            key=f"runs_confirm_delete_{run.id}",
        )
        st.button(
            "Delete",
            key="runs_delete",
            type="primary",
            icon=":material/delete:",
            disabled=not confirmed,
            on_click=delete,
            args=(store, run.id, run.name),
        )
    # Its Keras script (app_pages/code_views.py), made from the run as stored when downloaded
    code_views.run_code(
        run,
        changes=read_changes(store, run.id),
        download={
            "data": partial(fresh_script, store, run.id),
            "on_click": check_download,
            "args": (store, run.id, "code"),
        },
    )


def downloads(store: RunStore, run, has_model: bool) -> None:
    """History and model downloads, each read from the store when pressed, and Evaluate."""
    csv_column, model_column, use_column = st.columns(3, vertical_alignment="center")
    csv_column.download_button(
        "History (.csv)",
        data=partial(store.history_csv, run.id),
        file_name=f"{file_stem(run.name)}.csv",
        mime="text/csv",
        icon=":material/table:",
        key="runs_csv",
        on_click=check_download,
        args=(store, run.id, "history"),
        disabled=not run.epochs_done,
        width="stretch",
    )
    model_column.download_button(
        "Model (.keras)",
        data=partial(model_bytes, store, run.id),
        file_name=f"{file_stem(run.name)}.keras",
        mime="application/octet-stream",
        icon=":material/download:",
        key="runs_model",
        on_click=check_download,
        args=(store, run.id, "model"),
        disabled=not has_model,
        width="stretch",
    )
    use_column.page_link(
        "app_pages/evaluate.py",
        label="Evaluate it",
        icon=":material/fact_check:",
        disabled=not has_model,
        width="stretch",
    )


def no_longer_compared(gone: list[str]) -> None:
    names = ", ".join(plain(seen_label(run_id)) for run_id in gone)
    st.warning(
        f"No longer compared: {names}, deleted meanwhile (in another tab or window?).",
        icon=":material/warning:",
    )


def compared_runs(store: RunStore, ids: list[str]) -> list:
    """The chosen runs as stored now; any deleted since the list was read are named."""
    runs, gone = [], []
    for run_id in ids:
        try:
            runs.append(store.get(run_id))
        except RunNotFoundError:
            gone.append(run_id)
    if gone:
        no_longer_compared(gone)
    return runs


def compare(store: RunStore) -> None:
    """Two to eight runs side by side; runs deleted meanwhile are named and left out, never
    replaced."""
    st.subheader("Compare runs")
    before = state.get("runs_compare")
    if gone := [run_id for run_id in before if run_id not in labels]:
        no_longer_compared(gone)
        state.set("runs_compare", [run_id for run_id in before if run_id in labels])
    chosen = st.multiselect(
        "Runs to compare",
        ids,
        format_func=labels.get,
        max_selections=MAX_COMPARED,
        placeholder="Choose two or more runs",
        key="runs_compare",
    )
    remember_seen([run for run in runs if run.id in chosen])
    compared = compared_runs(store, chosen) if len(chosen) >= 2 else []
    if len(compared) < 2:
        st.caption("Choose two or more runs to see their curves, settings and mistakes together.")
        return
    metric = st.selectbox(
        "Curve", list(METRICS), index=3, format_func=METRICS.get, key="runs_metric"
    )
    found = lineage_views.compared_lineage(store, compared)  # shared starting weights
    carried = lineage_views.carried_epochs(found)
    st.plotly_chart(overlay_figure(compared, metric, carried), key="runs_overlay")
    st.markdown("**Settings** (shaded rows differ)")
    settings = spec_table(compared, found)
    st.dataframe(
        highlight_differences(settings),
        width="stretch",
        height=ROW_HEIGHT * (len(settings) + 1) + 3,  # every setting, no inner scrolling
        # the settings' names whole ("Restore best weights"), kept in view when it scrolls
        column_config={"_index": st.column_config.TextColumn("Setting", width=175, pinned=True)},
    )
    code_views.compared_scripts(compared, [labels[run.id] for run in compared])
    normalised = st.toggle("Confusion matrices as % of each true digit", key="runs_normalised")
    figures = confusion_figures(compared, normalised=normalised)
    # Side by side as many as fit (two at 1440 px, one at 900 px), each wide enough to read
    with st.container(horizontal=True, gap="medium"):
        for figure, run in zip(figures, compared, strict=True):
            st.plotly_chart(figure, key=f"runs_confusion_{run.id}", width=MATRIX_WIDTH)


if runs:
    st.subheader("One run")
    chosen_run = run_picker("runs_run", "Run", runs, lambda run: labels[run.id])
    if chosen_run is not None:
        try:
            one_run(store, store.get(chosen_run.id))
        except RunNotFoundError:  # deleted in another tab since the list was read: read it again
            st.rerun()
    compare(store)

st.subheader("Import a model")
st.markdown(
    "Upload a Keras model that takes a 28x28 digit (784 values, or 28x28, or 28x28x1) and "
    f"gives 10 classes, up to {MAX_IMPORT_MEGABYTES} MB. It is loaded in Keras's safe mode, "
    "so a file carrying code (a Lambda layer) is refused."
)
st.file_uploader(
    "Model file",
    type=["keras", "h5"],
    max_upload_size=MAX_IMPORT_MEGABYTES,
    key="runs_upload",
)
st.text_input("Name (optional)", key="runs_import_name")
st.button(
    "Import", key="runs_import", on_click=import_upload, args=(store,), icon=":material/upload:"
)
import_notice = state.pop("runs_import_notice")
if import_notice:
    (st.success if import_notice[0] == "success" else st.error)(import_notice[1])
