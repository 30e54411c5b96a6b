"""core/plane_runner: the compiled trainer against plain `model.fit` on the same batches."""

from __future__ import annotations

import numpy as np
import pytest

from core.plane_data import epoch_orders, make_data
from core.plane_model import build_plane_model
from core.plane_runner import EpochRunner
from core.plane_spec import PlaneSpec


def fit_on_the_same_batches(spec: PlaneSpec, epochs: int):
    """`model.fit` one epoch at a time on the runner's order; its logs and the model."""
    data = make_data(spec)
    model = build_plane_model(spec)
    logs = []
    orders = epoch_orders(spec.seed, 0, epochs, len(data.x_train), spec.data != "points")
    for order in orders:
        history = model.fit(
            data.x_train[order],
            data.y_train[order],
            batch_size=data.batch_size,
            shuffle=False,
            verbose=0,
        ).history
        test = model.evaluate(data.x_test, data.y_test, verbose=0) if data.has_test else None
        logs.append((history["loss"][0], history["accuracy"][0], test))
    return logs, model


@pytest.mark.parametrize(
    "spec",
    [
        PlaneSpec(seed=2),
        PlaneSpec(data="cloud", samples=120, batch_size=32, loss="crossentropy"),
        PlaneSpec(
            data="blobs",
            samples=90,
            batch_size=16,
            loss="crossentropy",
            hidden_layers=2,
            x1_squared=True,
            regularization="l2",
            regularization_rate=0.01,
        ),
        PlaneSpec(
            data="circle", samples=60, batch_size=10, regularization="l1", regularization_rate=0.003
        ),
    ],
    ids=["points", "cloud", "blobs-l2", "circle-l1"],
)
def test_runner_logs_and_weights_match_fit(spec):
    epochs = 3
    reference, reference_model = fit_on_the_same_batches(spec, epochs)
    data = make_data(spec)
    model = build_plane_model(spec)
    logs = EpochRunner(model, data, spec.seed, shuffle=spec.data != "points").run(0, epochs)
    for epoch, (loss, accuracy, test) in enumerate(reference):
        assert logs["loss"][epoch] == pytest.approx(loss, rel=1e-5)  # penalty included
        assert logs["accuracy"][epoch] == pytest.approx(accuracy)
        if test is None:
            assert np.isnan(logs["test_loss"][epoch])
        else:
            assert logs["test_loss"][epoch] == pytest.approx(test[0], rel=1e-5)
            assert logs["test_accuracy"][epoch] == pytest.approx(test[1])
    for ours, theirs in zip(model.get_weights(), reference_model.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_three_classes_train_to_95_percent():
    spec = PlaneSpec(
        data="blobs",
        classes=3,
        samples=300,
        noise=0.1,
        hidden_layers=1,
        units_1=8,
        activation_1="tanh",
        loss="crossentropy",
        learning_rate=0.03,
        batch_size=32,
    )
    model = build_plane_model(spec)
    logs = EpochRunner(model, make_data(spec), spec.seed, shuffle=True).run(0, 40)
    assert logs["accuracy"][-1] >= 0.95
    assert logs["test_accuracy"][-1] >= 0.9
    assert logs["loss"][-1] < logs["loss"][0]
