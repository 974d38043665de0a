"""A small ensemble of feed-forward regressors in plain numpy, trained all at once.

BANANAS and PNAS rank a few hundred candidate archs after every batch of results; their predictors are tiny
(tens of units, a few hundred points), where a deep-learning framework's per-operation overhead dominates. Here
the members are stacked along a leading axis, so one matmul serves every member, and all parameters live in one
flat buffer, so an Adam step is a handful of vector operations whatever the depth.
"""

from __future__ import annotations

import itertools

import numpy as np

LOSSES = ("mae", "mse")


class MLPEnsemble:
    """``num_members`` ReLU networks (``num_layers`` hidden layers of ``width``), each trained on all the data
    from its own initialisation and batch order with Adam; ``predict`` returns every member's prediction.

    Targets are standardised inside (the loss is on standardised targets), so learning rates do not depend on
    the scale of the score.
    """

    def __init__(
        self,
        num_members: int = 5,
        num_layers: int = 10,
        width: int = 20,
        epochs: int = 200,
        batch_size: int = 32,
        lr: float = 0.01,
        loss: str = "mae",
    ) -> None:
        self.num_members = num_members
        self.num_layers = num_layers
        self.width = width
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.loss = loss

    def fit(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> MLPEnsemble:
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.float64)
        n, d = x.shape
        self.y_mean_ = float(y.mean())
        self.y_std_ = float(y.std()) or 1.0
        target = ((y - self.y_mean_) / self.y_std_).astype(np.float32)
        m = self.num_members
        sizes = [d] + [self.width] * self.num_layers + [1]
        self._shapes = list(itertools.pairwise(sizes))
        total = sum(m * (a * b + b) for a, b in self._shapes)
        theta = np.zeros(total, dtype=np.float32)  # float32 halves the cost of every step
        self._theta = theta
        weights, biases = self._views(theta)
        for w, (fan_in, _) in zip(weights, self._shapes, strict=True):
            w[...] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=w.shape)  # He initialisation for ReLU
        grad = np.zeros(total, dtype=np.float32)
        gw, gb = self._views(grad)
        first, second, scratch = (np.zeros(total, dtype=np.float32) for _ in range(3))
        beta1, beta2, eps = 0.9, 0.99, 1e-8
        batch = min(self.batch_size, n)
        steps = 0
        for _ in range(self.epochs):
            order = np.argsort(rng.random((m, n)), axis=1)  # an independent shuffle per member
            for start in range(0, n, batch):
                idx = order[:, start : start + batch]
                xb, yb = x[idx], target[idx]  # (m, b, d), (m, b)
                acts = self._forward(xb, weights, biases)
                err = acts[-1][..., 0] - yb
                delta = (np.sign(err) if self.loss == "mae" else 2.0 * err)[..., None] / idx.shape[1]
                for layer in range(len(weights) - 1, -1, -1):
                    np.matmul(acts[layer].transpose(0, 2, 1), delta, out=gw[layer])
                    np.sum(delta, axis=1, keepdims=True, out=gb[layer])
                    if layer:
                        delta = (delta @ weights[layer].transpose(0, 2, 1)) * (acts[layer] > 0)
                steps += 1
                # Adam, in place on the flat buffers
                first *= beta1
                np.multiply(grad, 1 - beta1, out=scratch)
                first += scratch
                second *= beta2
                np.multiply(grad, grad, out=scratch)
                scratch *= 1 - beta2
                second += scratch
                np.sqrt(second, out=scratch)
                scratch += eps
                np.divide(first, scratch, out=scratch)
                scratch *= self.lr * np.sqrt(1 - beta2**steps) / (1 - beta1**steps)
                theta -= scratch
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(num_members, len(x)) predictions on the scale of the training targets."""
        weights, biases = self._views(self._theta)
        x = np.broadcast_to(np.asarray(x, dtype=np.float32), (self.num_members, *np.shape(x)))
        out = self._forward(x, weights, biases)[-1][..., 0]
        return out.astype(np.float64) * self.y_std_ + self.y_mean_

    def _views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        m = self.num_members
        weights, biases, offset = [], [], 0
        for a, b in self._shapes:
            weights.append(flat[offset : offset + m * a * b].reshape(m, a, b))
            offset += m * a * b
            biases.append(flat[offset : offset + m * b].reshape(m, 1, b))
            offset += m * b
        return weights, biases

    @staticmethod
    def _forward(x: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray]) -> list[np.ndarray]:
        """Activations of every layer, input first, output (linear) last."""
        acts = [x]
        h = x
        last = len(weights) - 1
        for layer, (w, b) in enumerate(zip(weights, biases, strict=True)):
            h = h @ w + b
            if layer < last:
                np.maximum(h, 0.0, out=h)
            acts.append(h)
        return acts


def check_ensemble_params(owner: str, **params: float) -> None:
    """Clear errors for the hyperparameters of an :class:`MLPEnsemble` built by strategy ``owner``."""
    for name in ("num_members", "num_layers", "width", "epochs", "batch_size"):
        if name in params and (not isinstance(params[name], int) or params[name] < 1):
            raise ValueError(f"{owner}: {name} must be an integer >= 1, got {params[name]!r}")
    if "lr" in params and not params["lr"] > 0:
        raise ValueError(f"{owner}: lr must be > 0, got {params['lr']!r}")
    if "loss" in params and params["loss"] not in LOSSES:
        raise ValueError(f"{owner}: loss must be one of {', '.join(LOSSES)}, got {params['loss']!r}")
