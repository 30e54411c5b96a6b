"""The Home page through Streamlit's AppTest."""

import json

import numpy as np

from tests.support.pages import decoded, open_page


def test_home_shows_one_digit_of_each_kind_from_the_data(small_mnist):
    at = open_page("app_pages/home.py")
    charts = [chart for chart in at.get("plotly_chart") if "home_digits" in chart.proto.id]
    assert len(charts) == 1
    figure = decoded(json.loads(charts[0].proto.spec))
    titles = [note["text"] for note in figure["layout"]["annotations"]]
    assert titles == [str(digit) for digit in range(10)]
    # The first tile is the data's first 0, as stored (drawn dark on white, pixel for pixel).
    first_zero = small_mnist.x_train[int(np.argmax(small_mnist.y_train == 0))]
    canvas = np.array(figure["data"][0]["z"], dtype=float)
    band = canvas.shape[0] - 28
    assert np.array_equal(canvas[band:, :28], first_zero)


def test_home_without_data_shows_the_error_and_no_digits(tmp_path, monkeypatch):
    (tmp_path / "train-images-idx3-ubyte.gz").mkdir()
    monkeypatch.setenv("MNIST_DATA", str(tmp_path))
    at = open_page("app_pages/home.py")
    assert any("could not be loaded" in error.value for error in at.error)
    assert not [chart for chart in at.get("plotly_chart") if "home_digits" in chart.proto.id]
