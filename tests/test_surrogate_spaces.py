"""Surrogates on spaces other than NB201, through the SearchSpace protocol only: features, the static-feature
rule, surrogate and hybrid benchmarks (up front over a small enumerable space, lazily over a non-enumerable one),
store metric names and directions, save/load."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.benchmark import Benchmark, TabularBenchmark
from nasbench.errors import InvalidQuery, MissingCapability, MissingResult, UnknownMetric
from nasbench.spaces import SPACES, get_space
from nasbench.spaces.base import Arch, DiscreteSpace, EnumerableSpace
from nasbench.store import StoreData
from nasbench.surrogates.benchmarks import HybridBenchmark, SurrogateBenchmark
from nasbench.surrogates.evaluate import ModelSpec, evaluate
from nasbench.surrogates.features import default_features, feature_names, featurize, noise_features
from nasbench.surrogates.static import StaticTable
from nasbench.surrogates.surrogate import Surrogate, fit_from_store

FAST = {"n_estimators": 30}


class RaggedSpace(EnumerableSpace):
    """Five decisions with 2..5 choices each; decision 1 may not be 0 when decision 0 is 1 (a constraint)."""

    name = "ragged_test"
    choices = (2, 3, 4, 3, 5)
    decisions = ("kind", "width", "depth", "kernel", "stage")
    options = (("a", "b"), ("w1", "w2", "w3"), ("d1", "d2", "d3", "d4"), ("k1", "k3", "k5"), tuple("sSmMl"))

    def invalid_reason(self, arch: Arch) -> str | None:
        return "kind b needs a width above w1" if arch[0] == 1 and arch[1] == 0 else None

    def to_str(self, arch: Arch) -> str:
        return "-".join(o[v] for o, v in zip(self.options, self.validate(arch), strict=True))

    def from_str(self, text: str) -> Arch:
        return self.validate(tuple(o.index(t) for o, t in zip(self.options, text.split("-"), strict=True)))


class WideSpace(DiscreteSpace):
    """3**14 = 4.8 million archs and no enumeration: surrogates must predict lazily."""

    name = "wide_test"
    choices = (3,) * 14
    decisions = tuple(f"d{i}" for i in range(14))
    options = (("x", "y", "z"),) * 14

    def to_str(self, arch: Arch) -> str:
        return "".join("xyz"[v] for v in self.validate(arch))

    def from_str(self, text: str) -> Arch:
        return self.validate(tuple("xyz".index(c) for c in text))


@pytest.fixture(scope="module", autouse=True)
def registered():
    """Stores name their space, so the test spaces are registered for this module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(SPACES, RaggedSpace.name, f"{__name__}:RaggedSpace")
        mp.setitem(SPACES, WideSpace.name, f"{__name__}:WideSpace")
        yield


def _store(space_name: str, archs: np.ndarray, *, seeds=(0, 1, 2), seed: int = 0) -> TabularBenchmark:
    """A store with a non-standard metric set: an accuracy, a loss and an SSIM-like score given a direction."""
    rng = np.random.default_rng(seed)
    archs = archs[np.lexsort(archs.T[::-1])]
    quality = (archs * np.linspace(1, 2, archs.shape[1])).sum(axis=1)
    quality = (quality - quality.min()) / max(np.ptp(quality), 1e-9)
    epochs = (5, 10)
    shape = (len(archs), len(seeds), len(epochs))
    ep = np.asarray(epochs, dtype=float) / epochs[-1]
    acc = (0.3 + 0.6 * quality[:, None, None] * ep + rng.normal(0, 0.01, shape)).clip(0, 1)
    data = StoreData(
        space=space_name,
        dataset="synthetic",
        protocol={"recipe": "test fixture"},
        seeds=tuple(seeds),
        epochs=epochs,
        archs=archs.astype(np.int8),
        metrics={
            "val_pixel_acc": acc.astype(np.float32),
            "val_l2_loss": (1.0 - acc).astype(np.float32),
            "val_ssim": (2 * acc - 1).astype(np.float32),
        },
        directions={"val_ssim": "max"},
        defaults={"search_metric": "val_ssim", "score_metric": "val_ssim"},
        static={
            "params_m": (1 + quality).astype(np.float32),
            "official_index": np.arange(len(archs), dtype=np.float32),
        },
        provenance={"maker": "tests/test_surrogate_spaces.py"},
    )
    return TabularBenchmark(data.validate(), name=space_name)


