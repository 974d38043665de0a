"""An ensemble of small MLPs (torch): mean and spread of independently initialized members."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nasbench.surrogates.models.base import Standardizer, SurrogateModel
from nasbench.surrogates.models.torch_common import load_states, save_states, single_thread, train_regressor


def _build(d_in: int, hidden: int, layers: int) -> Any:
    import torch

    mods: list[Any] = []
    width = d_in
    for _ in range(layers):
        mods += [torch.nn.Linear(width, hidden), torch.nn.ReLU()]
        width = hidden
    mods.append(torch.nn.Linear(width, 1))
    return torch.nn.Sequential(*mods)


class MLPEnsembleSurrogate(SurrogateModel):
    """``n_members`` MLPs on standardized features; ``predict_dist`` is the members' mean and std."""

    name = "mlp_ensemble"
    min_samples = 10
    has_dist = True
    refit_on_load = False

    def __init__(
        self,
        n_members: int = 5,
        hidden: int = 128,
        layers: int = 3,
        epochs: int = 150,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 1e-4,
        min_steps: int = 300,
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

    def fit(self, X: np.ndarray, y: np.ndarray) -> MLPEnsembleSurrogate:
        import torch

        X, y = self._check_xy(X, y)
        self.scaler_ = Standardizer(X, y)
        Xs, ys = self.scaler_.x(X), (y - self.scaler_.y_mean) / self.scaler_.y_std
        self.nets_ = []
        with single_thread():
            for member in range(self.n_members):
                gen = torch.Generator().manual_seed(self.seed * 1000 + member)
                torch.manual_seed(self.seed * 1000 + member)  # initial weights; reset per member, so order-free
                net = _build(X.shape[1], self.hidden, self.layers)
                train_regressor(
                    net,
                    (Xs,),
                    ys,
                    forward=lambda x, net=net: net(x).squeeze(-1),
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

        xs = torch.as_tensor(self.scaler_.x(np.asarray(X, dtype=np.float64)), dtype=torch.float32)
        with torch.no_grad():
            out = np.stack([net(xs).squeeze(-1).numpy() for net in self.nets_]).astype(np.float64)
        return out * self.scaler_.y_std + self.scaler_.y_mean

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self._members(X).mean(axis=0)

    def predict_dist(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        members = self._members(X)
        return members.mean(axis=0), members.std(axis=0)

    def save_state(self, folder: Path) -> dict[str, Any]:
        file = save_states(folder, "mlp_ensemble", [net.state_dict() for net in self.nets_])
        return {"file": file, "scaler": self.scaler_.to_json(), "n_features_in": int(self.n_features_in_)}

    def load_state(self, folder: Path, info: dict[str, Any], X: np.ndarray, y: np.ndarray) -> MLPEnsembleSurrogate:
        self.scaler_ = Standardizer.from_json(info["scaler"])
        self.n_features_in_ = int(info["n_features_in"])
        self.nets_ = []
        for state in load_states(folder, info["file"], self.n_members):
            net = _build(self.n_features_in_, self.hidden, self.layers)
            net.load_state_dict(state)
            net.eval()
            self.nets_.append(net)
        return self
