"""The HDF5 store: round trip, atomic writes, and a reader that refuses damaged or foreign files with StoreError."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from nasbench.errors import StoreError
from nasbench.spaces.nb201 import NB201Space
from nasbench.store import SCHEMA_VERSION, StoreData, read_store, write_store
from tests.conftest import make_store_data


def _same(a, b):
    assert (a.space, a.dataset, a.protocol, a.provenance) == (b.space, b.dataset, b.protocol, b.provenance)
    assert (a.seeds, a.epochs, a.iso_shared) == (b.seeds, b.epochs, b.iso_shared)
    np.testing.assert_array_equal(a.archs, b.archs)
    assert sorted(a.metrics) == sorted(b.metrics) and sorted(a.static) == sorted(b.static)
    for name in a.metrics:
        np.testing.assert_array_equal(a.metrics[name], b.metrics[name])  # NaN == NaN here
    for name in a.static:
        np.testing.assert_array_equal(a.static[name], b.static[name])


def test_write_read_round_trip(tmp_path):
    data = make_store_data()
    path = write_store(tmp_path / "s.h5", data)
    back = read_store(path)
    _same(data, back)
    assert back.archs.dtype == np.int8 and all(v.dtype == np.float32 for v in back.metrics.values())
    with h5py.File(path, "r") as f:
        assert int(f.attrs["schema_version"]) == SCHEMA_VERSION
        assert f["metrics/val_acc"].shape == (20, 2, 4)


def test_null_seed_and_iso_shared_round_trip(tmp_path):
    data = make_store_data(seeds=(None,), epochs=(200,))
    data.iso_shared = True
    space = NB201Space()
    representatives = sorted(set(space.canonical_indices().tolist()))[100 : 100 + len(data.archs)]
    data.archs = np.asarray([space.from_index(i) for i in representatives], dtype=np.int8)
    _same(data, read_store(write_store(tmp_path / "s.h5", data)))


def test_a_row_that_is_not_canonical_in_an_iso_shared_store_is_refused(tmp_path):
    """One row stands for its whole class, so a non-canonical row would answer differently from its class."""
    data = make_store_data(seeds=(None,), epochs=(200,))
    data.iso_shared = True
    with pytest.raises(StoreError, match=r"not the canonical form of its class.*its canonical form is"):
        write_store(tmp_path / "s.h5", data)
    assert not (tmp_path / "s.h5").exists()


def test_a_row_outside_an_enumerable_space_is_refused(tmp_path):
    from nasbench.spaces import get_space

    space = get_space("tnb_macro")
    archs = np.asarray([*space.all_archs()[:3], (1, 1, 1, 1, 0, 0)])  # 4 modules that never halve the resolution
    archs = archs[np.lexsort(archs.T[::-1])]
    data = StoreData(space="tnb_macro", dataset="x", protocol={}, seeds=(None,), epochs=(1,), archs=archs,
                     metrics={"val_acc": np.full((4, 1, 1), 0.5, dtype=np.float32)})  # fmt: skip
    with pytest.raises(StoreError, match=r"\(1, 1, 1, 1, 0, 0\), which is not a tnb_macro architecture"):
        write_store(tmp_path / "s.h5", data)


def test_nan_is_preserved_never_filled(tmp_path):
    data = make_store_data()
    data.metrics["val_acc"][3, 1, 2] = np.nan
    data.metrics["val_acc"][7, :, :] = np.nan
    data.static["params_m"][5] = np.nan
    back = read_store(write_store(tmp_path / "s.h5", data))
    assert np.isnan(back.metrics["val_acc"]).sum() == 1 + 8
    assert np.isnan(back.metrics["val_acc"][3, 1, 2]) and np.isnan(back.metrics["val_acc"][7]).all()
    assert np.isnan(back.static["params_m"]).tolist() == [i == 5 for i in range(20)]


def test_write_refuses_to_overwrite_unless_asked(tmp_path):
    path = write_store(tmp_path / "s.h5", make_store_data())
    with pytest.raises(StoreError, match="already exists"):
        write_store(path, make_store_data(seed=1))
    write_store(path, make_store_data(seed=1), overwrite=True)
    _same(read_store(path), make_store_data(seed=1))


def test_failed_write_leaves_no_temp_file_and_the_old_store_untouched(tmp_path, monkeypatch):
    path = write_store(tmp_path / "s.h5", make_store_data())
    before = path.read_bytes()
    real = h5py.Group.create_dataset
    calls = []

    def failing(self, name, *args, **kwargs):
        calls.append(name)
        if len(calls) == 3:  # archs and one metric are written, then the disk "fills up"
            raise OSError("no space left on device")
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", failing)
    with pytest.raises(StoreError, match=r"cannot write .*no space left"):
        write_store(path, make_store_data(seed=1), overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["s.h5"]
    assert path.read_bytes() == before
    calls.clear()
    with pytest.raises(StoreError):
        write_store(tmp_path / "new.h5", make_store_data())
    assert [p.name for p in tmp_path.iterdir()] == ["s.h5"]


def test_unwritable_destination_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot write"):
        write_store(blocker / "s.h5", make_store_data())


def test_invalid_data_is_refused_before_anything_is_written(tmp_path):
    data = make_store_data()
    data.metrics["val_acc"] = data.metrics["val_acc"] * 100  # percentages
    with pytest.raises(StoreError, match="fraction"):
        write_store(tmp_path / "s.h5", data)
    assert list(tmp_path.iterdir()) == []


# ---- the reader refuses bad files ---------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        read_store(tmp_path / "nope.h5")


def test_not_an_hdf5_file(tmp_path):
    path = tmp_path / "s.h5"
    path.write_text("index,arch\n0,|none~0|\n")
    with pytest.raises(StoreError, match="not an HDF5 file"):
        read_store(path)


@pytest.mark.parametrize("fraction", [0.95, 0.5, 0.1])
def test_truncated_store(tmp_path, fraction):
    data = make_store_data(n_archs=500, epochs=tuple(range(1, 21)))
    full = write_store(tmp_path / "full.h5", data).read_bytes()
    path = tmp_path / "cut.h5"
    path.write_bytes(full[: int(len(full) * fraction)])
    with pytest.raises(StoreError, match=r"truncated|damaged"):
        read_store(path)


def _edit(path, fn):
    """Change a store in place as a faulty writer would (its digest then says nothing: removed)."""
    with h5py.File(path, "r+") as f:
        fn(f)
        del f.attrs["digest"]
    return path


def test_other_schema_version(small_store):
    _edit(small_store, lambda f: f.attrs.__setitem__("schema_version", SCHEMA_VERSION + 1))
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}.*reads versions 1, {SCHEMA_VERSION}"):
        read_store(small_store)


def test_foreign_hdf5_file(tmp_path):
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(StoreError, match="not a nasbench store: missing attribute"):
        read_store(path)


@pytest.mark.parametrize("dataset", ["archs", "metrics"])
def test_missing_dataset(small_store, dataset):
    _edit(small_store, lambda f: f.__delitem__(dataset))
    with pytest.raises(StoreError, match=f"missing the dataset /{dataset}"):
        read_store(small_store)


def test_inconsistent_metric_shape(small_store):
    def shrink(f):
        values = f["metrics/test_acc"][()]
        del f["metrics/test_acc"]
        f["metrics/test_acc"] = values[:, :, :3]

    _edit(small_store, shrink)
    with pytest.raises(StoreError, match=r"/metrics/test_acc has shape \(20, 2, 3\), expected"):
        read_store(small_store)


def test_inconsistent_static_shape_and_epochs(small_store):
    def edit(f):
        del f["static/params_m"]
        f["static/params_m"] = np.zeros(19, dtype=np.float32)

    _edit(small_store, edit)
    with pytest.raises(StoreError, match=r"/static/params_m has shape \(19,\)"):
        read_store(small_store)


def test_seeds_that_do_not_match_the_metric_shape(small_store):
    _edit(small_store, lambda f: f.attrs.__setitem__("seeds", json.dumps([0, 1, 2])))
    with pytest.raises(StoreError, match="expected"):
        read_store(small_store)


def test_accuracies_in_percent_are_refused(small_store):
    def edit(f):
        f["metrics/val_acc"][...] = f["metrics/val_acc"][()] * 100

    _edit(small_store, edit)
    with pytest.raises(StoreError, match="percentages"):
        read_store(small_store)


def test_unsorted_archs_and_bad_json_are_refused(small_store, tmp_path):
    _edit(small_store, lambda f: f["archs"].__setitem__(slice(0, 2), f["archs"][()][[1, 0]]))
    with pytest.raises(StoreError, match="sorted"):
        read_store(small_store)
    other = write_store(tmp_path / "o.h5", make_store_data())
    _edit(other, lambda f: f.attrs.__setitem__("protocol", "{not json"))
    with pytest.raises(StoreError, match="damaged"):
        read_store(other)