@pytest.fixture(scope="module")
def ragged() -> RaggedSpace:
    return get_space(RaggedSpace.name)


@pytest.fixture(scope="module")
def ragged_table(ragged) -> TabularBenchmark:
    """Most but not all archs of the ragged space."""
    archs = np.asarray(ragged.all_archs())
    keep = np.random.default_rng(1).permutation(len(archs))[: len(archs) - 40]
    return _store(RaggedSpace.name, archs[np.sort(keep)])


@pytest.fixture(scope="module")
def ragged_surrogate(ragged_table) -> SurrogateBenchmark:
    metrics = ("val_pixel_acc", "val_l2_loss", "val_ssim")
    return SurrogateBenchmark.from_store(ragged_table, metrics=metrics, epochs=(10,), params=FAST)


# ---- features -----------------------------------------------------------------------------------------------


def test_featurize_a_ragged_space_by_its_own_encodings(ragged):
    assert default_features(ragged) == "onehot" and noise_features(ragged) == "onehot"  # no path, no structure
    archs = ragged.all_archs()
    X = featurize(ragged, archs, "onehot")
    assert X.shape == (len(archs), sum(ragged.choices)) and np.array_equal(X.sum(axis=1), np.full(len(archs), 5))
    # Large batches go through the per-space table; the answer is the same as direct encoding.
    many = [archs[i] for i in np.random.default_rng(0).integers(len(archs), size=600)]
    assert np.array_equal(featurize(ragged, many, "onehot"), ragged.encode(many, "onehot"))
    assert len(feature_names(ragged, "onehot")) == X.shape[1]
    with pytest.raises(InvalidQuery, match="unknown feature 'path' for the ragged_test space"):
        featurize(ragged, archs, "path")
    with pytest.raises(MissingCapability, match="'graph' capability"):
        featurize(ragged, archs, "graph")


def test_a_non_enumerable_space_is_featurized_directly():
    space = get_space(WideSpace.name)
    archs = [space.sample(np.random.default_rng(i)) for i in range(300)]
    assert featurize(space, archs, "onehot").shape == (300, 42)


def test_static_is_the_stores_own_columns_and_only_for_its_archs(ragged, ragged_table):
    static = StaticTable.from_bench(ragged_table)
    stored = np.asarray(ragged_table.archs()[:3])
    X = featurize(ragged, stored, "onehot+static", static)
    np.testing.assert_array_equal(X[:, -1], ragged_table.static("params_m")[:3])  # identifiers left out
    assert feature_names(ragged, "static", static) == ["params_m"]
    assert featurize(ragged, stored, "static:official_index", static)[:, 0].tolist() == [0, 1, 2]  # if asked
    unseen = next(a for a in ragged.all_archs() if a not in ragged_table)
    with pytest.raises(InvalidQuery, match=r"has no row in the store.*drop it from the features"):
        featurize(ragged, [unseen], "static", static)
    with pytest.raises(InvalidQuery, match="static column"):
        featurize(ragged, stored, "static:flops_m", static)


def test_a_nan_static_figure_is_allowed_for_xgboost_only(ragged, ragged_table):
    static = StaticTable.from_bench(ragged_table)
    static.values[:5, static.names.index("params_m")] = np.nan  # the source did not publish these
    archs, y = np.asarray(ragged_table.archs()), ragged_table.table("val_ssim", epoch=10)
    model = Surrogate("xgboost", "onehot+static", space=ragged, params=FAST, static=static).fit(archs, y)
    assert np.isfinite(model.predict(archs[:5])).all()
    with pytest.raises(InvalidQuery, match="NaN"):
        Surrogate("ridge", "onehot+static", space=ragged, static=static).fit(archs, y)


def test_static_features_need_the_stores_table(ragged):
    with pytest.raises(InvalidQuery, match="read the store's /static columns"):
        Surrogate("xgboost", "onehot+static", space=ragged)


# ---- surrogate benchmark over a small enumerable space ------------------------------------------------------


