"""What several pages share: session state, cached data and store, starting a training run.

Session state is initialised here and only here: `SESSION_DEFAULTS` lists every key a page
reads before writing it, with its default, and `init_session` (called by app.py on every run,
and by any page that can be opened on its own) sets the missing ones. Every key a page owns
starts with its name. The Train page's network (`train_spec` and the widgets drawn from it,
app_pages/train_controls.py) is the one computed default: it starts from the default preset.

The run the pages show is one session value, `selected_run_id` (`shown_run_id()`): Train sets
it when it starts a run, and the run pickers of Evaluate, Draw and Runs (`run_picker`) show and
change it. `train_run_id` is a different thing: the run this session's training job trains.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import TYPE_CHECKING

import streamlit as st

# NumPy and the app's core are imported where they are used, not here: app.py imports this
# module before a fresh server's first page draws anything, and importing them (0.1 s) held
# back its title.
if TYPE_CHECKING:
    from core.mnist.data import MNIST
    from core.nets.model import ModelSpec
    from core.training.job import TrainingJob

LOG = logging.getLogger(__name__)

SESSION_DEFAULTS = {
    "train_run_id": None,  # the run this session's training job trains (or trained last)
    "selected_run_id": None,  # the run Evaluate, Draw and Runs show (None: the newest)
    "train_error": None,  # why the last Train press started nothing
    "evaluate_true": 4,  # the confusion-matrix cell opened on Evaluate
    "evaluate_predicted": 9,
    "evaluate_index": 0,  # the test image inspected on Evaluate
    "draw_pen": 18,  # the Draw page's pen width in pixels
    "runs_compare": [],  # the runs compared on Runs
    "runs_notice": None,  # (kind, text) to show once on Runs after a rename or delete
    "runs_import_notice": None,  # the same for an import
}


def init_session() -> None:
    """Set every session value a page reads to its default, where it is not set yet."""
    st.session_state.setdefault("data_path", os.environ.get("MNIST_DATA", ""))
    for key, value in SESSION_DEFAULTS.items():
        st.session_state.setdefault(key, list(value) if isinstance(value, list) else value)


MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>:$&])")
# GitHub-flavoured markdown (Streamlit's) turns bare addresses into links even when escaped;
# an invisible zero-width space after "://", "www" and "@" stops it, the text reads the same.
AUTOLINKS = re.compile(r"(://|(?<![^\W_])www(?=\.)|@)", re.IGNORECASE)
ZERO_WIDTH_SPACE = "\u200b"


def plain(text: str) -> str:
    """`text` (a name or other words a person typed) escaped so that Streamlit's markdown
    shows it as typed: no bold, links, headings, emoji codes or formulas."""
    unlinked = AUTOLINKS.sub(lambda match: match.group(0) + ZERO_WIDTH_SPACE, str(text))
    return MARKDOWN_SPECIALS.sub(r"\\\1", unlinked)


def keep_keras_state() -> None:
    """Stop Streamlit from clearing Keras's session after every script run.

    Streamlit (1.67, `script_runner._clean_problem_modules`) calls
    `keras.backend.clear_session()` at the end of each run of the page, and the live curves
    rerun twice a second. Each call forces a full garbage collection and resets TensorFlow's
    state while the training thread is using it, which stalled training for seconds at a
    time. Every run here builds its own model, so nothing needs clearing. The hook is private
    API: if a later Streamlit renames it, this warns in the log and returns False
    (tests/pages/test_common.py fails then, so an upgrade cannot lose it unnoticed).
    """
    from streamlit.runtime.scriptrunner import script_runner

    if not hasattr(script_runner, "_clean_problem_modules"):
        LOG.warning(
            "Streamlit %s has no script_runner._clean_problem_modules: it may now clear "
            "Keras's session after every page run, stalling training; see "
            "app_pages/common.keep_keras_state.",
            st.__version__,
        )
        return False
    script_runner._clean_problem_modules = lambda: None
    return True


def keep_widget_state(prefix: str) -> None:
    """Keep the values of widgets whose keys start with `prefix` while their page is not shown.

    Streamlit forgets a widget's value once a run does not draw it; writing the value back as
    plain session state on every run (from app.py) keeps it for when the page is shown again.
    Only value widgets carry such a prefix, never buttons, which cannot be set this way.
    """
    for key in [key for key in st.session_state if str(key).startswith(prefix)]:
        st.session_state[key] = st.session_state[key]


@st.cache_resource(show_spinner=False)
def warm_up_keras() -> threading.Thread:
    """Import TensorFlow and Keras on a background thread once per server.

    The first page shows at once; by the time a person presses Train the ten-second import
    has already happened.
    """

    def _import() -> None:
        from core.runtime.tf_import import tensorflow

        # At the page's own priority (not core.runtime.jobs.run_in_background): importing holds
        # Python's lock most of the time, and a page waiting for it would wait as long as the
        # import is kept off the processor. The import runs no operation, so TensorFlow's
        # thread pools are made later, by the first build or job, at theirs.
        tensorflow()

    thread = threading.Thread(target=_import, name="warm-up-keras", daemon=True)
    thread.start()
    return thread


@st.cache_resource(max_entries=2, show_spinner="Loading MNIST…")
def _load(path: str) -> MNIST:
    # cache_resource, not cache_data: the arrays are read-only and 55 MB, and every page
    # rerun would otherwise unpickle a fresh copy of them.
    from core.mnist.data import load_mnist

    return load_mnist(path or None)


def get_data() -> tuple[MNIST | None, str | None]:
    """The data set this session uses, or None and the message saying what is wrong."""
    from core.mnist.data import DataError

    init_session()
    path = st.session_state["data_path"]
    try:
        return _load(path), None
    except DataError as error:
        return None, str(error)
    except (
        OSError
    ) as error:  # core.mnist.data turns what it expects into DataError; never a traceback
        return None, f"The files in {path or 'the default place'} cannot be read ({error})."


def show_data_source(data: MNIST | None, error: str | None) -> None:
    if error:
        st.error(f"**The data could not be loaded.** {plain(error)}", icon=":material/error:")
    elif data is not None and data.is_sample:
        st.warning(
            f"**{plain(data.description)}.** No MNIST files were found and Keras could not download "
            "them, so this runs on a small sample: accuracies here are not comparable with "
            "published MNIST results. Point the app at the MNIST files below to use the full set.",
            icon=":material/science:",
        )
    elif data is not None:
        st.caption(f":material/database: {plain(data.description)}")


def data_source_panel() -> None:
    data, error = get_data()
    show_data_source(data, error)
    with st.expander("Data source", expanded=bool(error)):
        st.markdown(
            "By default the app uses Keras's own copy of MNIST (downloaded once into "
            "`~/.keras/datasets`). To use files you have, give a folder holding the four IDX "
            "files (`train-images-idx3-ubyte.gz`, …) or an `mnist.npz`. With neither and no "
            "network, it falls back to a labelled 5,000-digit sample."
        )
        with st.form("home_data_form", border=False):
            path = st.text_input(
                "Folder or .npz file", value=st.session_state["data_path"], key="home_data_path"
            )
            if st.form_submit_button("Use these files"):
                st.session_state["data_path"] = path.strip()
                st.rerun()


@st.cache_resource(max_entries=4, show_spinner=False)
def _open_store(home: str):
    from core.runs.store import RunStore

    store = RunStore(home)
    store.mark_interrupted()
    return store


def store_or_stop():
    """The run store; if it cannot be opened (say its file is not a database), the page shows
    the store's message and stops. The file is left as it is."""
    from core.runs.records import RunStoreError

    try:
        return get_store()
    except RunStoreError as error:
        st.error(f"**The run store cannot be opened.** {plain(error)}", icon=":material/error:")
        st.stop()


