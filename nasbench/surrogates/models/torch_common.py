"""Shared torch plumbing: deterministic single-threaded training and state-dict persistence (never pickle)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.errors import StoreError


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """One intra-op thread while fitting: results then do not depend on the core count, and fits do not fight."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_regressor(
    net: Any,
    inputs: tuple[np.ndarray, ...],
    y: np.ndarray,
    *,
    forward: Callable[..., Any],
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    generator: Any,
    min_steps: int = 0,
) -> None:
    """Adam on mean-squared error over shuffled minibatches drawn from ``generator`` (a torch.Generator), with a
    cosine learning-rate decay; small training sets get more epochs so that at least ``min_steps`` steps run."""
    import math

    import torch

    tensors = [torch.as_tensor(a, dtype=torch.float32) for a in inputs]
    target = torch.as_tensor(y, dtype=torch.float32)
    n = len(target)
    epochs = max(epochs, math.ceil(min_steps / math.ceil(n / batch_size)))
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(forward(*(t[idx] for t in tensors)), target[idx])
            loss.backward()
            opt.step()
        sched.step()
    net.eval()


def save_states(folder: Path, name: str, states: list[dict[str, Any]]) -> str:
    import torch

    file = f"{name}.pt"
    torch.save({f"{i}.{k}": v for i, state in enumerate(states) for k, v in state.items()}, folder / file)
    return file


def load_states(folder: Path, file: str, count: int) -> list[dict[str, Any]]:
    import torch

    try:
        flat = torch.load(folder / file, map_location="cpu", weights_only=True)  # tensors only: no code runs
    except Exception as exc:
        raise StoreError(f"cannot read torch weights {folder / file}: {exc}") from None
    states: list[dict[str, Any]] = [{} for _ in range(count)]
    for key, value in flat.items():
        i, _, name = key.partition(".")
        states[int(i)][name] = value
    return states
