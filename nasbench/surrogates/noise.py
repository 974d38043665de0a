"""Seed-to-seed noise: how much a result varies between training seeds, and reproducible samples of it.

Where a store holds several seeds, :class:`NoiseModel` fits the log of the per-architecture standard deviation
across seeds with a ridge regression on cheap features (heteroscedastic Gaussian, in the spirit of NB301's noise
model); with one seed there is nothing to learn and no noise model. Its features are the space's structural
encodings (:func:`~nasbench.surrogates.features.noise_features`), never store columns, so it answers any arch.
Samples come from a counter-based hash of ``(seed, arch key)`` (:func:`~nasbench.spaces.base.arch_keys`; on NB201
the key is the arch's index), never from global state: the same query gives the same sample in any process and
order.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from nasbench.errors import InvalidQuery
from nasbench.spaces.base import SearchSpace
from nasbench.surrogates.features import featurize, noise_features

log = logging.getLogger(__name__)

_FLOOR = 1e-5  # smallest std we model; two identical seeds would otherwise give log(0)


class NoiseModel:
    """Per-architecture seed-to-seed std: ``exp(ridge(features))``, clipped to the observed range."""

    def __init__(self, alpha: float = 10.0, features: str | None = None) -> None:
        self.alpha = alpha
        self.features = features  # None: the space's noise features, fixed at fit

    def fit(self, space: SearchSpace, archs: np.ndarray, per_seed: np.ndarray) -> NoiseModel:
        """``per_seed``: (n, S) values of one target; archs with fewer than two finite seeds are skipped."""
        if self.features is None:
            self.features = noise_features(space)
        per_seed = np.asarray(per_seed, dtype=np.float64)
        counts = np.isfinite(per_seed).sum(axis=1)
        keep = counts >= 2
        if keep.sum() < 3:
            raise InvalidQuery(f"a noise model needs at least 3 archs with 2+ seeds, got {int(keep.sum())}")
        std = np.nanstd(per_seed[keep], axis=1, ddof=1)
        X = featurize(space, np.asarray(archs)[keep], self.features).astype(np.float64)
        self.x_mean_ = X.mean(axis=0)
        self.x_std_ = np.where(X.std(axis=0) > 1e-12, X.std(axis=0), 1.0)
        Xs = (X - self.x_mean_) / self.x_std_
        target = np.log(np.maximum(std, _FLOOR))
        from sklearn.linear_model import Ridge

        ridge = Ridge(alpha=self.alpha).fit(Xs, target)
        self.intercept_, self.coef_ = float(ridge.intercept_), np.asarray(ridge.coef_, dtype=np.float64)
        self.std_range_ = (float(max(std.min(), _FLOOR)), float(std.max()))
        self.global_std_ = float(np.sqrt(np.mean(std**2)))
        self.n_archs_ = int(keep.sum())
        log.info("noise model: %d archs with 2+ seeds, rms seed std %.4g", self.n_archs_, self.global_std_)
        return self

    def predict_std(self, space: SearchSpace, archs: np.ndarray) -> np.ndarray:
        assert self.features is not None, "fit the noise model first"
        X = featurize(space, archs, self.features).astype(np.float64)
        log_std = ((X - self.x_mean_) / self.x_std_) @ self.coef_ + self.intercept_
        return np.clip(np.exp(log_std), *self.std_range_)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "ridge_log_std",
            "features": self.features,
            "alpha": self.alpha,
            "x_mean": self.x_mean_.tolist(),
            "x_std": self.x_std_.tolist(),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
            "std_range": list(self.std_range_),
            "global_std": self.global_std_,
            "n_archs": self.n_archs_,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> NoiseModel:
        out = cls(alpha=float(raw["alpha"]), features=str(raw["features"]))
        out.x_mean_ = np.asarray(raw["x_mean"], dtype=np.float64)
        out.x_std_ = np.asarray(raw["x_std"], dtype=np.float64)
        out.coef_ = np.asarray(raw["coef"], dtype=np.float64)
        out.intercept_ = float(raw["intercept"])
        lo, hi = raw["std_range"]
        out.std_range_ = (float(lo), float(hi))
        out.global_std_ = float(raw["global_std"])
        out.n_archs_ = int(raw["n_archs"])
        return out


_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer, vectorized over uint64 (wrap-around arithmetic is intended)."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def standard_normal(seed: int, keys: np.ndarray) -> np.ndarray:
    """One N(0, 1) draw per arch key, a pure function of ``(seed, key)`` (Box-Muller on hashed bits)."""
    idx = np.asarray(keys, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        seed_key = _splitmix64(_splitmix64(np.full(idx.shape, np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF))))
        key = _splitmix64(seed_key + _splitmix64(idx) * np.uint64(0xD1B54A32D192ED03))
        a = _splitmix64(key)
        b = _splitmix64(a + key)
    u1 = ((a >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53  # in (0, 1): log is finite
    u2 = (b >> np.uint64(11)).astype(np.float64) / 2.0**53
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
