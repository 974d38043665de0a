"""Datasets: idx/CIFAR readers, seeded splits, resampling, clear errors when files are missing."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pytest

from nasbench.errors import DatasetError
from nasbench.train import data
from nasbench.train.data import download_fashion_mnist, load_splits, read_idx


def _write_idx(path: Path, array: np.ndarray, compress: bool = True) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)


def _fake_fashion_mnist(folder: Path, n_train: int = 300, n_test: int = 100, compress: bool = True) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    labels = rng.integers(0, 10, n_train + n_test)
    images = (labels[:, None, None] * 25 + rng.integers(0, 5, (n_train + n_test, 28, 28))).astype(np.uint8)
    _write_idx(folder / "train-images-idx3-ubyte", images[:n_train], compress)
    _write_idx(folder / "train-labels-idx1-ubyte", labels[:n_train], compress)
    _write_idx(folder / "t10k-images-idx3-ubyte", images[n_train:], compress)
    _write_idx(folder / "t10k-labels-idx1-ubyte", labels[n_train:], compress)
    return folder


def test_digits_splits_are_disjoint_seeded_and_normalized():
    a = load_splits("digits", split_seed=3)
    b = load_splits("digits", split_seed=3)
    c = load_splits("digits", split_seed=4)
    assert a.train_x.shape[1:] == (1, 8, 8) and a.num_classes == 10
    assert len(a.train_x) + len(a.val_x) + len(a.test_x) == 1797
    assert np.array_equal(a.val_x, b.val_x) and not np.array_equal(a.val_x, c.val_x)
    assert abs(float(a.train_x.mean())) < 1e-4 and abs(float(a.train_x.std()) - 1) < 1e-3
    assert a.info["split_seed"] == 3 and a.info["train_size"] == len(a.train_x)


def test_split_sizes_and_resolution_are_applied_and_recorded(tmp_path):
    folder = _fake_fashion_mnist(tmp_path / "fm")
    s = load_splits("fashion_mnist", path=folder, resolution=14, train_size=100, val_size=50, test_size=40)
    assert s.train_x.shape == (100, 1, 14, 14) and s.val_x.shape == (50, 1, 14, 14) and s.test_x.shape[0] == 40
    assert s.info["resolution"] == 14 and s.info["native_resolution"] == 28 and s.info["val_size"] == 50
    # area resampling of 28 -> 14 is the mean of 2x2 blocks
    raw = read_idx(folder / "train-images-idx3-ubyte.gz").astype(np.float32) / 255
    pooled = raw.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4))
    mean, std = s.info["normalize_mean"][0], s.info["normalize_std"][0]
    restored = s.train_x[:, 0] * std + mean
    matches = [np.abs(pooled - img).max(axis=(1, 2)).min() for img in restored[:5]]
    assert max(matches) < 1e-4


def test_uncompressed_idx_files_are_read_too(tmp_path):
    folder = _fake_fashion_mnist(tmp_path / "raw", compress=False)
    assert load_splits("fashion_mnist", path=folder, val_size=30).train_x.shape == (270, 1, 28, 28)


def test_missing_fashion_mnist_says_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("NASBENCH_FASHION_MNIST", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", tmp_path / "debian")
    with pytest.raises(DatasetError) as err:
        load_splits("fashion_mnist", path=tmp_path / "nothing")
    msg = str(err.value)
    assert str(tmp_path / "nothing") in msg and str(tmp_path / "env") in msg and "apt-get install" in msg


def test_damaged_idx_file_is_a_dataset_error(tmp_path):
    folder = _fake_fashion_mnist(tmp_path / "fm", compress=False)
    p = folder / "train-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(DatasetError, match="truncated"):
        load_splits("fashion_mnist", path=folder)


def test_sizes_beyond_the_data_are_refused():
    with pytest.raises(DatasetError, match="train_size"):
        load_splits("digits", train_size=10_000)
    with pytest.raises(DatasetError, match="unknown dataset"):
        load_splits("mnist")


def test_download_checks_md5_and_leaves_nothing_when_corrupt(tmp_path):
    src = _fake_fashion_mnist(tmp_path / "mirror")
    good = {p.name: data._md5(p) for p in src.iterdir()}
    dest = download_fashion_mnist(tmp_path / "dl", base_url=src.as_uri(), md5=good)
    assert sorted(p.name for p in dest.iterdir()) == sorted(good)
    bad = dict(good, **{"train-images-idx3-ubyte.gz": "0" * 32})
    with pytest.raises(DatasetError, match="corrupt"):
        download_fashion_mnist(tmp_path / "dl2", base_url=src.as_uri(), md5=bad)
    assert not (tmp_path / "dl2" / "train-images-idx3-ubyte.gz").exists()
    assert not [p for p in (tmp_path / "dl2").iterdir() if p.name.endswith(".tmp")]


def test_cifar10_batches_are_read_with_an_allow_list(tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        labels = [int(v) for v in rng.integers(0, 10, 20)]  # python ints, as in the real batches
        batch = {b"data": rng.integers(0, 256, (20, 3072), dtype=np.uint8), b"labels": labels}
        (folder / name).write_bytes(pickle.dumps(batch))
    s = load_splits("cifar10", path=tmp_path, val_size=10, resolution=16)
    assert s.train_x.shape == (90, 3, 16, 16) and s.test_x.shape == (20, 3, 16, 16)

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(DatasetError, match="not allowed"):
        load_splits("cifar10", path=folder, val_size=11)


def test_missing_cifar10_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="cifar-10-batches-py"):
        load_splits("cifar10", path=tmp_path)
