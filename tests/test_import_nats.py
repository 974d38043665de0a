"""The NATS-Bench "simple" importer: every curve, seed and static figure of the sample lands in the store; the
restricted unpickler refuses anything but the allow-list; foreign directories give a clear StoreError."""

from __future__ import annotations

import bz2
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest

from nasbench.benchmark import TabularBenchmark
from nasbench.errors import MissingResult, StoreError, UnsafePickle
from nasbench.spaces import get_space
from nasbench.store import read_store, write_store
from nasbench.store.import_nats import DATASETS, import_nats, load_pickle_bz2
from tests.conftest import NATS_SSS, NATS_TSS, require

SPACE = get_space("nb201")
FILES = ("000000", "000011", "000284")


@pytest.fixture(scope="module")
def raw():
    """The three architecture files, read with the plain (trusting) unpickler: the reference for the importer."""
    folder = require(NATS_TSS)
    return {int(name): pickle.loads(bz2.decompress((folder / f"{name}.pickle.pbz2").read_bytes())) for name in FILES}


def _expected(rec, n_epochs, test):
    def series(mapping, fmt, scale=1.0):
        return np.array([mapping[fmt(i)] * scale if fmt(i) in mapping else np.nan for i in range(n_epochs)])

    return {
        "train_acc": series(rec["train_acc1es"], lambda i: i, 0.01),
        "train_loss": series(rec["train_losses"], lambda i: i),
        "train_time_s": np.cumsum([rec["train_times"][i] for i in range(n_epochs)]),
        "val_acc": series(rec["eval_acc1es"], lambda i: f"x-valid@{i}", 0.01),
        "val_loss": series(rec["eval_losses"], lambda i: f"x-valid@{i}"),
        "test_acc": series(rec["eval_acc1es"], lambda i: f"{test}@{i}", 0.01),
        "test_loss": series(rec["eval_losses"], lambda i: f"{test}@{i}"),
    }


@pytest.mark.parametrize("hp", ["12", "200"])
@pytest.mark.parametrize("dataset", DATASETS)
def test_every_curve_seed_and_static_figure_lands_in_the_store(raw, tmp_path, dataset, hp):
    path = write_store(tmp_path / "n.h5", import_nats(NATS_TSS, dataset=dataset, hp=hp))
    data = read_store(path)
    bench = TabularBenchmark.open(path)
    test = "x-test" if dataset in ("cifar100", "ImageNet16-120") else "ori-test"
    expected_seeds = sorted({s for c in raw.values() for (ds, s) in c[hp]["all_results"] if ds == dataset})
    assert data.seeds == tuple(expected_seeds)
    assert len(data.archs) == 3 and data.protocol["test_split"] == test
    n_epochs = int(hp)
    assert data.epochs == tuple(range(1, n_epochs + 1))
    checked = 0
    for index, content in raw.items():
        info = content[hp]
        arch = SPACE.from_str(info["arch_str"])
        row = int(bench.rows([arch])[0])
        assert data.static["official_index"][row] == index
        for (ds, seed), rec in info["all_results"].items():
            if ds != dataset:
                continue
            s = data.seeds.index(seed)
            for name, curve in _expected(rec, n_epochs, test).items():
                stored = data.metrics[name][row, s] if name in data.metrics else np.full(n_epochs, np.nan)
                np.testing.assert_allclose(stored, curve, rtol=1e-6, equal_nan=True, err_msg=f"{index} {name} {seed}")
                checked += 1
            assert data.static["params_m"][row] == pytest.approx(float(rec["params"]), rel=1e-6)
            assert data.static["flops_m"][row] == pytest.approx(float(rec["flop"]), rel=1e-6)
            assert data.static["latency_s"][row] == pytest.approx(float(np.mean(rec["latency"])), rel=1e-6)
        missing = set(data.seeds) - {seed for (ds, seed) in info["all_results"] if ds == dataset}
        for seed in missing:  # a seed another arch has but this one lacks: NaN, never filled
            assert all(np.isnan(v[row, data.seeds.index(seed)]).all() for v in data.metrics.values())
    assert checked >= 3 * 7


def test_reference_facts_of_the_sample(tmp_path):
    bench = TabularBenchmark(import_nats(require(NATS_TSS), dataset="cifar10", hp="200"))
    facts = {0: (0.129306, 15.64737, 0.8562), 11: (0.802426, 113.95137, 0.9179), 284: (0.101306, 11.71521, 0.8873)}
    for index, (params, flops, test) in facts.items():
        row = int(np.flatnonzero(bench.static("official_index") == index)[0])
        assert bench.static("params_m")[row] == pytest.approx(params, rel=1e-6)
        assert bench.static("flops_m")[row] == pytest.approx(flops, rel=1e-6)
        assert bench.query(bench.archs()[row], epoch=200, seed=777).test_acc == pytest.approx(test, abs=1e-6)
    assert np.isnan(bench.query(bench.archs()[0], epoch=200).val_acc)  # cifar10 has no validation split


