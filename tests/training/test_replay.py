import keras
import numpy as np
import pytest

from core.inside.diagram import weights_diagram
from core.nets.model import build_model
from core.training.job import TrainingJob
from core.training.replay import (
    TEMPLATES,
    ReplayFrame,
    diagram_from_dict,
    diagram_to_dict,
    held_out_digits,
)
from core.training.replay_callback import ReplayRecorder
from core.training.warm_start import WarmStarts
from tests.support.digits import patch_digits
from tests.support.specs import small_spec

EPOCHS = 3


class SaveWeightsEachEpoch(keras.callbacks.Callback):
    """A ModelCheckpoint kept in memory: every weight at the start and after each epoch."""

    def __init__(self):
        super().__init__()
        self.saved: dict[int, list[np.ndarray]] = {}

    def on_train_begin(self, logs=None):
        self.saved[0] = [np.array(w) for w in self.model.get_weights()]

    def on_epoch_end(self, epoch, logs=None):
        self.saved[epoch + 1] = [np.array(w) for w in self.model.get_weights()]


def train_with_replay(spec, data):
    images, labels = held_out_digits(data, per_class=8)
    frames: list[ReplayFrame] = []
    recorder = ReplayRecorder(images, labels, lambda frame: frames.append(frame) is None)
    checkpoint = SaveWeightsEachEpoch()
    job = TrainingJob(spec, data, callbacks=[recorder, checkpoint], warm_starts=WarmStarts())
    job.start().join()
    assert job.snapshot().status == "completed", job.snapshot().message
    return frames, checkpoint.saved, images, labels


@pytest.fixture(scope="module")
def dense_run():
    data = patch_digits(n_train=300, n_test=120, seed=5)
    spec = small_spec(units=40, epochs=EPOCHS, validation_split=0.1)
    return spec, *train_with_replay(spec, data)


@pytest.fixture(scope="module")
def conv_run():
    data = patch_digits(n_train=200, n_test=100, seed=6)
    layers = [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Flatten"},
    ]
    spec = small_spec(layers=layers, epochs=2, validation_split=0.0)
    return spec, *train_with_replay(spec, data)


def counted_by_hand(spec, weights, images, labels) -> np.ndarray:
    """The confusion matrix of a model rebuilt from saved weights, counted cell by cell."""
    model = build_model(spec)
    model.set_weights(weights)
    shape = (-1, 28, 28, 1) if spec.is_convolutional else (-1, 784)
    predicted = model.predict(images.reshape(shape) / 255.0, verbose=0).argmax(axis=1)
    counts = np.zeros((10, 10), np.int64)
    for true, said in zip(labels, predicted, strict=True):
        counts[true, said] += 1
    return counts


def test_a_frame_is_made_at_the_start_and_after_every_epoch(dense_run):
    _, frames, saved, _, _ = dense_run
    assert [frame.epoch for frame in frames] == list(range(EPOCHS + 1)) == sorted(saved)


def test_dense_templates_are_the_first_layers_weights_saved_at_each_epoch(dense_run):
    _, frames, saved, _, _ = dense_run
    for frame in frames:
        kernel = saved[frame.epoch][0]  # (784, 40)
        expected = kernel.T.reshape(-1, 28, 28)[:TEMPLATES].astype(np.float16)
        assert frame.kind == "units" and frame.templates.dtype == np.float16
        assert frame.templates.shape == (TEMPLATES, 28, 28)
        np.testing.assert_array_equal(frame.templates, expected)
        np.testing.assert_allclose(
            frame.templates, kernel.T.reshape(-1, 28, 28)[:TEMPLATES], atol=1e-3
        )
    # Training moved the weights: the frames are not one picture repeated.
    assert not np.array_equal(frames[0].templates, frames[-1].templates)


def test_conv_templates_are_the_first_filters_saved_at_each_epoch(conv_run):
    _, frames, saved, _, _ = conv_run
    assert [frame.epoch for frame in frames] == [0, 1, 2]
    for frame in frames:
        kernel = saved[frame.epoch][0]  # (3, 3, 1, 4)
        assert frame.kind == "filters" and frame.templates.shape == (4, 3, 3)
        np.testing.assert_allclose(
            frame.templates, np.moveaxis(kernel[:, :, 0, :], -1, 0), atol=2e-3, rtol=1e-3
        )


