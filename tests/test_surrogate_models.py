"""Every surrogate model: scikit-learn conventions, determinism under a seed, uncertainty, too-few-points errors,
and a save/load round trip that reproduces predictions exactly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from nasbench.errors import InvalidQuery, MissingCapability
from nasbench.spaces import get_space
from nasbench.spaces.base import EnumerableSpace
from nasbench.spaces.nb201 import live_mask
from nasbench.surrogates.models import MODELS, make_model
from nasbench.surrogates.surrogate import Surrogate

SPACE = get_space("nb201")
# Small, fast settings: what is tested is the behaviour, not the accuracy.
FAST = {
    "xgboost": {"n_estimators": 30},
    "random_forest": {"n_estimators": 20},
    "mlp_ensemble": {"n_members": 2, "epochs": 20, "min_steps": 0, "hidden": 16},
    "gin": {"n_members": 2, "epochs": 20, "min_steps": 0, "hidden": 16},
}


def _data(n: int = 80, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Archs and a target with structure (convs on live paths help), like real accuracies."""
    rng = np.random.default_rng(seed)
    archs = np.asarray([SPACE.from_index(int(i)) for i in rng.choice(SPACE.size, n, replace=False)])
    live = np.where(live_mask(archs), archs, 0)  # dead edges read as none
    y = 0.5 + 0.05 * (live == 3).sum(axis=1) + 0.02 * (live == 2).sum(axis=1) + rng.normal(0, 0.005, n)
    return archs, y


def _surrogate(name: str, seed: int = 0) -> Surrogate:
    return Surrogate(name, space=SPACE, params=FAST.get(name), seed=seed)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fit_returns_self_predicts_and_is_deterministic(name):
    archs, y = _data()
    a = _surrogate(name, seed=3)
    assert a.fit(archs[:60], y[:60]) is a
    pred = a.predict(archs[60:])
    assert pred.shape == (20,) and np.isfinite(pred).all()
    again = _surrogate(name, seed=3).fit(archs[:60], y[:60]).predict(archs[60:])
    np.testing.assert_array_equal(pred, again)
    # It learned something: better than predicting the mean.
    assert np.corrcoef(pred, y[60:])[0, 1] > 0.3


@pytest.mark.parametrize("name", sorted(MODELS))
def test_sklearn_estimator_conventions(name):
    model = make_model(name, FAST.get(name), seed=1)
    params = model.get_params()
    assert params["seed"] == 1
    twin = clone(model)
    assert twin.get_params() == params and not hasattr(twin, "n_features_in_")
    with pytest.raises(InvalidQuery, match="unknown parameter"):
        make_model(name, {"no_such_param": 1})


@pytest.mark.parametrize("name", sorted(MODELS))
def test_predict_dist_where_the_model_has_uncertainty(name):
    archs, y = _data()
    s = _surrogate(name).fit(archs[:60], y[:60])
    if not s.model.has_dist:
        with pytest.raises(NotImplementedError):
            s.predict_dist(archs[60:])
        return
    mean, std = s.predict_dist(archs[60:])
    np.testing.assert_allclose(mean, s.predict(archs[60:]), rtol=1e-6, atol=1e-9)
    assert (std >= 0).all() and std.shape == (20,)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_too_few_training_points_raise(name):
    archs, y = _data()
    need = _surrogate(name).model._min_samples()
    with pytest.raises(InvalidQuery, match="at least"):
        _surrogate(name).fit(archs[: need - 1], y[: need - 1])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_save_load_round_trip_reproduces_predictions(name, tmp_path):
    archs, y = _data()
    s = _surrogate(name, seed=2).fit(archs[:60], y[:60])
    s.metric, s.epoch = "test_acc", 200
    s.save(tmp_path / "m")
    loaded = Surrogate.load(tmp_path / "m", space="nb201", metric="test_acc", epoch=200)
    np.testing.assert_allclose(loaded.predict(archs), s.predict(archs), rtol=1e-6, atol=1e-7)
    assert loaded.model.get_params() == s.model.get_params()
    # Nothing in the folder is a pickle.
    for file in (tmp_path / "m").iterdir():
        assert file.suffix in (".json", ".npz", ".pt"), file


def test_unknown_model_and_gin_feature_mismatch_raise():
    with pytest.raises(InvalidQuery, match="unknown surrogate model"):
        Surrogate("boosted_magic", space=SPACE)
    with pytest.raises(InvalidQuery, match="reads features"):
        Surrogate("gin", "onehot", space=SPACE)


class _NoGraphs(EnumerableSpace):
    """A space without a graph view."""

    name = "no_graphs_test"
    choices = (3, 2)
    decisions = ("a", "b")
    options = (("x", "y", "z"), ("p", "q"))


def test_gin_refuses_a_space_without_a_graph_view():
    with pytest.raises(MissingCapability, match=r"gin surrogate needs .* 'graph' capability"):
        Surrogate("gin", space=_NoGraphs())
    assert Surrogate("gin", space=SPACE).model.node_types == SPACE.num_node_types  # the space fixes it


@pytest.mark.slow
def test_torch_model_gives_the_same_predictions_in_a_fresh_process():
    import json
    import subprocess
    import sys

    code = (
        "import json\n"
        "from tests.test_surrogate_models import _data, _surrogate\n"
        "archs, y = _data()\n"
        "print(json.dumps(_surrogate('gin', seed=4).fit(archs[:60], y[:60]).predict(archs[60:]).tolist()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    archs, y = _data()
    here = _surrogate("gin", seed=4).fit(archs[:60], y[:60]).predict(archs[60:]).tolist()
    assert json.loads(out.stdout) == here
