"""Model files: what an upload must be, and the uploads refused with a message: code that safe
mode refuses, the wrong shape, files that are no model, weights only, too big, custom layers,
damaged files and odd configs.

Archives that would expand far are in test_model_files_bombs.py; what an accepted upload
becomes in test_model_files_import.py.
"""

from __future__ import annotations

import io
import zipfile

import keras
import pytest

import core.nets.model_files
from core.nets.model_files import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_MEGABYTES,
    ModelImportError,
    check_upload,
    refuse_custom_objects,
    safe_load,
)
from core.runs.store import RunStore
from tests.support.runs import leftovers, model_bytes, tiny_model


def lambda_model():
    inputs = keras.Input((784,))
    x = keras.layers.Lambda(lambda t: t * 2.0, name="doubles")(inputs)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_model_carrying_code_is_refused_by_safe_mode(tmp_path, suffix):
    store = RunStore(tmp_path / "home")
    data = model_bytes(lambda_model(), tmp_path, f"lambda{suffix}")
    with pytest.raises(ModelImportError, match="safe mode refused") as refused:
        store.import_model(data, f"mine{suffix}")
    assert "Lambda layer (layer doubles)" in str(refused.value)
    assert store.list_runs() == [] and leftovers(store) == []


def test_loading_itself_uses_safe_mode(tmp_path):
    """Even without the config check in front, Keras refuses to load the Lambda layer."""
    path = tmp_path / "lambda.keras"
    lambda_model().save(path)
    with pytest.raises(ModelImportError, match="safe mode refused"):
        safe_load(path, "lambda.keras")


@pytest.mark.parametrize(
    ("input_shape", "outputs", "says"),
    [
        ((32, 32, 3), 10, "input of shape (32, 32, 3) and gives output of shape (10,)"),
        ((784,), 5, "input of shape (784,) and gives output of shape (5,)"),
        ((28, 28, 3), 10, "input of shape (28, 28, 3)"),
    ],
)
def test_a_model_of_the_wrong_shape_is_refused_saying_what_is_needed(
    tmp_path, input_shape, outputs, says
):
    store = RunStore(tmp_path / "home")
    data = model_bytes(tiny_model(input_shape, outputs), tmp_path, "wrong.keras")
    with pytest.raises(ModelImportError) as refused:
        store.import_model(data, "wrong.keras")
    message = str(refused.value)
    assert says in message
    assert "(784,), (28, 28) or (28, 28, 1)" in message and "output of shape (10,)" in message
    assert store.list_runs() == [] and leftovers(store) == []


def make_zip(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "data", "says"),
    [
        ("notes.keras", b"just some text", "not a Keras model file (a .keras file is a zip"),
        ("notes.h5", b"just some text", "not a Keras model file (it is not an HDF5 file)"),
        ("empty.keras", make_zip({"a.txt": "x"}), "no config.json"),
        ("bad.keras", make_zip({"config.json": "{nope"}), "its config is not JSON"),
        ("picture.png", b"\x89PNG....", "is not a .keras or .h5 file"),
    ],
)
def test_a_file_that_is_not_a_model_is_refused(tmp_path, filename, data, says):
    store = RunStore(tmp_path / "home")
    with pytest.raises(ModelImportError) as refused:
        store.import_model(data, filename)
    assert says in str(refused.value)
    assert filename in str(refused.value)
    assert store.list_runs() == [] and leftovers(store) == []


def test_a_weights_only_file_is_refused_with_the_fix(tmp_path):
    store = RunStore(tmp_path / "home")
    path = tmp_path / "only.weights.h5"
    tiny_model().save_weights(path)
    with pytest.raises(ModelImportError, match="weights only"):
        store.import_model(path.read_bytes(), "only.h5")
    assert leftovers(store) == []


