"""This session's training: starting a recorded run, the job that trains it, the next one built
ahead.

`train_run_id` is the run this session's job trains (or trained last); it is not the run the
pages show (app_pages/run_picker.py), though starting a run makes it that too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamlit.runtime.scriptrunner import get_script_run_ctx

from app_pages import state
from app_pages.run_store import get_store
from core.training.job import TrainingJob
from core.training.job import build_ahead as build_model_ahead
from core.training.registry import JOBS, TrainingBusyError

if TYPE_CHECKING:
    from core.mnist.data import MNIST
    from core.nets.model import ModelSpec

# The Train page drawn right after Train is pressed waits up to this long for the run's first
# point, so that it shows it: with the network built ahead (core.training.warm_start) the first
# batch usually ends within it, and a page that missed it showed it only at its next redraw.
# The page above the curves is drawn before the wait, its controls already disabled.
FIRST_POINT_WAIT_SECONDS = 1.0


def start_training(
    spec: ModelSpec, data: MNIST, callbacks: tuple | list = (), starting=None
) -> TrainingJob:
    """Record a new run in the store and train it on a background job: THE way pages start one.

    One run at a time per browser session: while this session's job is training (two quick
    clicks on Train, say), nothing new starts and that job is returned. `callbacks` are extra
    Keras callbacks for the run (Train's weight and gradient norms); `starting`, a stored
    run's state to continue or weights to rewind to (core/runs/lineage.py).
    """
    from core.runs.start import start_recorded_run  # Keras: not at start-up

    ctx = get_script_run_ctx()
    owner = ctx.session_id if ctx is not None else None
    try:
        job = start_recorded_run(
            get_store(), spec, data, owner=owner, callbacks=callbacks, starting=starting
        )
    except TrainingBusyError:
        busy = current_job()
        if busy is not None:
            return busy
        raise
    state.set("train_run_id", job.run_id)
    state.set("selected_run_id", job.run_id)
    return job


def build_ahead(spec: ModelSpec, data: MNIST | None) -> None:
    """Build and trace `spec`'s model in the background while the page is read, so pressing
    Train starts at once (core/training/warm_start.py); nothing while this session trains."""
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
    return JOBS.get(state.get("train_run_id"))


def training_now() -> bool:
    """Whether this session's training job is training (see `current_job`)."""
    job = current_job()
    return job is not None and job.running
