"""My digits' store: keeping, relabelling and deleting, refusals that keep nothing, images and
canvases that come back bit for bit, a damaged file named and left as it is."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from core.mydigits.files import read_npz, to_npz
from core.mydigits.records import DigitSet, MyDigitsError
from core.mydigits.store import FILE_NAME, SCHEMA, MyDigitsStore


def digit_image(seed: int) -> np.ndarray:
    """A (28, 28) float32 image in [0, 1] with ink, any bits (not only multiples of 1/255)."""
    rng = np.random.default_rng(seed)
    image = np.zeros((28, 28), np.float32)
    image[4:24, 8:20] = rng.random((20, 12), dtype=np.float32)
    return image


def canvas(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (40, 40, 4), dtype=np.uint8)


def test_a_kept_digit_comes_back_bit_for_bit_with_its_canvas_label_and_time(tmp_path):
    store = MyDigitsStore(tmp_path)
    image, drawing = digit_image(1), canvas(1)
    digit_id = store.keep(image, 7, canvas=drawing, created=1234.5)
    [digit] = MyDigitsStore(tmp_path).digits()  # opened again: it was written to the file
    assert (digit.id, digit.label, digit.created) == (digit_id, 7, 1234.5)
    assert digit.image.dtype == np.float32
    assert digit.image.tobytes() == image.tobytes()
    assert np.array_equal(store.canvas(digit_id), drawing)


def test_digits_are_listed_oldest_first_and_counted_by_label(tmp_path):
    store = MyDigitsStore(tmp_path)
    for seed, (label, created) in enumerate([(3, 30.0), (1, 10.0), (3, 20.0)]):
        store.keep(digit_image(seed), label, created=created)
    assert [d.created for d in store.digits()] == [10.0, 20.0, 30.0]
    assert [d.created for d in store.digits(label=3)] == [20.0, 30.0]
    assert store.counts() == {1: 1, 3: 2}
    assert store.count() == 3


def test_relabel_and_delete_change_only_their_digit(tmp_path):
    store = MyDigitsStore(tmp_path)
    first = store.keep(digit_image(1), 1, created=1.0)
    second = store.keep(digit_image(2), 2, created=2.0)
    store.relabel(first, "7")
    assert [(d.id, d.label) for d in store.digits()] == [(first, 7), (second, 2)]
    assert store.delete(second) is True
    assert store.delete(second) is False
    assert [d.id for d in store.digits()] == [first]
    with pytest.raises(MyDigitsError, match="no longer kept"):
        store.relabel(second, 3)


@pytest.mark.parametrize("label", [-1, 10, 3.0, "x", "", None, True, "12"])
def test_a_label_outside_0_to_9_is_refused_and_nothing_is_kept(tmp_path, label):
    store = MyDigitsStore(tmp_path)
    with pytest.raises(MyDigitsError, match="choose one from 0 to 9"):
        store.keep(digit_image(1), label)
    kept = store.keep(digit_image(1), 4)
    with pytest.raises(MyDigitsError, match="choose one from 0 to 9"):
        store.relabel(kept, label)
    assert [d.label for d in store.digits()] == [4]


def test_a_blank_drawing_cannot_be_kept(tmp_path):
    store = MyDigitsStore(tmp_path)
    with pytest.raises(MyDigitsError, match="blank"):
        store.keep(np.zeros((28, 28), np.float32), 1)
    with pytest.raises(MyDigitsError, match="28x28"):
        store.keep(np.ones((20, 20), np.float32), 1)
    assert store.count() == 0


def test_an_import_with_one_bad_digit_keeps_none_of_it_and_loses_nothing(tmp_path):
    store = MyDigitsStore(tmp_path)
    store.keep(digit_image(0), 0)
    images = np.stack([digit_image(1), np.zeros((28, 28), np.float32)])
    with pytest.raises(MyDigitsError):
        store.add_many(DigitSet(images, np.array([1, 2], np.uint8)))
    assert [d.label for d in store.digits()] == [0]


def test_the_store_round_trips_through_an_npz_export_bit_for_bit(tmp_path):
    store = MyDigitsStore(tmp_path / "a")
    for seed in range(5):
        store.keep(digit_image(seed), seed, canvas=canvas(seed), created=100.0 + seed)
    exported = store.digit_set(with_canvases=True)
    other = MyDigitsStore(tmp_path / "b")
    other.add_many(read_npz("mine.npz", to_npz(exported)))
    again = other.digit_set(with_canvases=True)
    assert again.images.tobytes() == exported.images.tobytes()
    assert again.labels.tobytes() == exported.labels.tobytes()
    assert again.created.tobytes() == exported.created.tobytes()
    assert again.canvases.tobytes() == exported.canvases.tobytes()


def test_a_damaged_store_file_is_named_and_left_as_it_is(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(MyDigitsError, match=FILE_NAME) as raised:
        MyDigitsStore(tmp_path)
    assert "Move it aside" in str(raised.value)
    assert path.read_bytes() == b"not a database" * 100


def test_reading_my_digits_leaves_no_file_until_one_is_kept(tmp_path):
    """Opening a page that reads My digits once left an empty mydigits.sqlite3 in the user's
    folder: a file nobody saved (the browser test of a broken MNIST file counts them)."""
    store = MyDigitsStore(tmp_path)
    assert store.count() == 0 and store.digits() == [] and store.counts() == {}
    assert len(store.digit_set().labels) == 0 and store.canvas("none") is None
    assert not store.delete("none")
    assert not (tmp_path / FILE_NAME).exists()
    store.keep(np.full((28, 28), 0.5, np.float32), 3)
    assert (tmp_path / FILE_NAME).exists() and MyDigitsStore(tmp_path).count() == 1


def test_a_runs_score_is_kept_replaced_and_read_back(tmp_path):
    store = MyDigitsStore(tmp_path)
    store.keep(digit_image(1), 1)
    store.record_score("run-a", 0.75, 0.9, 4)
    store.record_score("run-b", 0.5, 1.2, 4)
    store.record_score("run-a", 0.8, 0.7, 5)  # measured again, on one more digit
    scores = MyDigitsStore(tmp_path).scores()
    assert set(scores) == {"run-a", "run-b"}
    assert (scores["run-a"].accuracy, scores["run-a"].loss, scores["run-a"].count) == (0.8, 0.7, 5)
    assert scores["run-b"].accuracy == 0.5


def test_a_version_1_file_gains_the_scores_and_keeps_its_digits(tmp_path):
    with sqlite3.connect(tmp_path / FILE_NAME) as conn:
        conn.executescript(SCHEMA.split("CREATE TABLE IF NOT EXISTS scores")[0])
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO digits (id, label, created, image) VALUES ('d', 7, 1.0, ?)",
            (digit_image(2).astype("<f4").tobytes(),),
        )
    conn.close()
    store = MyDigitsStore(tmp_path)
    assert [d.label for d in store.digits()] == [7]
    store.record_score("run", 1.0, 0.1, 1)
    assert store.scores()["run"].count == 1
