"""Bayesian optimisation with expected improvement: a Gaussian process (:class:`GPBO`) and SMAC's random forest
(:class:`SMAC`, Hutter, Hoos, Leyton-Brown; LION 2011).

Both propose one arch per ``ask``, the maximiser of expected improvement over the best score told so far among
candidate archs that are not isomorphic to any arch proposed before (pending ones included, so several workers
get different archs). The model is conditioned on every result; what costs more than a few milliseconds (the
GP's hyperparameters, the forest) is refitted every ``refit_every`` results.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from nasbench.spaces.base import Arch, sample_many
from nasbench.strategies._common import Proposed, mutations, single_thread
from nasbench.strategies.base import Feedback, Proposal, Strategy, Trial

log = logging.getLogger(__name__)


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """EI of maximising: E[max(f - best - xi, 0)] for f ~ N(mean, std^2)."""
    from scipy.special import ndtr

    std = np.maximum(std, 1e-12)
    gain = mean - best - xi
    z = gain / std
    return gain * ndtr(z) + std * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


class _ModelBased(Strategy):
    """Shared bookkeeping: ``num_init`` random archs, then one model-chosen arch per ask."""

    num_init: int
    refit_every: int
    encoding: str

    def _setup(self) -> None:
        for name in ("num_init", "refit_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{self.name}: {name} must be an integer >= 1, got {value!r}")
        self.space.encode([self.space.sample(self.rng)], self.encoding)  # unknown encodings fail here, clearly
        self._check()
        self._proposed = Proposed(self.space)  # isomorphism classes of every arch proposed so far
        self._archs: list[Arch] = []
        self._scores: list[float] = []
        self._fitted_at = -1  # number of results the model was last refitted on
        self._initial = 0

    def _check(self) -> None:
        """Validate the subclass's own hyperparameters."""

    def _propose(self, arch: Arch) -> Proposal:
        self._proposed.add([arch])
        return Proposal(arch)

    def _random_new(self) -> Arch:
        for _ in range(100):
            arch = self.space.sample(self.rng)
            if arch not in self._proposed:
                return arch
        return arch

    def _best_archs(self, count: int) -> list[Arch]:
        order = np.argsort(-np.asarray(self._scores), kind="stable")[:count]
        return [self._archs[i] for i in order]

    def ask(self) -> Proposal:
        if self._initial < self.num_init or len(self._scores) < 2:
            self._initial += 1
            return self._propose(self._random_new())
        with single_thread():
            arch = self._model_choice()
        return self._propose(arch if arch is not None else self._random_new())

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        super().tell(trial, feedback)
        self._archs.append(trial.arch)
        self._scores.append(feedback.score)

    def _needs_refit(self) -> bool:
        return self._fitted_at < 0 or len(self._scores) - self._fitted_at >= self.refit_every

    def _model_choice(self) -> Arch | None:
        raise NotImplementedError


