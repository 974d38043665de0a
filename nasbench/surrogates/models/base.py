"""What every surrogate model shares: scikit-learn estimator conventions plus a portable save/load hook.

A model sees a float feature matrix ``X`` (n, d) and targets ``y`` (n,). ``fit`` returns self and sets fitted
attributes ending in ``_``; ``predict`` returns the mean; ``predict_dist`` returns ``(mean, std)`` for models that
have an uncertainty (the others raise :class:`NotImplementedError` and say so in ``has_dist``).

Persistence never pickles objects: :meth:`save_state` writes the model's own portable format into a folder
(xgboost JSON, torch state dicts) and returns JSON metadata; models without one (``refit_on_load``) are refitted
on load from the saved training data, which is deterministic under their seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from nasbench.errors import InvalidQuery


class SurrogateModel(RegressorMixin, BaseEstimator):
    name: ClassVar[str] = ""
    min_samples: ClassVar[int] = 2
    has_dist: ClassVar[bool] = False
    refit_on_load: ClassVar[bool] = True
    #: Features this model must be given (the GIN reads the space's graphs); None = any.
    required_features: ClassVar[str | None] = None
    #: Whether NaN features are allowed (xgboost learns a default branch; a NaN static figure of a stored arch).
    allows_nan: ClassVar[bool] = False

    @classmethod
    def space_params(cls, space: Any) -> dict[str, Any]:
        """Constructor parameters the search space fixes (the GIN's number of node types); checks that the
        space has what the model needs (MissingCapability otherwise)."""
        return {}

    def _check_xy(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).ravel()
        if X.ndim != 2 or len(X) != len(y):
            raise InvalidQuery(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
        if not np.isfinite(y).all():
            raise InvalidQuery("y must be finite (drop NaN targets before fitting)")
        if not (np.isfinite(X) | (np.isnan(X) & self.allows_nan)).all():
            raise InvalidQuery(
                f"{self.name} needs finite features, and X holds NaN or infinite values (a static figure the store "
                "lacks for some archs?); xgboost handles NaN features, or drop the 'static' feature"
            )
        need = self._min_samples()
        if len(y) < need:
            raise InvalidQuery(f"{self.name} needs at least {need} training points, got {len(y)}")
        return X, y

    def _min_samples(self) -> int:
        return self.min_samples

    def predict_dist(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError(f"{self.name} gives no predictive uncertainty; use predict()")

    # ---- persistence ----------------------------------------------------------------------------------------

    def save_state(self, folder: Path) -> dict[str, Any]:
        """Write the fitted state into ``folder``; return JSON metadata. Default: nothing (refit on load)."""
        return {}

    def load_state(self, folder: Path, info: dict[str, Any], X: np.ndarray, y: np.ndarray) -> SurrogateModel:
        """Restore the fitted state; default refits on the saved training data."""
        return self.fit(X, y)


class Standardizer:
    """Mean/std scaling of features and targets kept as plain arrays (portable, no pickle)."""

    def __init__(self, X: np.ndarray, y: np.ndarray | None = None) -> None:
        self.x_mean = X.mean(axis=0)
        self.x_std = np.where(X.std(axis=0) > 1e-12, X.std(axis=0), 1.0)
        self.y_mean = float(y.mean()) if y is not None else 0.0
        self.y_std = float(y.std()) if y is not None and y.std() > 1e-12 else 1.0

    def x(self, X: np.ndarray) -> np.ndarray:
        return (X - self.x_mean) / self.x_std

    def to_json(self) -> dict[str, Any]:
        return {
            "x_mean": self.x_mean.tolist(),
            "x_std": self.x_std.tolist(),
            "y_mean": self.y_mean,
            "y_std": self.y_std,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Standardizer:
        out = cls.__new__(cls)
        out.x_mean = np.asarray(raw["x_mean"], dtype=np.float64)
        out.x_std = np.asarray(raw["x_std"], dtype=np.float64)
        out.y_mean, out.y_std = float(raw["y_mean"]), float(raw["y_std"])
        return out
