"""Model files: what an upload must be, how it is read safely and made the app's standard form."""

from __future__ import annotations

import io
import zipfile
from types import SimpleNamespace

import h5py
import keras
import numpy as np
import pytest

import core.nets.model_files
from core.mnist.data import to_model_inputs
from core.nets.model import ModelSpec, build_model
from core.nets.model_files import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_MEGABYTES,
    ModelImportError,
    check_upload,
    refuse_custom_objects,
    safe_load,
)
from core.nets.spec_from_model import model_input_shape
from core.runs.store import RunStore
from tests.support.models import outputs_of
from tests.support.runs import leftovers, model_bytes, tiny_model
from tests.support.specs import small_spec


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


def test_an_imported_mlp_becomes_a_run_with_its_spec(tmp_path):
    store = RunStore(tmp_path / "home")
    model = tiny_model()
    run_id = store.import_model(model_bytes(model, tmp_path, "mlp.keras"), "mlp.keras")
    run = store.get(run_id)
    assert run.status == "imported" and run.name == "mlp (imported) #1"
    assert run.architecture == "784-6-10"
    assert run.spec_dict == {
        "layers": [
            {"type": "Dense", "units": 6, "activation": "relu"},
            {"type": "Dropout", "rate": 0.25},
        ],
        "optimizer": "sgd",
        "learning_rate": 0.05,
        "loss": "categorical_crossentropy",
    }
    assert run.spec.dense_units() == [6] and run.spec.optimizer == "sgd"
    x = np.random.default_rng(2).random((3, 784)).astype(np.float32)
    np.testing.assert_allclose(
        outputs_of(store.load_model(run_id), x), outputs_of(model, x), rtol=1e-6
    )
    assert leftovers(store) == []


def test_an_imported_image_model_giving_scores_is_stored_as_784_in_probabilities_out(tmp_path):
    store = RunStore(tmp_path / "home")
    model = tiny_model((28, 28, 1), activation="linear")
    run_id = store.import_model(model_bytes(model, tmp_path, "cnn.h5"), "cnn.h5", name="mine")
    run = store.get(run_id)
    assert run.name == "mine" and run.spec is None
    assert run.architecture == "Flatten-Dense-Dropout-Dense"
    assert "softmax was added" in run.message
    stored = store.load_model(run_id)
    assert model_input_shape(stored) == (784,)
    images = np.random.default_rng(3).integers(0, 256, (4, 28, 28)).astype(np.uint8)
    scores = model.predict(images.reshape(4, 28, 28, 1) / 255.0, verbose=0).astype(np.float64)
    expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    got = stored.predict(to_model_inputs(images, model_input_shape(stored)), verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_each_model_gets_inputs_of_its_own_shape():
    images = np.full((2, 28, 28), 255, np.uint8)
    for shape in [(784,), (28, 28), (28, 28, 1)]:
        model = SimpleNamespace(inputs=[SimpleNamespace(shape=(None, *shape))])
        assert model_input_shape(model) == shape
        prepared = to_model_inputs(images, model_input_shape(model))
        assert prepared.shape == (2, *shape) and prepared.dtype == np.float32
        assert prepared.max() == 1.0


def conv_model(input_shape=(28, 28, 1), dilation=1):
    keras.utils.set_random_seed(1)
    layers = [keras.Input(input_shape)]
    if input_shape == (784,):
        layers.append(keras.layers.Reshape((28, 28, 1)))
    layers += [
        keras.layers.Conv2D(4, 3, activation="relu", dilation_rate=dilation),
        keras.layers.BatchNormalization(),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(8, (5, 5), padding="same", activation="tanh"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ]
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.002), loss="categorical_crossentropy"
    )
    return model


CONV_LAYERS = [
    {
        "type": "Conv2D",
        "filters": 4,
        "kernel_size": 3,
        "strides": 1,
        "padding": "valid",
        "activation": "relu",
    },
    {"type": "BatchNormalization"},
    {"type": "MaxPooling2D", "pool_size": 2, "strides": 2},
    {
        "type": "Conv2D",
        "filters": 8,
        "kernel_size": 5,
        "strides": 1,
        "padding": "same",
        "activation": "tanh",
    },
    {"type": "GlobalAveragePooling2D"},
    {"type": "Dropout", "rate": 0.3},
]


@pytest.mark.parametrize("input_shape", [(28, 28, 1), (784,)], ids=["image", "rows-reshaped"])
def test_an_imported_cnn_becomes_a_first_class_run_with_its_spec(tmp_path, input_shape):
    store = RunStore(tmp_path / "home")
    model = conv_model(input_shape)
    run_id = store.import_model(model_bytes(model, tmp_path, "cnn.keras"), "cnn.keras")
    run = store.get(run_id)
    assert run.spec_dict["layers"] == CONV_LAYERS
    assert (run.spec_dict["optimizer"], run.spec_dict["learning_rate"]) == ("adam", 0.002)
    assert run.spec == ModelSpec(layers=CONV_LAYERS, optimizer="adam", learning_rate=0.002)
    assert run.architecture == run.spec.architecture() == "28x28-4C3-BN-P2-8C5p-GAP-10"
    assert build_model(run.spec).count_params() == model.count_params()  # retrainable as is
    images = np.random.default_rng(4).integers(0, 256, (3, 28, 28)).astype(np.uint8)
    stored = store.load_model(run_id)
    np.testing.assert_allclose(
        outputs_of(stored, to_model_inputs(images, model_input_shape(stored))),
        outputs_of(model, to_model_inputs(images, model_input_shape(model))),
        rtol=1e-5,
    )