class GPBO(_ModelBased):
    """GP with a squared-exponential kernel on an encoding of the arch (``"onehot"``, which every space has: the
    kernel is then a function of how many decisions differ), noise and amplitude fitted by maximum marginal
    likelihood every ``refit_every`` results (the posterior itself is updated with every result). Candidates:
    ``num_random`` uniform archs, all neighbours (``space.neighbors``) of the ``num_best`` best archs, and
    ``num_mutations`` mutations of the best (each decision changed with probability 1/3)."""

    name = "gp_bo"

    def __init__(
        self,
        num_init: int = 10,
        encoding: str = "onehot",
        num_random: int = 1000,
        num_best: int = 10,
        num_mutations: int = 100,
        xi: float = 0.0,
        refit_every: int = 10,
    ) -> None:
        self.num_init = num_init
        self.encoding = encoding
        self.num_random = num_random
        self.num_best = num_best
        self.num_mutations = num_mutations
        self.xi = xi
        self.refit_every = refit_every

    def _check(self) -> None:
        for name in ("num_random", "num_best", "num_mutations"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"gp_bo: {name} must be an integer >= 0, got {value!r}")
        if self.num_random + self.num_best + self.num_mutations == 0:
            raise ValueError("gp_bo: num_random, num_best and num_mutations are all 0: no candidates")
        self._log_params = np.array([0.0, math.log(2.0), math.log(0.1)])  # log amplitude, lengthscale, noise std

    def _model_choice(self) -> Arch | None:
        candidates = sample_many(self.space, self.rng, self.num_random)
        for parent in self._best_archs(self.num_best):
            candidates.extend(self.space.neighbors(parent))
        if self.num_mutations:
            candidates.extend(mutations(self.space, self._best_archs(1)[0], self.num_mutations, 1 / 3, self.rng))
        candidates = self._proposed.new(candidates)
        if not candidates:
            return None
        x = self.space.encode(self._archs, self.encoding).astype(np.float64)
        y = np.asarray(self._scores)
        mu, sd = y.mean(), y.std() or 1.0
        target = (y - mu) / sd
        if self._needs_refit():
            self._fit_hyperparameters(x, target)
            self._fitted_at = len(self._scores)
        mean, std = self._posterior(x, target, self.space.encode(candidates, self.encoding).astype(np.float64))
        ei = expected_improvement(mean, std, float(target.max()), self.xi / sd)
        return candidates[int(np.argmax(ei))]

    def _kernel(self, a: np.ndarray, b: np.ndarray, log_params: np.ndarray) -> np.ndarray:
        amplitude, lengthscale = np.exp(2 * log_params[0]), np.exp(log_params[1])
        return amplitude * np.exp(-0.5 * self._sq_dist(a, b) / lengthscale**2)

    def _neg_log_likelihood(self, log_params: np.ndarray, sq: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log marginal likelihood (constant dropped) and its gradient in the log parameters."""
        amplitude, lengthscale, noise = np.exp(2 * log_params[0]), np.exp(log_params[1]), np.exp(2 * log_params[2])
        shape = np.exp(-0.5 * sq / lengthscale**2)
        k = amplitude * shape + (noise + 1e-8) * np.eye(len(y))
        try:
            chol = np.linalg.cholesky(k)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros(3)
        from scipy.linalg import cho_solve

        alpha = cho_solve((chol, True), y)
        inner = cho_solve((chol, True), np.eye(len(y))) - np.outer(alpha, alpha)
        grads = (2 * amplitude * shape, amplitude * shape * sq / lengthscale**2)
        grad = [0.5 * float((inner * g).sum()) for g in grads] + [float(noise * np.trace(inner))]
        return float(0.5 * y @ alpha + np.log(np.diag(chol)).sum()), np.asarray(grad)

    def _fit_hyperparameters(self, x: np.ndarray, y: np.ndarray) -> None:
        from scipy.optimize import minimize

        sq = self._sq_dist(x, x)
        bounds = [(math.log(0.1), math.log(10.0)), (math.log(0.3), math.log(10.0)), (math.log(1e-3), math.log(1.0))]
        default = np.array([0.0, math.log(2.0), math.log(0.1)])
        best = None
        for start in (self._log_params, default) if self._fitted_at >= 0 else (default,):
            res = minimize(self._neg_log_likelihood, start, args=(sq, y), jac=True, method="L-BFGS-B", bounds=bounds)
            if best is None or res.fun < best.fun:
                best = res
        self._log_params = np.asarray(best.x)  # type: ignore[union-attr]

    @staticmethod
    def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T, 0.0)

    def _posterior(self, x: np.ndarray, y: np.ndarray, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        noise = np.exp(2 * self._log_params[2]) + 1e-8
        chol = np.linalg.cholesky(self._kernel(x, x, self._log_params) + noise * np.eye(len(x)))
        alpha = np.linalg.solve(chol.T, np.linalg.solve(chol, y))
        cross = self._kernel(xs, x, self._log_params)
        mean = cross @ alpha
        v = np.linalg.solve(chol, cross.T)
        var = np.exp(2 * self._log_params[0]) - (v * v).sum(0)
        return mean, np.sqrt(np.maximum(var, 1e-12))


class SMAC(_ModelBased):
    """SMAC: random forest (``num_trees`` trees, bootstrap, 5/6 of the features per split, at least 3 samples to
    split and 3 per leaf: SMAC's defaults), its uncertainty the variance across trees; EI maximised by local search
    (best move to a neighbour, ``space.neighbors``, while EI improves) from the ``num_local_starts`` best archs,
    plus ``num_random`` uniform archs. With probability ``random_probability`` a proposal is a uniform random arch
    instead (SMAC interleaves random configurations; the original paper takes every second one, hence 0.5)."""

    name = "smac"

    def __init__(
        self,
        num_init: int = 10,
        encoding: str = "onehot",
        num_trees: int = 10,
        random_probability: float = 0.5,
        num_local_starts: int = 10,
        num_random: int = 1000,
        refit_every: int = 1,
    ) -> None:
        self.num_init = num_init
        self.encoding = encoding
        self.num_trees = num_trees
        self.random_probability = random_probability
        self.num_local_starts = num_local_starts
        self.num_random = num_random
        self.refit_every = refit_every

    def _check(self) -> None:
        if not isinstance(self.num_trees, int) or self.num_trees < 1:
            raise ValueError(f"smac: num_trees must be an integer >= 1, got {self.num_trees!r}")
        if not 0 <= self.random_probability <= 1:
            raise ValueError(f"smac: random_probability must be in [0, 1], got {self.random_probability!r}")
        for name in ("num_local_starts", "num_random"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"smac: {name} must be an integer >= 0, got {value!r}")
        if self.num_local_starts + self.num_random == 0:
            raise ValueError("smac: num_local_starts and num_random are both 0: no candidates")
        self._forest = None

    def _model_choice(self) -> Arch | None:
        if self.rng.random() < self.random_probability:
            return None  # an interleaved random arch
        if self._needs_refit():
            self._fit()
        best = float(np.max(self._scores))
        cache: dict[Arch, float] = {}

        def ei(archs: list[Arch]) -> np.ndarray:
            new = [a for a in dict.fromkeys(archs) if a not in cache]
            if new:
                per_tree = self._per_tree(self.space.encode(new, self.encoding))
                values = expected_improvement(per_tree.mean(0), per_tree.std(0), best)
                cache.update(zip(new, values.tolist(), strict=True))
            return np.array([cache[a] for a in archs])

        # local search on EI from the best archs told, all searches advancing together; each moves to its best
        # neighbour while that improves EI (moves through proposed archs are allowed, proposals are filtered later)
        current = list(dict.fromkeys(self._best_archs(self.num_local_starts)))
        values = ei(current) if current else np.array([])
        while current:
            neighbors = [self.space.neighbors(arch) for arch in current]  # as many per arch on NB201, not always
            flat = ei([n for group in neighbors for n in group])
            groups = np.split(flat, np.cumsum([len(group) for group in neighbors])[:-1])
            moves = []
            for group, group_ei, value in zip(neighbors, groups, values, strict=True):
                if len(group) and group_ei.max() > value:
                    moves.append(group[int(np.argmax(group_ei))])
            current = list(dict.fromkeys(moves))
            values = ei(current) if current else np.array([])
        ei(sample_many(self.space, self.rng, self.num_random))
        candidates = self._proposed.new(list(cache))
        if not candidates:
            return None
        scores = np.array([cache[a] for a in candidates])
        return candidates[int(np.argmax(scores))]

    def _fit(self) -> None:
        from sklearn.ensemble import RandomForestRegressor

        self._forest = RandomForestRegressor(
            n_estimators=self.num_trees, max_features=5 / 6, min_samples_split=3, min_samples_leaf=3,
            bootstrap=True, random_state=int(self.rng.integers(2**31)),
        ).fit(self.space.encode(self._archs, self.encoding), np.asarray(self._scores))  # fmt: skip
        self._fitted_at = len(self._scores)

    def _per_tree(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)  # the trees' own input type: no per-tree check or copy
        return np.stack([tree.tree_.predict(x)[:, 0] for tree in self._forest.estimators_])  # type: ignore[union-attr]
