"""scikit-learn surrogates: random forest, Gaussian process, SVR, k-NN, ridge.

None has a portable file format (scikit-learn only offers pickle), so they are refitted on load from the saved
training data; every one is deterministic under its seed, and loading checks the refit reproduces the saved
predictions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nasbench.surrogates.models.base import Standardizer, SurrogateModel


class _Scaled(SurrogateModel):
    """Standardizes features and targets around an inner scikit-learn regressor."""

    def _make(self) -> Any:
        raise NotImplementedError

    def fit(self, X: np.ndarray, y: np.ndarray) -> _Scaled:
        X, y = self._check_xy(X, y)
        self.scaler_ = Standardizer(X, y)
        self.model_ = self._make().fit(self.scaler_.x(X), (y - self.scaler_.y_mean) / self.scaler_.y_std)
        self.n_features_in_ = X.shape[1]
        return self

    def _inner_predict(self, Xs: np.ndarray) -> np.ndarray:
        return self.model_.predict(Xs)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self._inner_predict(self.scaler_.x(np.asarray(X, dtype=np.float64))) * self.scaler_.y_std + (
            self.scaler_.y_mean
        )


class RandomForestSurrogate(_Scaled):
    """Random forest; ``predict_dist`` gives the spread of the trees' predictions."""

    name = "random_forest"
    min_samples = 5
    has_dist = True

    def __init__(self, n_estimators: int = 300, max_features: float = 0.5, min_samples_leaf: int = 1, seed: int = 0):
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.seed = seed

    def _make(self) -> Any:
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(
            n_estimators=self.n_estimators,
            max_features=self.max_features,
            min_samples_leaf=self.min_samples_leaf,
            random_state=self.seed,
            n_jobs=1,
        )

    def predict_dist(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Xs = self.scaler_.x(np.asarray(X, dtype=np.float64))
        per_tree = np.stack([t.predict(Xs) for t in self.model_.estimators_])
        return per_tree.mean(axis=0) * self.scaler_.y_std + self.scaler_.y_mean, per_tree.std(
            axis=0
        ) * self.scaler_.y_std


class GPSurrogate(_Scaled):
    """Gaussian process with a Matern-5/2 ARD-free kernel plus white noise; hyperparameters by marginal likelihood."""

    name = "gp"
    min_samples = 3
    has_dist = True

    def __init__(self, length_scale: float = 5.0, noise: float = 0.1, n_restarts: int = 0, seed: int = 0):
        self.length_scale = length_scale
        self.noise = noise
        self.n_restarts = n_restarts
        self.seed = seed

    def _make(self) -> Any:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        kernel = ConstantKernel(1.0) * Matern(length_scale=self.length_scale, nu=2.5) + WhiteKernel(self.noise)
        return GaussianProcessRegressor(kernel=kernel, n_restarts_optimizer=self.n_restarts, random_state=self.seed)

    def predict_dist(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self.model_.predict(self.scaler_.x(np.asarray(X, dtype=np.float64)), return_std=True)
        return mean * self.scaler_.y_std + self.scaler_.y_mean, std * self.scaler_.y_std


class SVRSurrogate(_Scaled):
    """Support-vector regression with an RBF kernel on standardized features and targets."""

    name = "svr"
    min_samples = 5

    def __init__(self, C: float = 3.0, epsilon: float = 0.05, gamma: str | float = "scale", seed: int = 0):
        self.C = C
        self.epsilon = epsilon
        self.gamma = gamma
        self.seed = seed  # SVR is deterministic; kept for a uniform interface

    def _make(self) -> Any:
        from sklearn.svm import SVR

        return SVR(C=self.C, epsilon=self.epsilon, gamma=self.gamma)


class KNNSurrogate(_Scaled):
    """k-nearest neighbours (distance-weighted); ``predict_dist`` gives the spread among the neighbours."""

    name = "knn"
    has_dist = True

    def __init__(self, n_neighbors: int = 7, seed: int = 0):
        self.n_neighbors = n_neighbors
        self.seed = seed

    def _min_samples(self) -> int:
        return self.n_neighbors

    def _make(self) -> Any:
        from sklearn.neighbors import KNeighborsRegressor

        return KNeighborsRegressor(n_neighbors=self.n_neighbors, weights="distance")

    def fit(self, X: np.ndarray, y: np.ndarray) -> KNNSurrogate:
        super().fit(X, y)
        self.y_train_ = np.asarray(y, dtype=np.float64)
        return self

    def predict_dist(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, idx = self.model_.kneighbors(self.scaler_.x(np.asarray(X, dtype=np.float64)))
        return self.predict(X), self.y_train_[idx].std(axis=1)


class RidgeSurrogate(_Scaled):
    """Linear ridge regression: the baseline every other model should beat."""

    name = "ridge"
    min_samples = 3

    def __init__(self, alpha: float = 1.0, seed: int = 0):
        self.alpha = alpha
        self.seed = seed

    def _make(self) -> Any:
        from sklearn.linear_model import Ridge

        return Ridge(alpha=self.alpha)
