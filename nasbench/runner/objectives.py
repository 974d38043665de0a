"""Several objectives and constraints: what a multi-objective or constrained run is judged by.

A comparison's first objective is always its protocol's search metric (scored by the score metric), the one that
costs training to learn. Further objectives and every constraint are **costs known before training**: per-
architecture static figures of the store (parameters, FLOPs, device latency and energy, e.g. joined from
HW-NAS-Bench with ``nasbench join``). As in the hardware-aware NAS literature, they are free to read: the runner
reads them for every proposal, and a strategy may read them for any arch through ``SearchContext.costs``.

Hypervolume is computed on the score side (the score metric of each arch in the incumbent set, and its costs),
each objective normalised by its range over the whole table (0 = the table's best value, 1 = its worst), against
the reference point 1 in every objective (the table's worst values): a number in [0, 1], 1 only if one arch were
best in every objective. On a complete table the true Pareto front is known, so is its hypervolume (the optimum)
and the distance of any front to it (IGD).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.errors import InvalidQuery, MissingResult, UnknownMetric
from nasbench.spaces.base import Arch
from nasbench.store.format import default_direction

#: What the score of a multi-objective run is called in configs and reports.
HYPERVOLUME = "hypervolume"

#: Objectives a comparison may have in all (the first is the search metric): exact hypervolume stops at 3.
MAX_OBJECTIVES = 3

_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=)\s*([-+0-9.eE]+|inf)\s*$")


@dataclass(frozen=True)
class Objective:
    """A static figure and its direction: ``"edgegpu_latency_ms"`` (the direction its name implies) or
    ``"params_m:min"``."""

    name: str
    direction: str

    @classmethod
    def parse(cls, text: str) -> Objective:
        if not isinstance(text, str) or not text.strip():
            raise InvalidQuery(f"an objective is a static figure's name, optionally NAME:min or NAME:max; got {text!r}")
        name, _, direction = text.strip().partition(":")
        direction = direction or default_direction(name) or ("min" if _is_cost_name(name) else "")
        if direction not in ("min", "max"):
            raise InvalidQuery(
                f"objective {text!r} has no direction: write {name}:min or {name}:max (names of costs imply min: "
                "params*, flops*, *latency*, *energy*, *_ms, *_mj; metric-like names ending in _acc imply max)"
            )
        return cls(name, direction)

    def __str__(self) -> str:
        return f"{self.name}:{self.direction}"


def _is_cost_name(name: str) -> bool:
    return name.startswith(("params", "flops")) or "latency" in name or "energy" in name


@dataclass(frozen=True)
class Constraint:
    """``NAME<=BOUND`` or ``NAME>=BOUND`` on a static figure."""

    name: str
    op: str
    bound: float

    @classmethod
    def parse(cls, text: str) -> Constraint:
        match = _CONSTRAINT.match(text) if isinstance(text, str) else None
        if match is None:
            raise InvalidQuery(f"a constraint is NAME<=NUMBER or NAME>=NUMBER (e.g. params_m<=1.0); got {text!r}")
        bound = float(match.group(3))
        if math.isnan(bound):
            raise InvalidQuery(f"constraint {text!r}: the bound is not a number")
        return cls(match.group(1), match.group(2), bound)

    def violation(self, values: np.ndarray) -> np.ndarray:
        """How far each value lies outside the bound (0 where it holds), relative to the bound's size."""
        excess = values - self.bound if self.op == "<=" else self.bound - values
        return np.maximum(excess, 0.0) / max(abs(self.bound), 1e-12)

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.bound:g}"


