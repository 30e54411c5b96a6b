"""Running an experiment: a background queue that trains its runs, one after another.

`ExperimentRunner` is a thread that takes the experiment's queued trials in order, plans more
configurations when the queue runs dry (grid values in order, or Optuna's random or TPE
sampler asked for the next one), and hands each trial to a backend: `EmbeddedBackend` trains
it here with the same `TrainingJob` and store listeners as the Train page (one at a time);
`core.experiments.ray_backend.RayBackend` sends it to a Ray cluster (as many at once as it has room for).
What need not hold up a run is done while the one before it runs: planning the next
configuration (not for TPE, which waits for the results), the Optuna study's bookkeeping, and
building the next run's model and preparing its data (embedded, once the run under way has
finished training; the network's traced steps are built once and kept for its later runs,
core.training.traced_models.TracedModels).
Each trial becomes an ordinary run in the `RunStore`, tagged with the experiment. When every
seed of a configuration has finished, its mean validation accuracy is told to the experiment's
Optuna study (`optuna.sqlite3` in the store's home, which optuna-dashboard can open).

Stop either lets the run under way finish or abandons it (the run stays on Runs as stopped and
its trial goes back in the queue); either way nothing finished is lost. An experiment whose
process died stays "running" in the database with a dead owner: `resume_interrupted` puts its
unfinished trials back in the queue and starts a runner again.
"""

from __future__ import annotations

import logging
import threading

from core.experiments.backend import Outcome
from core.experiments.baselines import create_baseline_run
from core.experiments.embedded import EmbeddedBackend
from core.experiments.store import Experiment, ExperimentStore, Trial
from core.experiments.sweeps import (
    ExperimentDefinition,
    describe_configuration,
    distributions,
    grid_configurations,
    make_sampler,
    spec_for,
)
from core.runtime.jobs import describe_failure

MAX_ATTEMPTS = 2  # a trial whose worker died is retried once, then marked failed
MAX_RUN_NAME = 120
NO_DATA = "No data to train on: an experiment can start once MNIST loads."

logger = logging.getLogger(__name__)


