"""Model files that would expand far beyond their size (zip bombs, entries lying about their
size, padding, many files, compressed HDF5 data) are refused before anything is loaded or
extracted."""

from __future__ import annotations

import io
import zipfile

import h5py
import pytest

import core.nets.model_files
from core.nets.model_files import ModelImportError
from core.runs.store import RunStore
from tests.support.runs import leftovers, tiny_model


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