def test_surrogate_benchmark_speaks_the_stores_metrics(ragged_surrogate, ragged_table, ragged):
    sb = ragged_surrogate
    assert isinstance(sb, Benchmark) and sb.space == ragged and sb.up_front
    assert sb.metrics == ("val_l2_loss", "val_pixel_acc", "val_ssim")  # any snake_case names, store order
    assert sb.directions == {"val_l2_loss": "min", "val_pixel_acc": "max", "val_ssim": "max"}
    assert sb.defaults == {"search_metric": "val_ssim", "score_metric": "val_ssim"}
    assert sb.epochs == (10,) and sb.seeds == (0, 1, 2)
    unseen = next(a for a in ragged.all_archs() if a not in ragged_table)
    r = sb.query(ragged.to_str(unseen))
    assert r.source == "surrogate" and set(r.values) == set(sb.metrics) and r.val_l2_loss >= 0
    assert 0 <= r["val_pixel_acc"] <= 1
    many = sb.query_many([unseen, ragged.all_archs()[0]], metrics=["val_ssim"])
    assert many["val_ssim"][0] == pytest.approx(r.val_ssim)
    with pytest.raises(UnknownMetric):
        sb.query_many([unseen], metrics=["test_acc"])


def test_by_default_the_stores_search_and_score_metrics_are_fitted(ragged_table):
    assert SurrogateBenchmark.from_store(ragged_table, epochs=(10,), params=FAST).metrics == ("val_ssim",)


def test_best_follows_the_metrics_direction(ragged_surrogate, ragged):
    losses = ragged_surrogate.table("val_l2_loss")
    assert losses.shape == (len(ragged.all_archs()),)
    arch, value = ragged_surrogate.best("val_l2_loss")
    assert value == losses.min() and ragged_surrogate.query(arch).val_l2_loss == value
    assert ragged_surrogate.best("val_ssim")[1] == ragged_surrogate.table("val_ssim").max()


def test_seeded_samples_are_pure_functions_of_seed_and_arch(ragged_surrogate, ragged):
    arch = ragged.all_archs()[7]
    a, b = ragged_surrogate.query(arch, seed=3), ragged_surrogate.query(arch, seed=3)
    assert a.values == b.values and a.val_ssim != ragged_surrogate.query(arch).val_ssim
    batch = ragged_surrogate.query_many(ragged.all_archs()[:20], seed=3)["val_ssim"]
    assert batch[7] == pytest.approx(a.val_ssim)


def test_static_features_over_a_partial_store_are_refused_up_front(ragged_table, ragged):
    with pytest.raises(InvalidQuery, match=r"holds for only .* of the .* archs"):
        SurrogateBenchmark.from_store(ragged_table, metrics=["val_ssim"], epochs=(10,), features="onehot+static")
    full = _store(RaggedSpace.name, np.asarray(ragged.all_archs()))  # a store of every arch: static is fine
    sb = SurrogateBenchmark.from_store(full, metrics=["val_ssim"], epochs=(10,), features="onehot+static")
    assert np.isfinite(sb.table("val_ssim")).all()


def test_saved_benchmark_keeps_directions_and_defaults(tmp_path, ragged_surrogate, ragged):
    ragged_surrogate.save(tmp_path / "sb")
    loaded = SurrogateBenchmark.load(tmp_path / "sb", space=ragged.name)
    assert loaded.directions == ragged_surrogate.directions and loaded.defaults == ragged_surrogate.defaults
    np.testing.assert_array_equal(loaded.table("val_l2_loss"), ragged_surrogate.table("val_l2_loss"))
    arch = ragged.all_archs()[3]
    assert loaded.query(arch, seed=1).values == ragged_surrogate.query(arch, seed=1).values


def test_hybrid_benchmark_on_a_ragged_space(ragged_table, ragged_surrogate, ragged):
    hybrid = HybridBenchmark(ragged_table, ragged_surrogate)
    assert isinstance(hybrid, Benchmark)
    assert hybrid.space == ragged and hybrid.metrics == ragged_table.metrics
    assert hybrid.directions == ragged_table.directions and hybrid.defaults == ragged_table.defaults
    assert hybrid.epochs == (5, 10) and hybrid.seeds == (0, 1, 2)
    known = ragged_table.archs()[4]
    unseen = next(a for a in ragged.all_archs() if a not in ragged_table)
    assert hybrid.query(known, epoch=10).values == ragged_table.query(known, epoch=10).values
    assert hybrid.query(unseen, epoch=10).source == "surrogate"
    assert hybrid.sources([known, unseen], epoch=10).tolist() == ["table", "surrogate"]
    assert hybrid.query(known, epoch=5).source == "table"
    with pytest.raises(MissingResult, match="surrogate has no epoch 5"):
        hybrid.query(unseen, epoch=5)
    full = hybrid.table("val_l2_loss", epoch=10)
    rows = [ragged.index(a) for a in ragged_table.archs()]
    np.testing.assert_allclose(full[rows], ragged_table.table("val_l2_loss", epoch=10))
    arch, value = hybrid.best("val_l2_loss", epoch=10)
    assert value == np.nanmin(full) and hybrid.query(arch, epoch=10).val_l2_loss == value