class ExperimentRunner:
    """One experiment's queue, worked through on a background thread."""

    def __init__(self, store, experiments: ExperimentStore, experiment_id: str, backend) -> None:
        self.store = store
        self.experiments = experiments
        self.experiment_id = experiment_id
        self.backend = backend
        self.error: BaseException | None = None
        self.stop_requested = False
        self.abandon_requested = False
        self._running: dict[str, Trial] = {}  # run id -> trial, for the runs under way
        self._lock = threading.Lock()
        self._study = None
        self._thread = threading.Thread(
            target=self._run, name=f"experiment-{experiment_id}", daemon=True
        )

    # ----- control -------------------------------------------------------------------------

    def start(self) -> ExperimentRunner:
        where = "on the Ray cluster" if self.backend.name == "ray" else "one after another"
        self.experiments.set_status(self.experiment_id, "running", f"Training its runs {where}.")
        self._thread.start()
        return self

    def stop(self, abandon: bool = False) -> None:
        """Start no more runs; with `abandon`, also stop the runs under way at their next batch."""
        self.stop_requested = True
        if abandon:
            self.abandon_requested = True
            self.backend.abandon()

    def join(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def running_runs(self) -> list[str]:
        with self._lock:
            return list(self._running)

    # ----- the loop ------------------------------------------------------------------------

    def _run(self) -> None:
        status, message = "completed", "Every planned run has finished."
        try:
            self._loop()
            if self.stop_requested:
                status, message = "stopped", "Stopped; completed runs are kept. Resume to go on."
        except Exception as error:  # the page shows it; the thread must not die silently
            self.error = error
            logger.exception("experiment %s failed", self.experiment_id)
            detail = describe_failure(error)
            status, message = "failed", f"The experiment stopped on an error: {detail}"
        finally:
            self.backend.close()
        self.experiments.set_status(self.experiment_id, status, message)

    def _loop(self) -> None:
        experiment = self.experiments.get(self.experiment_id)
        while True:
            launched = False
            while not self.stop_requested and len(self._running) < self.backend.capacity():
                trial = self.experiments.take_next(self.experiment_id)
                if trial is None and self._plan_next(experiment):
                    trial = self.experiments.take_next(self.experiment_id)
                if trial is None:
                    break
                self._launch(experiment, trial)
                launched = True
            if not self._running:
                return
            if launched:
                self._plan_ahead(experiment)
            for run_id, outcome in self.backend.poll(timeout=1.0).items():
                with self._lock:
                    trial = self._running.pop(run_id)
                self._settle(experiment, trial, run_id, outcome)

    def _launch(self, experiment: Experiment, trial: Trial) -> None:
        definition = experiment.definition
        spec = None
        if trial.baseline is None:
            spec = spec_for(definition.base_spec, trial.params, trial.seed)
        name = f"{experiment.name} · {describe_configuration(trial.params)} · seed {trial.seed}"
        name = name if len(name) <= MAX_RUN_NAME else name[: MAX_RUN_NAME - 1] + "…"
        run_id = None
        try:
            run_id = self._create_run(experiment, trial, spec, name)
            self.experiments.attach_run(trial, run_id)
            with self._lock:
                self._running[run_id] = trial
            self.backend.launch(trial, spec, run_id)
        except Exception as error:  # taken off the queue: say why it never ran
            with self._lock:
                self._running.pop(run_id, None)
            self.experiments.finish(trial, "failed", message=f"Could not start: {error}")
            raise

    def _create_run(self, experiment: Experiment, trial: Trial, spec, name: str) -> str:
        if trial.baseline is not None:
            return create_baseline_run(
                self.store, trial.baseline, trial.seed, self.backend.data, name, experiment.id
            )
        return self.store.create_run(
            spec, self.backend.data.description, name=name, experiment_id=experiment.id
        )

    def _settle(self, experiment: Experiment, trial: Trial, run_id: str, outcome: Outcome) -> None:
        run = self.store.get(run_id)
        if outcome.status == "lost":  # its worker died (the backend marked the run failed)
            retry = trial.attempts < MAX_ATTEMPTS
            self.experiments.finish(
                trial,
                "queued" if retry else "failed",
                message=(
                    "Its worker died; trying once more. "
                    if retry
                    else "Its worker died twice; given up. "
                )
                + outcome.message,
            )
        elif run.status == "stopped" and self.abandon_requested:
            self.experiments.finish(trial, "queued", message="Abandoned by Stop; queued again.")
        elif run.status in ("completed", "stopped"):
            self.experiments.finish(
                trial, "completed", run.val_accuracy, run.test_accuracy, run.message
            )
        else:
            self.experiments.finish(trial, "failed", message=run.message or outcome.message)
        self._tell_if_done(experiment, trial)

    # ----- planning with Optuna -------------------------------------------------------------

    def study(self, experiment: Experiment):
        """The experiment's Optuna study, opened once per runner."""
        if self._study is None:
            self._study = open_study(self.experiments, experiment)
        return self._study

    def _plan_ahead(self, experiment: Experiment) -> None:
        """What need not hold up the next run, done while the runs just launched train: plan
        the next configuration once the queue is empty if its choice does not depend on the
        results of the runs under way (grid, random; TPE waits for them), ask the study for
        the configurations queued without their Optuna trial, and let the backend get the
        next run ready (the embedded one builds and traces its model, as Train does while a
        person reads the page)."""
        definition = experiment.definition
        upcoming = self.experiments.next_queued(self.experiment_id)
        ahead = definition.method != "tpe" or not definition.axes
        if upcoming is None and ahead and not self.stop_requested and self._plan_next(experiment):
            upcoming = self.experiments.next_queued(self.experiment_id)
        self._ask_unasked(experiment)
        prepare = getattr(self.backend, "prepare", None)
        if prepare and upcoming is not None and upcoming.baseline is None:
            prepare(spec_for(definition.base_spec, upcoming.params, upcoming.seed))

    def _plan_next(self, experiment: Experiment) -> bool:
        """Queue the next configuration's seeds; False when the plan is complete.

        A grid's configuration (or the base settings, with nothing varied) is known without
        the study: it is queued at once and asked of the study later (`_ask_unasked`), so the
        first run need not wait for Optuna to open its database.
        """
        definition = experiment.definition
        index = self.experiments.configurations(self.experiment_id)
        if index >= definition.configurations_planned():
            return False
        seeds = definition.seed_values()
        if not definition.axes:
            self.experiments.add_trials(self.experiment_id, index, {}, seeds, None)
        elif definition.method == "grid":
            params = grid_configurations(definition.axes)[index]
            self.experiments.add_trials(self.experiment_id, index, params, seeds, None)
        else:
            asked = self.study(experiment).ask(distributions(definition.axes))
            params = {axis.setting: asked.params[axis.setting] for axis in definition.axes}
            self.experiments.add_trials(self.experiment_id, index, params, seeds, asked.number)
        return True

    def _ask_unasked(self, experiment: Experiment) -> None:
        """Give each configuration queued without an Optuna trial its trial, in order."""
        unasked = self.experiments.unasked(self.experiment_id)
        if not unasked:
            return
        study = self.study(experiment)
        for index, params in unasked.items():
            if params:
                study.enqueue_trial(params)
            asked = study.ask(distributions(experiment.definition.axes))
            self.experiments.set_optuna_number(self.experiment_id, index, asked.number)

    def _tell_if_done(self, experiment: Experiment, trial: Trial) -> None:
        if trial.baseline is not None:
            return
        import optuna  # optuna: not at start-up

        def siblings() -> list[Trial]:
            return [
                t
                for t in self.experiments.trials(self.experiment_id)
                if t.config_index == trial.config_index
            ]

        mine = siblings()
        if any(t.status in ("queued", "running") for t in mine):
            return
        if mine[0].optuna_number is None:  # not asked yet (it is, normally, while it trains)
            self._ask_unasked(experiment)
            mine = siblings()
        number = mine[0].optuna_number
        values = [t.val_accuracy for t in mine if t.val_accuracy is not None]
        study = self.study(experiment)
        try:
            if values:
                study.tell(number, sum(values) / len(values))
            else:
                study.tell(number, state=optuna.trial.TrialState.FAIL)
        except (RuntimeError, ValueError) as error:  # told already (a resumed experiment)
            logger.info("Optuna trial %s: %s", number, error)


def open_study(experiments: ExperimentStore, experiment: Experiment):
    """The experiment's Optuna study in the home's optuna.sqlite3 (created on first use)."""
    import optuna  # optuna: not at start-up

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        storage=experiments.optuna_url,
        study_name=experiment.study_name,
        direction="maximize",
        sampler=make_sampler(experiment.definition),
        load_if_exists=True,
    )


