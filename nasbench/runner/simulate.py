"""One search run against a benchmark under a simulated clock.

The runner, not the strategy, calls the benchmark, charges simulated time, enforces the budget and records the
trajectory. ``workers`` asynchronous workers are simulated with an event queue keyed by finishing time: a worker
that finishes is told first and immediately asks again, as on a real cluster.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np

from nasbench.benchmark import Benchmark
from nasbench.errors import InvalidQuery, MissingResult, UnknownMetric
from nasbench.runner.objectives import Objectives
from nasbench.spaces.base import Arch
from nasbench.strategies import make_strategy
from nasbench.strategies.base import Feedback, Proposal, SearchContext, Strategy, Trial

#: Bounds of one run: every run ends, and its trajectory fits in memory (a million trials is ~100 MB of JSON).
MAX_EVALUATIONS = 1_000_000
MAX_WORKERS = 10_000


def default_noise(bench: Benchmark) -> Literal["mean", "sample"]:
    """The store's default (``defaults["noise"]``), else ``"sample"`` when the benchmark has named training seeds
    to draw from, else ``"mean"``."""
    stated = (getattr(bench, "defaults", None) or {}).get("noise")
    if stated in ("mean", "sample"):
        return stated
    return "sample" if [s for s in bench.seeds if s is not None] else "mean"


@dataclass(frozen=True)
class Protocol:
    """What a strategy sees and how its result is scored.

    The NAS-Bench-201 paper's protocol: search on ``val_acc`` after 12 epochs, score the incumbent (best validation
    so far) by ``test_acc`` after 200 epochs. A field left None takes the store's default (``bench.defaults``),
    else ``val_acc`` / ``test_acc``, the benchmark's last epoch and :func:`default_noise`. ``noise="sample"`` draws
    one of the store's training seeds per evaluation (a promoted run keeps its seed); ``"mean"`` reads the mean
    over seeds. Each
    metric is oriented by its direction: the strategy maximises ``score`` (negated for a "min" metric) and the
    incumbent is the best so oriented.
    """

    search_metric: str | None = None
    search_epoch: int | None = None
    score_metric: str | None = None
    score_epoch: int | None = None
    noise: Literal["mean", "sample"] | None = None
    # costs known before training (static figures) as further objectives, e.g. ("edgegpu_latency_ms",), and
    # constraints on them, e.g. ("params_m<=1.0",): see nasbench.runner.objectives
    objectives: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()

    def resolved(self, bench: Benchmark) -> Protocol:
        """This protocol with every field filled in and checked against ``bench``."""
        defaults = getattr(bench, "defaults", {}) or {}
        search_metric = self.search_metric or defaults.get("search_metric", "val_acc")
        score_metric = self.score_metric or defaults.get("score_metric", "test_acc")
        for metric in (search_metric, score_metric):
            if metric not in bench.metrics:
                raise UnknownMetric(f"the benchmark has no metric {metric!r}; it has: {', '.join(bench.metrics)}")
        search_epoch = _pick(self.search_epoch, defaults.get("search_epoch"), bench.epochs[-1])
        score_epoch = _pick(self.score_epoch, defaults.get("score_epoch"), bench.epochs[-1])
        for name, epoch in (("search_epoch", search_epoch), ("score_epoch", score_epoch)):
            if epoch not in bench.epochs:
                raise MissingResult(
                    f"{name} {epoch} is not an epoch of the benchmark; available: {list(bench.epochs)[:10]}"
                    + (" ..." if len(bench.epochs) > 10 else "")
                )
        noise = self.noise if self.noise is not None else default_noise(bench)
        if noise not in ("mean", "sample"):
            raise InvalidQuery(f"noise must be 'mean' or 'sample', got {noise!r}")
        if noise == "sample" and not [s for s in bench.seeds if s is not None]:
            raise InvalidQuery("noise='sample' needs a benchmark with named training seeds; this one has means only")
        objectives, constraints = tuple(self.objectives), tuple(self.constraints)
        resolved = Protocol(search_metric, search_epoch, score_metric, score_epoch, noise, objectives, constraints)
        if objectives or constraints:
            objectives_of(bench, resolved)  # refuse an unknown or direction-less objective here, before any run
        return resolved

    def to_dict(self) -> dict[str, Any]:
        """As a config records it: objectives and constraints only when there are some (so the configs of
        single-objective comparisons read as they always did)."""
        raw = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("objectives", "constraints"):
            raw[name] = list(raw[name])
            if not raw[name]:
                del raw[name]
        return raw


_OBJECTIVES: dict[tuple[int, Protocol], tuple[Benchmark, Objectives]] = {}


def objectives_of(bench: Benchmark, protocol: Protocol) -> Objectives:
    """The resolved objectives of ``protocol`` on ``bench``, made once per process (they scan the whole table)."""
    key = (id(bench), protocol)
    held = _OBJECTIVES.get(key)
    if held is None or held[0] is not bench:
        assert protocol.search_metric and protocol.score_metric and protocol.search_epoch and protocol.score_epoch
        made = Objectives(
            bench,
            search_metric=protocol.search_metric,
            search_epoch=protocol.search_epoch,
            score_metric=protocol.score_metric,
            score_epoch=protocol.score_epoch,
            objectives=protocol.objectives,
            constraints=protocol.constraints,
        )
        held = _OBJECTIVES[key] = (bench, made)
    return held[1]


def _pick(*values: int | None) -> int:
    return next(v for v in values if v is not None)


@dataclass(frozen=True)
class Budget:
    """Stop launching evaluations after ``evaluations`` of them, or once the simulated clock passes ``time_s``
    (results that would arrive after ``time_s`` are discarded). At least one must be set."""

    evaluations: int | None = None
    time_s: float | None = None

    def __post_init__(self) -> None:
        if self.evaluations is None and self.time_s is None:
            raise InvalidQuery("a budget needs a number of evaluations, a simulated time, or both")
        if self.evaluations is not None and not (is_int(self.evaluations) and 1 <= self.evaluations <= MAX_EVALUATIONS):
            raise InvalidQuery(
                f"the evaluation budget is an integer in 1..{MAX_EVALUATIONS:,}, got {self.evaluations!r}"
            )
        if self.time_s is not None and not (
            isinstance(self.time_s, (int, float)) and not isinstance(self.time_s, bool) and 0 < self.time_s < math.inf
        ):
            raise InvalidQuery(f"the time budget is a finite number of seconds > 0, got {self.time_s!r}")

    @property
    def max_evaluations(self) -> int:
        """The evaluations a run may make at most: a time budget alone is bounded too (a store whose epochs cost
        nothing would otherwise never end)."""
        return self.evaluations if self.evaluations is not None else MAX_EVALUATIONS


def is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@dataclass
class Trajectory:
    """Everything one run did, one entry per trial in the order results arrived. Architectures are the space's
    official strings (``space.from_str`` reads them back); scores are in the metrics' own units and directions."""

    strategy: str
    seed: int
    trial_id: list[int] = field(default_factory=list)  # the runner's id of each trial, in launch order
    arch: list[str] = field(default_factory=list)
    epoch: list[int] = field(default_factory=list)
    table_seed: list[int | None] = field(default_factory=list)  # the table seed read (None: mean over seeds)
    resume_from: list[int | None] = field(default_factory=list)  # the trial a promotion continued
    score: list[float] = field(default_factory=list)  # search metric (validation), what the strategy saw
    cost_s: list[float] = field(default_factory=list)  # simulated time charged for the evaluation
    finished_s: list[float] = field(default_factory=list)  # simulated clock when the result arrived
    incumbent: list[str] = field(default_factory=list)  # best (epoch, oriented score) so far
    incumbent_score: list[float] = field(default_factory=list)  # its score metric (test), never shown to strategy
    overhead_s: float = 0.0  # real seconds spent inside the strategy's ask/tell
    wall_s: float = 0.0  # real seconds of the whole run
    time_unit: str = "s"  # "s", or "evaluation" when the benchmark has no training times
    # with objectives or constraints (else empty): each trial's costs (raw, in the protocol's objective order), its
    # constraint violation (0: feasible) and its arch's score metric; ``incumbent_score`` is then the normalised
    # hypervolume of the incumbent set (several objectives) or the best feasible score (constraints only)
    costs: list[list[float]] = field(default_factory=list)
    violation: list[float] = field(default_factory=list)
    scored: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # shallow: asdict's deep copy costs seconds

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Trajectory:
        return cls(**raw)


