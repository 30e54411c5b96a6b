"""Continue and rewind (core/runs/lineage.py), trained for real on tiny data.

Where a continued run equals one longer run: the continued run builds its model from the
same spec, takes every weight and optimizer variable of the stored model (the .keras file
keeps the optimizer's step count, moments and learning rate), and `fit` starts at the parent's
epoch count. Its batches come in the same order: the app's batches are shuffled by an op the
global seed fixes, which draws the same permutation at each epoch's iterator, so epoch 4 of a
continued run sees what epoch 4 of a longer run sees. So for a constant learning rate, SGD
(with momentum too) and Adam, the weights are equal.

Where it is not: a learning-rate schedule (cosine, one cycle) decays over the epochs the spec
asks for, so the parent's epochs followed a shorter schedule than a longer run's; Dropout and
augmentation draw from a seed generator whose state the .keras file does not keep, so the
continued run's masks differ; early stopping that restored its best weights stored an earlier
epoch's weights with the last epoch's optimizer state.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from core.charts.runs import shared_start_text
from core.runs.lineage import (
    LineageError,
    continue_start,
    lineage,
    lineages,
    rewind_spec,
    rewind_start,
    start_weights,
)
from core.runs.start import start_recorded_run
from core.runs.store import RunStore
from core.training.registry import JobRegistry
from core.training.starting import weight_shapes, weights_fingerprint
from tests.support.digits import patch_digits
from tests.support.specs import small_spec

DATA = patch_digits(n_train=240, n_test=60)


def train(store: RunStore, spec, starting=None):
    """One recorded run trained to its end; returns its job."""
    job = start_recorded_run(store, spec, DATA, registry=JobRegistry(), starting=starting)
    assert job.join(timeout=120)
    assert job.snapshot().status == "completed", job.snapshot().message
    return job


def weights(job) -> list[np.ndarray]:
    return [np.asarray(w) for w in job.model.get_weights()]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return RunStore(tmp_path_factory.mktemp("lineage"))


@pytest.fixture(scope="module")
def one_epoch_run(store):
    """A 784-16-10 run of one epoch, trained once for the tests that start from it (none
    changes it: a rewind or a continuation makes a run of its own). Its spec traces the steps
    of the Adam run of `test_a_continued_run_equals_one_longer_run`, kept for it while the
    tests that use it come next (the schedule test, which traces two other kinds, after them)."""
    return train(store, small_spec(units=16, epochs=1))


@pytest.mark.parametrize(
    "settings",
    [
        {"optimizer": "sgd", "learning_rate": 0.05},
        {"optimizer": "adam", "learning_rate": 0.003},
    ],
    ids=["sgd", "adam"],
)
def test_a_continued_run_equals_one_longer_run(store, settings):
    """2 epochs then 2 more (from the stored .keras file) give the weights of 4 at once."""
    spec = small_spec(units=16, epochs=2, validation_split=0.1, **settings)
    parent = train(store, spec)
    child_spec, starting = continue_start(store, parent.run_id, 2)
    assert child_spec.epochs == 4 and starting.initial_epoch == 2
    child = train(store, child_spec, starting)
    longer = train(store, small_spec(units=16, epochs=4, validation_split=0.1, **settings))
    for a, b in zip(weights(child), weights(longer), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    # The new run names its parent and carries its epochs first: its curves carry on.
    run, parent_run = store.get(child.run_id), store.get(parent.run_id)
    assert run.epochs_done == 4 and run.model_epochs == 4
    assert run.history["loss"][:2] == parent_run.history["loss"]
    np.testing.assert_allclose(
        run.history["loss"], store.get(longer.run_id).history["loss"], rtol=1e-4
    )
    assert child.snapshot().history["loss"][:2] == parent_run.history["loss"]
    assert lineage(store, child.run_id).parent_id == parent.run_id
    assert lineage(store, child.run_id).parent_epochs == 2
    assert parent_run.epochs_done == 2  # the parent is left as it was


def test_rewind_starts_from_identical_weights_and_the_comparison_says_so(store, one_epoch_run):
    """Rewound with a changed dropout (which moves the seed's weights) and learning rate."""
    first = one_epoch_run
    spec = rewind_spec(store, first.run_id)
    changed = small_spec(
        units=16,
        epochs=1,
        learning_rate=0.01,
        layers=[{"type": "Dense", "units": 16}, {"type": "Dropout", "rate": 0.3}],
    )
    assert spec == store.get(first.run_id).spec
    second = train(store, changed, rewind_start(store, first.run_id, changed))
    other = train(store, changed)  # the seed's own weights for that network
    kept = start_weights(store, first.run_id)
    for a, b in zip(kept, start_weights(store, second.run_id), strict=True):
        assert np.array_equal(a, b)
    assert not all(
        np.array_equal(a, b) for a, b in zip(kept, start_weights(store, other.run_id), strict=True)
    )
    found = lineages(store, [first.run_id, second.run_id, other.run_id])
    assert found[second.run_id].rewound_from == first.run_id
    assert found[first.run_id].start_fingerprint == weights_fingerprint(kept)
    assert found[first.run_id].start_fingerprint == found[second.run_id].start_fingerprint
    runs = [store.get(i) for i in (first.run_id, second.run_id, other.run_id)]
    text = " ".join(shared_start_text(runs, found))
    assert runs[0].name in text and runs[1].name in text and runs[2].name not in text
    assert "same starting weights" in text


def test_a_changed_architecture_gets_a_clear_message(store, one_epoch_run):
    first = one_epoch_run
    with pytest.raises(LineageError, match=r"do not fit this network: weight 1 is 784 × 16"):
        rewind_start(store, first.run_id, small_spec(units=32, epochs=1))
    with pytest.raises(LineageError, match="choose 1 to"):
        continue_start(store, first.run_id, 1000)


def test_a_schedule_makes_a_continued_run_differ_from_a_longer_one(store):
    """A cosine schedule decays over the epochs asked for: the parent's 2 epochs followed a
    2-epoch schedule, the longer run's first 2 a 4-epoch one."""
    spec = small_spec(units=16, epochs=2, lr_schedule="cosine", optimizer="sgd", learning_rate=0.1)
    parent = train(store, spec)
    child = train(store, *continue_start(store, parent.run_id, 2))
    longer = train(
        store,
        small_spec(units=16, epochs=4, lr_schedule="cosine", optimizer="sgd", learning_rate=0.1),
    )
    assert not np.allclose(weights(child)[0], weights(longer)[0], rtol=1e-4)


@pytest.mark.parametrize(
    "layers",
    [
        [{"type": "Dense", "units": 8}, {"type": "Dropout", "rate": 0.2}],
        [
            {"type": "Conv2D", "filters": 4, "kernel_size": 3},
            {"type": "BatchNormalization"},
            {"type": "MaxPooling2D", "pool_size": 2},
            {"type": "Flatten"},
            {"type": "Dense", "units": 6},
        ],
    ],
    ids=["dense", "convnet"],
)
def test_weight_shapes_are_those_of_the_keras_model(layers):
    from core.nets.model import build_model

    spec = small_spec(layers=layers)
    assert weight_shapes(spec) == [tuple(w.shape) for w in build_model(spec).weights]


def test_the_recorder_keeps_the_weights_from_before_the_first_batch(tmp_path):
    """Copied at the start of training, written with the first epoch: the weights as they were
    before any batch, whatever training did to them meanwhile."""
    from tests.support.runs import start_recorder, tiny_model, train_epochs

    store = RunStore(tmp_path)
    model = tiny_model()
    before = [w.copy() for w in model.get_weights()]
    run_id = store.create_run(small_spec(), "fake data")
    recorder = start_recorder(store, run_id, epochs=2, steps=3, model=model)
    model.set_weights([w + 1 for w in before])  # what the first batches do
    train_epochs(recorder, 1, 3)
    kept = start_weights(store, run_id)
    assert all(np.array_equal(a, b) for a, b in zip(kept, before, strict=True))
    assert lineage(store, run_id).start_fingerprint == weights_fingerprint(before)
    store.finish_run(run_id, "stopped", "Stopped.")  # a run still training is not deleted
    store.delete(run_id)
    assert list(store.models_dir.iterdir()) == []  # the starting weights go with the run


def test_the_charts_draw_a_continued_runs_parent_epochs_apart():
    """The compared curves: the parent's epochs dotted, the run's own solid from the last of
    them on; the live curves: the parent's epochs shaded in both panels. Plotly's checked
    construction accepts both."""
    import plotly.graph_objects as go

    from core.charts.runs import overlay_figure
    from core.charts.training import training_curves_figure
    from core.training.monitor import Snapshot

    run = SimpleNamespace(id="a", name="child", number=2, history={"val_accuracy": [0.5, 0.6, 0.7]})
    figure = overlay_figure([run], "val_accuracy", {"a": 2})
    dotted, solid = figure.data
    assert (list(dotted.x), list(dotted.y), dotted.line.dash) == ([1, 2], [0.5, 0.6], "dot")
    assert (list(solid.x), list(solid.y)) == ([2, 3], [0.6, 0.7])
    history = {"loss": [1.0, 0.5, 0.4], "accuracy": [0.5, 0.6, 0.7]}
    history |= {"val_loss": [1.1, 0.6, 0.5], "val_accuracy": [0.4, 0.5, 0.6]}
    live = training_curves_figure(Snapshot(epoch=3, epochs=3, history=history), carried=2)
    live = go.Figure(live.to_dict())  # checked
    assert [(shape.xref, shape.x1) for shape in live.layout.shapes] == [("x", 2), ("x2", 2)]