def get_store():
    """The run store, opened once per server and folder; runs a dead process left running are
    marked interrupted when it is opened."""
    from core.runs.store import default_home

    return _open_store(str(default_home()))


# The Train page drawn right after Train is pressed waits up to this long for the run's first
# point, so that it shows it: with the network built ahead (core.training.warm_start) the first batch
# ends 0.4-0.6 s after the click (up to a second on a busy machine), and a page that missed it
# showed it only at its next redraw, half a second to a second later (bench/latency.py). The
# page above the curves is drawn before the wait, its controls already disabled.
FIRST_POINT_WAIT_SECONDS = 1.0


def start_training(spec: ModelSpec, data: MNIST, callbacks: tuple | list = ()) -> TrainingJob:
    """Record a new run in the store and train it on a background job: THE way pages start one.

    One run at a time per browser session: while this session's job is training (two quick
    clicks on Train, say), nothing new starts and that job is returned. `callbacks` are extra
    Keras callbacks for the run (Train's weight and gradient norms).
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from core.runs.start import start_recorded_run
    from core.training.registry import TrainingBusyError

    ctx = get_script_run_ctx()
    owner = ctx.session_id if ctx is not None else None
    try:
        job = start_recorded_run(get_store(), spec, data, owner=owner, callbacks=callbacks)
    except TrainingBusyError:
        busy = current_job()
        if busy is not None:
            return busy
        raise
    st.session_state["train_run_id"] = job.run_id
    st.session_state["selected_run_id"] = job.run_id
    return job


def build_ahead(spec: ModelSpec, data: MNIST | None) -> None:
    """Build and trace `spec`'s model in the background while the page is read, so pressing
    Train starts at once (core/training/warm_start.py); nothing while this session trains."""
    from core.training.job import build_ahead as build_model_ahead

    if data is not None and not training_now():
        build_model_ahead(spec, data)


def current_job() -> TrainingJob | None:
    """This session's training job, for use inside a function.

    A page never keeps a job (or a model) in a module-level name: Streamlit keeps each page
    run's namespace alive through its widget callbacks for as long as the session lives,
    disconnected ones included (`server.disconnectedSessionTTL`), so a job held there keeps
    its whole model and traced TensorFlow graphs in memory after it is forgotten. Pages ask
    `training_now()` instead.
    """
    from core.training.registry import JOBS

    init_session()
    return JOBS.get(st.session_state["train_run_id"])


def training_now() -> bool:
    """Whether this session's training job is training (see `current_job`)."""
    job = current_job()
    return job is not None and job.running


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "…"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s"


