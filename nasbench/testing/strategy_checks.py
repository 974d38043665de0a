"""``check_strategy``: does a search strategy keep the promises the runner and a fair comparison rely on?

Valid proposals, the same trajectory for the same seed (also in a fresh process), pending proposals with several
workers, no use of test metrics, pickling at any point, promotions that continue an earlier trial, and
capabilities asked for by name (``requires``) rather than assumed.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nasbench.benchmark import Benchmark, Result
from nasbench.errors import InvalidArchitecture, InvalidQuery, MissingCapability
from nasbench.runner.simulate import Budget, Protocol, Trajectory, default_noise, run_search
from nasbench.spaces import get_space
from nasbench.spaces.base import Arch, SearchSpace, has
from nasbench.strategies import make_strategy
from nasbench.strategies.base import Feedback, Proposal, SearchContext, Strategy, Trial
from nasbench.testing._report import Reporter
from nasbench.testing.synthetic import SyntheticBenchmark

#: The trajectory fields two runs of one seed must agree on (wall-clock fields excluded).
FIELDS = ("trial_id", "arch", "epoch", "table_seed", "resume_from", "score", "cost_s", "finished_s", "incumbent",
          "incumbent_score")  # fmt: skip
PENDING_WORKERS = 3
BARE_EVALUATIONS = 10
FRESH_TIMEOUT_S = 600


def check_strategy(
    strategy: Strategy | str,
    bench: Benchmark | None = None,
    *,
    evaluations: int = 30,
    seeds: Sequence[int] = (0, 1),
    fresh_process: bool = True,
    protocol: Protocol | None = None,
) -> None:
    """Raise AssertionError (naming the strategy, the space, the check and the arch) unless ``strategy`` (a
    registered name or a configured, not set-up instance) conforms on ``bench`` (default: a
    :class:`SyntheticBenchmark` of NB201, epochs 1, 3, 9). A space lacking a capability the strategy ``requires``
    gives the strategy's own :class:`MissingCapability`; a multi-fidelity strategy on a single-epoch benchmark
    :class:`InvalidQuery`. ``protocol`` defaults to the benchmark's own (``bench.defaults``), with seeds sampled
    when it names them; one with ``objectives`` or ``constraints`` needs a table with static costs (e.g.
    :func:`~nasbench.testing.synthetic_table`). ``fresh_process=False`` skips the run in a new interpreter (about a
    second).

        from nasbench.testing import SyntheticBenchmark, check_strategy
        def test_my_strategy():
            check_strategy(MyStrategy(population=8), SyntheticBenchmark("nb201"), evaluations=30)
    """
    config = make_strategy(strategy) if isinstance(strategy, str) else strategy
    bench = SyntheticBenchmark(get_space("nb201")) if bench is None else bench
    name = getattr(config, "name", "") or type(config).__name__
    r = Reporter(f"check_strategy({name!r} on {bench.space.name})")
    multi_fidelity = bool(getattr(config, "multi_fidelity", False))
    if multi_fidelity and len(bench.epochs) < 2:
        raise InvalidQuery(
            f"{name} is multi-fidelity (it proposes several epochs): check it on a benchmark with several epochs, "
            f"not {list(bench.epochs)}"
        )
    if evaluations < 2 or not seeds:
        raise InvalidQuery(f"check_strategy needs evaluations >= 2 and at least one seed, got {evaluations}, {seeds}")
    blob = _pickled(r, config, "the configured strategy")
    _unpickled(r, blob, "the configured strategy")
    protocol = (protocol or Protocol(noise=default_noise(bench))).resolved(bench)
    job = _Job(r, name, blob, protocol, evaluations, multi_fidelity)

    _check_capabilities(r, job, bench, tuple(getattr(config, "requires", ())))
    runs = {s: job.run(bench, s) for s in seeds}
    _check_hidden_test(r, job, bench, protocol, runs[seeds[0]][0], seeds[0])  # also runs seeds[0] a second time
    for s in seeds[1:]:
        _same(r, f"seed {s} run twice", runs[s][0], job.run(bench, s)[0])
    pending, rec = job.run(bench, seeds[0], workers=PENDING_WORKERS)
    r.expect(set(rec.told) == set(range(evaluations)), "pending", f"told trials {sorted(rec.told)} of {evaluations}")
    resumed, _ = job.run(bench, seeds[0], workers=PENDING_WORKERS, pickle_after=evaluations // 2)
    _same(r, f"pickled and unpickled after {evaluations // 2} tells ({PENDING_WORKERS} workers)", pending, resumed)
    if fresh_process:
        _check_fresh_process(r, job, bench, {s: runs[s][0] for s in seeds})


# ---- runs ---------------------------------------------------------------------------------------------------


class _Job:
    """One strategy configuration on one protocol: runs it under the runner with every proposal checked."""

    def __init__(
        self, r: Reporter, name: str, blob: bytes, protocol: Protocol, evaluations: int, multi_fidelity: bool
    ) -> None:
        self.r, self.name, self.blob, self.protocol = r, name, blob, protocol
        self.evaluations, self.multi_fidelity = evaluations, multi_fidelity

    def fresh(self) -> Strategy:
        return pickle.loads(self.blob)  # bytes this process just made

    def run(
        self,
        bench: Benchmark,
        seed: int,
        *,
        workers: int = 1,
        pickle_after: int | None = None,
        evaluations: int | None = None,
    ) -> tuple[Trajectory, _Recorder]:
        budget = evaluations or self.evaluations
        rec = _Recorder(self, self.fresh(), pickle_after)
        traj = run_search(
            bench, rec, protocol=self.protocol, budget=Budget(evaluations=budget), seed=seed, workers=workers,  # type: ignore[arg-type]
            label=self.name,
        )  # fmt: skip
        self.r.expect(
            len(traj.trial_id) == budget,
            f"run (seed {seed}, {workers} workers)",
            f"stopped after {len(traj.trial_id)} of {budget} evaluations: ask() returned None with no result pending",
        )  # fmt: skip
        return traj, rec


class _Recorder:
    """Stands between the runner and the strategy: checks each proposal before the runner sees it, records what
    was told, and (``pickle_after``) replaces the strategy by its pickled copy after that many tells."""

    def __init__(self, job: _Job, inner: Strategy, pickle_after: int | None) -> None:
        self.job, self.inner, self.pickle_after = job, inner, pickle_after
        self.name = job.name
        self.told: dict[int, Trial] = {}
        self.launched = 0

    def setup(self, context: SearchContext, rng: np.random.Generator) -> None:
        self.context = context
        self.inner.setup(context, rng)

    def ask(self) -> Proposal | None:
        proposal = self.inner.ask()
        if proposal is not None:
            self._check(proposal)
            self.launched += 1
        return proposal

    def tell(self, trial: Trial, feedback: Feedback) -> None:
        self.inner.tell(trial, feedback)
        self.told[trial.trial_id] = trial
        if self.pickle_after is not None and len(self.told) == self.pickle_after:
            what = f"the strategy after {len(self.told)} tells"
            self.inner = _unpickled(self.job.r, _pickled(self.job.r, self.inner, what), what)  # type: ignore[assignment]

    def _check(self, proposal: Proposal) -> None:
        r, space, trial_id = self.job.r, self.context.space, self.launched
        check = f"proposal {trial_id}"
        r.expect(isinstance(proposal, Proposal), check, f"must be a Proposal, got {type(proposal).__name__}")
        arch = proposal.arch
        try:
            valid = space.validate(arch)
        except InvalidArchitecture as exc:
            r.fail(check, f"is not a valid arch of the space: {exc}", arch)
        r.expect(
            type(arch) is tuple and valid == arch and all(type(v) is int for v in arch),
            check, "is not a validated arch (a tuple of plain ints, as space.validate returns it)", arch,
        )  # fmt: skip
        epoch = self.context.search_epoch if proposal.epoch is None else proposal.epoch
        epochs = list(self.context.epochs)
        r.expect(epoch in epochs, check, f"epoch {epoch!r} is not one of {epochs}", arch)
        if not self.job.multi_fidelity:
            r.expect(
                epoch == self.context.search_epoch and proposal.resume_from is None,
                check, f"asks for epoch {epoch} / resume_from {proposal.resume_from} but multi_fidelity is False",
                arch,
            )  # fmt: skip
        if proposal.resume_from is not None:
            parent = self.told.get(proposal.resume_from)
            r.expect(parent is not None, check, f"resume_from={proposal.resume_from!r} is no trial told so far", arch)
            assert parent is not None
            r.expect(
                parent.arch == arch and parent.epoch < epoch,
                check, f"resume_from={parent.trial_id} is {parent.arch} at epoch {parent.epoch}, not this arch at an "
                f"epoch below {epoch}", arch,
            )  # fmt: skip


def _pickled(r: Reporter, obj: object, what: str) -> bytes:
    """``pickle.dumps(obj)``, failing the "pickle" check when it cannot be pickled (unpickling is the caller's)."""
    try:
        return pickle.dumps(obj)
    except Exception as exc:
        r.fail("pickle", f"{what} cannot be pickled: {type(exc).__name__}: {exc}")


def _unpickled(r: Reporter, blob: bytes, what: str) -> object:
    """``pickle.loads`` of bytes this process just made, failing the "pickle" check when they do not load."""
    try:
        return pickle.loads(blob)
    except Exception as exc:
        r.fail("pickle", f"{what} cannot be unpickled: {type(exc).__name__}: {exc}")


def _same(r: Reporter, what: str, a: Trajectory | Mapping[str, Any], b: Trajectory | Mapping[str, Any]) -> None:
    """Fail naming the first field and trial where two runs that must agree differ."""
    for field in FIELDS:
        left = getattr(a, field) if isinstance(a, Trajectory) else a[field]
        right = getattr(b, field) if isinstance(b, Trajectory) else b[field]
        if list(left) != list(right):
            i = _first_difference(left, right)
            r.fail(
                "determinism",
                f"{what}: the trajectories differ at {field}[{i}]: {_at(left, i)!r} vs {_at(right, i)!r} "
                f"({len(left)} vs {len(right)} trials)",
            )  # fmt: skip


def _first_difference(a: Sequence[object], b: Sequence[object]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def _at(values: Sequence[object], i: int) -> object:
    return values[i] if i < len(values) else "<missing>"


# ---- capabilities -------------------------------------------------------------------------------------------


class BareSpace:
    """Only the :class:`SearchSpace` protocol of ``inner``: no capability, no extra method. A strategy that
    declares no ``requires`` must run on it; one that declares some must refuse it."""

    def __init__(self, inner: SearchSpace) -> None:
        self.inner = inner
        self.name, self.choices, self.decisions = inner.name, inner.choices, inner.decisions
        self.options, self.encodings = inner.options, inner.encodings

    def validate(self, obj: object) -> Arch:
        return self.inner.validate(obj)

    def canonical(self, arch: Arch) -> Arch:
        return self.inner.canonical(arch)

    def sample(self, rng: np.random.Generator) -> Arch:
        return self.inner.sample(rng)

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        return self.inner.mutate(arch, rng)

    def neighbors(self, arch: Arch) -> list[Arch]:
        return self.inner.neighbors(arch)

    def encode(self, archs: Sequence[Arch] | np.ndarray, kind: str = "onehot") -> np.ndarray:
        return self.inner.encode(archs, kind)

    def to_str(self, arch: Arch) -> str:
        return self.inner.to_str(arch)

    def from_str(self, text: str) -> Arch:
        return self.inner.from_str(text)


class _View:
    """A benchmark seen through another space or with some metrics replaced; answers come from ``inner``."""

    def __init__(self, inner: Benchmark, space: SearchSpace, keep: frozenset[str] | None = None) -> None:
        self.inner, self.space, self.keep = inner, space, keep
        self.metrics, self.directions = inner.metrics, inner.directions
        self.epochs, self.seeds = inner.epochs, inner.seeds
        self.defaults = getattr(inner, "defaults", {})

    # a table's members, which objectives and constraints read (costs known before training): only where the
    # inner benchmark has them, so a view of a benchmark without them is refused as that benchmark would be
    def __getattr__(self, name: str) -> Any:
        if name in ("static", "rows", "archs") and not name.startswith("__"):
            return getattr(self.__dict__["inner"], name)
        if name == "table":
            table = self.__dict__["inner"].table
            return lambda metric, **kw: table(metric, **kw) if self.keep is None or metric in self.keep else (
                _scramble(table(metric, **kw)))  # fmt: skip
        raise AttributeError(name)

    def __len__(self) -> int:
        return len(self.inner)  # type: ignore[arg-type]

    def _hide(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {m: v if self.keep is None or m in self.keep else _scramble(v) for m, v in values.items()}

    def query(self, arch: Arch | str, *, epoch: int | None = None, seed: int | None = None) -> Result:
        result = self.inner.query(arch, epoch=epoch, seed=seed)
        return Result(self._hide(result.values), result.epoch, result.seed, result.source)

    def query_many(
        self, archs: Sequence[Arch] | np.ndarray, *, epoch: int | None = None, seed: int | None = None
    ) -> dict[str, np.ndarray]:
        return self._hide(self.inner.query_many(archs, epoch=epoch, seed=seed))


def _scramble(value: Any) -> Any:
    """A different function of the arch, with values in [0, 1) (NaN stays NaN), for a float or an array."""
    return (value * 7919.0 + 0.123) % 1.0


def _check_capabilities(r: Reporter, job: _Job, bench: Benchmark, requires: tuple[str, ...]) -> None:
    context = SearchContext(bench.space, tuple(bench.epochs), job.protocol.search_epoch)  # type: ignore[arg-type]
    missing = [c for c in requires if not has(bench.space, c)]
    if missing:
        try:
            job.fresh().setup(context, np.random.default_rng(0))
        except MissingCapability:
            raise  # the refusal the caller asked about: the strategy cannot run on this space
        r.fail("requires", f"requires {requires}, but setup accepted {bench.space.name}, which lacks {missing}")
    bare = BareSpace(bench.space)
    if requires:
        bare_context = SearchContext(bare, context.epochs, context.search_epoch)
        r.raises(
            MissingCapability, lambda: job.fresh().setup(bare_context, np.random.default_rng(0)),
            "requires", f"setup on a space without {requires}",
        )  # fmt: skip
        return
    try:
        job.run(_View(bench, bare), 0, evaluations=min(job.evaluations, BARE_EVALUATIONS))
    except (AttributeError, MissingCapability) as exc:
        r.fail(
            "requires",
            f"declares no capability but fails on a space with only the SearchSpace protocol: {type(exc).__name__}: "
            f"{exc}",
        )  # fmt: skip


# ---- test metrics -------------------------------------------------------------------------------------------


def _check_hidden_test(
    r: Reporter, job: _Job, bench: Benchmark, protocol: Protocol, original: Trajectory, seed: int
) -> None:
    """Run ``seed`` again with every metric but the search metric (and training time, which the runner charges)
    replaced by another function: every proposal and every score the strategy saw must be the same."""
    if protocol.score_metric == protocol.search_metric:  # the protocol scores on what the strategy sees
        _same(r, f"seed {seed} run twice", original, job.run(bench, seed)[0])
        return
    keep = frozenset({protocol.search_metric, "train_time_s"})
    hidden, _ = job.run(_View(bench, bench.space, keep), seed)  # type: ignore[arg-type]
    seen = [f for f in FIELDS if f != "incumbent_score"]
    changed = [f for f in seen if getattr(hidden, f) != getattr(original, f)]
    if changed:
        _same(r, f"seed {seed} run twice", original, job.run(bench, seed)[0])  # not a leak if it is not deterministic
        before, after = getattr(original, changed[0]), getattr(hidden, changed[0])
        i = _first_difference(before, after)
        r.fail(
            "test metrics",
            f"replacing {protocol.score_metric} (and every metric but {protocol.search_metric}) by another function "
            f"changed what the strategy did: {changed[0]}[{i}] {_at(before, i)!r} -> {_at(after, i)!r}",
        )  # fmt: skip
    r.expect(hidden.incumbent_score != original.incumbent_score, "test metrics", "the replaced metric had no effect")


# ---- a fresh process ----------------------------------------------------------------------------------------


def _check_fresh_process(r: Reporter, job: _Job, bench: Benchmark, runs: Mapping[int, Trajectory]) -> None:
    """The same seeds in a new interpreter (no state shared with this one: caches, imports, hash seeds)."""
    payload = {"strategy": job.blob, "bench": bench, "protocol": job.protocol, "evaluations": job.evaluations,
               "seeds": list(runs), "label": job.name, "fields": FIELDS}  # fmt: skip
    blob = _pickled(r, payload, "the benchmark")
    paths = [os.path.abspath(p or os.curdir) for p in sys.path]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    env.pop("PYTHONHASHSEED", None)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "nasbench.testing._fresh"], input=blob, capture_output=True, env=env,
            timeout=FRESH_TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        r.fail("fresh process", f"the run in a fresh process took over {FRESH_TIMEOUT_S} s")
    if done.returncode != 0:
        r.fail("fresh process", f"the run in a fresh process failed:\n{done.stderr.decode(errors='replace')[-3000:]}")
    for seed, fresh in zip(runs, json.loads(done.stdout), strict=True):
        _same(r, f"seed {seed} in a fresh process", runs[seed], fresh)
