"""Progressive neural architecture search (Liu et al., ECCV 2018), on any space with a notion of "simpler than".

PNAS grows cells block by block: it trains every cell of one block, then at each step expands the K best cells
by one more block, ranks all the expansions with a surrogate (an ensemble of predictors) and trains only the K
predicted best, refitting the surrogate on what it learnt. Here "one more block" is the space's
:class:`~nasbench.spaces.base.Progressive` capability: ``simplest()`` are the first archs, ``grow(arch)`` the archs
one step more complex that contain it, ``complexity(arch)`` its level. On NB201 (a fixed DAG of 6 edges)
complexity is the number of edges that carry an operation, and growing sets one more ``none`` edge to one of the 4
other ops (more, where one added op changes nothing; full cells "grow" to their one-edge changes among ops).

- Step 1 evaluates every simplest arch, up to isomorphism (on NB201 the 4 cells with an op on the input->output
  edge: other one-op cells compute zero).
- Each further step expands the ``beam_size`` best archs evaluated so far (at any complexity) that still have
  unexplored expansions, ranks their expansions (none isomorphic to an arch proposed before) by the ensemble's
  mean prediction, and proposes the ``beam_size`` predicted best. Because the beam is drawn from every level,
  complexity grows only where the model predicts that growing pays.
- The surrogate is an ensemble of ``num_members`` MLPs (PNAS's MLP-ensemble: 2 layers of 100 units, L1 loss)
  on the one-hot encoding, refitted from scratch once per step, for 20 epochs (Adam, lr 0.01, batches of 32): with
  at most a few hundred cells that is ~100 steps per fit. 100 epochs cost five times as much and rank no better
  here: on the NB201 CIFAR-10 protocol both reach the best cell in each of 100 runs. (Continuing to train the
  previous step's networks instead, as the paper's "finetune", carries the fit on the first few cells along: on
  that protocol 4 of 100 runs then end at a 94.22 % cell.)

Differences from the paper, for budgets of ~150 evaluations: the beam is not 256. The paper sized its beam so that
the budget reaches the largest cell (B=5 blocks: 136 one-block cells + 4 x 256 = 1,160 models); by default
(``beam_size=None``) the same rule sizes it here from the run's evaluation budget: (budget - simplest archs) /
(levels - 1), levels being the space's range of complexities. On NB201 that is (150 - 4) / 5 = 29 for 150
evaluations (and without an evaluation budget). It matters: PNAS starts every run from the same simplest archs and
ranks by predicted mean only, so its path is nearly the same in every run; on the NB201 CIFAR-10 protocol a narrow
beam's path ends at one local optimum (beam 10: 93.80 %, the same cell in 94 of 100 runs) and a wide one's at the
best cell (beam 20: 94.28 %; 29, 30 and 40: 94.37 % in every run; 50-100 seeds each). Also unlike the paper, the
beam is drawn from all levels rather than the last one, and steps continue until the budget ends.
"""

from __future__ import annotations

from typing import ClassVar, cast

import numpy as np

from nasbench.spaces.base import Arch, Progressive, SearchSpace
from nasbench.strategies._common import Proposed, encodings, single_thread
from nasbench.strategies._ensemble import ENSEMBLE_RANGES, LOSSES, MLPEnsemble, check_ensemble_params
from nasbench.strategies.base import Feedback, Proposal, Strategy, Trial

#: The evaluation budget the beam is sized for when a run has none.
DEFAULT_EVALUATIONS = 150


def auto_beam(evaluations: int | None, first_level: int, levels: int) -> int:
    """The paper's sizing: a beam that lets the budget reach the most complex archs, (budget - archs of the first
    level) / further levels; as for :data:`DEFAULT_EVALUATIONS` when the run has no evaluation budget."""
    if evaluations is None:
        evaluations = DEFAULT_EVALUATIONS
    return max(1, round((evaluations - first_level) / max(levels - 1, 1)))


