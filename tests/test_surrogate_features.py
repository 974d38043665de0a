"""Surrogate features on NB201: names, shapes, the per-space cache, defaults and the structural encodings."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import InvalidArchitecture, InvalidQuery
from nasbench.spaces import get_space
from nasbench.spaces.nb201 import CELL_STATS_NAMES
from nasbench.surrogates.features import (
    available_features,
    default_features,
    feature_names,
    featurize,
    noise_features,
    parse_features,
)

SPACE = get_space("nb201")
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def _stats(arch: tuple[int, ...]) -> dict[str, float]:
    return dict(zip(CELL_STATS_NAMES, featurize(SPACE, [arch], "cell_stats")[0].tolist(), strict=True))


@pytest.mark.parametrize("name", [f for f in available_features(SPACE) if f != "static"])
def test_every_feature_has_a_fixed_width_and_names(name):
    X = featurize(SPACE, [SPACE.from_index(i) for i in (0, 7, 15624)], name)
    assert X.shape[0] == 3 and X.dtype == np.float32 and np.isfinite(X).all()
    assert len(feature_names(SPACE, name)) == X.shape[1]


def test_nb201_defaults_are_path_plus_its_structural_encodings():
    assert default_features(SPACE) == "path+live_onehot+cell_stats"
    assert noise_features(SPACE) == "live_onehot+cell_stats"  # never store columns: any arch has noise
    assert featurize(SPACE, [(0,) * 6], default_features(SPACE)).shape == (1, 155 + 30 + len(CELL_STATS_NAMES))


def test_combined_features_concatenate_in_order():
    archs = [SPACE.from_index(i) for i in (3, 999)]
    both = featurize(SPACE, archs, "path+cell_stats")
    parts = [featurize(SPACE, archs, "path"), featurize(SPACE, archs, "cell_stats")]
    assert np.array_equal(both, np.concatenate(parts, axis=1))
    assert parse_features(["path", "static"], SPACE) == parse_features("path + static", SPACE)


def test_large_batches_use_the_space_table_and_agree_with_direct_computation():
    archs = np.asarray(SPACE.all_archs(), dtype=np.int64)[::7]  # > 256 rows: cached per-space table
    big = featurize(SPACE, archs, "path+live_onehot+cell_stats+graph")
    parts = [featurize(SPACE, archs[i : i + 100], "path+live_onehot+cell_stats+graph") for i in range(0, 300, 100)]
    assert np.array_equal(big[:300], np.concatenate(parts))


@pytest.mark.parametrize("bad", ["", "onehot+nope", "path+path", "ops"])
def test_bad_feature_names_raise(bad):
    with pytest.raises(InvalidQuery):
        parse_features(bad, SPACE)


def test_archs_outside_the_space_raise():
    with pytest.raises(InvalidArchitecture):
        featurize(SPACE, [(0, 1, 2)], "onehot")
    with pytest.raises(InvalidArchitecture):
        featurize(SPACE, np.array([[0, 1, 2, 3, 4, 5]]), "cell_stats")


def test_static_needs_the_stores_table():
    with pytest.raises(InvalidQuery, match="reads a store's /static columns"):
        featurize(SPACE, [(0,) * 6], "path+static")


def test_dead_edges_do_not_change_live_features():
    dead_conv, no_conv = (3, 0, 0, 1, 0, 0), (0, 0, 0, 1, 0, 0)  # conv on a dead edge vs none; skip 0->3 live
    for kind in ("live_onehot", "graph"):
        assert np.array_equal(featurize(SPACE, [dead_conv], kind), featurize(SPACE, [no_conv], kind))
    # ... but it is built and trained, and the all-edge conv cost says so.
    assert _stats(dead_conv)["conv_cost"] == 9 and _stats(no_conv)["conv_cost"] == 0
    assert _stats(dead_conv)["live_conv_cost"] == _stats(no_conv)["live_conv_cost"] == 0


def test_cell_stats_of_the_best_cell():
    s = _stats(SPACE.from_str(BEST))
    assert s["live_paths"] == 4 and s["live_conv3x3"] == 5 and s["live_skip"] == 1
    assert s["max_depth"] == 3 and s["min_depth"] == 0 and s["connected"] == 1
    assert s["conv_cost"] == s["live_conv_cost"] == 45
    assert _stats((3,) * 6)["conv_cost"] == 54 and _stats((0,) * 6)["connected"] == 0


def test_graph_feature_is_the_spaces_graph_view():
    archs = [SPACE.from_index(i) for i in (0, 5, 12345)]
    adj, types = SPACE.graphs(archs)
    X = featurize(SPACE, archs, "graph")
    n = types.shape[1]
    assert np.array_equal(X[:, : n * n].reshape(-1, n, n), adj) and np.array_equal(X[:, n * n :], types)
