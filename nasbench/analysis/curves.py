"""Incumbent curves: each run is a step function (the incumbent changes when a result arrives), evaluated on a
common grid so that runs of different lengths and clocks can be averaged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from nasbench.runner.simulate import Trajectory

Axis = Literal["evaluations", "time"]


def step_values(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The right-continuous step function through events ``(x, y)`` (x non-decreasing) read at ``grid``: the y of
    the last event with x <= g, NaN before the first event, the last y after the last event (the search stopped;
    its answer stands)."""
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise ValueError(f"x and y must be 1-d and aligned, got shapes {xs.shape} and {ys.shape}")
    idx = np.searchsorted(xs, np.asarray(grid, dtype=float), side="right") - 1
    out = np.full(idx.shape, np.nan)
    ok = idx >= 0
    out[ok] = ys[idx[ok]]
    return out


def evaluation_grid(max_evaluations: int, max_points: int = 400) -> np.ndarray:
    """1..max_evaluations, every count when that is at most ``max_points``, else log-spaced integer counts."""
    if max_evaluations < 1:
        return np.array([1.0])
    if max_evaluations <= max_points:
        return np.arange(1, max_evaluations + 1, dtype=float)
    return np.unique(np.round(np.geomspace(1, max_evaluations, max_points)))


def time_grid(start: float, stop: float, points: int = 200) -> np.ndarray:
    """Log-spaced simulated times from ``start`` to ``stop`` (both > 0)."""
    start = max(float(start), 1e-9)
    stop = max(float(stop), start)
    if stop == start:
        return np.array([start])
    return np.geomspace(start, stop, points)


def run_matrix(runs: Sequence[Trajectory], grid: np.ndarray, axis: Axis) -> np.ndarray:
    """Incumbent scores of each run at each grid point, shape (runs, grid)."""
    out = np.full((len(runs), len(grid)), np.nan)
    for i, t in enumerate(runs):
        x = np.arange(1, len(t.incumbent_score) + 1) if axis == "evaluations" else t.finished_s
        out[i] = step_values(x, t.incumbent_score, grid)
    return out


@dataclass(frozen=True)
class Curve:
    grid: np.ndarray
    mean: np.ndarray
    se: np.ndarray  # standard error of the mean over runs (0 where one run)
    n: np.ndarray  # runs with a value at each grid point


def mean_se(matrix: np.ndarray, grid: np.ndarray) -> Curve:
    """Mean and standard error over runs (rows), ignoring runs without a value yet at a grid point."""
    matrix = np.asarray(matrix, dtype=float)
    n = (~np.isnan(matrix)).sum(axis=0)
    mean = np.full(matrix.shape[1], np.nan)
    se = np.zeros(matrix.shape[1])
    has = n > 0
    mean[has] = np.nansum(matrix[:, has], axis=0) / n[has]
    multi = n > 1
    if multi.any():
        dev = np.where(np.isnan(matrix[:, multi]), 0.0, matrix[:, multi] - mean[multi])
        se[multi] = np.sqrt((dev**2).sum(axis=0) / (n[multi] - 1)) / np.sqrt(n[multi])
    return Curve(np.asarray(grid, dtype=float), mean, se, n)
