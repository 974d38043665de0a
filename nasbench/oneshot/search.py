"""The loop every weight-sharing method shares: build the supernet under a seed, train its weights for a number of
epochs (each method decides per batch how a cell runs through it and what else it updates), then derive one cell.

Time is measured around training and derivation only (not around data loading or later analysis); it is the
method's cost on the comparison's simulated clock. Reproducible on CPU: the same (method, data, seed, thread
count) gives the same cell and curves, in a fresh process too (weights are initialized inside a forked torch RNG
state; every draw comes from the run's own generators).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from nasbench.errors import TrainingError
from nasbench.oneshot.supernet import Arch, NB201Supernet
from nasbench.train.data import Splits

log = logging.getLogger(__name__)


class BudgetTooSmall(TrainingError):
    """A time budget that does not fit one supernet epoch."""


@dataclass(frozen=True)
class SearchData:
    """The images a search sees, as tensors on its device: weights train on ``train``, architecture parameters
    (and rewards, rankings) use ``val`` -- the benchmark's own validation split, never its test split."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    in_channels: int
    num_classes: int

    @classmethod
    def from_splits(cls, splits: Splits, device: str | torch.device = "cpu") -> SearchData:
        def tensor(x: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.array(x, copy=True)).to(device)

        return cls(
            tensor(splits.train_x),
            tensor(splits.train_y),
            tensor(splits.val_x),
            tensor(splits.val_y),
            splits.in_channels,
            splits.num_classes,
        )

    @property
    def device(self) -> torch.device:
        return self.train_x.device


@dataclass(frozen=True)
class SearchResult:
    """What one search returned and what it cost."""

    method: str
    arch: Arch
    seed: int
    search_time_s: float  # training + derivation, measured
    device: str
    epochs: int  # supernet epochs completed
    history: list[dict[str, float]]  # one entry per epoch
    extra: dict[str, Any] = field(default_factory=dict)


def check_device(device: str) -> torch.device:
    """The torch device for ``device``; a CUDA device where torch sees none is a clear error."""
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise TrainingError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise TrainingError(f"device {device!r} was asked for but torch sees no CUDA device; use --device cpu")
    if dev.type not in ("cpu", "cuda"):
        raise TrainingError(f"device {device!r} is not supported; use cpu, cuda or cuda:N")
    return dev


class _FrozenBatchNorm:
    """Evaluate with batch statistics (as the weight-sharing papers do: running statistics of a supernet mix every
    path) without changing the stored running statistics: train-mode BN with momentum 0."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.saved: list[tuple[nn.modules.batchnorm._BatchNorm, float | None, bool]] = []

    def __enter__(self) -> None:
        for m in self.model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                self.saved.append((m, m.momentum, m.training))
                m.momentum = 0.0
                m.train(True)

    def __exit__(self, *exc: object) -> None:
        for m, momentum, training in self.saved:
            m.momentum = momentum
            m.train(training)
        self.saved.clear()


@torch.no_grad()
def shared_accuracy(
    supernet: NB201Supernet, arch: Arch, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500
) -> float:
    """Accuracy of ``arch`` on (x, y) with the supernet's shared weights, BN on batch statistics."""
    was = supernet.training
    supernet.eval()
    correct = 0
    with _FrozenBatchNorm(supernet):
        for i in range(0, len(x), batch_size):
            logits = supernet(x[i : i + batch_size], arch=arch)
            correct += int((logits.argmax(1) == y[i : i + batch_size]).sum())
    supernet.train(was)
    return correct / max(1, len(x))


