"""A small ensemble of feed-forward regressors in plain numpy, trained all at once.

BANANAS and PNAS rank a few hundred candidate archs after every batch of results; their predictors are tiny
(tens of units, a few hundred points), where a deep-learning framework's per-operation overhead dominates. Here
the members are stacked along a leading axis, so one matmul serves every member, and all parameters live in one
flat buffer, so an Adam step is a handful of vector operations whatever the depth.

What a training step costs is the number of numpy calls it makes (each ~5-10 us on these sizes), so a step makes
few: each layer's bias is the last row of its weight matrix (activations carry a constant 1 column), so one
matmul gives a layer's output and one its weight-and-bias gradient; buffers are allocated once per batch size;
and only the first-layer rows of input columns that are non-zero somewhere in the data take part (the others
would get exactly zero gradients, so Adam would leave them exactly where they are: on the path encoding of NB201,
84 of its 155 columns can ever be 1).

:meth:`MLPEnsemble.refit` continues training the same members on grown data (a warm start) instead of
initialising them anew.
"""

from __future__ import annotations

import itertools

import numpy as np

LOSSES = ("mae", "mse")
#: Ranges of the ensemble's hyperparameters, for the strategies that train one (their ``ranges``).
ENSEMBLE_RANGES = {
    "num_members": "[1, 100]",
    "num_layers": "[1, 100]",
    "width": "[1, 10000]",
    "epochs": "[1, 100000]",
    "batch_size": "[1, 100000]",
    "lr": "(0, 10]",
}
_BETA1, _BETA2, _EPS = 0.9, 0.99, 1e-8


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

    # ---- public ----------------------------------------------------------------------------------------------

    def fit(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> MLPEnsemble:
        """Train new members (He initialisation) for ``epochs`` epochs on ``(x, y)``."""
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.float64)
        self._initialise(x.shape[1], rng)
        self.y_mean_ = float(y.mean())
        self.y_std_ = float(y.std()) or 1.0
        self._train(x, y, rng, self.epochs)
        return self

    def refit(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, epochs: int) -> MLPEnsemble:
        """Continue training the fitted members (weights and Adam moments as they are) for ``epochs`` epochs on
        ``(x, y)``, typically the data of the last fit and more; :meth:`fit` when nothing is fitted yet. The
        targets are standardised anew, and the output layer rescaled so that the members' predictions on the
        original scale are unchanged by it."""
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.float64)
        if getattr(self, "_theta", None) is None or x.shape[1] != self._shapes[0][0]:
            return self.fit(x, y, rng)
        mean, std = float(y.mean()), float(y.std()) or 1.0
        out = self._views(self._theta)[-1]  # (m, width + 1, 1): weights, then the bias
        out *= self.y_std_ / std
        out[:, -1, :] += (self.y_mean_ - mean) / std
        self.y_mean_, self.y_std_ = mean, std
        self._train(x, y, rng, epochs)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(num_members, len(x)) predictions on the scale of the training targets."""
        xa = _with_ones(np.asarray(x, dtype=np.float32))
        h = np.broadcast_to(xa, (self.num_members, *xa.shape))
        weights = self._views(self._theta)
        for layer, w in enumerate(weights):
            h = h @ w
            if layer < len(weights) - 1:
                h = _with_ones(np.maximum(h, 0.0))
        return h[..., 0].astype(np.float64) * self.y_std_ + self.y_mean_

    # ---- parameters ------------------------------------------------------------------------------------------

    def _initialise(self, inputs: int, rng: np.random.Generator) -> None:
        m = self.num_members
        sizes = [inputs] + [self.width] * self.num_layers + [1]
        self._shapes = list(itertools.pairwise(sizes))
        total = sum(m * (a + 1) * b for a, b in self._shapes)
        self._theta = np.zeros(total, dtype=np.float32)  # float32 halves the cost of every step
        for w, (fan_in, _) in zip(self._views(self._theta), self._shapes, strict=True):
            w[:, :-1, :] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(m, fan_in, w.shape[2]))  # He, for ReLU
        self._first = np.zeros(total, dtype=np.float32)  # Adam's moments
        self._second = np.zeros(total, dtype=np.float32)
        self._steps = 0
        self._touched = np.zeros(inputs, dtype=bool)  # input columns whose first-layer rows training has moved

    def _views(self, flat: np.ndarray, inputs: int | None = None) -> list[np.ndarray]:
        """Per layer, the (members, fan-in + 1, fan-out) weights (the last row the bias) inside ``flat``; the
        first layer with ``inputs`` input rows (default: all of them)."""
        m = self.num_members
        views, offset = [], 0
        for layer, (a, b) in enumerate(self._shapes):
            rows = (a if inputs is None or layer else inputs) + 1
            views.append(flat[offset : offset + m * rows * b].reshape(m, rows, b))
            offset += m * rows * b
        return views

    # ---- training --------------------------------------------------------------------------------------------

    def _train(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator, epochs: int) -> None:
        n, d = x.shape
        m = self.num_members
        target = ((y - self.y_mean_) / self.y_std_).astype(np.float32)
        # only the first-layer rows of columns that are non-zero in x (or were moved before, whose Adam moments
        # may still move them) change: train a compact copy of the parameters and write it back
        self._touched |= (x != 0).any(axis=0)
        active = np.flatnonzero(self._touched)
        rows0 = np.append(active, d)  # and the bias row
        full = [self._views(buf) for buf in (self._theta, self._first, self._second)]
        size0 = full[0][0].size
        compact = [np.concatenate([views[0][:, rows0, :].ravel(), buf[size0:]]) for views, buf in
                   zip(full, (self._theta, self._first, self._second), strict=True)]  # fmt: skip
        theta, first, second = compact
        xa = _with_ones(x[:, active])
        weights = self._views(theta, len(active))
        grad = np.zeros_like(theta)
        grads = self._views(grad, len(active))
        scratch = np.empty_like(theta)
        batch = min(self.batch_size, n)
        buffers: dict[int, tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]] = {}
        last = len(weights) - 1
        mae = self.loss == "mae"
        for _ in range(epochs):
            order = np.argsort(rng.random((m, n)), axis=1)  # an independent shuffle per member
            for start in range(0, n, batch):
                idx = order[:, start : start + batch]
                size = idx.shape[1]
                if size not in buffers:
                    buffers[size] = self._buffers(size, xa.shape[1])
                xb, acts, pre = buffers[size]
                np.take(xa, idx, axis=0, out=xb)  # (m, b, inputs + 1)
                for layer, w in enumerate(weights):
                    np.matmul(acts[layer], w, out=pre[layer])
                    if layer < last:
                        np.maximum(pre[layer], np.float32(0.0), out=acts[layer + 1][..., :-1])
                err = pre[last][..., 0] - target[idx]
                delta = ((np.sign(err) if mae else 2.0 * err) * np.float32(1.0 / size))[..., None]
                for layer in range(last, -1, -1):
                    np.matmul(acts[layer].transpose(0, 2, 1), delta, out=grads[layer])
                    if layer:
                        delta = delta @ weights[layer][:, :-1, :].transpose(0, 2, 1)
                        delta *= pre[layer - 1] > 0
                self._steps += 1
                _adam(theta, grad, first, second, scratch, self.lr, self._steps)
        for views, buf, trained in zip(full, (self._theta, self._first, self._second), compact, strict=True):
            views[0][:, rows0, :] = trained[: m * len(rows0) * self._shapes[0][1]].reshape(m, len(rows0), -1)
            buf[size0:] = trained[m * len(rows0) * self._shapes[0][1] :]

    def _buffers(self, size: int, inputs: int) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Input batch, activations (each with its constant 1 column) and pre-activations of one batch size."""
        m = self.num_members
        xb = np.empty((m, size, inputs), dtype=np.float32)
        acts = [xb] + [np.ones((m, size, b + 1), dtype=np.float32) for _, b in self._shapes[:-1]]
        pre = [np.empty((m, size, b), dtype=np.float32) for _, b in self._shapes]
        return xb, acts, pre


