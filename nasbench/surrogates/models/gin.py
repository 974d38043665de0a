"""A graph isomorphism network (Xu et al. 2019) on the ops-on-nodes DAG of a cell, in plain torch.

Graph: node 0 is the input, nodes 1..6 the six edges' operations, node 7 the output; an op node for edge
``dst <- src`` reads the op nodes writing into cell node ``src`` (or the input) and feeds those reading ``dst``
(or the output). Nodes whose op is dead (``none``, or off every live input->output path) are removed, so
isomorphic cells get the same graph. Each layer sums messages from predecessors and from successors separately
(directed GIN), and the readout sums node states of every layer.

Input ``X`` is the ``ops`` feature: the (n, 6) op indices.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nasbench.errors import InvalidQuery
from nasbench.spaces.nb201 import EDGES, NUM_EDGES, NUM_OPS
from nasbench.surrogates.features import live_mask
from nasbench.surrogates.models.base import SurrogateModel
from nasbench.surrogates.models.torch_common import load_states, save_states, single_thread, train_regressor

_NODES = NUM_EDGES + 2
_TYPES = NUM_OPS + 2  # the ops, then input, then output


def _pairs() -> list[tuple[int, int]]:
    out = []
    for e, (dst, src) in enumerate(EDGES):
        if src == 0:
            out.append((0, e + 1))
        if dst == 3:
            out.append((e + 1, _NODES - 1))
        out += [(e + 1, f + 1) for f, (_, src2) in enumerate(EDGES) if src2 == dst]
    return out


_PAIRS = np.asarray(_pairs())


def graphs(ops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(adjacency (n, 8, 8), node one-hots (n, 8, 7), alive mask (n, 8)) as float32."""
    ops = ops.astype(np.int64)
    n = len(ops)
    alive = np.ones((n, _NODES), dtype=bool)
    alive[:, 1:-1] = live_mask(ops)
    adj = np.zeros((n, _NODES, _NODES), dtype=np.float32)
    adj[:, _PAIRS[:, 0], _PAIRS[:, 1]] = alive[:, _PAIRS[:, 0]] & alive[:, _PAIRS[:, 1]]
    types = np.zeros((n, _NODES), dtype=np.int64)
    types[:, 1:-1] = ops
    types[:, 0], types[:, -1] = NUM_OPS, NUM_OPS + 1
    nodes = np.eye(_TYPES, dtype=np.float32)[types] * alive[:, :, None]
    return adj, nodes, alive.astype(np.float32)


def _build(hidden: int, layers: int) -> Any:
    import torch
    from torch import nn

    class GIN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Linear(_TYPES, hidden)
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
    required_features = "ops"

    def __init__(
        self,
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
        self.n_members = n_members
        self.hidden = hidden
        self.layers = layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.min_steps = min_steps
        self.seed = seed

    def _ops(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != NUM_EDGES or (X.size and (X.min() < 0 or X.max() >= NUM_OPS)):
            raise InvalidQuery(f"the GIN reads the 'ops' feature: (n, {NUM_EDGES}) op indices, got shape {X.shape}")
        return X.astype(np.int64)

    def fit(self, X: np.ndarray, y: np.ndarray) -> GINSurrogate:
        import torch

        X, y = self._check_xy(X, y)
        adj, nodes, alive = graphs(self._ops(X))
        self.y_mean_ = float(y.mean())
        self.y_std_ = float(y.std()) if y.std() > 1e-12 else 1.0
        ys = (y - self.y_mean_) / self.y_std_
        self.nets_ = []
        with single_thread():
            for member in range(self.n_members):
                torch.manual_seed(self.seed * 1000 + member)
                gen = torch.Generator().manual_seed(self.seed * 1000 + member)
                net = _build(self.hidden, self.layers)
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
        self.n_features_in_ = NUM_EDGES
        return self

    def _members(self, X: np.ndarray) -> np.ndarray:
        import torch

        tensors = [torch.as_tensor(a) for a in graphs(self._ops(X))]
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
        return {"file": file, "y_mean": self.y_mean_, "y_std": self.y_std_}

    def load_state(self, folder: Path, info: dict[str, Any], X: np.ndarray, y: np.ndarray) -> GINSurrogate:
        self.y_mean_, self.y_std_ = float(info["y_mean"]), float(info["y_std"])
        self.n_features_in_ = NUM_EDGES
        self.nets_ = []
        for state in load_states(folder, info["file"], self.n_members):
            net = _build(self.hidden, self.layers)
            net.load_state_dict(state)
            net.eval()
            self.nets_.append(net)
        return self