@pytest.mark.parametrize("run", ["dense_run", "conv_run"])
def test_each_confusion_matrix_is_the_models_at_that_epoch(run, request):
    spec, frames, saved, images, labels = request.getfixturevalue(run)
    assert np.bincount(labels, minlength=10).max() == 8  # at most eight of each digit
    for frame in frames:
        assert frame.digits == len(labels) and frame.confusion.sum() == len(labels)
        np.testing.assert_array_equal(
            frame.confusion, counted_by_hand(spec, saved[frame.epoch], images, labels)
        )


def test_the_diagram_is_the_one_drawn_from_the_weights_of_that_epoch(dense_run):
    spec, frames, saved, _, _ = dense_run
    model = build_model(spec)
    model.set_weights(saved[EPOCHS])
    expected = weights_diagram(model)
    last = frames[-1].diagram
    assert [c.shown for c in last.columns] == [c.shown for c in expected.columns]
    assert [e[:3] for e in last.edges] == [e[:3] for e in expected.edges]
    np.testing.assert_allclose(
        [e[3] for e in last.edges], [e[3] for e in expected.edges], atol=1e-6
    )


def test_a_diagram_survives_plain_values(dense_run):
    diagram = dense_run[1][1].diagram
    back = diagram_from_dict(diagram_to_dict(diagram))
    assert [c.shape for c in back.columns] == [c.shape for c in diagram.columns]
    assert [c.hover for c in back.columns] == [c.hover for c in diagram.columns]
    assert back.note == diagram.note
    np.testing.assert_allclose([e[3] for e in back.edges], [e[3] for e in diagram.edges], atol=5e-4)


def test_held_out_digits_take_the_first_of_each_class_in_test_order():
    data = patch_digits(n_train=10, n_test=300, seed=1)
    images, labels = held_out_digits(data, per_class=3)
    rows = [i for i, y in enumerate(data.y_test) if list(data.y_test[:i]).count(y) < 3]
    np.testing.assert_array_equal(labels, data.y_test[rows])
    np.testing.assert_array_equal(images, data.x_test[rows])


def fake_model():
    model = build_model(small_spec(units=4))
    model.stop_training = False
    return model


def test_an_epoch_cut_short_or_diverged_makes_no_frame():
    frames = []
    recorder = ReplayRecorder(
        *held_out_digits(patch_digits(10, 40), 2), lambda f: frames.append(f) is None
    )
    recorder.set_model(fake_model())
    recorder.set_params({"steps": 4})
    recorder.on_train_begin()
    recorder.on_epoch_begin(0)
    recorder.on_train_batch_end(1)  # two of four steps, then Stop
    recorder.on_epoch_end(0, {"loss": 0.5})
    recorder.on_epoch_begin(1)
    recorder.on_train_batch_end(3)
    recorder.on_epoch_end(1, {"loss": float("nan")})
    assert [frame.epoch for frame in frames] == [0]


def test_a_sink_saying_the_run_is_gone_ends_the_recording():
    frames = []
    recorder = ReplayRecorder(
        *held_out_digits(patch_digits(10, 40), 2), lambda f: frames.append(f) or False
    )
    recorder.set_model(fake_model())
    recorder.set_params({"steps": 1})
    recorder.on_train_begin()
    recorder.on_epoch_begin(0)
    recorder.on_train_batch_end(0)
    recorder.on_epoch_end(0, {"loss": 0.5})
    assert [frame.epoch for frame in frames] == [0] and recorder.ended


def test_a_failing_sink_is_logged_and_training_goes_on(caplog):
    def sink(frame):
        raise OSError("disk full")

    recorder = ReplayRecorder(*held_out_digits(patch_digits(10, 40), 2), sink)
    recorder.set_model(fake_model())
    recorder.on_train_begin()
    assert recorder.frames == [] and "Could not record the replay of epoch 0" in caplog.text