def test_ori_test_split_gives_per_epoch_test_curves_for_cifar100(raw):
    xtest = import_nats(NATS_TSS, dataset="cifar100", hp="200")
    ori = import_nats(NATS_TSS, dataset="cifar100", hp="200", test_split="ori-test")
    assert np.isfinite(xtest.metrics["test_acc"]).sum() == 3 * 3  # x-test only after the last epoch
    assert np.isfinite(ori.metrics["test_acc"]).all() and ori.protocol["test_split"] == "ori-test"
    with pytest.raises(StoreError, match="only the ori-test"):
        import_nats(NATS_TSS, dataset="cifar10", test_split="x-test")
    with pytest.raises(StoreError, match="unknown test split"):
        import_nats(NATS_TSS, dataset="cifar100", test_split="x-valid")


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_disallowed_global_is_refused_and_nothing_is_written(tmp_path):
    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    folder.mkdir()
    for name in ("meta", *FILES):
        (folder / f"{name}.pickle.pbz2").write_bytes((require(NATS_TSS) / f"{name}.pickle.pbz2").read_bytes())
    (folder / "000011.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps({"200": _Evil()})))
    with pytest.raises(UnsafePickle, match=r"000011.*refusing to unpickle global (posix|os)\.system.*OrderedDict"):
        import_nats(folder)
    with pytest.raises(UnsafePickle):
        load_pickle_bz2(folder / "000011.pickle.pbz2")
    out = tmp_path / "out.h5"
    from nasbench.cli import main

    assert main(["import", "nats", str(folder), "--out", str(out)]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["NATS-tss-v1_0-3ffb9-simple"]


def test_size_space_and_other_directories_give_a_clear_store_error(tmp_path):
    with pytest.raises(StoreError, match="not the topology space"):
        import_nats(require(NATS_SSS))
    with pytest.raises(StoreError, match=r"no meta\.pickle\.pbz2"):
        import_nats(tmp_path)
    with pytest.raises(StoreError, match="no NATS-Bench directory"):
        import_nats(tmp_path / "absent")
    with pytest.raises(StoreError, match="unknown NATS-Bench dataset"):
        import_nats(NATS_TSS, dataset="imagenet")
    with pytest.raises(StoreError, match="unknown NATS-Bench hp"):
        import_nats(NATS_TSS, hp="90")
    (tmp_path / "meta.pickle.pbz2").write_bytes(b"not bz2")
    with pytest.raises(StoreError, match="not a bz2 file"):
        import_nats(tmp_path)


def _synthetic_directory(folder, n_files, n_epochs=4):
    """A NATS-like directory with n_files small architecture files (real format, fewer epochs and datasets)."""
    folder.mkdir()
    archs = [SPACE.to_str(a) for a in SPACE.all_archs()]
    (folder / "meta.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps({"meta_archs": archs})))
    for index in range(n_files):
        results = OrderedDict()
        for seed in (777, 888) if index % 3 else (777,):  # some archs lack a seed
            acc = {i: float(50 + index % 40 + i) for i in range(n_epochs)}
            results[("cifar10-valid", seed)] = {
                "name": "cifar10-valid",
                "epochs": n_epochs,
                "train_acc1es": acc,
                "train_losses": {i: 1.0 / (i + 1) for i in range(n_epochs)},
                "train_times": OrderedDict((i, 2.0) for i in range(n_epochs)),
                "eval_acc1es": {f"x-valid@{i}": acc[i] - 1 for i in range(n_epochs)}
                | {f"ori-test@{i}": acc[i] - 2 for i in range(n_epochs)},
                "eval_losses": {},
                "params": np.float64(0.1 + index / 1000),
                "flop": 10.0 + index,
                "latency": [np.float64(0.01)],
            }
        content = {"200": {"arch_index": index, "arch_str": archs[index], "all_results": results}}
        (folder / f"{index:06d}.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps(content)))


def test_a_larger_directory_in_parallel_equals_sequential(tmp_path):
    folder = tmp_path / "NATS-tss-v1_0-3ffb9-simple"
    _synthetic_directory(folder, 90)
    seen = []
    pooled = import_nats(folder, workers=2, progress=lambda done, total: seen.append((done, total)))
    serial = import_nats(folder, workers=1)
    assert seen[-1] == (90, 90) and len(seen) == 90
    np.testing.assert_array_equal(pooled.archs, serial.archs)
    for name in serial.metrics:
        np.testing.assert_array_equal(pooled.metrics[name], serial.metrics[name])
    assert pooled.seeds == (777, 888) and len(pooled.archs) == 90
    bench = TabularBenchmark(pooled)
    for index in (0, 1, 45, 89):
        arch = SPACE.from_index(index)  # the synthetic files use index order, the same as the space's
        r = bench.query(arch, epoch=4, seed=777)
        assert r.train_acc == pytest.approx((50 + index % 40 + 3) / 100) and r.train_time_s == 8.0
        assert r.test_acc == pytest.approx((50 + index % 40 + 1) / 100)
        if index % 3 == 0:
            with pytest.raises(MissingResult, match="seed 888"):
                bench.query(arch, epoch=4, seed=888)
    assert "val_loss" not in pooled.metrics  # an evaluation the files never hold is not invented
