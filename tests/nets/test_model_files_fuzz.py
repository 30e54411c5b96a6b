"""Fuzzing uploaded model files: a .keras file is a zip of config.json, metadata.json and the
weights. Whatever is uploaded (any bytes, a real file with bytes changed, an archive with any
config.json, a real config with one value changed) is refused with a ModelImportError that
says why in a few lines, or checked and re-saved as a model of the app's standard form."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.nets.model_files import ModelImportError, read_model_config, resave_upload
from tests.support.fuzz import fuzz
from tests.support.runs import model_bytes, tiny_model


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, bytes]:
    """A real small model as a .keras and a .h5 file."""
    folder = tmp_path_factory.mktemp("saved")
    model = tiny_model()
    return {suffix: model_bytes(model, folder, f"tiny{suffix}") for suffix in (".keras", ".h5")}


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def zipped(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def upload(data: bytes, filename: str):
    """What the Runs page's import does with an upload, in a scratch folder of its own."""
    with tempfile.TemporaryDirectory() as scratch:
        try:
            checked = resave_upload(data, filename, Path(scratch))
        except ModelImportError as error:
            message = str(error)
            assert message and filename in message and len(message) < 800, message
            return None
        assert checked.path.exists() and checked.architecture
        return checked


# Bytes changed in place, cut short or lengthened: (position as a fraction, new bytes).
edits = st.lists(
    st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=8), st.booleans()),
    min_size=1,
    max_size=4,
)


def edited(data: bytes, changes) -> bytes:
    for where, new, insert in changes:
        at = int(where * len(data))
        data = data[:at] + new + data[at + (0 if insert else len(new)) :]
    return data


@fuzz(0.5)
@given(st.sampled_from([".keras", ".h5"]), edits, st.integers(0, 2))
def test_a_real_file_with_bytes_changed_is_refused_or_read(saved, suffix, changes, cut):
    data = edited(saved[suffix], changes)
    upload(data[: len(data) - cut * len(data) // 3], f"model{suffix}")


@fuzz()
@given(st.binary(max_size=300), st.sampled_from([".keras", ".h5", ".hdf5"]))
def test_any_bytes_are_refused_with_a_message(data, suffix):
    upload(data, f"anything{suffix}")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["class_name", "config", "module", "registered_name", "name", "layers"])
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)
config_texts = st.one_of(
    json_values.map(json.dumps),
    st.text(max_size=100),
    st.sampled_from(["[" * 50_000, '{"a":' * 3_000 + "1" + "}" * 3_000, "NaN"]),
)


@fuzz()
@given(config_texts, st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
def test_an_archive_with_any_config_is_refused_before_loading(tmp_path_factory, text, method):
    """Without weights, nothing passes; what matters is how it is refused: config.json read as
    plain JSON and checked, with a ModelImportError, whatever it holds."""
    path = tmp_path_factory.mktemp("config") / "model.keras"
    path.write_bytes(zipped({"config.json": text.encode(), "metadata.json": b"{}"}, method))
    try:
        read_model_config(path, "model.keras")
    except ModelImportError as error:
        assert "model.keras" in str(error)
    upload(path.read_bytes(), "model.keras")


def leaves(node, path=()):
    """(path, value) of every value in a JSON tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, (*path, index))
    yield path, node


def replaced(node, path, value):
    if not path:
        return value
    node = json.loads(json.dumps(node))
    inner = node
    for step in path[:-1]:
        inner = inner[step]
    inner[path[-1]] = value
    return node


@fuzz(0.15)
@given(st.data())
def test_a_real_config_with_a_value_changed_is_refused_or_read(saved, data):
    """These do reach Keras: the real weights, and its config with one value changed."""
    files = entries(saved[".keras"])
    config = json.loads(files["config.json"])
    path, _ = data.draw(st.sampled_from(list(leaves(config))))
    value = data.draw(json_values | st.sampled_from([0, -1, 10**6, "relu", "softmax", [28, 28]]))
    files["config.json"] = json.dumps(replaced(config, path, value)).encode()
    upload(zipped(files), "changed.keras")
