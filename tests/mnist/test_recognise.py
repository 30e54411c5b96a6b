import numpy as np
import pytest

from core.mnist.preprocess import canvas_to_mnist
from core.mnist.recognise import (
    LOW_CONFIDENCE,
    Recognition,
    get_ready,
    probabilities_for,
    recognise,
)
from core.mnist.strokes import paths_to_mnist
from core.nets.model import ModelSpec, build_model
from tests.support.canvas_paths import fabric
from tests.support.drawings import place_on_canvas, render
from tests.support.specs import small_spec


@pytest.fixture(scope="module")
def model():
    return build_model(small_spec(units=16))


def a_seven() -> np.ndarray:
    digit = np.zeros((28, 28), np.uint8)
    digit[6:9, 8:21] = 255  # the bar
    for row in range(9, 24):  # the stem, leaning left as it goes down
        column = 20 - (row - 9) // 2
        digit[row, column - 1 : column + 2] = 255
    return digit


def test_recognise_gives_the_models_probabilities_for_the_prepared_image(model):
    canvas = place_on_canvas(a_seven(), size=150, top=20, left=90, background="black")
    result = recognise(model, canvas)
    assert result is not None
    expected = canvas_to_mnist(canvas)
    np.testing.assert_array_equal(result.image, expected)
    reference = model.predict(expected.reshape(1, 784), verbose=0)[0]
    np.testing.assert_allclose(result.probabilities, reference, rtol=1e-5, atol=1e-6)
    assert result.digit == int(reference.argmax())
    assert result.probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def test_with_the_canvas_paths_the_strokes_are_redrawn_from_them(model):
    stroke = np.array([(90.0, 60.0), (190.0, 60.0), (130.0, 220.0)])  # a 7
    thin, thick = (
        recognise(model, render([stroke], pen), fabric(stroke, pen=pen)) for pen in (6, 30)
    )
    np.testing.assert_array_equal(
        thin.image, paths_to_mnist(render([stroke], 6), fabric(stroke, pen=6))
    )
    # Whatever the pen, the same strokes give the same image (the image recipe's differ).
    assert np.abs(thin.image - thick.image).mean() < 0.02
    assert (
        np.abs(canvas_to_mnist(render([stroke], 6)) - canvas_to_mnist(render([stroke], 30))).mean()
        > 0.05
    )


def test_blank_canvas_gives_no_prediction(model):
    assert recognise(model, np.zeros((280, 280, 4), np.uint8)) is None


def test_confidence_and_runner_up():
    sure = Recognition(np.zeros((28, 28), np.float32), np.array([0.02] * 9 + [0.82], np.float32))
    assert (sure.digit, sure.unsure) == (9, False)
    unsure = Recognition(
        np.zeros((28, 28), np.float32),
        np.array([0.05, 0.4, 0.05, 0.3, 0.05, 0.05, 0.04, 0.02, 0.02, 0.02], np.float32),
    )
    assert unsure.confidence < LOW_CONFIDENCE and unsure.unsure
    assert (unsure.digit, unsure.runner_up) == (1, 3)


def test_probabilities_for_accepts_the_28x28_image(model):
    image = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    assert probabilities_for(model, image).shape == (10,)


def test_get_ready_compiles_the_predict_function_once_and_answers_are_unchanged():
    model = build_model(ModelSpec(layers=[{"type": "Dense", "units": 16}]))
    image = np.random.default_rng(1).random((28, 28), dtype=np.float32)
    eager = np.asarray(model(image.reshape(1, 784), training=False))[0]
    get_ready(model)
    compiled = model.predict_function
    assert compiled is not None
    get_ready(model)
    np.testing.assert_allclose(probabilities_for(model, image), eager, rtol=1e-5, atol=1e-6)
    assert model.predict_function is compiled  # not compiled again for the drawing


def test_get_ready_leaves_a_model_without_a_predict_function_alone():
    class Baseline:  # as core.runs.sklearn_file.SklearnModel: predict_on_batch, nothing compiled
        calls = 0

        def predict_on_batch(self, x):
            self.calls += 1
            return np.full((len(x), 10), 0.1, np.float32)

    baseline = Baseline()
    get_ready(baseline)
    assert baseline.calls == 0
    assert probabilities_for(baseline, np.zeros((28, 28), np.float32)).shape == (10,)
