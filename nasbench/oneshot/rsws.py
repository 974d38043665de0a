"""Random search with weight sharing (Li & Talwalkar, UAI 2019): train the supernet with one uniformly sampled
cell per batch, then rank random cells by their shared-weight validation accuracy.

Ranking is two-stage as in the paper: ``candidates`` random cells are scored on ``screen_size`` val images, and the
``top_k`` best are scored again on the whole val split; the best of those is returned. (NAS-Bench-201's RSPS scores
100 cells; the paper's DARTS-space runs screened 1,000 and re-scored the top 10.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from nasbench.errors import TrainingError
from nasbench.oneshot.search import OneShotMethod, shared_accuracy
from nasbench.oneshot.supernet import Arch
from nasbench.spaces.nb201 import NB201Space


@dataclass(kw_only=True)
class RSWS(OneShotMethod):
    name: ClassVar[str] = "rsws"

    epochs: int = 250
    candidates: int = 100
    screen_size: int = 256
    top_k: int = 10

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.candidates < 1 or self.screen_size < 1 or self.top_k < 1:
            raise TrainingError("rsws needs candidates, screen_size and top_k >= 1")

    def _setup(self) -> None:
        self.space_ = NB201Space()

    def _step(self, x, y, xv, yv):
        return self._train_weights(x, y, arch=self.space_.sample(self.rng_))

    def _derive(self) -> tuple[Arch, dict[str, Any]]:
        data = self.data_
        cells = list(dict.fromkeys(self.space_.sample(self.rng_) for _ in range(self.candidates)))
        sx, sy = data.val_x[: self.screen_size], data.val_y[: self.screen_size]
        screened = sorted(((shared_accuracy(self.supernet_, a, sx, sy), a) for a in cells), key=lambda t: -t[0])
        finalists = [(shared_accuracy(self.supernet_, a, data.val_x, data.val_y), a) for _, a in screened[: self.top_k]]
        best_acc, best = max(finalists, key=lambda t: t[0])
        return best, {"shared_val_acc": best_acc, "candidates": len(cells)}
