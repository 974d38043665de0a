"""Files from elsewhere are inert and bounded, and damaged stores say so: the probes of the reliability review."""

from __future__ import annotations

import bz2
import json
import pickle
import shutil

import h5py
import numpy as np
import pytest

from nasbench.errors import StoreError, UnsafePickle
from nasbench.store import read_store, write_store
from nasbench.store.import_nats import MAX_EPOCHS, import_nats, load_pickle_bz2
from tests.conftest import NATS_TSS, make_store_data, require

FILES = ("000000", "000011", "000284")


def _nats_copy(tmp_path):
    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    shutil.copytree(require(NATS_TSS), folder)
    return folder


def _forged_scalar(dtype_name: bytes, state: bytes = b"") -> bytes:
    """A pickle of ``numpy.core.multiarray.scalar(dtype(NAME), 8 bytes)``, as a real float64 scalar pickles."""
    real = pickle.dumps(np.float64(0.5), protocol=4)
    assert b"\x8c\x02f8" in real
    return real.replace(b"\x8c\x02f8", b"\x8c" + bytes([len(dtype_name)]) + dtype_name)


@pytest.mark.parametrize("dtype_name", [b"O8", b"V8", b"M8", b"U2"])
def test_a_forged_numpy_scalar_is_refused_before_numpy_sees_it(tmp_path, dtype_name):
    # An object dtype made numpy read an attacker-chosen pointer (a segfault); now the dtype is refused.
    path = tmp_path / "evil.pickle.pbz2"
    path.write_bytes(bz2.compress(_forged_scalar(dtype_name)))
    with pytest.raises(UnsafePickle, match="only plain numeric dtypes"):
        load_pickle_bz2(path)


def test_a_plain_scalar_still_reads(tmp_path):
    path = tmp_path / "ok.pickle.pbz2"
    path.write_bytes(bz2.compress(pickle.dumps({"x": np.float64(0.5), "n": np.int64(3)})))
    assert load_pickle_bz2(path) == {"x": 0.5, "n": 3}


def test_a_scalar_whose_bytes_do_not_fit_its_dtype_is_refused(tmp_path):
    real = pickle.dumps(np.float64(0.5), protocol=3)  # no framing: a shorter field stays a valid pickle
    forged = real.replace(b"C\x08" + np.float64(0.5).tobytes(), b"C\x02ab")
    path = tmp_path / "short.pickle.pbz2"
    path.write_bytes(bz2.compress(forged))
    with pytest.raises(UnsafePickle, match="needs 8 bytes, got 2"):
        load_pickle_bz2(path)


def test_a_bz2_bomb_is_refused_without_expanding_it(tmp_path):
    # A valid pickle of one 200 MB bytes object, in a few hundred bytes (1 GiB this way grew the importer to 2 GB)
    size = 200 << 20
    compressor = bz2.BZ2Compressor(9)
    parts = [compressor.compress(b"\x80\x04\x8e" + size.to_bytes(8, "little"))]
    parts += [compressor.compress(b"\0" * (1 << 20)) for _ in range(size >> 20)]
    path = tmp_path / "bomb.pickle.pbz2"
    path.write_bytes(b"".join([*parts, compressor.compress(b"."), compressor.flush()]))
    assert path.stat().st_size < 4096
    with pytest.raises(StoreError, match="decompresses to more than"):
        load_pickle_bz2(path, max_bytes=8 << 20)


def test_a_truncated_bz2_file_is_a_store_error(tmp_path):
    data = (require(NATS_TSS) / "000011.pickle.pbz2").read_bytes()
    path = tmp_path / "cut.pickle.pbz2"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match="truncated"):
        load_pickle_bz2(path)


def _rewrite(folder, name, change):
    path = folder / f"{name}.pickle.pbz2"
    content = load_pickle_bz2(path)
    change(content)
    path.write_bytes(bz2.compress(pickle.dumps(content)))


def test_a_record_claiming_absurd_epochs_is_refused_before_allocating(tmp_path):
    folder = _nats_copy(tmp_path)

    def claim(content):
        for record in content["200"]["all_results"].values():
            record["epochs"] = 10**12

    _rewrite(folder, "000011", claim)
    with pytest.raises(StoreError, match=rf"000011.*claims 1000000000000 epochs; runs last 1..{MAX_EPOCHS:,}"):
        import_nats(folder, workers=1)


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["200"].pop("all_results"),
        lambda c: c["200"].__setitem__("all_results", [1, 2]),
        lambda c: [r.__setitem__("train_acc1es", "abc") for r in c["200"]["all_results"].values()],
        lambda c: [r.__setitem__("epochs", "200") for r in c["200"]["all_results"].values()],
    ],
    ids=["no-results", "results-not-a-dict", "curve-not-a-dict", "epochs-a-string"],
)
def test_a_malformed_record_is_a_store_error_naming_the_file(tmp_path, change):
    folder = _nats_copy(tmp_path)
    _rewrite(folder, "000284", change)
    with pytest.raises(StoreError, match="000284"):
        import_nats(folder, workers=1)