def test_eval_ranks_a_store_of_any_space(ragged_table):
    records = evaluate(ragged_table, None, 10, [ModelSpec("xgboost", None, tuple(FAST.items()))], [40], trials=2)
    assert {r["metric"] for r in records} == {"val_ssim"}  # the store's default score metric
    assert all(r["model"] == "xgboost:onehot" and r["kendall_tau"] > 0.5 for r in records)
    loss = evaluate(ragged_table, "val_l2_loss", 10, [ModelSpec("xgboost", None, tuple(FAST.items()))], [40], trials=1)
    assert loss[0]["kendall_tau"] > 0.5  # a minimised metric is ranked as well: lowest first


def test_the_gin_refuses_a_space_without_a_graph_view(ragged_table):
    with pytest.raises(MissingCapability, match="gin surrogate needs"):
        fit_from_store(ragged_table, "val_ssim", 10, model="gin")


# ---- lazily over a space that cannot be listed --------------------------------------------------------------


@pytest.fixture(scope="module")
def wide_table() -> TabularBenchmark:
    space = get_space(WideSpace.name)
    rng = np.random.default_rng(2)
    archs = np.unique(np.asarray([space.sample(rng) for _ in range(150)]), axis=0)
    return _store(WideSpace.name, archs)


def test_lazy_prediction_over_a_non_enumerable_space(wide_table, monkeypatch):
    space = wide_table.space
    sb = SurrogateBenchmark.from_store(wide_table, metrics=["val_ssim"], epochs=(10,), params=FAST)
    assert not sb.up_front
    calls: list[int] = []
    surrogate = sb.surrogates[("val_ssim", 10)]
    predict = surrogate.predict
    monkeypatch.setattr(surrogate, "predict", lambda archs: calls.append(len(archs)) or predict(archs))
    fresh = [space.sample(np.random.default_rng(100 + i)) for i in range(5)]
    first = sb.query_many(fresh)["val_ssim"]
    again = sb.query_many(fresh[::-1])["val_ssim"]
    np.testing.assert_array_equal(again, first[::-1])
    assert calls == [5]  # the second batch came from the cache
    assert sb.query(fresh[2]).val_ssim == first[2] and calls == [5]
    seeded = sb.query(fresh[2], seed=4).val_ssim
    assert seeded == sb.query_many([fresh[0], fresh[2]], seed=4)["val_ssim"][1]
    for listing in (sb.archs, lambda: sb.table("val_ssim"), lambda: sb.best("val_ssim"), lambda: len(sb)):
        with pytest.raises(MissingCapability, match="'enumerable' capability"):
            listing()


def test_hybrid_over_a_non_enumerable_space(wide_table):
    space = wide_table.space
    sb = SurrogateBenchmark.from_store(wide_table, metrics=["val_ssim", "val_l2_loss"], epochs=(10,), params=FAST)
    hybrid = HybridBenchmark(wide_table, sb)
    known = wide_table.archs()[0]
    fresh = space.sample(np.random.default_rng(999))
    got = hybrid.query_many([known, fresh], epoch=10)
    assert got["val_ssim"][0] == wide_table.query(known, epoch=10).val_ssim
    assert got["val_ssim"][1] == sb.query(fresh).val_ssim
    assert np.isnan(got["val_pixel_acc"][1])  # a metric only the table has: NaN where the surrogate answers
    with pytest.raises(MissingCapability):
        hybrid.best("val_ssim", epoch=10)


def test_lazy_static_answers_stored_archs_and_refuses_others(wide_table):
    space = wide_table.space
    sb = SurrogateBenchmark.from_store(wide_table, metrics=["val_ssim"], epochs=(10,), features="onehot+static")
    assert np.isfinite(sb.query(wide_table.archs()[3]).val_ssim)
    with pytest.raises(InvalidQuery, match="has no row in the store"):
        sb.query(space.sample(np.random.default_rng(12345)))
