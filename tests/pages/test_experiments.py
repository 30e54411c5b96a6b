"""The Experiments page: define a tiny grid, start it, watch it finish, open the best on Train."""

from __future__ import annotations

import pyarrow as pa

from core.experiments import runner
from core.experiments.baselines import BaselineJob, create_baseline_run
from core.experiments.runner import RUNNERS
from core.experiments.store import ExperimentStore
from core.experiments.sweeps import grid_configurations, spec_for
from core.nets.model import ModelSpec
from core.nets.presets import KERAS_CONVNET, PRESETS
from core.runs.store import RunStore
from tests.support.pages import open_page, run_until
from tests.support.specs import small_spec

PAGE = "app_pages/experiments.py"


def _by_key(widgets, key):
    return next(w for w in widgets if w.key == key)


def test_page_opens_with_the_form_and_the_classics(small_mnist):
    at = open_page(PAGE)
    assert at.title[0].value.endswith("Experiments")
    labels = [b.label for b in at.button]
    assert any("hidden layers" in label for label in labels)
    assert any("Random forest" in label for label in labels)
    assert "Start" in labels
    assert any("No experiments yet" in i.value for i in at.info)


def test_without_data_nothing_can_be_started(tmp_path, monkeypatch):
    """With MNIST not loadable, the page says why and neither Start nor a one-click classic
    can start an experiment (a classic could, and its runner died on the missing data)."""
    monkeypatch.setenv("MNIST_DATA", str(tmp_path / "no-such-folder"))
    at = open_page(PAGE)
    assert any("could not be loaded" in e.value for e in at.error)
    starters = [b for b in at.button if b.key.startswith("experiments_classic_")]
    assert len(starters) == 2
    starters.append(_by_key(at.button, "experiments_start"))
    assert all(b.disabled for b in starters), [(b.key, b.disabled) for b in starters]
    assert RUNNERS.active() is None


def test_a_tiny_grid_runs_to_the_end_and_opens_the_best_on_train(small_mnist):
    at = open_page(PAGE)
    at.session_state["train_spec"] = small_spec(epochs=1, batch_size=64, learning_rate=0.01)
    _by_key(at.selectbox, "experiments_setting_0").set_value("units")
    at.run()
    _by_key(at.text_input, "experiments_values_0_units").set_value("4, 16")
    _by_key(at.number_input, "experiments_seeds").set_value(2)
    _by_key(at.number_input, "experiments_budget").set_value(4)
    at.run()
    assert any("= **4 runs**" in c.value for c in at.caption), [c.value for c in at.caption]
    _by_key(at.button, "experiments_start").click()
    at.run()
    assert not at.exception, at.exception

    def finished(at) -> bool:
        runner = RUNNERS.active()
        return runner is None and any(m.value.startswith("**Completed") for m in at.markdown)

    # The runner trains on its own thread: wait for it without rerunning the page (each rerun
    # costs the page's processor time), then rerun the page until it shows the end.
    under_way = RUNNERS.active()  # None if it has already ended
    assert under_way is None or under_way.join(240), "the experiment did not finish in time"
    run_until(at, finished, timeout=240)
    (frame,) = at.dataframe
    table = frame.value
    assert list(table["Status"]) == ["completed"] * 4
    assert list(table["Seed"]) == [42, 43, 42, 43]
    assert table["Test accuracy (%)"].notna().all()
    assert any("4 of 4 runs done" in str(p.proto.text) for p in at.get("progress"))
    assert "Results" in [h.value for h in at.subheader]
    best = _by_key(at.button, "experiments_open_best")
    best.click()
    at.run()
    spec = at.session_state["train_spec"]
    assert isinstance(spec, ModelSpec)
    assert spec.layers[0]["units"] in (4, 16)
    # Set through Train's own set_spec, which writes it into Train's widgets too (the button
    # then switches to Train, which AppTest cannot do from a callback).
    assert at.session_state["train_w_units_0"] == spec.layers[0]["units"]
    assert at.session_state["train_w_epochs"] == spec.epochs
    means = {
        units: table[table["Configuration"] == f"Units per hidden layer {units}"][
            "Val accuracy (%)"
        ].mean()
        for units in (4, 16)
    }
    assert spec.layers[0]["units"] == max(means, key=means.get)


def test_a_random_forest_run_shows_on_evaluate(small_mnist):
    store = RunStore()
    run_id = create_baseline_run(store, "random_forest", 1, small_mnist, "forest")
    job = BaselineJob(store, small_mnist, "random_forest", 1, run_id).start()
    assert job.join(120) and job.error is None
    at = open_page("app_pages/evaluate.py")
    assert not at.exception, at.exception
    accuracy = next(m for m in at.metric if m.label == "Test accuracy")
    assert accuracy.value == f"{job.result.test_accuracy:.2%}"
    at.session_state["evaluate_tab"] = "Inspect a digit"  # only the open tab is drawn
    at.run()
    assert not at.exception, at.exception
    infos = " ".join(i.value for i in at.info)
    assert "decision trees" in infos  # the inside views say why they are not shown


def shown_cells(frame):
    """The table's cells as the browser shows them (the Styler's display values)."""
    return pa.ipc.open_stream(frame.proto.arrow_data.styler.display_values).read_all().to_pandas()


def test_a_classic_starts_from_its_own_networks_and_waiting_runs_say_so(small_mnist, monkeypatch):
    """With a convnet on Train, the hidden-layers classic once trained nine convnets (it varied
    their dense head); it trains the dense networks it compares. Its queued runs' accuracy
    cells read "queued", not "None"."""
    started = []
    monkeypatch.setattr(runner, "start", lambda store, xstore, eid, *_: started.append(eid))
    at = open_page(PAGE)
    at.session_state["train_spec"] = PRESETS[KERAS_CONVNET].spec
    at.run()
    _by_key(at.button, "experiments_classic_layers").click()
    at.run()
    assert not at.exception, at.exception
    xstore = ExperimentStore(RunStore().home)
    (experiment_id,) = started
    definition = xstore.get(experiment_id).definition
    built = [
        spec_for(definition.base_spec, params, 42).architecture()
        for params in grid_configurations(definition.axes)
    ]
    assert built == ["784-10", "784-512-10", "784-512-512-10"]

    for index, params in enumerate(grid_configurations(definition.axes)):
        xstore.add_trials(experiment_id, index, params, definition.seed_values(), None)
    first = xstore.take_next(experiment_id)
    xstore.finish(first, "completed", 0.9713, 0.9688)
    xstore.take_next(experiment_id)  # the second one training
    at.run()
    (frame,) = at.dataframe
    cells = shown_cells(frame)
    assert list(cells["Val accuracy (%)"][:4]) == ["97.13", "training…", "queued", "queued"]
    assert list(cells["Test accuracy (%)"][:3]) == ["96.88", "training…", "queued"]
    assert not cells.isin(["None", "nan", "<NA>"]).any().any()
