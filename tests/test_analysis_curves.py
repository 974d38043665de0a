"""Incumbent step functions on common grids, and their mean and standard error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasbench.analysis.curves import evaluation_grid, mean_se, run_matrix, step_values, time_grid
from nasbench.runner.simulate import Trajectory


def test_step_values_hold_the_last_event_and_are_nan_before_the_first():
    out = step_values([1, 3, 4], [0.5, 0.7, 0.9], np.array([0.5, 1, 2, 3, 3.5, 4, 10]))
    np.testing.assert_array_equal(out, [math.nan, 0.5, 0.5, 0.7, 0.7, 0.9, 0.9])


def test_step_values_rejects_misaligned_input():
    with pytest.raises(ValueError, match="aligned"):
        step_values([1, 2], [0.5], np.array([1.0]))


def test_mean_se_over_runs_ignores_runs_without_a_value_yet():
    curve = mean_se(np.array([[1.0, 2.0], [3.0, math.nan]]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(curve.mean, [2.0, 2.0])
    np.testing.assert_allclose(curve.se, [1.0, 0.0])  # std of (1, 3) = sqrt(2), / sqrt(2); one run: 0
    np.testing.assert_array_equal(curve.n, [2, 1])


def _traj(finished, incumbent):
    return Trajectory(
        strategy="s", seed=0, arch=[0] * len(finished), epoch=[1] * len(finished), score=list(incumbent),
        cost_s=[1.0] * len(finished), finished_s=list(finished), incumbent=[0] * len(finished),
        incumbent_score=list(incumbent),
    )  # fmt: skip


def test_run_matrix_over_evaluations_and_time():
    runs = [_traj([10, 20, 40], [0.5, 0.6, 0.8]), _traj([5, 50], [0.7, 0.9])]
    by_eval = run_matrix(runs, evaluation_grid(3), "evaluations")
    np.testing.assert_array_equal(by_eval, [[0.5, 0.6, 0.8], [0.7, 0.9, 0.9]])  # a short run keeps its answer
    by_time = run_matrix(runs, np.array([1.0, 5, 15, 45, 100]), "time")
    np.testing.assert_array_equal(by_time, [[math.nan, math.nan, 0.5, 0.8, 0.8], [math.nan, 0.7, 0.7, 0.7, 0.9]])


def test_grids():
    np.testing.assert_array_equal(evaluation_grid(4), [1, 2, 3, 4])
    big = evaluation_grid(100_000, max_points=200)
    assert big[0] == 1 and big[-1] == 100_000 and len(big) <= 200 and np.all(np.diff(big) > 0)
    t = time_grid(10, 1e4, points=4)
    np.testing.assert_allclose(t, [10, 100, 1000, 1e4])
    np.testing.assert_array_equal(time_grid(5, 5), [5])