def create_experiment(
    experiments: ExperimentStore, definition: ExperimentDefinition, backend: str = "embedded"
) -> str:
    """A new experiment with its baselines queued first (they are quick and set the bar)."""
    experiment_id = experiments.create(definition, backend)
    for offset, kind in enumerate(definition.baselines):
        experiments.add_trials(
            experiment_id, -1 - offset, {"model": kind}, definition.seed_values(), None
        )
    return experiment_id


# ----- one runner per process ----------------------------------------------------------------


class RunnerRegistry:
    """The experiment runner of this process (one at a time: they share the CPU)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runners: dict[str, ExperimentRunner] = {}

    def get(self, experiment_id: str) -> ExperimentRunner | None:
        with self._lock:
            return self._runners.get(experiment_id)

    def active(self) -> ExperimentRunner | None:
        with self._lock:
            alive = [r for r in self._runners.values() if r.alive]
        return alive[0] if alive else None

    def start(self, runner: ExperimentRunner) -> ExperimentRunner:
        with self._lock:
            busy = [r for r in self._runners.values() if r.alive]
            if busy:
                raise RuntimeError(
                    "Another experiment is running in this app; stop it before starting one."
                )
            self._runners[runner.experiment_id] = runner
        return runner.start()


RUNNERS = RunnerRegistry()


def make_backend(store, data, ray_address: str | None = None):
    """The embedded backend, or the Ray backend when an address is given."""
    if ray_address:
        from core.experiments.ray_backend import RayBackend  # Ray is optional

        return RayBackend(store, data, ray_address)
    return EmbeddedBackend(store, data)


def start(store, experiments: ExperimentStore, experiment_id: str, data, ray_address=None):
    """Start (or continue) an experiment on a background runner in this process."""
    if data is None:
        raise RuntimeError(NO_DATA)
    backend = make_backend(store, data, ray_address)
    return RUNNERS.start(ExperimentRunner(store, experiments, experiment_id, backend))


def resume_interrupted(store, experiments: ExperimentStore, data, ray_address=None) -> list[str]:
    """Continue experiments a dead process left running; returns their ids."""
    resumed = []
    for experiment in experiments.interrupted():
        if RUNNERS.active() is not None:
            break
        experiments.requeue_running(experiment.id)
        start(store, experiments, experiment.id, data, ray_address)
        resumed.append(experiment.id)
    return resumed