def complexity_levels(space: SearchSpace) -> int:
    """How many complexities lie between the simplest archs and the most complex: found by growing from the first
    simplest arch (always the first expansion) until growing no longer adds complexity."""
    progressive: Progressive = space  # type: ignore[assignment]
    arch = progressive.simplest()[0]
    low = high = progressive.complexity(arch)
    while True:
        grown = progressive.grow(arch)
        if not grown or progressive.complexity(grown[0]) <= high:
            return high - low + 1
        arch = grown[0]
        high = progressive.complexity(arch)


class PNAS(Strategy):
    """Progressive SMBO over the space's complexity; ``beam_size`` archs expanded and ``beam_size`` predicted-best
    expansions evaluated per step."""

    name = "pnas"
    ranges: ClassVar[dict[str, str]] = {
        "beam_size": "[1, 100000]",
        **ENSEMBLE_RANGES,
    }
    options: ClassVar[dict[str, tuple[str, ...]]] = {"loss": LOSSES}
    requires = ("progressive",)

    def __init__(
        self,
        beam_size: int | None = None,
        encoding: str = "onehot",
        num_members: int = 5,
        num_layers: int = 2,
        width: int = 100,
        epochs: int = 20,
        batch_size: int = 32,
        lr: float = 0.01,
        loss: str = "mae",
    ) -> None:
        self.beam_size = beam_size
        self.encoding = encoding
        self.num_members = num_members
        self.num_layers = num_layers
        self.width = width
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.loss = loss

    def _setup(self) -> None:
        if self.beam_size is not None and (not isinstance(self.beam_size, int) or self.beam_size < 1):
            raise ValueError(f"pnas: beam_size must be an integer >= 1 or None (by the budget), got {self.beam_size!r}")
        self.space.encode([self.space.sample(self.rng)], self.encoding)  # unknown encodings fail here, clearly
        check_ensemble_params(
            "pnas", num_members=self.num_members, num_layers=self.num_layers, width=self.width,
            epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, loss=self.loss,
        )  # fmt: skip
        self._progressive = cast(Progressive, self.space)  # checked by ``requires``
        self._proposed = Proposed(self.space)
        self._archs: list[Arch] = []
        self._scores: list[float] = []
        self._exhausted: set[Arch] = set()  # told archs without unexplored expansions
        self.steps_ = 0
        self._queue = self._proposed.new(self._progressive.simplest())
        self._proposed.add(self._queue)
        self.beam_size_ = (
            self.beam_size
            if self.beam_size is not None
            else auto_beam(self.context.evaluations, len(self._queue), complexity_levels(self.space))
        )

    def ask(self) -> Proposal:
        if not self._queue:
            self._queue = self._next_step() if self._scores else []
            if not self._queue:  # nothing told yet, or every expansion explored: a random new arch
                arch = self.space.sample(self.rng)
                for _ in range(100):
                    if arch not in self._proposed:
                        break
                    arch = self.space.sample(self.rng)
                self._proposed.add([arch])
                self._queue = [arch]
        return Proposal(self._queue.pop(0))

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        super().tell(trial, feedback)
        self._archs.append(trial.arch)
        self._scores.append(feedback.score)

    def _next_step(self) -> list[Arch]:
        """Expand the beam, rank the expansions with a freshly fitted ensemble, return the predicted best."""
        candidates: list[Arch] = []
        parents = 0
        for i in np.argsort(-np.asarray(self._scores), kind="stable"):
            arch = self._archs[i]
            if arch in self._exhausted:
                continue
            children = self._proposed.new(self._progressive.grow(arch))
            if not children:
                self._exhausted.add(arch)
                continue
            candidates.extend(children)
            parents += 1
            if parents == self.beam_size_:
                break
        candidates = self._proposed.new(candidates)  # one per isomorphism class across parents
        if not candidates:
            return []
        model = MLPEnsemble(
            self.num_members, self.num_layers, self.width, self.epochs, self.batch_size, self.lr, self.loss
        )
        encode = encodings(self.space, self.encoding)
        with single_thread():
            model.fit(encode(self._archs), np.asarray(self._scores), self.rng)
            predicted = model.predict(encode(candidates)).mean(axis=0)
        picks = [candidates[i] for i in np.argsort(-predicted, kind="stable")[: self.beam_size_]]
        self._proposed.add(picks)
        self.steps_ += 1
        return picks
