"""A graph isomorphism network (Xu et al. 2019) on the space's own typed DAGs, in plain torch.

The graphs come from the space's graph view (:class:`~nasbench.spaces.base.GraphView`, ``space.graphs``): a
``(n, n)`` adjacency and ``n`` node types, ``-1`` for an absent node (NB201: the ops-on-nodes DAG with dead op
nodes removed, so isomorphic cells get the same graph). A space without a graph view raises
:class:`~nasbench.errors.MissingCapability`. Each layer sums messages from predecessors and from successors
separately (directed GIN), and the readout sums node states of every layer.

Input ``X`` is the ``graph`` feature: per arch the ``n*n`` adjacency bits, then the ``n`` node types.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.errors import InvalidQuery
from nasbench.spaces.base import require
from nasbench.surrogates.models.base import SurrogateModel
from nasbench.surrogates.models.torch_common import load_states, save_states, single_thread, train_regressor


def graphs(X: np.ndarray, node_types: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``graph`` feature unpacked: (adjacency (b, n, n), node one-hots (b, n, node_types), alive (b, n)),
    float32; absent nodes have an all-zero one-hot."""
    X = np.asarray(X)
    n = (math.isqrt(4 * X.shape[1] + 1) - 1) // 2 if X.ndim == 2 else -1
    if X.ndim != 2 or n < 1 or n * n + n != X.shape[1]:
        raise InvalidQuery(f"the GIN reads the 'graph' feature: (b, n*n + n) adjacency and node types, got {X.shape}")
    adj = X[:, : n * n].reshape(len(X), n, n).astype(np.float32)
    types = X[:, n * n :].astype(np.int64)
    if types.size and (types.min() < -1 or types.max() >= node_types):
        raise InvalidQuery(f"node types of the 'graph' feature must be -1..{node_types - 1}, got {types.max()}")
    alive = types >= 0
    nodes = np.eye(node_types, dtype=np.float32)[np.where(alive, types, 0)] * alive[:, :, None]
    return adj, nodes, alive.astype(np.float32)


def _build(node_types: int, hidden: int, layers: int) -> Any:
    import torch
    from torch import nn

    class GIN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Linear(node_types, hidden)
            self.eps = nn.Parameter(torch.zeros(layers))
            self.mlps = nn.ModuleList(
                nn.Sequential(nn.Linear(3 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
                for _ in range(layers)
            )
            self.head = nn.Sequential(nn.Linear(hidden * (layers + 1), hidden), nn.ReLU(), nn.Linear(hidden, 1))

        def forward(self, adj: Any, nodes: Any, alive: Any) -> Any:
            mask = alive.unsqueeze(-1)
            h = self.embed(nodes) * mask
            readouts = [h.sum(dim=1)]
            for i, mlp in enumerate(self.mlps):
                from_pred = adj.transpose(1, 2) @ h
                from_succ = adj @ h
                h = mlp(torch.cat([(1 + self.eps[i]) * h, from_pred, from_succ], dim=-1)) * mask
                readouts.append(h.sum(dim=1))
            return self.head(torch.cat(readouts, dim=-1)).squeeze(-1)

    return GIN()


class GINSurrogate(SurrogateModel):
    """Directed GIN regressor; an ensemble of ``n_members`` networks gives ``predict_dist``."""

    name = "gin"
    min_samples = 10
    has_dist = True
    refit_on_load = False
    required_features = "graph"

    def __init__(
        self,
        node_types: int | None = None,
        n_members: int = 2,
        hidden: int = 64,
        layers: int = 3,
        epochs: int = 100,
        batch_size: int = 128,
        lr: float = 2e-3,
        weight_decay: float = 1e-4,
        min_steps: int = 500,
        seed: int = 0,
    ) -> None:
        self.node_types = node_types
        self.n_members = n_members
        self.hidden = hidden
        self.layers = layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.min_steps = min_steps
        self.seed = seed

    @classmethod
    def space_params(cls, space: Any) -> dict[str, Any]:
        require(space, "graph", "the gin surrogate")
        return {"node_types": int(space.num_node_types)}

    def _node_types(self) -> int:
        if self.node_types is None:
            raise InvalidQuery("the GIN needs node_types, the number of node types of the space's graph view")
        return self.node_types

    def _graphs(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return graphs(X, self._node_types())

    def fit(self, X: np.ndarray, y: np.ndarray) -> GINSurrogate:
        import torch

        X, y = self._check_xy(X, y)
        adj, nodes, alive = self._graphs(X)
        self.y_mean_ = float(y.mean())
        self.y_std_ = float(y.std()) if y.std() > 1e-12 else 1.0
        ys = (y - self.y_mean_) / self.y_std_
        self.nets_ = []
        with single_thread():
            for member in range(self.n_members):
                torch.manual_seed(self.seed * 1000 + member)
                gen = torch.Generator().manual_seed(self.seed * 1000 + member)
                net = _build(self._node_types(), self.hidden, self.layers)
                train_regressor(
                    net,
                    (adj, nodes, alive),
                    ys,
                    forward=net,
                    epochs=self.epochs,
                    batch_size=self.batch_size,
                    lr=self.lr,
                    weight_decay=self.weight_decay,
                    generator=gen,
                    min_steps=self.min_steps,
                )
                self.nets_.append(net)
        self.n_features_in_ = X.shape[1]
        return self

    def _members(self, X: np.ndarray) -> np.ndarray:
        import torch

        tensors = [torch.as_tensor(a) for a in self._graphs(X)]
        with torch.no_grad():
            out = np.stack([net(*tensors).numpy() for net in self.nets_]).astype(np.float64)
        return out * self.y_std_ + self.y_mean_

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self._members(X).mean(axis=0)

    def predict_dist(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        members = self._members(X)
        return members.mean(axis=0), members.std(axis=0)

    def save_state(self, folder: Path) -> dict[str, Any]:
        file = save_states(folder, "gin", [net.state_dict() for net in self.nets_])
        return {"file": file, "y_mean": self.y_mean_, "y_std": self.y_std_, "n_features_in": int(self.n_features_in_)}

    def load_state(self, folder: Path, info: dict[str, Any], X: np.ndarray, y: np.ndarray) -> GINSurrogate:
        self.y_mean_, self.y_std_ = float(info["y_mean"]), float(info["y_std"])
        self.n_features_in_ = int(info["n_features_in"])
        self.nets_ = []
        for state in load_states(folder, info["file"], self.n_members):
            net = _build(self._node_types(), self.hidden, self.layers)
            net.load_state_dict(state)
            net.eval()
            self.nets_.append(net)
        return self
