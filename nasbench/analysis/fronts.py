"""The fronts of multi-objective comparisons, and the feasibility of constrained ones, read from the trajectories.

A run's final incumbent set is recomputed from what it recorded per trial (search score, costs, violation): the
feasible trials no other dominates by validation score and costs, at the highest epoch reached. Its score-side
points (each member's score metric and costs) are what the report draws and measures against the table's true
front: IGD with each objective divided by its range over the table. The empirical attainment surface of a set of
runs (two objectives) says, for each cost, the score that a given share of the runs attained at that cost or less.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.analysis.pareto import igd, non_dominated
from nasbench.runner.objectives import Objective
from nasbench.runner.simulate import Trajectory


@dataclass(frozen=True)
class Fronts:
    names: tuple[str, ...]  # the score side: the score metric, then the costs
    directions: tuple[str, ...]
    true_front: np.ndarray  # (m, k) raw, the table's (empty when unknown)
    final: dict[str, dict[int, np.ndarray]]  # label -> seed -> the final incumbent set's score-side points
    igd: dict[str, tuple[float, float]]  # label -> mean, std over runs (NaN without a true front)
    size: dict[str, float]  # label -> mean number of points in the final set
    feasible_share: dict[str, float]  # label -> share of evaluations that met the constraints
    median_seed: dict[str, int]  # label -> the seed of its run of median final score (hypervolume)

    @property
    def multi(self) -> bool:
        return len(self.names) > 1


def objective_setup(config: dict[str, Any]) -> tuple[tuple[Objective, ...], str, str] | None:
    """The costs of a comparison with objectives or constraints, its search and score directions; None for a
    plain single-objective comparison."""
    described = config.get("objectives")
    if not described:
        return None
    proto = config.get("protocol") or {}
    directions = config.get("directions") or {}
    search = directions.get(proto.get("search_metric"), "max")
    score = directions.get(proto.get("score_metric"), "max")
    return tuple(Objective.parse(text) for text in described.get("objectives", [])), search, score


def final_front(run: Trajectory, costs: Sequence[Objective], search_direction: str) -> np.ndarray:
    """Score-side points (score metric, costs) of the run's final incumbent set; (0, k) when nothing was feasible."""
    k = 1 + len(costs)
    if not run.violation:
        return np.zeros((0, k))
    feasible = np.asarray(run.violation) <= 0
    epochs = np.asarray(run.epoch)
    if not feasible.any():
        return np.zeros((0, k))
    top = epochs[feasible].max()
    idx = np.flatnonzero(feasible & (epochs == top))
    cost = np.asarray(run.costs, dtype=float).reshape(len(run.score), k - 1)[idx]
    search_side = np.column_stack([np.asarray(run.score)[idx], cost])
    mask = non_dominated(search_side, [search_direction, *(c.direction for c in costs)])
    score_side = np.column_stack([np.asarray(run.scored)[idx], cost])
    return np.unique(score_side[mask], axis=0)


def summarise_fronts(config: dict[str, Any], grouped: dict[str, dict[int, Trajectory]]) -> Fronts | None:
    setup = objective_setup(config)
    if setup is None:
        return None
    costs, search, score = setup
    proto = config.get("protocol") or {}
    described = config["objectives"]
    names = (str(proto.get("score_metric")), *(c.name for c in costs))
    directions = (score, *(c.direction for c in costs))
    true_front = np.asarray(described.get("true_front") or np.zeros((0, len(names))), dtype=float)
    scale = np.abs(np.asarray(described.get("nadir"), dtype=float) - np.asarray(described.get("ideal"), dtype=float))
    scale = np.where(scale > 0, scale, 1.0)
    final: dict[str, dict[int, np.ndarray]] = {}
    distances: dict[str, tuple[float, float]] = {}
    size: dict[str, float] = {}
    share: dict[str, float] = {}
    median: dict[str, int] = {}
    for label, runs in grouped.items():
        if not runs:
            continue
        finals = sorted(
            (run.incumbent_score[-1] if run.incumbent_score else -math.inf, seed) for seed, run in runs.items()
        )
        median[label] = finals[(len(finals) - 1) // 2][1]
        final[label] = {seed: final_front(run, costs, search) for seed, run in runs.items()}
        if len(costs) and len(true_front):
            values = [igd(f, true_front, directions, scale.tolist()) for f in final[label].values()]
            finite = [v for v in values if math.isfinite(v)]
            distances[label] = (
                (float(np.mean(finite)), float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0)
                if finite
                else (math.inf, math.nan)
            )
        else:
            distances[label] = (math.nan, math.nan)
        size[label] = float(np.mean([len(f) for f in final[label].values()]))
        told = [v for run in runs.values() for v in run.violation]
        share[label] = float(np.mean(np.asarray(told) <= 0)) if told else math.nan
    return Fronts(names, directions, true_front, final, distances, size, share, median)


def attainment(fronts: Sequence[np.ndarray], grid: np.ndarray, level: float, directions: Sequence[str]) -> np.ndarray:
    """The ``level``-attainment surface of two-objective fronts (score, cost) read at each cost of ``grid``: the
    best score that at least ``level`` of the fronts attain at that cost or a better one (NaN where fewer do)."""
    if len(directions) != 2:
        raise ValueError("attainment surfaces are drawn for two objectives")
    score_max, cost_min = directions[0] == "max", directions[1] == "min"
    worst = -math.inf if score_max else math.inf
    best_at = np.full((len(fronts), len(grid)), worst)
    for i, front in enumerate(fronts):
        for s, c in front:
            reached = grid >= c if cost_min else grid <= c
            best_at[i, reached] = (
                np.maximum(best_at[i, reached], s) if score_max else np.minimum(best_at[i, reached], s)
            )
    # the score attained by at least `level` of the runs: the ceil(level * n)-th best of the runs' scores
    ordered = -np.sort(-best_at, axis=0) if score_max else np.sort(best_at, axis=0)
    out = ordered[max(math.ceil(level * len(fronts)) - 1, 0)]
    return np.where(np.isfinite(out), out, np.nan)