class Objectives:
    """The objectives and constraints of a protocol, resolved against one benchmark (a table holding the static
    figures of every arch it is asked about)."""

    def __init__(
        self,
        bench: Any,
        *,
        search_metric: str,
        search_epoch: int,
        score_metric: str,
        score_epoch: int,
        objectives: Sequence[str] = (),
        constraints: Sequence[str] = (),
    ) -> None:
        from nasbench.analysis.pareto import non_dominated  # here: nasbench.analysis imports the runner

        self.costs = tuple(Objective.parse(t) for t in objectives)
        self.constraints = tuple(Constraint.parse(t) for t in constraints)
        if 1 + len(self.costs) > MAX_OBJECTIVES:
            raise InvalidQuery(
                f"at most {MAX_OBJECTIVES - 1} objectives beside the search metric (exact hypervolume stops at "
                f"{MAX_OBJECTIVES}); got {len(self.costs)}"
            )
        names = [c.name for c in self.costs]
        if len(set(names)) != len(names):
            raise InvalidQuery(f"objectives repeat: {names}")
        static = getattr(bench, "static", None)
        if not callable(static) or not hasattr(bench, "rows"):
            raise InvalidQuery(
                "objectives and constraints read costs known before training (static figures) for every arch: they "
                "need a table that holds every arch the runs may visit, not a surrogate benchmark"
            )
        columns = {}
        for name in dict.fromkeys([*names, *(c.name for c in self.constraints)]):
            if name in bench.metrics:
                raise InvalidQuery(
                    f"{name!r} is a trained metric; objectives beside the search metric, and constraints, are costs "
                    "known before training: the store's static figures"
                )
            try:
                columns[name] = static(name)
            except UnknownMetric as exc:
                raise UnknownMetric(f"objective or constraint on {name!r}: {exc}") from None
        self._bench = bench
        self._columns = columns
        self._cost_table = np.column_stack([columns[n] for n in names]) if names else np.zeros((len(bench), 0))
        violation = np.zeros(len(bench))
        for c in self.constraints:
            violation += c.violation(columns[c.name])
        self._violation = violation
        self.primary_direction = bench.directions[score_metric]
        self.search_direction = bench.directions[search_metric]
        # the score side over the whole table: normalisation, the true front and its hypervolume
        primary = bench.table(score_metric, epoch=score_epoch)
        scored = self._scored = np.column_stack([primary, self._cost_table])
        known = np.isfinite(scored).all(axis=1)
        if not known.any():
            raise MissingResult(f"no arch of the table has {score_metric}@{score_epoch} and every cost")
        best = np.where(self._maximised(), np.nanmax(scored[known], 0), np.nanmin(scored[known], 0))
        worst = np.where(self._maximised(), np.nanmin(scored[known], 0), np.nanmax(scored[known], 0))
        self.ideal, self.nadir = best, worst
        feasible = known & (violation == 0)
        self.true_front = np.zeros((0, scored.shape[1]))
        self.true_front_archs: list[Arch] = []
        if len(self.costs) and feasible.any():
            idx = np.flatnonzero(feasible)
            mask = non_dominated(scored[idx], self.directions)
            order = np.argsort(scored[idx][mask][:, 0] * (-1 if self.primary_direction == "max" else 1), kind="stable")
            self.true_front = scored[idx][mask][order]
            archs = bench.archs()
            self.true_front_archs = [archs[i] for i in idx[mask][order]]
        # the search metric's range, for the score an infeasible trial is reported with
        search = bench.table(search_metric, epoch=search_epoch)
        sign = 1.0 if self.search_direction == "max" else -1.0
        finite = search[np.isfinite(search)]
        self.search_floor = float(np.min(sign * finite)) if len(finite) else 0.0
        self.search_spread = float(np.ptp(finite)) if len(finite) else 1.0

    @property
    def multi(self) -> bool:
        """Whether there are objectives beside the search metric (else: a constrained single-objective run)."""
        return bool(self.costs)

    @property
    def directions(self) -> tuple[str, ...]:
        return (self.primary_direction, *(c.direction for c in self.costs))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.costs)

    def _maximised(self) -> np.ndarray:
        return np.array([d == "max" for d in self.directions])

    def of(self, arch: Arch) -> tuple[np.ndarray, float]:
        """An arch's costs (raw, in objective order) and its constraint violation (0: feasible)."""
        row = int(self._bench.rows([arch])[0])
        return self._cost_table[row], float(self._violation[row])

    def of_rows(self, archs: np.ndarray) -> np.ndarray:
        """The costs of an ``(n, width)`` array of archs, oriented so that larger is better (what strategies
        maximise), with a last column: minus the constraint violation (0 where feasible)."""
        rows = self._bench.rows(archs)
        signs = np.array([1.0 if c.direction == "max" else -1.0 for c in self.costs])
        return np.column_stack([self._cost_table[rows] * signs, -self._violation[rows]])

    def reported_score(self, oriented_score: float, violation: float) -> float:
        """What a strategy is told for a trial: its score when feasible, else one below every feasible score in
        the table and the lower the more the constraints are violated (so single-objective strategies, which rank
        by score, rank infeasible archs last without any change)."""
        if violation <= 0:
            return oriented_score
        return self.search_floor - self.search_spread * (1.0 + violation)

    def normalised(self, points: np.ndarray) -> np.ndarray:
        """Score-side points mapped to [0, 1] per objective, 0 the table's best value, 1 its worst."""
        span = np.where(self.nadir != self.ideal, self.nadir - self.ideal, 1.0)
        return (np.asarray(points, dtype=np.float64) - self.ideal) / span

    def hypervolume(self, points: np.ndarray) -> float:
        """The normalised hypervolume of score-side points (see the module docstring)."""
        from nasbench.analysis.pareto import hypervolume

        pts = np.asarray(points, dtype=np.float64).reshape(-1, len(self.directions))
        if not len(pts):
            return 0.0
        return hypervolume(self.normalised(pts), [1.0] * pts.shape[1], ["min"] * pts.shape[1])

    def best_feasible(self) -> dict[str, Any] | None:
        """The best score-metric value among the table's feasible archs (the optimum of a constrained run)."""
        primary = self._scored[:, 0]
        ok = np.isfinite(primary) & (self._violation == 0)
        if not ok.any():
            return None
        idx = np.flatnonzero(ok)
        row = int(idx[np.argmax(primary[idx]) if self.primary_direction == "max" else np.argmin(primary[idx])])
        return {"score": float(primary[row]), "arch": self._bench.space.to_str(self._bench.archs()[row])}

    def describe(self) -> dict[str, Any]:
        """What the report states: objectives, constraints, normalisation and reference point."""
        return {
            "objectives": [str(c) for c in self.costs],
            "constraints": [str(c) for c in self.constraints],
            "ideal": [float(v) for v in self.ideal],
            "nadir": [float(v) for v in self.nadir],
            "reference_point": "the table's worst value of each objective (1 after normalising to [0, 1])",
            "true_front_size": len(self.true_front),
            "true_front": [[float(v) for v in point] for point in self.true_front],
            "optimum_hypervolume": self.hypervolume(self.true_front) if len(self.true_front) else None,
        }