def model_runs() -> list:
    """Stored runs that have a model to look at, newest first."""
    return [run for run in get_store().list_runs() if run.has_model]


def shown_run_id() -> str | None:
    """The run the pages show (Evaluate, Draw, Runs), or None for the newest."""
    init_session()
    return st.session_state["selected_run_id"]


def run_picker(key: str, label: str = "Run", runs: list | None = None, format_func=None):
    """A select box of `runs` (default: the runs with a model) showing the session's run.

    The session's run (`shown_run_id`), else the newest, is chosen; choosing another changes
    it for every page. The widget's own `key` only mirrors that one value, so a run deleted
    or added elsewhere never leaves the box on a stale choice. Returns the chosen run, or
    None when there are no runs.
    """
    runs = model_runs() if runs is None else runs
    if not runs:
        return None
    by_id = {run.id: run for run in runs}
    chosen = shown_run_id()
    st.session_state[key] = chosen if chosen in by_id else runs[0].id

    def remember() -> None:
        st.session_state["selected_run_id"] = st.session_state[key]

    run_id = st.selectbox(
        label,
        list(by_id),
        key=key,
        on_change=remember,
        format_func=lambda run_id: (format_func or describe_run)(by_id[run_id]),
    )
    return by_id[run_id]


def describe_run(run) -> str:
    accuracy = f", test {run.test_accuracy:.2%}" if run.test_accuracy is not None else ""
    return f"#{run.number} {run.name} ({run.status}, {run.epochs_done} epochs{accuracy})"


def model_stamp(run_id: str) -> float:
    """Changes whenever the run's model file is rewritten (after each epoch while training)."""
    path = get_store().model_path(run_id)
    return path.stat().st_mtime if path is not None else 0.0


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def load_run_model(run_id: str, stamp: float):
    """The run's model in safe mode, as (N, 784) -> (N, 10) probabilities; one per file version."""
    from core.nets.model_files import standard_form

    model = get_store().load_model(run_id, compile=False)
    if getattr(model, "is_baseline", False):  # a random forest: already (N, 784) -> (N, 10)
        return model
    model, _ = standard_form(model)
    return model


def checked_model_stamp(run_id: str) -> float | None:
    """The run's `model_stamp` once its model has loaded (`load_run_model` then has it cached),
    or None after showing why it cannot be: the run or its model file was deleted meanwhile,
    or the file is damaged. Pages then call `load_run_model(run_id, stamp)` where they use it."""
    from core.runs.records import RunStoreError

    try:
        stamp = model_stamp(run_id)
        load_run_model(run_id, stamp)
    except (RunStoreError, OSError, ValueError) as error:
        st.error(f"**This run's model cannot be loaded.** {plain(error)}", icon=":material/error:")
        return None
    return stamp
