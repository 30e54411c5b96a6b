"""Tracing a network's steps ahead changes nothing a run sees, and the trace keys say which
settings the traced steps never read (core.training.tracing)."""

import numpy as np

from core.nets.model import ModelSpec, build_model
from core.training.tracing import WarmKey, build_traced, trace_key, trace_steps
from tests.support.digits import patch_digits

DENSE = ModelSpec(
    layers=[{"type": "Dense", "units": 32}, {"type": "Dropout", "rate": 0.2}],
    epochs=2,
    batch_size=32,
    seed=5,
)


CONV = ModelSpec(
    layers=[
        {"type": "Conv2D", "filters": 4, "kernel_size": 3},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Flatten"},
        {"type": "Dropout", "rate": 0.25},
    ],
    epochs=2,
    batch_size=32,
    seed=5,
)


def counting_traces(model) -> list[int]:
    """Count how often Keras traces `model`'s training step (Python runs it only then)."""
    count = [0]
    step = model.train_step

    def counted(data):
        count[0] += 1
        return step(data)

    model.train_step = counted
    return count


def weights(model) -> list[np.ndarray]:
    return [w.numpy() for w in model.weights]


def state(model) -> list[np.ndarray]:
    """Every variable a run changes or reads: weights, dropout seeds, optimizer state."""
    return [np.asarray(v) for v in (*model.variables, *model.optimizer.variables)]


def other_run(spec: ModelSpec, **changes) -> ModelSpec:
    return ModelSpec.from_dict(spec.to_dict() | changes)


def test_tracing_ahead_changes_no_weight_and_fit_does_not_trace_again():
    data = patch_digits(n_train=200, n_test=20, seed=1)
    x = (data.x_train.reshape(200, 784) / 255).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[data.y_train]
    model = build_model(DENSE, steps_per_execution=4)
    traces = counting_traces(model)
    before = weights(model)
    trace_steps(model, DENSE)
    traced = traces[0]
    assert traced >= 1  # the training step really was traced
    assert int(model.optimizer.iterations) == 0
    for a, b in zip(before, weights(model), strict=True):
        np.testing.assert_array_equal(a, b)
    model.fit(x, y, batch_size=32, epochs=1, validation_data=(x[:50], y[:50]), verbose=0)
    assert traces[0] == traced  # fit used the step traced ahead
    assert int(model.optimizer.iterations) == 7  # and trained: 200 rows / 32 per batch


def test_build_traced_gives_a_compiled_model_of_the_spec():
    model = build_traced(DENSE, WarmKey.of(DENSE, 10, 4))
    assert model.count_params() == 784 * 32 + 32 + 32 * 10 + 10
    assert model.train_function is not None and model.test_function is not None


def test_trace_keys_share_what_the_traced_steps_do_not_read():
    def key_of(**changes) -> str:
        spec = other_run(DENSE, **changes)
        return trace_key(WarmKey.of(spec, 100, 32))

    same = key_of()
    for changes in (
        {"seed": 1},
        {"learning_rate": 0.1},
        {"epochs": 7},
        {"batch_size": 64},
        {"early_stopping": True},
        {"validation_split": 0.2},
    ):
        assert key_of(**changes) == same, changes
    assert trace_key(WarmKey.of(DENSE, 200, 32)) == same  # steps an epoch: constant rate only
    for changes in (
        {"layers": [{"type": "Dense", "units": 33}]},
        {"optimizer": "sgd"},
        {"loss": "mean_squared_error"},
        {"lr_schedule": "cosine"},
    ):
        assert key_of(**changes) != same, changes
    assert trace_key(WarmKey.of(DENSE, 100, 16)) != same  # batches a compiled call runs
    # A cosine schedule's rate and length are constants in the traced step.
    cosine = key_of(lr_schedule="cosine")
    assert key_of(lr_schedule="cosine", seed=3) == cosine
    for changes in ({"learning_rate": 0.1}, {"epochs": 7}, {"batch_size": 64}):
        assert key_of(lr_schedule="cosine", **changes) != cosine, changes
    assert trace_key(WarmKey.of(other_run(DENSE, lr_schedule="cosine"), 200, 32)) != cosine
