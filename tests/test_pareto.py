"""Pareto fronts, hypervolume and IGD against hand-computed values and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nasbench.analysis.pareto import hypervolume, igd, non_dominated
from nasbench.errors import InvalidQuery


def test_non_dominated_with_mixed_directions():
    # (accuracy max, latency min)
    pts = np.array([[0.9, 10.0], [0.8, 5.0], [0.85, 12.0], [0.9, 10.0], [0.7, 5.0]])
    assert non_dominated(pts, ["max", "min"]).tolist() == [True, True, False, True, False]


def test_hypervolume_by_hand():
    pts = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    assert hypervolume(pts, [4.0, 4.0], ["min", "min"]) == pytest.approx(3 + 2 + 1)
    # the same front with the first objective maximised (negated values), reference mirrored
    assert hypervolume(-pts * [1, 0] + pts * [0, 1], [-4.0, 4.0], ["max", "min"]) == pytest.approx(6.0)
    assert hypervolume(np.array([[5.0, 5.0]]), [4.0, 4.0], ["min", "min"]) == 0.0  # beyond the reference
    assert hypervolume(np.array([[1.0, 1.0, 1.0]]), [2.0, 3.0, 4.0], ["min"] * 3) == pytest.approx(1 * 2 * 3)


def _brute_force(pts: np.ndarray, ref: np.ndarray) -> float:
    """Inclusion-exclusion over every subset: the volume of the union of boxes [p, ref]."""
    total = 0.0
    for r in range(1, len(pts) + 1):
        for subset in itertools.combinations(range(len(pts)), r):
            corner = pts[list(subset)].max(axis=0)
            total += (-1) ** (r + 1) * np.prod(np.clip(ref - corner, 0, None))
    return float(total)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("seed", range(5))
def test_hypervolume_matches_inclusion_exclusion(k, seed):
    rng = np.random.default_rng(seed)
    pts = rng.random((9, k))
    ref = np.ones(k) * 1.1
    assert hypervolume(pts, ref, ["min"] * k) == pytest.approx(_brute_force(pts, ref))


def test_four_objectives_and_bad_input_are_refused():
    with pytest.raises(InvalidQuery, match="1 to 3 objectives"):
        hypervolume(np.zeros((2, 4)), [1] * 4, ["min"] * 4)
    with pytest.raises(InvalidQuery, match="finite"):
        hypervolume(np.array([[np.nan, 1.0]]), [2, 2], ["min", "min"])
    with pytest.raises(InvalidQuery, match="'max' or 'min'"):
        non_dominated(np.zeros((2, 2)), ["up", "min"])


def test_igd_is_zero_on_the_true_front_and_grows_with_distance():
    true = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert igd(true, true, ["min", "min"], [1, 1]) == 0.0
    assert igd(np.array([[0.0, 1.0]]), true, ["min", "min"], [1, 1]) == pytest.approx(np.sqrt(2) / 2)
    assert igd(np.array([[0.0, 2.0], [2.0, 0.0]]), true, ["min", "min"], [2, 2]) == pytest.approx(0.5)
