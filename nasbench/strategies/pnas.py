"""Progressive neural architecture search (Liu et al., ECCV 2018), adapted to the NAS-Bench-201 cell.

PNAS grows cells block by block: it trains every cell of one block, then at each step expands the K best cells
by one more block, ranks all the expansions with a surrogate (an ensemble of predictors) and trains only the K
predicted best, refitting the surrogate on what it learnt. NB201's cell has a fixed DAG of 6 edges, so here
complexity is the number of edges that carry an operation (not ``none``), and "one more block" is "one more
operation": a ``none`` edge gets one of the 4 other ops.

- Step 1 evaluates every one-operation cell, up to isomorphism (dead cells, whose output is zero, are skipped:
  only the 4 cells with an op on the input->output edge remain).
- An added operation that changes nothing (on a branch that reaches no output) does not count as a step:
  the expansion continues to the next cell that differs (see :meth:`PNAS._expansions`).
- Each further step expands the ``beam_size`` best cells evaluated so far (at any complexity) that still have
  unexplored expansions, ranks their expansions (none isomorphic to a cell proposed before) by the ensemble's
  mean prediction, and proposes the ``beam_size`` predicted best. Because the beam is drawn from every level,
  complexity grows only where the model predicts that an added operation pays.
- Cells with all 6 edges active cannot grow; PNAS would stop there. To use the rest of the budget, their
  "expansions" are their one-edge changes among operations (never to ``none``), ranked the same way.
- The surrogate is an ensemble of ``num_members`` MLPs (PNAS's MLP-ensemble: 2 layers of 100 units, L1 loss)
  on the one-hot encoding, refitted once per step.

Differences from the paper, for a 15,625-cell space and budgets of ~150 evaluations: the beam is not 256. The
paper sized its beam so that the budget reaches the largest cell (B=5 blocks: 136 one-block cells + 4 x 256 =
1,160 models); by default (``beam_size=None``) the same rule sizes it here from the run's evaluation budget,
(budget - 4) / 5 for 6 levels of operations: 29 for 150 evaluations (and without an evaluation budget). It
matters: PNAS starts every run from the same four one-op cells and ranks by predicted mean only, so its path is
nearly the same in every run; on the NB201 CIFAR-10 protocol a narrow beam's path ends at one local optimum
(beam 10: 93.80 %, the same cell in 94 of 100 runs) and a wide one's at the best cell (beam 20: 94.28 %; 29, 30
and 40: 94.37 % in every run; 50-100 seeds each). Also unlike the paper, the beam is drawn from all levels rather
than the last one, and it includes the full cells' one-edge changes (the paper stops at its largest cell size;
here steps continue until the budget ends).
"""

from __future__ import annotations

import numpy as np

from nasbench.spaces.nb201 import NONE, Arch
from nasbench.strategies._common import Proposed, canonical_ids, single_thread
from nasbench.strategies._ensemble import MLPEnsemble, check_ensemble_params
from nasbench.strategies.base import Feedback, Proposal, Strategy

FIRST_LEVEL = 4  # the live one-operation cells: an op on the input -> output edge
LEVELS = 6  # cells with 1 .. 6 operations


def auto_beam(evaluations: int | None) -> int:
    """The paper's sizing: a beam that lets the budget reach the largest cells, (budget - first level) / further
    levels; as for 150 evaluations when the run has no evaluation budget."""
    if evaluations is None:
        evaluations = 150
    return max(1, round((evaluations - FIRST_LEVEL) / (LEVELS - 1)))


