"""ParEGO (Knowles; IEEE TEC 2006) on the model-based strategies: GP-BO, SMAC and BANANAS.

ParEGO turns a multi-objective search into a sequence of single-objective ones: at every model refit it draws a
weight vector ``w`` uniformly from the simplex, normalises each objective of the told points to [0, 1] by the
minimum and maximum seen so far (0 the best), and scalarises each point by the augmented Chebyshev function

    s(u) = max_j w_j u_j + rho * sum_j w_j u_j,   rho = 0.05

(the max term reaches every Pareto-optimal point, even on a non-convex front; the small sum breaks its ties
towards points better elsewhere). The model is then fitted to ``-s`` (higher is better) and proposes by its own
acquisition as in a single-objective search. Knowles redraws the weights at every iteration; here they are redrawn
at every refit of the model, which is every iteration for BANANAS's batches and SMAC's forests and every
``refit_every`` results for GP-BO's hyperparameters (its posterior is conditioned on the new targets at every
proposal). Infeasible points are scalarised below every feasible one, lower the more they violate the constraints.

Each strategy is its single-objective parent with one hook replaced (``_targets``: what the model trains on),
and each proposal is the cheapest isomorphic twin of the arch the model chose (``CheapestTwin``).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np

from nasbench.strategies._pareto import CheapestTwin, objective_vector, violation
from nasbench.strategies.bananas import Bananas
from nasbench.strategies.base import Feedback, Proposal, Strategy, Trial
from nasbench.strategies.bo import GPBO, SMAC

#: Weight of the augmented sum in the Chebyshev scalarisation (Knowles's value).
RHO = 0.05


def simplex_weights(rng: np.random.Generator, k: int) -> np.ndarray:
    """A weight vector drawn uniformly from the (k-1)-simplex (non-negative, summing to 1)."""
    return rng.dirichlet(np.ones(k))


def scalarise(points: np.ndarray, violations: np.ndarray, weights: np.ndarray, rho: float = RHO) -> np.ndarray:
    """Minus the augmented Chebyshev scalarisation of each oriented point (higher is better), each objective
    normalised by its minimum and maximum over ``points``. Feasible values lie in [-(1 + rho), 0]; an infeasible
    point gets a value in (-(3 + rho), -(2 + rho)], the lower the larger its violation (bounded, so that a few
    infeasible points do not flatten the model's view of the feasible ones)."""
    p = np.asarray(points, dtype=np.float64)
    lo, hi = p.min(axis=0), p.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    weighted = weights * (hi - p) / span  # 0: the best seen in that objective
    value = -(weighted.max(axis=1) + rho * weighted.sum(axis=1))
    v = np.asarray(violations, dtype=np.float64)
    return np.where(v > 0, -(2.0 + rho) - v / (1.0 + v), value)


class _ParEGO(Strategy):
    """Records every told objective vector and serves the scalarised values as the model's targets."""

    def _setup(self) -> None:
        super()._setup()
        self._points: list[tuple[float, ...]] = []
        self._violations: list[float] = []
        self.weights_: np.ndarray | None = None  # the weight vector of the current model
        self._twin = CheapestTwin(self.context)

    def ask(self) -> Proposal:
        proposal = super().ask()
        assert proposal is not None  # the model-based parents always propose
        return dataclasses.replace(proposal, arch=self._twin(proposal.arch))

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        super().tell(trial, feedback)
        self._points.append(objective_vector(feedback))
        self._violations.append(violation(self.context, trial.arch, feedback))

    def _targets(self, refit: bool = False) -> np.ndarray:
        if not self._points:
            return np.zeros(0)
        if refit or self.weights_ is None:
            self.weights_ = simplex_weights(self.rng, len(self._points[0]))
        return scalarise(np.asarray(self._points), np.asarray(self._violations), self.weights_)


class ParEGOGP(_ParEGO, GPBO):
    """ParEGO with GP-BO's Gaussian process and expected improvement (the original ParEGO's model)."""

    name = "parego_gp"
    ranges: ClassVar[dict[str, str]] = GPBO.ranges


class ParEGOSMAC(_ParEGO, SMAC):
    """ParEGO with SMAC's random forest and local search on expected improvement."""

    name = "parego_smac"
    ranges: ClassVar[dict[str, str]] = SMAC.ranges


class ParEGOBananas(_ParEGO, Bananas):
    """ParEGO with BANANAS's ensemble of neural predictors and Thompson sampling."""

    name = "parego_bananas"
    ranges: ClassVar[dict[str, str]] = Bananas.ranges
    options: ClassVar[dict[str, tuple[str, ...]]] = Bananas.options