def run_search(
    bench: Benchmark,
    strategy: Strategy | type[Strategy] | str,
    *,
    protocol: Protocol,
    budget: Budget,
    seed: int,
    workers: int = 1,
    charge_overhead: bool = False,
    label: str | None = None,
) -> Trajectory:
    """Run ``strategy`` once under ``seed``; same inputs give the same trajectory. ``strategy``: a configured
    (not yet set up) instance, a Strategy class (its defaults), or a spec text (``bananas:k=5``)."""
    if isinstance(strategy, str):
        from nasbench.runner.experiment import StrategySpec

        spec = StrategySpec.parse(strategy)
        strategy = make_strategy(spec.name, **spec.params)
    elif isinstance(strategy, type) and issubclass(strategy, Strategy):
        strategy = strategy()
    if not (is_int(workers) and 1 <= workers <= MAX_WORKERS):
        raise InvalidQuery(f"workers is an integer in 1..{MAX_WORKERS:,}, got {workers!r}")
    if not (is_int(seed) and 0 <= seed < 2**63):
        raise InvalidQuery(f"seed is an integer >= 0, got {seed!r}")
    protocol = protocol.resolved(bench)
    assert protocol.search_metric is not None and protocol.search_epoch is not None  # resolved() fills every field
    if getattr(strategy, "multi_fidelity", False) and len(bench.epochs) < 2:
        raise InvalidQuery(
            f"{strategy.name} is multi-fidelity: it needs a benchmark with at least two epochs, this one has "
            f"{list(bench.epochs)}"
        )
    has_time = "train_time_s" in bench.metrics
    if budget.time_s is not None and not has_time:
        raise InvalidQuery("a simulated-time budget needs a benchmark with train_time_s; use an evaluation budget")
    sign = 1.0 if bench.directions[protocol.search_metric] == "max" else -1.0
    goals = objectives_of(bench, protocol) if protocol.objectives or protocol.constraints else None
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
            objectives=(protocol.search_metric, *goals.names) if goals is not None and goals.multi else (),
            costs=goals.of_rows if goals is not None else None,
        ),
        np.random.default_rng(strategy_seq),
    )
    traj = Trajectory(strategy=label or strategy.name, seed=seed, time_unit="s" if has_time else "evaluation")
    trials: list[Trial] = []
    told: set[int] = set()
    trained_s: dict[int, float] = {}  # trial id -> cumulative training time it reached
    score_cache: dict[Arch, float] = {}
    strings: dict[Arch, str] = {}
    # (finish time, trial id, trial, raw score, cost): ordered by finish, then launch
    events: list[tuple[float, int, Trial, float, float]] = []
    clock = 0.0
    overhead = 0.0
    best_key: tuple[int, float] | None = None
    best_arch: Arch | None = None
    front = _Front()  # the incumbent set of a multi-objective run
    front_hv = 0.0
    wall_start = time.perf_counter()

    def may_launch() -> bool:
        if len(trials) >= budget.max_evaluations:
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
            parent = _parent(proposal, arch, epoch, trials, told, strategy)
            if parent is not None:
                run_seed: int | None = parent.seed
            elif protocol.noise == "sample":
                run_seed = int(named_seeds[noise_rng.integers(len(named_seeds))])
            else:
                run_seed = None
            result = bench.query(arch, epoch=epoch, seed=run_seed)
            value = result[protocol.search_metric]
            if math.isnan(value):
                raise MissingResult(
                    f"the benchmark has no {protocol.search_metric} for {space.to_str(arch)} at epoch {epoch}"
                )
            trial = Trial(len(trials), arch, epoch, run_seed, None if parent is None else parent.trial_id, clock)
            if has_time:
                if not math.isfinite(result.train_time_s):
                    raise MissingResult(
                        f"the benchmark has no train_time_s for {space.to_str(arch)} at epoch {epoch}: the simulated "
                        "clock cannot charge it"
                    )
                before = trained_s[parent.trial_id] if parent is not None else 0.0
                cost = max(result.train_time_s - before, 0.0)
                trained_s[trial.trial_id] = result.train_time_s
            else:
                cost = 1.0
            trials.append(trial)
            heapq.heappush(events, (clock + cost, trial.trial_id, trial, value, cost))
        if not events:
            break
        finish, _, trial, value, cost = heapq.heappop(events)
        if budget.time_s is not None and finish > budget.time_s:
            break  # this and every later result arrives after the budget
        clock = max(clock, finish)
        told.add(trial.trial_id)
        if goals is not None:
            costs, violation = goals.of(trial.arch)
            told_score = goals.reported_score(sign * value, violation)
            oriented = (
                sign * value,
                *(c if o.direction == "max" else -c for c, o in zip(costs, goals.costs, strict=True)),
            )
        else:
            violation, told_score, oriented = 0.0, sign * value, ()
        feedback = Feedback(told_score, trial.epoch, cost, clock, oriented, violation <= 0)
        t0 = time.perf_counter()
        strategy.tell(trial, feedback)
        spent = time.perf_counter() - t0
        overhead += spent
        if charge_overhead:
            clock += spent
        if trial.arch not in strings:
            strings[trial.arch] = space.to_str(trial.arch)
        if goals is not None and goals.multi:
            if violation <= 0 and front.add(trial.trial_id, np.asarray(oriented), trial.epoch):
                points = [(_cached_score(bench, trials[i].arch, protocol, score_cache), *goals.of(trials[i].arch)[0])
                          for i in front.members]  # fmt: skip
                front_hv = goals.hypervolume(np.asarray(points))
                best_arch = trials[front.leader].arch
            incumbent_text, incumbent_value = (strings[best_arch], front_hv) if best_arch is not None else ("", 0.0)
        else:
            key = (trial.epoch, sign * value)
            if violation <= 0 and (best_key is None or key > best_key):
                best_key, best_arch = key, trial.arch
            if best_arch is not None:
                incumbent_text = strings.setdefault(best_arch, space.to_str(best_arch))
                incumbent_value = _cached_score(bench, best_arch, protocol, score_cache)
            else:  # nothing feasible yet
                incumbent_text, incumbent_value = "", math.nan
        traj.trial_id.append(trial.trial_id)
        traj.arch.append(strings[trial.arch])
        traj.epoch.append(trial.epoch)
        traj.table_seed.append(trial.seed)
        traj.resume_from.append(trial.resume_from)
        traj.score.append(value)
        traj.cost_s.append(cost)
        traj.finished_s.append(clock)
        traj.incumbent.append(incumbent_text)
        traj.incumbent_score.append(incumbent_value)
        if goals is not None:
            traj.costs.append([float(c) for c in costs])
            traj.violation.append(float(violation))
            traj.scored.append(_cached_score(bench, trial.arch, protocol, score_cache))
    traj.overhead_s = overhead
    traj.wall_s = time.perf_counter() - wall_start
    return traj


