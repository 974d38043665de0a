"""Train one NB201 network (on images or sequences) under a :class:`Recipe` and record its per-epoch curves.

Reproducible on CPU: the same (arch, recipe, data, seed, thread count) gives bit-identical curves, in a fresh
process too — weights are initialized under ``torch.manual_seed(seed)`` inside a forked RNG state (the caller's
global RNG is left untouched), and shuffling and augmentation draw from their own seeded generators. On CUDA it
trains with bf16 autocast and channels-last tensors (faster, not bit-reproducible).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench.errors import TrainingError
from nasbench.train.data import Splits, check_augmentation
from nasbench.train.network import NB201Network, count_flops, count_params
from nasbench.train.recipe import Recipe

log = logging.getLogger(__name__)

CURVES = ("train_acc", "train_loss", "val_acc", "val_loss", "test_acc", "test_loss", "train_time_s")


@dataclass(frozen=True)
class TrainResult:
    """Curves of one training: ``curves[name][e]`` is the value after ``e + 1`` completed epochs."""

    arch: tuple[int, ...]
    seed: int
    curves: dict[str, list[float]]
    params: int
    flops: int
    device: str = "cpu"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def epochs(self) -> int:
        return len(self.curves["val_acc"])

    def to_json(self) -> dict[str, Any]:
        return {
            "arch": list(self.arch),
            "seed": self.seed,
            "curves": self.curves,
            "params": self.params,
            "flops": self.flops,
            "device": self.device,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainResult:
        return cls(
            arch=tuple(int(x) for x in data["arch"]),
            seed=int(data["seed"]),
            curves={k: [float(v) for v in vals] for k, vals in data["curves"].items()},
            params=int(data["params"]),
            flops=int(data["flops"]),
            device=str(data.get("device", "cpu")),
            extra=dict(data.get("extra", {})),
        )


def build_network(arch: Sequence[int], recipe: Recipe, splits: Splits) -> NB201Network:
    return NB201Network(
        arch,
        channels=recipe.channels,
        cells_per_stage=recipe.cells_per_stage,
        in_channels=splits.in_channels,
        num_classes=splits.num_classes,
        dims=len(splits.input_shape) - 1,
    )


def train(
    arch: Sequence[int],
    recipe: Recipe,
    splits: Splits,
    *,
    seed: int,
    device: str = "cpu",
    threads: int | None = None,
) -> TrainResult:
    """Train ``arch`` from scratch and evaluate train/val/test after every epoch.

    ``threads`` sets torch's intra-op thread count (set it explicitly for reproducible CPU timings; None leaves
    torch's setting). Raises :class:`TrainingError` when the device runs out of memory.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda was asked for but torch sees no CUDA device")
    try:
        return _train(tuple(int(a) for a in arch), recipe, splits, seed=int(seed), dev=dev)
    except torch.cuda.OutOfMemoryError:
        if dev.type == "cuda":
            torch.cuda.empty_cache()
        raise TrainingError(
            f"out of memory on {dev} training with batch size {recipe.batch_size} (eval batch size "
            f"{recipe.eval_batch_size}); lower the batch size (e.g. --batch-size {max(1, recipe.batch_size // 2)}) "
            "or run fewer workers per device"
        ) from None