class PNAS(Strategy):
    """Progressive SMBO over the number of active operations; ``beam_size`` cells expanded and ``beam_size``
    predicted-best expansions evaluated per step."""

    name = "pnas"

    def __init__(
        self,
        beam_size: int | None = None,
        encoding: str = "onehot",
        num_members: int = 5,
        num_layers: int = 2,
        width: int = 100,
        epochs: int = 100,
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
        self._beam = self.beam_size if self.beam_size is not None else auto_beam(self.context.evaluations)
        self.space.encode([self.space.sample(self.rng)], self.encoding)  # unknown encodings fail here, clearly
        check_ensemble_params(
            "pnas", num_members=self.num_members, num_layers=self.num_layers, width=self.width,
            epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, loss=self.loss,
        )  # fmt: skip
        self._proposed = Proposed(self.space)
        self._archs: list[Arch] = []
        self._scores: list[float] = []
        self._exhausted: set[Arch] = set()  # told cells without unexplored expansions
        self.steps_ = 0
        self._queue = self._proposed.new(self._expansions((NONE,) * self.space.num_edges))
        self._proposed.add(self._queue)

    def _add_op(self, arch: Arch) -> list[Arch]:
        """Cells with one more operation: one ``none`` edge of ``arch`` set to each other op."""
        return [
            (*arch[:edge], op, *arch[edge + 1 :])
            for edge in range(len(arch))
            if arch[edge] == NONE
            for op in range(1, self.space.num_ops)
        ]

    def _expansions(self, arch: Arch) -> list[Arch]:
        """The next effective complexity above ``arch``: cells with one more operation; when every such cell is
        isomorphic to ``arch`` or dead (no input->output path), cells with two more, and so on. Without this, a
        cell whose node 1 is unreachable could never grow that branch: it takes two operations to make it
        matter."""
        if NONE not in arch:  # the largest cells: continue with one-edge changes among operations
            return [n for n in self.space.neighbors(arch) if NONE not in n]
        parent = int(canonical_ids(self.space, [arch])[0])
        out: list[Arch] = []
        frontier, seen = [arch], {arch}
        while frontier and not out:  # the fewest added operations that change the cell
            children = [c for c in dict.fromkeys(child for a in frontier for child in self._add_op(a)) if c not in seen]
            seen.update(children)
            same = (canonical_ids(self.space, children) == parent) | ~self._live(children)
            out = [c for c, s in zip(children, same, strict=True) if not s]
            frontier = [c for c, s in zip(children, same, strict=True) if s]
        return out

    def _live(self, archs: list[Arch]) -> np.ndarray:
        """Whether each cell has an input->output path of operations (else its output is constant zero)."""
        if not archs:
            return np.zeros(0, dtype=bool)
        return self.space.encode(archs, "path").any(axis=1)

    def ask(self) -> Proposal:
        if not self._queue:
            self._queue = self._next_step() if self._scores else []
            if not self._queue:  # nothing told yet, or every expansion explored: a random new cell
                arch = self.space.sample(self.rng)
                for _ in range(100):
                    if arch not in self._proposed:
                        break
                    arch = self.space.sample(self.rng)
                self._proposed.add([arch])
                self._queue = [arch]
        return Proposal(self._queue.pop(0))

    def tell(self, proposal: Proposal, feedback: Feedback) -> None:
        super().tell(proposal, feedback)
        self._archs.append(proposal.arch)
        self._scores.append(feedback.score)

    def _next_step(self) -> list[Arch]:
        """Expand the beam, rank the expansions with a freshly fitted ensemble, return the predicted best."""
        candidates: list[Arch] = []
        parents = 0
        for i in np.argsort(-np.asarray(self._scores), kind="stable"):
            arch = self._archs[i]
            if arch in self._exhausted:
                continue
            children = self._proposed.new(self._expansions(arch))
            if not children:
                self._exhausted.add(arch)
                continue
            candidates.extend(children)
            parents += 1
            if parents == self._beam:
                break
        candidates = self._proposed.new(candidates)  # one per isomorphism class across parents
        if not candidates:
            return []
        model = MLPEnsemble(
            self.num_members, self.num_layers, self.width, self.epochs, self.batch_size, self.lr, self.loss
        )
        with single_thread():
            model.fit(self.space.encode(self._archs, self.encoding), np.asarray(self._scores), self.rng)
            predicted = model.predict(self.space.encode(candidates, self.encoding)).mean(axis=0)
        picks = [candidates[i] for i in np.argsort(-predicted, kind="stable")[: self._beam]]
        self._proposed.add(picks)
        self.steps_ += 1
        return picks
