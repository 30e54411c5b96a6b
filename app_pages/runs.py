"""Runs: every stored run in a table; rename, delete or export one; compare several; import."""

from __future__ import annotations

import streamlit as st

from app_pages import code_views, state
from app_pages.run_picker import run_picker
from app_pages.run_store import store_or_stop
from app_pages.text import plain
from core.charts.runs import (
    METRICS,
    confusion_figures,
    highlight_differences,
    overlay_figure,
    run_labels,
    runs_table,
    spec_table,
)
from core.nets.model_files import MAX_IMPORT_MEGABYTES, ModelImportError
from core.runs.records import file_stem
from core.runs.store import RunNotFoundError, RunStore, RunStoreError

MAX_COMPARED = 8
MATRICES_PER_ROW = 3
ROW_HEIGHT = 35  # pixels of one st.dataframe row


def tell(kind: str, text: str) -> None:
    state.set("runs_notice", (kind, text))


def rename(store: RunStore, run_id: str) -> None:
    try:
        store.rename(run_id, state.get(f"runs_name_{run_id}"))
        tell("success", "Renamed.")
    except (ValueError, RunStoreError) as error:
        tell("error", plain(error))


def delete(store: RunStore, run_id: str, name: str) -> None:
    try:
        store.delete(run_id)
        tell("success", f"Deleted {plain(name)} and its model file.")
    except RunStoreError as error:
        tell("error", plain(error))


def check_download(store: RunStore, run_id: str, name: str) -> None:
    """After Model (.keras) is pressed: if the run or its file has gone meanwhile (deleted in
    another tab), the download cannot work; say so instead of failing without a word."""
    try:
        gone = store.model_path(run_id) is None
    except RunNotFoundError:
        gone = True
    if gone:
        tell(
            "error",
            f"{plain(name)} or its model file was deleted meanwhile (in another tab or "
            "window?), so there was nothing to download.",
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
        runs_table(fresh),
        hide_index=True,
        width="stretch",
        column_config={
            "Architecture": st.column_config.TextColumn(
                help="Dense: the layer sizes, 784-512-512-10. Convolutional: 28x28 image, then "
                "32C3 = 32 filters of 3x3 (p: same padding, S2: stride 2), BN = batch norm, "
                "P2 = 2x2 max pooling, F = flatten, GAP = global average pooling, then the "
                "dense sizes."
            ),
            "Learning rate": st.column_config.NumberColumn(format="%g"),
            "Val accuracy (%)": st.column_config.NumberColumn(format="%.2f"),
            "Test accuracy (%)": st.column_config.NumberColumn(format="%.2f"),
            "Time (s)": st.column_config.NumberColumn(format="%.1f"),
            "Created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
        key="runs_table",
    )


if runs:
    show_table()
    st.caption("Click a column heading to sort.")
else:
    st.info("No runs yet. Train a network on the Train page, or import a model below.")

if runs:
    st.subheader("One run")
    chosen_run = run_picker("runs_run", "Run", runs, lambda run: labels[run.id])
    try:
        run = store.get(chosen_run.id)
        model_path = store.model_path(run.id)
        history_csv = store.history_csv(run.id)
    except RunNotFoundError:  # deleted in another tab since the list was read: read it again
        st.rerun()
    st.markdown(f"**{run.status.capitalize()}.** {plain(run.message)}")
    st.caption(f"Data: {plain(run.data_source or 'unknown')} · id {run.id}")

    name_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    name_column.text_input("Name", value=run.name, key=f"runs_name_{run.id}")
    button_column.button(
        "Rename", key="runs_rename", on_click=rename, args=(store, run.id), width="stretch"
    )

    csv_column, model_column, use_column = st.columns(3, vertical_alignment="center")
    csv_column.download_button(
        "History (.csv)",
        data=history_csv,
        file_name=f"{file_stem(run.name)}.csv",
        mime="text/csv",
        icon=":material/table:",
        key="runs_csv",
        on_click="ignore",
        disabled=not run.epochs_done,
        width="stretch",
    )
    model_column.download_button(
        "Model (.keras)",
        data=model_path.read_bytes if model_path else b"",
        file_name=f"{file_stem(run.name)}.keras",
        mime="application/octet-stream",
        icon=":material/download:",
        key="runs_model",
        on_click=check_download,
        args=(store, run.id, run.name),
        disabled=model_path is None,
        width="stretch",
    )
    use_column.page_link(
        "app_pages/evaluate.py",
        label="Evaluate it",
        icon=":material/fact_check:",
        disabled=model_path is None,
        width="stretch",
    )
    if model_path is not None:
        st.caption(f"Evaluate and Draw now use {plain(run.name)}.")

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
    code_views.run_code(run)  # its Keras script (app_pages/code_views.py)

    st.subheader("Compare runs")
    chosen = [i for i in state.get("runs_compare") if i in labels]
    state.set("runs_compare", chosen)
    chosen = st.multiselect(
        "Runs to compare",
        ids,
        format_func=labels.get,
        max_selections=MAX_COMPARED,
        placeholder="Choose two or more runs",
        key="runs_compare",
    )
    if len(chosen) < 2:
        st.caption("Choose two or more runs to see their curves, settings and mistakes together.")
    else:
        compared = [store.get(i) for i in chosen]
        metric = st.selectbox(
            "Curve", list(METRICS), index=3, format_func=METRICS.get, key="runs_metric"
        )
        st.plotly_chart(overlay_figure(compared, metric), key="runs_overlay")
        st.markdown("**Settings** (shaded rows differ)")
        settings = spec_table(compared)
        st.dataframe(
            highlight_differences(settings),
            width="stretch",
            height=ROW_HEIGHT * (len(settings) + 1) + 3,  # every setting, no inner scrolling
        )
        code_views.compared_scripts(compared, [labels[i] for i in chosen])
        normalised = st.toggle("Confusion matrices as % of each true digit", key="runs_normalised")
        figures = confusion_figures(compared, normalised=normalised)
        for start in range(0, len(figures), MATRICES_PER_ROW):
            for column, figure, i in zip(
                st.columns(MATRICES_PER_ROW),
                figures[start : start + MATRICES_PER_ROW],
                chosen[start : start + MATRICES_PER_ROW],
                strict=False,
            ):
                column.plotly_chart(figure, key=f"runs_confusion_{i}")

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