def _train(arch: tuple[int, ...], recipe: Recipe, splits: Splits, *, seed: int, dev: torch.device) -> TrainResult:
    cuda = dev.type == "cuda"
    images = len(splits.input_shape) == 3
    check_augmentation(str(splits.info.get("dataset")), recipe.augmentation)
    memory_format = torch.channels_last if cuda and images else torch.contiguous_format
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_network(arch, recipe, splits)
    params = count_params(model)
    flops = count_flops(model, splits.input_shape)
    # torch's stubs for Module.to omit the memory_format keyword, which it accepts (and documents)
    model = model.to(dev, memory_format=memory_format)  # type: ignore[call-overload]

    def tensor(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.array(x, copy=True)).to(dev)

    train_x, train_y = tensor(splits.train_x), tensor(splits.train_y)
    evals = {
        "val": (tensor(splits.val_x), tensor(splits.val_y)),
        "test": (tensor(splits.test_x), tensor(splits.test_y)),
    }
    # shuffling and augmentation draw from their own generator (on CPU, so CUDA runs shuffle identically)
    gen = torch.Generator().manual_seed(seed + 0x9E3779B9)
    n = len(train_x)
    steps_per_epoch = math.ceil(n / recipe.batch_size)
    total_steps = steps_per_epoch * recipe.epochs
    # weight decay on every parameter, BN included, as NB201 does
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=recipe.lr,
        momentum=recipe.momentum,
        nesterov=recipe.nesterov,
        weight_decay=recipe.weight_decay,
    )
    criterion = nn.CrossEntropyLoss()
    clock = time.perf_counter if cuda else time.process_time
    curves: dict[str, list[float]] = {k: [] for k in CURVES}
    elapsed = 0.0
    step = 0
    for _epoch in range(recipe.epochs):
        model.train()
        if cuda:
            torch.cuda.synchronize(dev)
        # Training time: wall clock on a GPU; on a CPU, the process's CPU time, which other jobs sharing the
        # machine do not inflate (trainings run on one thread each), so stored times are comparable.
        start = clock()
        order = torch.randperm(n, generator=gen).to(dev)
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev, dtype=torch.long)
        for i in range(steps_per_epoch):
            idx = order[i * recipe.batch_size : (i + 1) * recipe.batch_size]
            x, y = train_x[idx], train_y[idx]
            if recipe.augmentation != "none":
                x = _augment(x, recipe, gen)
            x = x.contiguous(memory_format=memory_format)
            for group in optimizer.param_groups:
                group["lr"] = _lr(recipe, step, total_steps)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cuda):
                logits = model(x)
                loss = criterion(logits.float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)  # as NB201; keeps a bad init from diverging
            optimizer.step()
            step += 1
            loss_sum += loss.detach() * len(y)
            correct += (logits.detach().argmax(1) == y).sum()
        if cuda:
            torch.cuda.synchronize(dev)
        elapsed += clock() - start
        curves["train_time_s"].append(elapsed)
        curves["train_loss"].append(float(loss_sum) / n)
        curves["train_acc"].append(float(correct) / n)
        for split in ("val", "test"):
            acc, loss_value = _evaluate(model, *evals[split], recipe.eval_batch_size, memory_format, cuda)
            curves[f"{split}_acc"].append(acc)
            curves[f"{split}_loss"].append(loss_value)
    log.debug("trained %s seed %d: val %.4f in %.1fs", arch, seed, curves["val_acc"][-1], elapsed)
    return TrainResult(arch=arch, seed=seed, curves=curves, params=params, flops=flops, device=str(dev))


def _lr(recipe: Recipe, step: int, total_steps: int) -> float:
    if recipe.schedule == "constant":
        return recipe.lr
    return recipe.lr_min + 0.5 * (recipe.lr - recipe.lr_min) * (1 + math.cos(math.pi * step / total_steps))


def _augment(x: torch.Tensor, recipe: Recipe, gen: torch.Generator) -> torch.Tensor:
    """Random crop after zero padding (and horizontal flip for ``crop_flip``), one draw per image."""
    b, _, h, w = x.shape
    p = recipe.crop_padding
    if p:
        padded = nn.functional.pad(x, (p, p, p, p))
        dy = torch.randint(0, 2 * p + 1, (b,), generator=gen).to(x.device)
        dx = torch.randint(0, 2 * p + 1, (b,), generator=gen).to(x.device)
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        batch = torch.arange(b, device=x.device)[:, None, None, None]
        chan = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        x = padded[batch, chan, rows, cols]
    if recipe.augmentation == "crop_flip":
        flip = (torch.rand(b, generator=gen) < 0.5).to(x.device)
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
    return x


@torch.no_grad()
def _evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    memory_format: torch.memory_format,
    cuda: bool,
) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of ``model`` in eval mode."""
    model.eval()
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].contiguous(memory_format=memory_format)
        yb = y[i : i + batch_size]
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=cuda):
            logits = model(xb).float()
        loss_sum += nn.functional.cross_entropy(logits, yb, reduction="sum")
        correct += (logits.argmax(1) == yb).sum()
    return float(correct) / len(x), float(loss_sum) / len(x)