@dataclass(kw_only=True)
class OneShotMethod:
    """Base of the weight-sharing methods. Fields are hyperparameters (defaults: NAS-Bench-201's search setup for
    the shared weights: SGD, Nesterov momentum 0.9, lr 0.025 cosine-annealed per epoch to 0.001, weight decay 5e-4,
    batch 64, gradient clipping at 5). Subclasses implement ``_setup``, ``_step`` and ``_derive``."""

    name: ClassVar[str] = ""

    epochs: int = 50
    batch_size: int = 64
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_nesterov: bool = True
    w_weight_decay: float = 5e-4
    grad_clip: float = 5.0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise TrainingError(
                f"{self.name}: epochs and batch_size must be >= 1, got {self.epochs}, {self.batch_size}"
            )
        if not self.w_lr > 0 or not 0 <= self.w_lr_min <= self.w_lr:
            raise TrainingError(f"{self.name}: need w_lr > 0 and 0 <= w_lr_min <= w_lr")

    def get_params(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def label(self) -> str:
        return self.name

    # ---- the loop ---------------------------------------------------------------------------------------------

    def search(
        self,
        data: SearchData,
        *,
        seed: int,
        channels: int,
        cells_per_stage: int,
        time_budget_s: float | None = None,
    ) -> SearchResult:
        """Train the supernet and return the derived cell. ``time_budget_s`` stops training after the last epoch
        that fits (an epoch that would not fit is not started); one that does not fit a single epoch raises
        :class:`BudgetTooSmall`."""
        if time_budget_s is not None and not time_budget_s > 0:
            raise BudgetTooSmall(f"time budget must be > 0 seconds, got {time_budget_s}")
        dev = data.device
        cuda = dev.type == "cuda"
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            supernet = NB201Supernet(
                channels=channels,
                cells_per_stage=cells_per_stage,
                in_channels=data.in_channels,
                num_classes=data.num_classes,
            )
        self.supernet_ = supernet.to(dev)
        self.data_ = data
        self.gen_ = torch.Generator().manual_seed(int(seed) + 0x5EED)  # shuffles and every sample of the method
        self.rng_ = np.random.default_rng(seed)
        self.criterion_ = nn.CrossEntropyLoss()
        self.w_optimizer_ = torch.optim.SGD(
            supernet.parameters(),
            lr=self.w_lr,
            momentum=self.w_momentum,
            nesterov=self.w_nesterov and self.w_momentum > 0,
            weight_decay=self.w_weight_decay,
        )
        self._setup()
        n_train, n_val = len(data.train_y), len(data.val_y)
        steps = math.ceil(n_train / self.batch_size)
        history: list[dict[str, float]] = []
        elapsed = 0.0
        val_order = torch.randperm(n_val, generator=self.gen_).to(dev)
        val_pos = 0
        for epoch in range(self.epochs):
            self.epoch_ = epoch
            lr = self.w_lr_min + 0.5 * (self.w_lr - self.w_lr_min) * (1 + math.cos(math.pi * epoch / self.epochs))
            for group in self.w_optimizer_.param_groups:
                group["lr"] = lr
            self.lr_ = lr
            supernet.train()
            if cuda:
                torch.cuda.synchronize(dev)
            start = time.perf_counter()
            self._start_epoch(epoch)
            order = torch.randperm(n_train, generator=self.gen_).to(dev)
            loss_sum, correct = 0.0, 0
            for i in range(steps):
                idx = order[i * self.batch_size : (i + 1) * self.batch_size]
                if val_pos + self.batch_size > n_val:  # the val stream cycles, reshuffled
                    val_order = torch.randperm(n_val, generator=self.gen_).to(dev)
                    val_pos = 0
                vidx = val_order[val_pos : val_pos + self.batch_size]
                val_pos += self.batch_size
                logits, loss = self._step(data.train_x[idx], data.train_y[idx], data.val_x[vidx], data.val_y[vidx])
                loss_sum += float(loss) * len(idx)
                correct += int((logits.argmax(1) == data.train_y[idx]).sum())
                if epoch == 0 and time_budget_s is not None and time.perf_counter() - start > time_budget_s:
                    raise BudgetTooSmall(
                        f"{self.name}: the time budget of {time_budget_s:g} s does not fit one supernet epoch "
                        f"({i + 1} of {steps} steps took {time.perf_counter() - start:.1f} s); raise the budget, "
                        "or make the epoch cheaper (fewer channels/cells, lower resolution, a smaller train split)"
                    )
            info = self._end_epoch(epoch)
            if cuda:
                torch.cuda.synchronize(dev)
            took = time.perf_counter() - start
            elapsed += took
            history.append({"epoch": epoch + 1, "train_loss": loss_sum / n_train, "train_acc": correct / n_train,
                            "lr": lr, "time_s": took, **info})  # fmt: skip
            log.debug("%s seed %d epoch %d: %s", self.name, seed, epoch + 1, history[-1])
            if time_budget_s is not None and epoch + 1 < self.epochs and elapsed + took > time_budget_s:
                log.info("%s: stopping after %d of %d epochs (time budget %g s)", self.name, epoch + 1, self.epochs,
                         time_budget_s)  # fmt: skip
                break
        start = time.perf_counter()
        arch, extra = self._derive()
        if cuda:
            torch.cuda.synchronize(dev)
        elapsed += time.perf_counter() - start
        return SearchResult(
            method=self.label,
            arch=tuple(int(a) for a in arch),
            seed=int(seed),
            search_time_s=elapsed,
            device=str(dev),
            epochs=len(history),
            history=history,
            extra=extra,
        )

    def _train_weights(self, x: torch.Tensor, y: torch.Tensor, **forward: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """One SGD step of the shared weights on (x, y) with the cell given by ``forward`` (arch= or weights=)."""
        self.w_optimizer_.zero_grad(set_to_none=True)
        logits = self.supernet_(x, **forward)
        loss = self.criterion_(logits, y)
        loss.backward()
        nn.utils.clip_grad_norm_(self.supernet_.parameters(), self.grad_clip)
        self.w_optimizer_.step()
        return logits.detach(), loss.detach()

    # ---- what methods implement -------------------------------------------------------------------------------

    def _setup(self) -> None:
        """Create the method's own state (architecture parameters, controller, optimizers)."""

    def _start_epoch(self, epoch: int) -> None:
        """Called before an epoch's first step."""

    def _step(
        self, x: torch.Tensor, y: torch.Tensor, xv: torch.Tensor, yv: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step on a train batch (x, y) and a val batch (xv, yv); returns (train logits, train loss)."""
        raise NotImplementedError

    def _end_epoch(self, epoch: int) -> dict[str, float]:
        """Called after an epoch's last step; returns figures for the epoch's history entry."""
        return {}

    def _derive(self) -> tuple[Arch, dict[str, Any]]:
        """The returned cell and what to record about it."""
        raise NotImplementedError


def alpha_record(alphas: torch.Tensor) -> dict[str, Any]:
    """Architecture parameters and their per-edge softmax, as JSON-able lists."""
    a = alphas.detach().cpu()
    return {"alphas": a.tolist(), "probs": torch.softmax(a, dim=-1).tolist()}


def edge_entropy(alphas: torch.Tensor) -> float:
    """Mean entropy (nats) of the per-edge softmax: log 5 = 1.609 uniform, 0 decided."""
    p = torch.softmax(alphas.detach(), dim=-1)
    return float(-(p * torch.log(p.clamp_min(1e-12))).sum(-1).mean())