def test_an_upload_over_the_size_limit_is_refused(tmp_path):
    """The real limit, not a patched one: one byte over 50 MB is refused by its size alone
    (with the size and the limit in the message), one byte under passes the size check."""
    assert MAX_IMPORT_BYTES == MAX_IMPORT_MEGABYTES * 1024 * 1024
    store = RunStore(tmp_path / "home")
    over = MAX_IMPORT_BYTES + 1
    message = (
        f"is {over / 2**20:.1f} MB; the playground takes models up to {MAX_IMPORT_MEGABYTES} MB"
    )
    with pytest.raises(ModelImportError, match=message):
        store.import_model(b"x" * over, "huge.keras")
    assert leftovers(store) == []
    assert check_upload(b"x" * (MAX_IMPORT_BYTES - 1), "big.keras") == ".keras"


def test_a_model_with_a_custom_layer_is_refused_before_loading(tmp_path, monkeypatch):
    @keras.saving.register_keras_serializable(package="mine")
    class Twice(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    model = keras.Sequential(
        [keras.Input((784,)), Twice(), keras.layers.Dense(10, activation="softmax")]
    )
    data = model_bytes(model, tmp_path, "custom.keras")

    def never(*args, **kwargs):
        raise AssertionError("a model with custom code was loaded")

    monkeypatch.setattr(core.nets.model_files, "safe_load", never)
    store = RunStore(tmp_path / "home")
    with pytest.raises(ModelImportError, match="uses 'Twice', which is not a built-in Keras"):
        store.import_model(data, "custom.keras")
    assert store.list_runs() == [] and leftovers(store) == []


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_damaged_file_is_refused_with_a_message_wherever_the_damage(tmp_path, suffix):
    """Found by fuzzing: a byte changed in a real file's zip entries raised BadZipFile, and in
    its HDF5 structure RuntimeError or KeyError. Each of 32 places changed in turn gives a
    ModelImportError or a model."""
    data = model_bytes(tiny_model(), tmp_path, f"model{suffix}")
    refused = 0
    for i in range(32):
        at = len(data) * i // 32
        damaged = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
        scratch = tmp_path / f"scratch{i}"
        scratch.mkdir()
        try:
            core.nets.model_files.resave_upload(damaged, f"model{suffix}", scratch)
        except ModelImportError as error:
            assert "model" + suffix in str(error)
            refused += 1
    assert refused > 0


def test_a_damaged_zip_entry_says_so(tmp_path):
    files = {"config.json": b'{"class_name": "Sequential"}' * 20, "metadata.json": b"{}"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    data = bytearray(buffer.getvalue())
    data[data.index(b"Sequential") + 2] ^= 0xFF  # the entry's checksum no longer holds
    path = tmp_path / "model.keras"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelImportError, match="its zip archive is damaged: Bad CRC-32"):
        core.nets.model_files.read_model_config(path, "model.keras")


def test_a_deeply_nested_config_or_an_odd_compile_config_is_no_crash(tmp_path):
    """Found by fuzzing: json.loads raised RecursionError on a deeply nested config.json, and a
    compile_config that is not an object stopped derive_spec with an AttributeError."""
    path = tmp_path / "deep.keras"
    path.write_bytes(make_zip({"config.json": "[" * 50_000}))
    with pytest.raises(ModelImportError, match="its config is not JSON"):
        core.nets.model_files.read_model_config(path, "deep.keras")
    model = tiny_model()
    for compiled in (5, [], "adam", {"optimizer": {"class_name": "Adam", "config": 3}}):
        spec = core.nets.model_files.derive_spec(model, {"compile_config": compiled})
        assert spec["layers"][0]["units"] == 6 and "learning_rate" not in spec


def test_a_config_whose_registered_name_is_not_text_is_read_without_a_traceback():
    """Found by fuzzing: a registered name that is a list was looked up among the app's own
    layers (a set) and raised TypeError: unhashable type."""
    config = {"class_name": "Dense", "registered_name": [], "module": "keras.layers"}
    refuse_custom_objects(config, "odd.keras")  # Keras's own layer: nothing refused
    with pytest.raises(ModelImportError, match="odd.keras"):
        refuse_custom_objects({**config, "module": "evil.layers"}, "odd.keras")