def test_a_cnn_the_builder_cannot_express_imports_without_a_spec(tmp_path):
    store = RunStore(tmp_path / "home")
    model = conv_model(dilation=2)
    run = store.get(store.import_model(model_bytes(model, tmp_path, "dilated.keras"), "d.keras"))
    assert run.spec is None and run.spec_dict is None
    assert run.architecture.startswith("Conv2D-BatchNormalization-MaxPooling2D-Conv2D")


# ----- zip bombs ---------------------------------------------------------------------------


def zeros_entry(archive: zipfile.ZipFile, name: str, megabytes: int) -> None:
    """An entry of `megabytes` MB of zeros, written in pieces (deflated to a few kB per MB)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as entry:
        for _ in range(megabytes):
            entry.write(bytes(1024 * 1024))


def refuse_unread(monkeypatch):
    """Make any loading or extracting of the upload fail the test."""

    def never(*args, **kwargs):
        raise AssertionError("the upload was loaded or extracted before it was refused")

    monkeypatch.setattr(core.nets.model_files, "safe_load", never)
    monkeypatch.setattr(zipfile.ZipFile, "extractall", never)
    monkeypatch.setattr(zipfile.ZipFile, "read", never)


def test_a_small_archive_inflating_far_beyond_its_size_is_refused_unread(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", '{"class_name": "Sequential", "config": {}}')
        zeros_entry(archive, "model.weights.h5", 40)
    data = buffer.getvalue()
    assert len(data) < 1024 * 1024  # under a megabyte on the wire
    store = RunStore(tmp_path / "home")
    refuse_unread(monkeypatch)
    with pytest.raises(ModelImportError, match="would expand to 40 MB") as refused:
        store.import_model(data, "bomb.keras")
    assert "bomb.keras" in str(refused.value)
    assert store.list_runs() == [] and leftovers(store) == []


def test_an_entry_declaring_a_huge_size_is_refused_unread(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", b"\0" * 1000)
    data = bytearray(buffer.getvalue())
    # Rewrite the weights entry's declared size in the central directory to 3.9 GB.
    directory = data.rindex(b"PK\x01\x02")
    data[directory + 24 : directory + 28] = (3_900_000_000).to_bytes(4, "little")
    store = RunStore(tmp_path / "home")
    refuse_unread(monkeypatch)
    with pytest.raises(ModelImportError, match="would expand to 3,719 MB"):
        store.import_model(bytes(data), "liar.keras")
    assert leftovers(store) == []


def test_a_valid_model_padded_with_big_entries_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "padded.keras"
    tiny_model().save(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        for i in range(4):
            zeros_entry(archive, f"padding-{i}.bin", 8)
    store = RunStore(tmp_path / "home")
    refuse_unread(monkeypatch)
    with pytest.raises(ModelImportError, match="would expand to 32 MB"):
        store.import_model(path.read_bytes(), "padded.keras")
    assert leftovers(store) == []


def test_an_archive_of_many_files_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", "{}")
        for i in range(100):
            archive.writestr(f"f{i}.txt", "x")
    with pytest.raises(ModelImportError, match="archive of 101 files"):
        RunStore(tmp_path / "home").import_model(buffer.getvalue(), "many.keras")


def test_an_hdf5_file_whose_compressed_data_would_expand_far_is_refused(tmp_path):
    path = tmp_path / "bomb.h5"
    with h5py.File(path, "w") as file:
        file.attrs["model_config"] = '{"class_name": "Sequential", "config": {}}'
        dataset = file.create_dataset(
            "weights", shape=(64, 1024, 1024), dtype="uint8", compression="gzip", chunks=True
        )
        dataset[0] = 0  # mostly never written: it reads as zeros, 64 MB of them
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(ModelImportError, match="would expand to 64 MB"):
        RunStore(tmp_path / "home").import_model(path.read_bytes(), "bomb.h5")


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


def test_a_model_saved_from_the_apps_own_builder_imports(tmp_path):
    """build_model makes a Functional model, whose config carries registered_name "Functional";
    it is Keras's own class and must import like a Sequential one."""
    spec = small_spec(epochs=1)
    model = build_model(spec)
    store = RunStore(tmp_path / "home")
    run_id = store.import_model(model_bytes(model, tmp_path, "built.keras"), "built.keras")
    run = store.get(run_id)
    assert run.status == "imported" and run.architecture == "784-8-10"
    x = np.random.default_rng(4).random((3, 784)).astype(np.float32)
    np.testing.assert_allclose(
        outputs_of(store.load_model(run_id), x), outputs_of(model, x), rtol=1e-6
    )


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
