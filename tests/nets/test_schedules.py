"""The learning-rate schedules: their values against the formulas written out here, and a
model trained with one saved and loaded back in safe mode."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from core.nets.layers import SpecError
from core.nets.model import build_model
from core.nets.schedules import learning_rate_schedule, one_cycle_steps
from tests.support.models import outputs_of
from tests.support.specs import small_spec


def one_cycle_by_hand(step: int, peak: float, total: int) -> float:
    """Smith's one cycle as this playground defines it: a straight climb from peak / 25 over
    the first quarter of the batches (rounded down), then half a cosine down to zero."""
    climb = total // 4
    if step < climb:
        return peak / 25 + (peak - peak / 25) * step / climb
    fall = total - climb
    done = min(step - climb, fall) / fall
    return peak * 0.5 * (1 + math.cos(math.pi * done))


@pytest.mark.parametrize("total", [4, 10, 103, 422])
def test_one_cycle_follows_the_formula_at_every_step(total):
    schedule = learning_rate_schedule("one_cycle", 0.01, total)
    steps = range(total + 3)  # past the end it stays at zero
    values = np.array([float(schedule(step)) for step in steps])
    expected = np.array([one_cycle_by_hand(step, 0.01, total) for step in steps])
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-9)
    assert values[0] == pytest.approx(0.01 / 25)
    assert values.max() == pytest.approx(0.01)
    assert int(values.argmax()) == total // 4
    assert values[total] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("total", [1, 2, 3])
def test_a_short_one_cycle_has_no_climb(total):
    assert one_cycle_steps(total) == (0, total)
    schedule = learning_rate_schedule("one_cycle", 0.02, total)
    assert float(schedule(0)) == pytest.approx(0.02)


def test_cosine_is_unchanged():
    schedule = learning_rate_schedule("cosine", 0.003, 100)
    for step in (0, 30, 100):
        expected = 0.003 * 0.5 * (1 + math.cos(math.pi * step / 100))
        assert float(schedule(step)) == pytest.approx(expected, abs=1e-9)


def test_a_schedule_needs_its_length_and_a_known_name():
    with pytest.raises(SpecError, match="number of training steps"):
        learning_rate_schedule("one_cycle", 0.01, None)
    with pytest.raises(SpecError, match="try cosine or one_cycle"):
        learning_rate_schedule("triangle", 0.01, 10)


def test_build_model_spreads_the_cycle_over_every_epoch():
    model = build_model(
        small_spec(lr_schedule="one_cycle", learning_rate=0.01, epochs=3), steps_per_epoch=20
    )
    schedule = model.optimizer._learning_rate
    assert float(schedule(60 // 4)) == pytest.approx(0.01)
    assert float(schedule(60)) == pytest.approx(0.0, abs=1e-9)


def test_a_model_trained_with_one_cycle_loads_in_safe_mode(tmp_path):
    spec = small_spec(lr_schedule="one_cycle", learning_rate=0.01, epochs=1)
    model = build_model(spec, steps_per_epoch=4)
    rng = np.random.default_rng(0)
    x, y = (
        rng.random((128, 784), np.float32),
        np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)],
    )
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    path = tmp_path / "one_cycle.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    schedule = loaded.optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    assert schedule.get_config() == model.optimizer._learning_rate.get_config()
    assert int(loaded.optimizer.iterations) == 4
    np.testing.assert_allclose(outputs_of(loaded, x[:8]), outputs_of(model, x[:8]))
