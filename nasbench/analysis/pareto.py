"""Pareto fronts and their quality indicators, for multi-objective comparisons.

Points are an ``(n, k)`` array of objective values in their own units; ``directions`` says per objective whether
it is maximised ("max", accuracy) or minimised ("min", latency). Everything here first orients the points so that
every objective is minimised (``max`` columns negated), then:

- :func:`non_dominated` marks the Pareto-optimal points (a point is dominated when another is at least as good in
  every objective and better in one; duplicates of an optimal point are all kept);
- :func:`hypervolume` is the exact volume dominated by the points and bounded by a reference point, for 1, 2 or 3
  objectives (a sweep over the sorted points; beyond 3 objectives exact algorithms cost exponentially more and are
  refused with a clear error);
- :func:`igd` is the inverted generational distance: the mean distance from each point of a reference front (the
  true Pareto front, where a table is complete) to the nearest point of an approximation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasbench.errors import InvalidQuery


def oriented(points: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """``points`` with every objective turned into one to minimise (``max`` columns negated), as float64."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != len(directions):
        raise InvalidQuery(f"points must be (n, {len(directions)}) for {len(directions)} objectives, got {pts.shape}")
    bad = [d for d in directions if d not in ("max", "min")]
    if bad:
        raise InvalidQuery(f"directions are 'max' or 'min', got {bad}")
    if not np.isfinite(pts).all():
        raise InvalidQuery("objective values must be finite (drop runs without a result first)")
    sign = np.array([-1.0 if d == "max" else 1.0 for d in directions])
    return pts * sign


def non_dominated(points: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """A boolean mask of the points no other point dominates. In lexicographic order no point dominates one before
    it, so each is checked against the front kept so far only: O(n x front) rather than O(n^2) (a whole NB201
    table, 15,625 points, takes milliseconds)."""
    pts = oriented(points, directions)
    keep = np.zeros(len(pts), dtype=bool)
    front = np.empty_like(pts)
    size = 0
    for i in np.lexsort(pts.T[::-1]):
        p = pts[i]
        kept = front[:size]
        if size and (np.all(kept <= p, axis=1) & np.any(kept < p, axis=1)).any():
            continue
        front[size] = p
        size += 1
        keep[i] = True
    return keep


def hypervolume(points: np.ndarray, reference: Sequence[float], directions: Sequence[str]) -> float:
    """The exact volume dominated by ``points`` and bounded by ``reference`` (in the objectives' own units and
    directions: for a "max" objective the reference is a lower bound, for "min" an upper one). Points that do not
    dominate the reference contribute nothing."""
    k = len(directions)
    if k > 3:
        raise InvalidQuery(f"exact hypervolume is computed for 1 to 3 objectives; got {k}")
    pts = oriented(points, directions)
    ref = oriented(np.asarray(reference, dtype=np.float64).reshape(1, -1), directions)[0]
    pts = pts[np.all(pts < ref, axis=1)]
    if len(pts) == 0:
        return 0.0
    pts = pts[non_dominated(pts, ["min"] * k)]
    if k == 1:
        return float(ref[0] - pts[:, 0].min())
    if k == 2:
        return _hv2(pts, ref)
    return _hv3(pts, ref)


def _hv2(pts: np.ndarray, ref: np.ndarray) -> float:
    """Two objectives, mutually non-dominated points: sorted by the first, the second falls; sum the strips."""
    order = np.argsort(pts[:, 0], kind="stable")
    x, y = pts[order, 0], pts[order, 1]
    widths = np.append(x[1:], ref[0]) - x
    return float(np.sum(widths * (ref[1] - y)))


def _hv3(pts: np.ndarray, ref: np.ndarray) -> float:
    """Three objectives: sweep the third; between consecutive levels the dominated area of the points seen so far
    (a 2-D hypervolume) extends over the slab's depth."""
    order = np.argsort(pts[:, 2], kind="stable")
    z = np.append(pts[order, 2], ref[2])
    volume = 0.0
    for i in range(len(order)):
        depth = z[i + 1] - z[i]
        if depth > 0:
            seen = pts[order[: i + 1], :2]
            seen = seen[non_dominated(seen, ["min", "min"])]
            volume += _hv2(seen, ref[:2]) * depth
    return volume


def igd(front: np.ndarray, reference_front: np.ndarray, directions: Sequence[str], scale: Sequence[float]) -> float:
    """Mean distance from each point of ``reference_front`` to its nearest point of ``front``, each objective
    divided by ``scale`` (e.g. its range over the benchmark) so that units do not weigh in; 0 = the front found."""
    approx = oriented(front, directions) / np.asarray(scale, dtype=np.float64)
    true = oriented(reference_front, directions) / np.asarray(scale, dtype=np.float64)
    if len(approx) == 0:
        return float("inf")
    distances = np.sqrt(((true[:, None, :] - approx[None, :, :]) ** 2).sum(axis=2))
    return float(distances.min(axis=1).mean())