# ---- damaged stores -------------------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    return write_store(tmp_path / "s.h5", make_store_data(n_archs=40))


def test_every_flipped_byte_is_an_error_or_changes_nothing(store):
    """No single flipped byte anywhere in the file gives a silently different answer."""
    original = read_store(store)
    raw = bytearray(store.read_bytes())
    damaged = store.with_name("d.h5")
    silent = []
    for position in range(0, len(raw), max(1, len(raw) // 400)):
        flipped = bytearray(raw)
        flipped[position] ^= 0x10
        damaged.write_bytes(bytes(flipped))
        try:
            data = read_store(damaged)
        except StoreError:
            continue
        same = all(np.array_equal(data.metrics[m], original.metrics[m], equal_nan=True) for m in original.metrics)
        if not (same and np.array_equal(data.archs, original.archs) and data.epochs == original.epochs):
            silent.append(position)
    assert silent == []


def test_a_truncated_store_is_a_store_error(store):
    raw = store.read_bytes()
    for keep in (len(raw) // 2, len(raw) - 100, 600):
        store.write_bytes(raw[:keep])
        with pytest.raises(StoreError):
            read_store(store)


def test_a_claimed_shape_larger_than_the_file_is_refused_before_allocating(store):
    with h5py.File(store, "r+") as f:
        del f["metrics/val_loss"]
        # 10**12 floats (4 TB) claimed, nothing written: the file stays small
        f["metrics"].create_dataset("val_loss", shape=(10**6, 10, 10**5), dtype="f4", chunks=(1, 1, 1000))
    with pytest.raises(StoreError, match=r"/metrics/val_loss claims shape \(1000000, 10, 100000\)"):
        read_store(store)


def _written(tmp_path, **changes):
    data = make_store_data(n_archs=10)
    for key, value in changes.items():
        if key in data.metrics:
            data.metrics[key] = value(data.metrics[key])
        else:
            setattr(data, key, value)
    return write_store(tmp_path / "x.h5", data)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"train_time_s": lambda v: -v}, "negative time"),
        ({"train_time_s": lambda v: v[..., ::-1].copy()}, "cumulative but decreases"),
        ({"epochs": (0, 1, 2, 3)}, r"integers in 1\.\.2\*\*31-1"),
        ({"seeds": (0.5, 1)}, "seeds must be integers"),
        ({"seeds": (True, 2)}, "seeds must be integers"),
        ({"val_acc": lambda v: v + 1}, r"fraction in \[0, 1\]"),
        ({"val_loss": lambda v: np.where(v > 0.5, np.inf, v)}, "infinite value"),
    ],
)
def test_the_validator_refuses_impossible_values(tmp_path, changes, message):
    with pytest.raises(StoreError, match=message):
        _written(tmp_path, **changes)
    assert not (tmp_path / "x.h5").exists()


def test_nan_gaps_in_a_cumulative_time_are_allowed(tmp_path):
    def gaps(v):
        v = v.copy()
        v[:, :, 1] = np.nan
        return v

    assert read_store(_written(tmp_path, train_time_s=gaps)).epochs == (1, 2, 3, 4)


def test_non_integer_seeds_in_a_file_are_a_store_error(store):
    with h5py.File(store, "r+") as f:
        f.attrs["seeds"] = json.dumps([0.5, 1])
        del f.attrs["digest"]
    with pytest.raises(StoreError, match="seeds must be a list of integers"):
        read_store(store)


# ---- tables ---------------------------------------------------------------------------------------------------

ARCH = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty.csv is not a readable CSV table"),
        ("garbage.csv", b"\x00\x01garbage\xff\xfe\n\x00", "garbage.csv is not a readable CSV table"),
        ("inf.csv", f"arch,v\n{ARCH},inf\n".encode(), "inf.csv, line 2: column 'v' holds inf, not a finite number"),
        ("nan.csv", f"arch,v\n{ARCH},nan\n".encode(), "nan.csv, line 2: column 'v' holds 'nan'"),
        ("bad.parquet", b"PAR1", "bad.parquet is not a readable parquet table"),
    ],
)
def test_broken_tables_are_typed_errors_naming_file_and_line(tmp_path, capsys, name, content, message):
    from nasbench.cli import main

    (tmp_path / name).write_bytes(content)
    out = tmp_path / "out.h5"
    assert main(["import", "table", str(tmp_path / name), "--out", str(out), "--dataset", "x",
                 "--map", "v=val_acc@1"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_an_empty_cell_is_a_missing_result(tmp_path):
    from nasbench.store.import_table import TableSpec, import_table

    other = "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    (tmp_path / "t.csv").write_text(f"arch,v,w\n{ARCH},0.5,\n{other},0.6,0.7\n")
    spec = TableSpec.from_mappings(["v=val_acc@1", "w=test_acc@1"], dataset="x")
    data = import_table(tmp_path / "t.csv", spec)
    assert np.isnan(data.metrics["test_acc"]).sum() == 1