def _parent(
    proposal: Proposal, arch: Arch, epoch: int, trials: list[Trial], told: set[int], strategy: Strategy
) -> Trial | None:
    """The trial a promotion continues, checked: a told trial of the same arch at a lower epoch."""
    if proposal.resume_from is None:
        return None
    tid = proposal.resume_from
    parent = trials[tid] if isinstance(tid, int) and 0 <= tid < len(trials) else None
    problem = (
        "is not a trial of this run"
        if parent is None
        else "has not finished yet"
        if tid not in told
        else f"evaluated another architecture ({parent.arch})"
        if parent.arch != arch
        else f"is already at epoch {parent.epoch}, not below {epoch}"
        if parent.epoch >= epoch
        else None
    )
    if problem:
        raise InvalidQuery(f"{strategy.name}: resume_from={tid!r} for {arch} at epoch {epoch}: trial {tid} {problem}")
    return parent


def _cached_score(bench: Benchmark, arch: Arch, protocol: Protocol, cache: dict[Arch, float]) -> float:
    if arch not in cache:
        cache[arch] = _score(bench, arch, protocol)
    return cache[arch]


class _Front:
    """The incumbent set of a multi-objective run: the feasible trials no other dominates by their oriented
    search-side objectives (at the highest epoch seen, as the single-objective incumbent prefers)."""

    def __init__(self) -> None:
        self.members: list[int] = []
        self._points: list[np.ndarray] = []
        self._epoch = -1

    def add(self, trial_id: int, point: np.ndarray, epoch: int) -> bool:
        """Offer a trial; returns whether the set changed."""
        if epoch < self._epoch:
            return False
        if epoch > self._epoch:
            self.members, self._points, self._epoch = [], [], epoch
        for p in self._points:
            if (p >= point).all() and (p > point).any():
                return False
        keep = [not ((point >= p).all() and (point > p).any()) for p in self._points]
        self.members = [m for m, k in zip(self.members, keep, strict=True) if k] + [trial_id]
        self._points = [p for p, k in zip(self._points, keep, strict=True) if k] + [point]
        return True

    @property
    def leader(self) -> int:
        """The member of the best search score (the first objective): the set's representative arch."""
        return self.members[int(np.argmax([p[0] for p in self._points]))]


def _score(bench: Benchmark, arch: Arch, protocol: Protocol) -> float:
    assert protocol.score_metric is not None  # the protocol is resolved: every field is filled
    value = bench.query(arch, epoch=protocol.score_epoch)[protocol.score_metric]
    if math.isnan(value):
        raise MissingResult(
            f"the benchmark has no {protocol.score_metric} for {bench.space.to_str(arch)} at epoch "
            f"{protocol.score_epoch}: cannot score the incumbent"
        )
    return float(value)