def _with_ones(x: np.ndarray) -> np.ndarray:
    """``x`` with a column of ones appended (the input of a bias row)."""
    return np.concatenate([x, np.ones((*x.shape[:-1], 1), dtype=x.dtype)], axis=-1)


def _adam(
    theta: np.ndarray, grad: np.ndarray, first: np.ndarray, second: np.ndarray, scratch: np.ndarray, lr: float,
    step: int,
) -> None:  # fmt: skip
    """One Adam step, in place on the flat buffers."""
    first *= _BETA1
    np.multiply(grad, 1 - _BETA1, out=scratch)
    first += scratch
    second *= _BETA2
    np.multiply(grad, grad, out=scratch)
    scratch *= 1 - _BETA2
    second += scratch
    np.sqrt(second, out=scratch)
    scratch += _EPS
    np.divide(first, scratch, out=scratch)
    scratch *= lr * np.sqrt(1 - _BETA2**step) / (1 - _BETA1**step)
    theta -= scratch


def check_ensemble_params(owner: str, **params: float | str) -> None:
    """Clear errors for the hyperparameters of an :class:`MLPEnsemble` built by strategy ``owner``."""
    for name in ("num_members", "num_layers", "width", "epochs", "batch_size"):
        value = params.get(name, 1)
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{owner}: {name} must be an integer >= 1, got {value!r}")
    lr = params.get("lr", 1.0)
    if not isinstance(lr, (int, float)) or not lr > 0:
        raise ValueError(f"{owner}: lr must be > 0, got {lr!r}")
    if "loss" in params and params["loss"] not in LOSSES:
        raise ValueError(f"{owner}: loss must be one of {', '.join(LOSSES)}, got {params['loss']!r}")
