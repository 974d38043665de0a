"""Pareto helpers for the multi-objective strategies: every objective maximised, small point sets.

Points are ``(n, k)`` arrays of oriented objective vectors (``Feedback.objectives``: higher is better in every
column). Populations and archives here hold tens to hundreds of points, so dominance is one vectorised ``n x n``
comparison rather than a sweep (``nasbench.analysis.pareto`` serves whole tables). Constraints follow Deb's
constrained domination (Deb, Pratap, Agarwal, Meyarivan 2002): a feasible point beats an infeasible one, and of
two infeasible points the one with the smaller violation wins.

:class:`CheapestTwin` serves the strategies that propose an isomorphism class by any of its members: under known
costs a class's members share an accuracy but not their costs, so each proposal is its cheapest member.
"""

from __future__ import annotations

import numpy as np

from nasbench.spaces.base import Arch, canonical_keys
from nasbench.strategies._common import all_rows, is_enumerable
from nasbench.strategies.base import Feedback, SearchContext


def objective_vector(feedback: Feedback) -> tuple[float, ...]:
    """A trial's oriented objectives: ``feedback.objectives``, or the score alone in a single-objective run."""
    return tuple(feedback.objectives) if feedback.objectives else (feedback.score,)


def violation(context: SearchContext, arch: Arch, feedback: Feedback) -> float:
    """A trial's constraint violation (0: feasible), read from the free costs of the context (their last column is
    minus the violation); 1 for an infeasible trial of a context without costs (a caller of its own)."""
    if feedback.feasible:
        return 0.0
    if context.costs is None:
        return 1.0
    return float(-context.costs(np.asarray([arch], dtype=np.int64))[0, -1])


def dominance(points: np.ndarray) -> np.ndarray:
    """``d[i, j]``: point i dominates point j (at least as good everywhere, better somewhere)."""
    p = np.asarray(points, dtype=np.float64)
    ge = np.all(p[:, None, :] >= p[None, :, :], axis=2)
    gt = np.any(p[:, None, :] > p[None, :, :], axis=2)
    return np.asarray(ge & gt)


def non_dominated(points: np.ndarray) -> np.ndarray:
    """Mask of the points no other point dominates (duplicates of an optimal point are all kept)."""
    if not len(points):
        return np.zeros(0, dtype=bool)
    return np.asarray(~dominance(points).any(axis=0))


def constrained_ranks(points: np.ndarray, violations: np.ndarray | None = None) -> np.ndarray:
    """Non-domination rank of each point (0: the first front) under constrained domination: the feasible points
    are sorted into fronts (Deb's fast non-dominated sort), then the infeasible ones follow, one rank per distinct
    violation, the smallest first."""
    n = len(points)
    ranks = np.zeros(n, dtype=np.int64)
    viol = np.zeros(n) if violations is None else np.asarray(violations, dtype=np.float64)
    feasible = np.flatnonzero(viol <= 0)
    next_rank = 0
    if len(feasible):
        dom = dominance(np.asarray(points)[feasible])
        count = dom.sum(axis=0)  # how many points dominate each
        remaining = np.ones(len(feasible), dtype=bool)
        while remaining.any():
            front = remaining & (count == 0)
            ranks[feasible[front]] = next_rank
            next_rank += 1
            remaining &= ~front
            count -= dom[front].sum(axis=0)
    infeasible = np.flatnonzero(viol > 0)
    if len(infeasible):
        _, index = np.unique(viol[infeasible], return_inverse=True)
        ranks[infeasible] = next_rank + index
    return ranks


def crowding_distance(points: np.ndarray) -> np.ndarray:
    """NSGA-II's crowding distance of each point of one front: per objective, the gap between its two neighbours
    in that objective over the front's range, summed; the extremes of each objective get infinity (so they are
    kept and preferred, which preserves the front's spread)."""
    p = np.asarray(points, dtype=np.float64)
    n, k = p.shape
    distance = np.zeros(n)
    if n <= 2:
        distance[:] = np.inf
        return distance
    for j in range(k):
        order = np.argsort(p[:, j], kind="stable")
        values = p[order, j]
        span = values[-1] - values[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (values[2:] - values[:-2]) / span
    return distance


def rank_and_crowding(points: np.ndarray, violations: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each point's constrained rank and its crowding distance within its front (infeasible points: within their
    violation level, which only matters among equals)."""
    ranks = constrained_ranks(points, violations)
    crowding = np.zeros(len(points))
    for r in np.unique(ranks):
        members = np.flatnonzero(ranks == r)
        crowding[members] = crowding_distance(np.asarray(points)[members])
    return ranks, crowding


def cost_merit(known: np.ndarray) -> np.ndarray:
    """One number per arch from the context's costs of ``known`` rows (oriented costs, then minus the violation):
    the sum of its costs, each scaled by its range over the rows; higher is cheaper. 0 with no cost objective."""
    costs = known[:, :-1]
    span = np.ptp(costs, axis=0) if len(costs) else np.ones(costs.shape[1])
    return (costs / np.where(span > 0, span, 1.0)).sum(axis=1)


def cheapest_members(keys: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Of each isomorphism class among some rows (their ``keys``), the member whose known costs are best:
    positions into the rows, one per class, ascending. ``known``: the context's costs of the rows. Isomorphic
    cells compute the same function, so they share an accuracy, but not their costs: a device runs a cell's dead
    operations too (HW-NAS-Bench measured every NB201 cell). The member kept has the least violation, then the
    best :func:`cost_merit`, then the first position."""
    order = np.lexsort((-cost_merit(known), -known[:, -1], keys))  # by class, then best first (a stable sort)
    first = np.ones(len(order), dtype=bool)
    first[1:] = keys[order][1:] != keys[order][:-1]
    return np.sort(order[first])


class CheapestTwin:
    """An arch's isomorphic twin with the best known costs (:func:`cheapest_members`), for the strategies that
    propose a class by any member: the twin has the arch's accuracy and costs no more. Identity without costs
    (a run with neither objectives nor constraints) or on a space too large to list (``LIMIT`` archs)."""

    #: Largest enumerable space whose classes are listed (NB201: 15,625 archs). Listing NAS-Bench-Graph's 59,040
    #: takes 2 s a run, and its benchmark stores one row, so one cost, per class: its twins would gain nothing.
    LIMIT = 20_000

    def __init__(self, context: SearchContext) -> None:
        self.space = context.space
        self._costs = context.costs
        size = getattr(self.space, "size", None) if is_enumerable(self.space) else None
        self.listable = size is not None and size <= self.LIMIT
        self._members: np.ndarray | None = None
        self._by_key: dict[int, int] = {}

    def members(self) -> np.ndarray:
        """The twin of every class of a listable space, as an ``(n, width)`` array in the order of the space's
        archs (without costs: the first member of each class); listed once."""
        if self._members is None:
            rows = all_rows(self.space)
            keys = canonical_keys(self.space, rows)
            known = self._costs(rows) if self._costs is not None else np.zeros((len(rows), 1))
            positions = cheapest_members(keys, known)
            self._members = rows[positions]
            self._by_key = {k: i for i, k in enumerate(keys[positions].tolist())}
        return self._members

    def __call__(self, arch: Arch) -> Arch:
        if self._costs is None or not self.listable:
            return arch
        members = self.members()
        key = int(canonical_keys(self.space, np.asarray([arch], dtype=np.int64))[0])
        return tuple(int(v) for v in members[self._by_key[key]])
