"""Surrogate features: names, shapes, liveness and the analytic params/FLOPs of the NB201 network."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import InvalidArchitecture, InvalidQuery
from nasbench.spaces import get_space
from nasbench.surrogates.features import FEATURES, STATIC_NAMES, feature_names, featurize, live_mask, parse_features

SPACE = get_space("nb201")
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def _static(arch: tuple[int, ...]) -> dict[str, float]:
    return dict(zip(STATIC_NAMES, featurize(SPACE, [arch], "static")[0].tolist(), strict=True))


@pytest.mark.parametrize("name", FEATURES)
def test_every_feature_has_a_fixed_width_and_names(name):
    X = featurize(SPACE, [SPACE.from_index(i) for i in (0, 7, 15624)], name)
    assert X.shape[0] == 3 and X.dtype == np.float32 and np.isfinite(X).all()
    assert len(feature_names(SPACE, name)) == X.shape[1]


def test_combined_features_concatenate_in_order():
    archs = [SPACE.from_index(i) for i in (3, 999)]
    both = featurize(SPACE, archs, "path+static")
    assert np.array_equal(both, np.concatenate([featurize(SPACE, archs, "path"), featurize(SPACE, archs, "static")], 1))
    assert parse_features(["path", "static"]) == parse_features("path + static")


def test_large_batches_use_the_space_table_and_agree_with_direct_computation():
    archs = np.asarray(SPACE.all_archs(), dtype=np.int64)[::7]  # > 256 rows: cached per-space table
    big = featurize(SPACE, archs, "path+live_onehot+static")
    parts = [featurize(SPACE, archs[i : i + 100], "path+live_onehot+static") for i in range(0, 300, 100)]
    small = np.concatenate(parts)
    assert np.array_equal(big[:300], small)


@pytest.mark.parametrize("bad", ["", "onehot+nope", "path+path"])
def test_bad_feature_names_raise(bad):
    with pytest.raises(InvalidQuery):
        parse_features(bad)


def test_archs_outside_the_space_raise():
    with pytest.raises(InvalidArchitecture):
        featurize(SPACE, [(0, 1, 2)], "onehot")
    with pytest.raises(InvalidArchitecture):
        featurize(SPACE, np.array([[0, 1, 2, 3, 4, 5]]), "static")


def test_live_mask_follows_input_output_paths():
    ops = np.array(
        [
            (0, 0, 0, 0, 0, 0),  # nothing reaches the output
            (3, 0, 0, 0, 0, 0),  # edge 1<-0 feeds node 1, which nothing reads: dead
            (3, 0, 0, 0, 3, 0),  # path 0->1->3 live
            (0, 0, 3, 1, 0, 3),  # 2<-1 is dead (node 1 has no input), 3<-0 live
        ]
    )
    live = live_mask(ops)
    assert not live[0].any() and not live[1].any()
    assert live[2].tolist() == [True, False, False, False, True, False]
    assert live[3].tolist() == [False, False, False, True, False, False]


def test_analytic_params_and_flops_match_the_published_nb201_range():
    # NAS-Bench-201 reports 0.0733-1.5315 M params and 7.78-220.11 MFLOPs on CIFAR-10.
    assert _static((0,) * 6)["params_m"] == pytest.approx(0.073306, abs=1e-5)
    assert _static((3,) * 6)["params_m"] == pytest.approx(1.531546, abs=1e-5)
    assert _static((0,) * 6)["flops_m"] == pytest.approx(7.78304, abs=1e-4)
    assert _static((3,) * 6)["flops_m"] == pytest.approx(220.11967, abs=1e-3)


def test_dead_edges_count_in_params_but_not_in_live_figures():
    dead_conv = _static((3, 0, 0, 1, 0, 0))  # conv on a dead edge, skip 0->3 live
    no_conv = _static((0, 0, 0, 1, 0, 0))
    assert dead_conv["params_m"] > no_conv["params_m"]
    assert dead_conv["live_params_m"] == no_conv["live_params_m"]
    with_dead = featurize(SPACE, [(3, 0, 0, 1, 0, 0)], "live_onehot")
    assert np.array_equal(with_dead, featurize(SPACE, [(0, 0, 0, 1, 0, 0)], "live_onehot"))


def test_static_depth_and_path_counts_of_the_best_cell():
    s = _static(SPACE.from_str(BEST))
    assert s["live_paths"] == 4 and s["live_conv3x3"] == 5 and s["live_skip"] == 1
    assert s["max_depth"] == 3 and s["min_depth"] == 0 and s["connected"] == 1
