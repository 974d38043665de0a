"""One search run against a benchmark under a simulated clock.

The runner, not the strategy, calls the benchmark, charges simulated time, enforces the budget and records the
trajectory. ``workers`` asynchronous workers are simulated with an event queue keyed by finishing time: a worker
that finishes is told first and immediately asks again, as on a real cluster.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from nasbench.benchmark import Benchmark
from nasbench.errors import InvalidQuery, MissingResult, UnknownMetric
from nasbench.spaces.nb201 import Arch
from nasbench.strategies.base import Feedback, Proposal, SearchContext, Strategy


def default_noise(bench: Benchmark) -> Literal["mean", "sample"]:
    """``"sample"`` when the benchmark has named training seeds to draw from, else ``"mean"``."""
    return "sample" if [s for s in bench.seeds if s is not None] else "mean"


@dataclass(frozen=True)
class Protocol:
    """What a strategy sees and how its result is scored.

    The NAS-Bench-201 paper's protocol: search on ``val_acc`` after 12 epochs, score the incumbent (best validation
    so far) by ``test_acc`` after 200 epochs. ``noise="sample"`` draws one of the store's training seeds per
    evaluation (a promoted run keeps its seed); ``"mean"`` reads the mean over seeds.
    """

    search_metric: str = "val_acc"
    search_epoch: int | None = None  # None: the benchmark's only epoch, or its last for multi-fidelity use
    score_metric: str = "test_acc"
    score_epoch: int | None = None  # None: the benchmark's last epoch
    noise: Literal["mean", "sample"] = "mean"

    def resolved(self, bench: Benchmark) -> Protocol:
        """This protocol with epochs filled in and checked against ``bench``."""
        for metric in (self.search_metric, self.score_metric):
            if metric not in bench.metrics:
                raise UnknownMetric(f"the benchmark has no metric {metric!r}; it has: {', '.join(bench.metrics)}")
        search_epoch = self.search_epoch if self.search_epoch is not None else bench.epochs[-1]
        score_epoch = self.score_epoch if self.score_epoch is not None else bench.epochs[-1]
        for name, epoch in (("search_epoch", search_epoch), ("score_epoch", score_epoch)):
            if epoch not in bench.epochs:
                raise MissingResult(
                    f"{name} {epoch} is not an epoch of the benchmark; available: {list(bench.epochs)[:10]}"
                    + (" ..." if len(bench.epochs) > 10 else "")
                )
        if self.noise not in ("mean", "sample"):
            raise InvalidQuery(f"noise must be 'mean' or 'sample', got {self.noise!r}")
        if self.noise == "sample" and not [s for s in bench.seeds if s is not None]:
            raise InvalidQuery("noise='sample' needs a benchmark with named training seeds; this one has means only")
        return Protocol(self.search_metric, search_epoch, self.score_metric, score_epoch, self.noise)


@dataclass(frozen=True)
class Budget:
    """Stop launching evaluations after ``evaluations`` of them, or once the simulated clock passes ``time_s``
    (results that would arrive after ``time_s`` are discarded). At least one must be set."""

    evaluations: int | None = None
    time_s: float | None = None

    def __post_init__(self) -> None:
        if self.evaluations is None and self.time_s is None:
            raise InvalidQuery("a budget needs a number of evaluations, a simulated time, or both")
        if self.evaluations is not None and self.evaluations < 1:
            raise InvalidQuery(f"the evaluation budget must be >= 1, got {self.evaluations}")
        if self.time_s is not None and not self.time_s > 0:
            raise InvalidQuery(f"the time budget must be > 0 seconds, got {self.time_s}")


@dataclass
class Trajectory:
    """Everything one run did, in the order results arrived. Archs are space indices (``space.from_index``)."""

    strategy: str
    seed: int
    arch: list[int] = field(default_factory=list)
    epoch: list[int] = field(default_factory=list)
    score: list[float] = field(default_factory=list)  # search metric (validation), what the strategy saw
    cost_s: list[float] = field(default_factory=list)  # simulated time charged for the evaluation
    finished_s: list[float] = field(default_factory=list)  # simulated clock when the result arrived
    incumbent: list[int] = field(default_factory=list)  # best (epoch, score) so far
    incumbent_score: list[float] = field(default_factory=list)  # its score metric (test), never shown to strategy
    overhead_s: float = 0.0  # real seconds spent inside the strategy's ask/tell
    wall_s: float = 0.0  # real seconds of the whole run
    time_unit: str = "s"  # "s", or "evaluation" when the benchmark has no training times

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Trajectory:
        return cls(**raw)


def run_search(
    bench: Benchmark,
    strategy: Strategy,
    *,
    protocol: Protocol,
    budget: Budget,
    seed: int,
    workers: int = 1,
    charge_overhead: bool = False,
    label: str | None = None,
) -> Trajectory:
    """Run ``strategy`` (configured, not set up) once under ``seed``; same inputs give the same trajectory."""
    if workers < 1:
        raise InvalidQuery(f"workers must be >= 1, got {workers}")
    protocol = protocol.resolved(bench)
    has_time = "train_time_s" in bench.metrics
    if budget.time_s is not None and not has_time:
        raise InvalidQuery("a simulated-time budget needs a benchmark with train_time_s; use an evaluation budget")
    strategy_seq, noise_seq = np.random.SeedSequence(seed).spawn(2)
    noise_rng = np.random.default_rng(noise_seq)
    named_seeds = [s for s in bench.seeds if s is not None]
    space = bench.space
    strategy.setup(
        SearchContext(
            space=space,
            epochs=tuple(bench.epochs),
            search_epoch=protocol.search_epoch,
            workers=workers,
            evaluations=budget.evaluations,
        ),
        np.random.default_rng(strategy_seq),
    )
    traj = Trajectory(strategy=label or strategy.name, seed=seed, time_unit="s" if has_time else "evaluation")
    trained: dict[Arch, tuple[float, int | None]] = {}  # arch -> (cumulative time trained so far, its seed)
    score_cache: dict[Arch, float] = {}
    # (finish time, launch order, proposal, arch, arch index, score, epoch, cost): ordered by finish, then launch
    events: list[tuple[float, int, Proposal, Arch, int, float, int, float]] = []
    clock = 0.0
    launched = 0
    overhead = 0.0
    best_key: tuple[int, float] | None = None
    best_arch: Arch | None = None
    best_index = -1
    wall_start = time.perf_counter()

    def may_launch() -> bool:
        if budget.evaluations is not None and launched >= budget.evaluations:
            return False
        return budget.time_s is None or clock < budget.time_s

    while True:
        # Fill every idle worker; the strategy may answer None to wait for pending results.
        while len(events) < workers and may_launch():
            t0 = time.perf_counter()
            proposal = strategy.ask()
            spent = time.perf_counter() - t0
            overhead += spent
            if charge_overhead:
                clock += spent
            if proposal is None:
                break
            arch = space.validate(proposal.arch)
            epoch = proposal.epoch if proposal.epoch is not None else protocol.search_epoch
            prior_time, prior_seed = trained.get(arch, (0.0, None))
            if proposal.resume and prior_seed is not None:
                run_seed: int | None = prior_seed
            elif protocol.noise == "sample":
                run_seed = int(named_seeds[noise_rng.integers(len(named_seeds))])
            else:
                run_seed = None
            result = bench.query(arch, epoch=epoch, seed=run_seed)
            score = getattr(result, protocol.search_metric)
            if math.isnan(score):
                raise MissingResult(
                    f"the benchmark has no {protocol.search_metric} for {space.to_str(arch)} at epoch {epoch}"
                )
            if has_time:
                cost = result.train_time_s - (prior_time if proposal.resume else 0.0)
                cost = max(cost, 0.0)
                trained[arch] = (max(prior_time, result.train_time_s), run_seed)
            else:
                cost = 1.0
            launched += 1
            heapq.heappush(events, (clock + cost, launched, proposal, arch, space.index(arch), score, epoch, cost))
        if not events:
            break
        finish, _, proposal, arch, index, score, epoch, cost = heapq.heappop(events)
        if budget.time_s is not None and finish > budget.time_s:
            break  # this and every later result arrives after the budget
        clock = max(clock, finish)
        t0 = time.perf_counter()
        strategy.tell(proposal, Feedback(score=score, epoch=epoch, cost_s=cost, finished_at_s=clock))
        spent = time.perf_counter() - t0
        overhead += spent
        if charge_overhead:
            clock += spent
        if best_key is None or (epoch, score) > best_key:
            best_key, best_arch, best_index = (epoch, score), arch, index
            if best_arch not in score_cache:
                score_cache[best_arch] = _score(bench, best_arch, protocol)
        traj.arch.append(index)
        traj.epoch.append(epoch)
        traj.score.append(score)
        traj.cost_s.append(cost)
        traj.finished_s.append(clock)
        traj.incumbent.append(best_index)
        traj.incumbent_score.append(score_cache[best_arch])
    traj.overhead_s = overhead
    traj.wall_s = time.perf_counter() - wall_start
    return traj


def _score(bench: Benchmark, arch: Arch, protocol: Protocol) -> float:
    value = getattr(bench.query(arch, epoch=protocol.score_epoch), protocol.score_metric)
    if math.isnan(value):
        raise MissingResult(
            f"the benchmark has no {protocol.score_metric} for {bench.space.to_str(arch)} at epoch "
            f"{protocol.score_epoch}: cannot score the incumbent"
        )
    return float(value)
