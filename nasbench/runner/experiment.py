"""A comparison: every strategy x every seed against one benchmark, results kept in a directory.

``DIR/experiment.json`` says what was asked (benchmark, strategies and their hyperparameters, seeds, protocol,
budget); ``DIR/runs.jsonl`` holds one finished run (a :class:`Trajectory`) per line, appended and fsync'd as runs
finish. A killed comparison resumes where it stopped: finished (strategy, seed) runs are never redone, and a torn
last line is ignored. A directory that holds another experiment is refused unless ``overwrite`` is given.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from nasbench import __version__, owned
from nasbench.atomic import atomic_write_text, sha256_file
from nasbench.benchmark import Benchmark, TabularBenchmark
from nasbench.errors import InvalidQuery, NasbenchError
from nasbench.runner.objectives import HYPERVOLUME
from nasbench.runner.simulate import Budget, Protocol, Trajectory, is_int, objectives_of, run_search
from nasbench.strategies import Strategy, make_strategy, registry, strategy_path
from nasbench.workers import watch_parent

log = logging.getLogger(__name__)

CONFIG_FILE = "experiment.json"
RUNS_FILE = "runs.jsonl"
SURROGATE_DIR = "surrogate"
KIND = "comparison"
#: What a comparison folder holds when written by nasbench (its report adds to it): adopted from older versions.
_FIGURES = ("score_vs_evaluations", "regret_vs_evaluations", "regret_vs_time", "score_vs_time", "rank_vs_evaluations")
OUTPUT_NAMES = (CONFIG_FILE, RUNS_FILE, SURROGATE_DIR, "report.md", "report.html", "summary.json",
                *(f"{f}.png" for f in _FIGURES), "cd_diagram.png")  # fmt: skip


class ResultsError(NasbenchError, OSError):
    """A results directory that cannot be used as asked: another experiment, or a damaged file."""


@dataclass(frozen=True)
class StrategySpec:
    """A strategy with its hyperparameters, and the label it carries in tables (name, or name:k=v:...)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return ":".join([self.name, *(f"{k}={v}" for k, v in sorted(self.params.items()))])

    @classmethod
    def of(cls, strategy: str | type[Strategy] | Strategy | StrategySpec) -> StrategySpec:
        """A spec from what a user holds: a spec text (see :meth:`parse`), a Strategy class, or a configured
        instance (its hyperparameters are read back with ``get_params``)."""
        if isinstance(strategy, StrategySpec):
            return strategy
        if isinstance(strategy, str):
            return cls.parse(strategy)
        if isinstance(strategy, type) and issubclass(strategy, Strategy):
            return cls(strategy_path(strategy), {})
        if isinstance(strategy, Strategy):
            spec = cls(strategy_path(type(strategy)), strategy.get_params())
            make_strategy(spec.name, **spec.params)  # its hyperparameters must pass the same checks
            return spec
        raise ResultsError(
            f"a strategy is a name, a spec text, a Strategy class or instance, got {type(strategy).__name__}"
        )

    @classmethod
    def parse(cls, text: str) -> StrategySpec:
        """``name``, ``package.module:Class`` (an importable strategy class, registered or not), each optionally
        followed by ``:key=value:key=value`` (values parsed as JSON when they can be)."""
        parts = text.strip().split(":")
        if len(parts) >= 2 and "=" not in parts[1] and parts[0] not in registry():  # module:Class
            parts = [f"{parts[0]}:{parts[1]}", *parts[2:]]
        name, *items = parts
        params: dict[str, Any] = {}
        for item in items:
            key, sep, value = item.partition("=")
            if not sep:
                raise ResultsError(f"strategy option {item!r} in {text!r} must look like key=value")
            try:
                params[key] = json.loads(value)
            except json.JSONDecodeError:
                params[key] = value
        make_strategy(name, **params)  # fail now on unknown names or hyperparameters
        return cls(name, params)


@dataclass(frozen=True)
class Experiment:
    """A comparison. ``store``: a store path, or a TabularBenchmark opened from one; ``strategies``: names, spec
    texts (``bananas:k=5``, ``mymod:MyStrategy:x=1``), Strategy classes or configured instances, or
    :class:`StrategySpec`; ``seeds``: any sequence of distinct integers >= 0 (e.g. ``range(100)``)."""

    store: str
    strategies: tuple[StrategySpec, ...]
    seeds: tuple[int, ...]
    protocol: Protocol = field(default_factory=Protocol)
    budget: Budget = field(default_factory=lambda: Budget(evaluations=150))
    workers: int = 1
    charge_overhead: bool = False
    # Answer cells the table lacks from a surrogate fitted on it (saved in DIR/surrogate); None: exactly when the
    # store does not cover the space, as `nasbench compare --surrogate auto` does.
    hybrid: bool | None = None

    def __post_init__(self) -> None:
        """Normalise what the user gave; refuse a comparison that cannot run as asked, before any folder is made."""
        from nasbench.runner.simulate import MAX_WORKERS

        store: Any = self.store
        if isinstance(store, TabularBenchmark):
            if not (store.name and os.path.isfile(store.name)):
                raise ResultsError("a comparison's benchmark is a store file: open it with TabularBenchmark.open(path)")
            store = store.name
        object.__setattr__(self, "store", os.fspath(store))
        strategies = [self.strategies] if isinstance(self.strategies, (str, type, Strategy)) else self.strategies
        object.__setattr__(self, "strategies", tuple(StrategySpec.of(s) for s in strategies))
        object.__setattr__(self, "seeds", tuple(self.seeds))
        if not self.strategies:
            raise InvalidQuery("a comparison needs at least one strategy")
        labels = [s.label for s in self.strategies]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise InvalidQuery(f"strategies repeat: {repeated}; give each (name, hyperparameters) once")
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise InvalidQuery(f"seeds must be a non-empty list of distinct integers, got {_cut(self.seeds)}")
        if any(not _is_count(s, 0, 2**63 - 1) for s in self.seeds):
            raise InvalidQuery(f"seeds are integers >= 0, got {_cut(self.seeds)}")
        if not _is_count(self.workers, 1, MAX_WORKERS):
            raise InvalidQuery(f"workers is an integer in 1..{MAX_WORKERS:,}, got {self.workers!r}")

    def to_json(self, bench: Benchmark, sha256: str) -> dict[str, Any]:
        """The whole config of ``DIR/experiment.json``; ``sha256`` is the store's digest (computed once)."""
        protocol = self.protocol.resolved(bench)
        assert protocol.search_metric is not None and protocol.score_metric is not None
        goals = objectives_of(bench, protocol) if protocol.objectives or protocol.constraints else None
        directions = {m: bench.directions[m] for m in (protocol.search_metric, protocol.score_metric)}
        optimum: dict[str, Any] | None
        if goals is not None and goals.multi:  # the score of a run is the hypervolume of its incumbent set
            described = goals.describe()
            optimum = {"score": described["optimum_hypervolume"], "arch": None}
            directions[HYPERVOLUME] = "max"
        elif goals is not None:
            optimum = goals.best_feasible()
        else:
            try:
                best_arch, best = bench.best(protocol.score_metric, epoch=protocol.score_epoch)  # type: ignore[attr-defined]
                optimum = {"score": best, "arch": bench.space.to_str(best_arch)}
            except (NasbenchError, AttributeError):  # a benchmark that cannot list its best (e.g. too large)
                optimum = None
        return {
            "nasbench_version": __version__,
            "benchmark": {
                "store": os.path.abspath(self.store),
                "sha256": sha256,
                "space": bench.space.name,
                "dataset": getattr(bench, "dataset", ""),
                "kind": "hybrid" if self.hybrid else "table",
            },
            "strategies": [{"label": s.label, "name": s.name, "params": s.params} for s in self.strategies],
            "seeds": list(self.seeds),
            "protocol": protocol.to_dict(),
            **({"objectives": goals.describe()} if goals is not None else {}),
            "directions": directions,
            "budget": asdict(self.budget),
            "workers": self.workers,
            "charge_overhead": self.charge_overhead,
            "optimum": optimum,
            "time_unit": "s" if "train_time_s" in bench.metrics else "evaluation",
        }


def covers_space(table: TabularBenchmark) -> bool:
    """Whether the table answers every architecture of its space (never, for a space that cannot be listed)."""
    from nasbench.spaces.base import Enumerable

    space = table.space
    if not isinstance(space, Enumerable):
        return False
    if table.iso_shared:
        return len({space.canonical(a) for a in space.all_archs()}) == len(table)
    return len(table) == space.size


def _is_count(value: object, low: int, high: int) -> bool:
    return is_int(value) and low <= value <= high  # type: ignore[operator]


def _cut(values: Sequence[Any], keep: int = 8) -> str:
    """A list for a message, cut after a few items."""
    items = list(values)
    return str(items[:keep])[:-1] + f", ... ({len(items)} in all)]" if len(items) > keep else str(items)


def check_strategies(specs: Sequence[StrategySpec], bench: Benchmark) -> None:
    """Refuse, before any run, a strategy that needs what the benchmark lacks: a capability of its space
    (``Strategy.requires``), or several epochs (multi-fidelity strategies)."""
    from nasbench.spaces.base import require
    from nasbench.strategies import strategy_class

    for spec in specs:
        cls = strategy_class(spec.name)
        for capability in cls.requires:
            require(bench.space, capability, f"strategy {spec.name!r}")
        if cls.multi_fidelity and len(bench.epochs) < 2:
            raise InvalidQuery(
                f"strategy {spec.name!r} is multi-fidelity: it needs a store with several epochs; this one has "
                f"{list(bench.epochs)}"
            )


def _identity(config: dict[str, Any]) -> dict[str, Any]:
    """The parts of a config that make two experiments the same (versions and paths may differ)."""
    keep = ("strategies", "seeds", "protocol", "budget", "workers", "charge_overhead")
    bench = config.get("benchmark", {})
    return {**{k: config.get(k) for k in keep}, "store_sha256": bench.get("sha256"), "kind": bench.get("kind")}


def run_experiment(
    experiment: Experiment,
    out_dir: str | os.PathLike[str],
    *,
    processes: int | None = None,
    backend: str = "local",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    table: TabularBenchmark | None = None,
) -> Path:
    """Run every (strategy, seed) not yet in ``out_dir``; return the directory. ``table``: the store, already
    opened by the caller (it is opened and hashed once per comparison)."""
    out = Path(out_dir)
    if processes is not None and not _is_count(processes, 1, 4096):
        raise InvalidQuery(f"processes is an integer in 1..4096 (or None: all cores), got {processes!r}")
    if table is None:
        table = TabularBenchmark.open(experiment.store)
    if experiment.hybrid is None:
        experiment = replace(experiment, hybrid=not covers_space(table))
    protocol = experiment.protocol
    if experiment.hybrid and (protocol.objectives or protocol.constraints):
        raise InvalidQuery(
            "objectives and constraints read each arch's costs from the table, and this comparison answers archs "
            "the table lacks from a surrogate: use a store that covers the space, or hybrid=False to search the "
            "table's archs only"
        )
    check_strategies(experiment.strategies, table)
    sha256 = sha256_file(experiment.store)
    owned.claim(out, KIND, inputs=[experiment.store], adopt=(CONFIG_FILE, OUTPUT_NAMES))
    with owned.lock(out):
        _prepare_dir(out, _identity_config(experiment, table, sha256), overwrite, experiment.store)
        if experiment.hybrid and saved_surrogate(out) is None:
            owned.record(out, SURROGATE_DIR)  # before it exists: a kill while saving leaves nothing unrecorded
            fit_hybrid_surrogate(experiment, table).save(out / SURROGATE_DIR, overwrite=True)
        bench = open_benchmark(experiment, out, table)
        atomic_write_text(out / CONFIG_FILE, json.dumps(experiment.to_json(bench, sha256), indent=2) + "\n")
        _run_todo(experiment, out, processes, backend, progress)
    return out


def _run_todo(
    experiment: Experiment,
    out: Path,
    processes: int | None,
    backend: str,
    progress: Callable[[int, int], None] | None,
) -> None:
    done = {(t.strategy, t.seed) for t in read_runs(out)}
    todo = [
        (spec, seed) for spec in experiment.strategies for seed in experiment.seeds if (spec.label, seed) not in done
    ]
    total = len(experiment.strategies) * len(experiment.seeds)
    if done:
        log.info("resuming %s: %d of %d runs already done", out, len(done), total)
    if progress:
        progress(total - len(todo), total)
    processes = processes or os.cpu_count() or 1
    if any(spec.name.startswith("__main__:") for spec in experiment.strategies):
        log.info("a strategy is defined in __main__, which worker processes cannot import: running in-process")
        processes = 1
    chunks = list(_chunks(todo, processes))
    finished = total - len(todo)
    _drop_torn_tail(out / RUNS_FILE)
    with open(out / RUNS_FILE, "a") as journal:
        for runs in _execute(experiment, chunks, processes, backend, out):
            for traj in runs:
                journal.write(json.dumps(traj.to_dict(), separators=(",", ":")) + "\n")
            journal.flush()
            os.fsync(journal.fileno())
            finished += len(runs)
            if progress:
                progress(finished, total)


def _identity_config(experiment: Experiment, table: TabularBenchmark, sha256: str) -> dict[str, Any]:
    """What :func:`_identity` compares, known before any surrogate is fitted."""
    return {
        "strategies": [{"label": s.label, "name": s.name, "params": s.params} for s in experiment.strategies],
        "seeds": list(experiment.seeds),
        "protocol": experiment.protocol.resolved(table).to_dict(),
        "budget": asdict(experiment.budget),
        "workers": experiment.workers,
        "charge_overhead": experiment.charge_overhead,
        "benchmark": {"sha256": sha256, "kind": "hybrid" if experiment.hybrid else "table"},
    }


def _prepare_dir(out: Path, config: dict[str, Any], overwrite: bool, store: str) -> None:
    """Resume the same experiment, or start afresh: in a new or empty folder, or (``overwrite``) in one holding
    another experiment, after removing only what nasbench wrote there."""
    if (out / CONFIG_FILE).is_file():
        existing = read_config(out)
        differs = _differences(existing, config)
        if not differs and not overwrite:
            return  # the same experiment: resume
        if not overwrite:
            raise ResultsError(
                f"{out} holds another experiment (its {', '.join(differs)} differ); pass --overwrite to replace it, "
                "or choose another --out"
            )
    if overwrite:
        owned.clear(out, inputs=[store])
    atomic_write_text(out / CONFIG_FILE, json.dumps(config, indent=2) + "\n")  # completed by run_experiment
    (out / RUNS_FILE).touch()
    owned.record(out, CONFIG_FILE, RUNS_FILE)


def _differences(existing: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """Which parts of two experiment configs differ (the parts :func:`_identity` compares)."""
    a, b = _identity(existing), _identity(config)
    return [key.replace("store_sha256", "store") for key in a if a[key] != b[key]]


def _drop_torn_tail(path: Path) -> None:
    """Cut a last line left without its newline by a killed writer, so appending starts on a clean line."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def _chunks(todo: list[tuple[StrategySpec, int]], processes: int) -> Iterator[tuple[StrategySpec, list[int]]]:
    """Seeds of one strategy in small groups, the strategies taken in turn: a worker keeps its benchmark open
    between tasks, so small tasks cost little, and they keep every process busy to the end (one strategy can cost
    a hundred times another per run) and the journal up to date."""
    by_spec: dict[str, tuple[StrategySpec, list[int]]] = {}
    for spec, seed in todo:
        by_spec.setdefault(spec.label, (spec, []))[1].append(seed)
    per_task = max(1, -(-len(todo) // (processes * _TASKS_PER_PROCESS)))
    groups = [
        [(spec, seeds[i : i + per_task]) for i in range(0, len(seeds), per_task)] for spec, seeds in by_spec.values()
    ]
    for turn in range(max((len(g) for g in groups), default=0)):
        for group in groups:
            if turn < len(group):
                yield group[turn]


#: Tasks per process a comparison is cut into (about: fewer when there are fewer runs).
_TASKS_PER_PROCESS = 96


def _execute(
    experiment: Experiment, chunks: list[tuple[StrategySpec, list[int]]], processes: int, backend: str, out: Path
) -> Iterator[list[Trajectory]]:
    args = [(experiment, spec, seeds, out) for spec, seeds in chunks]
    if backend == "ray":
        yield from _execute_ray(args)
    elif backend != "local":
        raise ResultsError(f"unknown backend {backend!r}; known: local, ray")
    elif processes == 1 or len(args) <= 1:
        for a in args:
            yield run_chunk(*a)
    else:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # no fork: safe beside threads, same behaviour on every OS
        with ProcessPoolExecutor(
            max_workers=min(processes, len(args)), mp_context=ctx, initializer=watch_parent
        ) as pool:
            futures = [pool.submit(run_chunk, *a) for a in args]
            try:
                for future in as_completed(futures):
                    yield future.result()
            except BrokenProcessPool:
                raise ResultsError(
                    "a worker process died (killed, out of memory, or it failed to start: workers re-import the "
                    'script that called nasbench, so put a script\'s code under `if __name__ == "__main__":`, or '
                    "pass processes=1); finished runs are kept, rerun to resume"
                ) from None


def _execute_ray(args: list[tuple[Experiment, StrategySpec, list[int], Path]]) -> Iterator[list[Trajectory]]:
    try:
        import ray
    except ImportError:
        raise ResultsError("--backend ray needs Ray: pip install 'nasbench[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), log_to_driver=False)
    remote = ray.remote(run_chunk)
    pending = [remote.remote(*a) for a in args]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield ray.get(ready[0])


_BENCH_CACHE: dict[tuple[str, str], Benchmark] = {}


def saved_surrogate(out_dir: str | os.PathLike[str]) -> Path | None:
    """The surrogate a hybrid comparison fitted and saved in ``out_dir``, if it has one."""
    folder = Path(out_dir) / SURROGATE_DIR
    return folder if (folder / "benchmark.json").is_file() else None


def open_benchmark(experiment: Experiment, out: Path, table: TabularBenchmark | None = None) -> Benchmark:
    """The benchmark the runs query: the table, or the table backed by the surrogate saved in ``out``; opened
    once per process (``table``: the store already opened)."""
    key = (os.path.abspath(experiment.store), str(out.resolve()) if experiment.hybrid else "")
    bench = _BENCH_CACHE.get(key)
    if bench is None:
        if table is None:
            table = TabularBenchmark.open(experiment.store)
        if experiment.hybrid:
            from nasbench.surrogates.benchmarks import HybridBenchmark, SurrogateBenchmark

            bench = HybridBenchmark(table, SurrogateBenchmark.load(out / SURROGATE_DIR, space=table.space.name))
        else:
            bench = table
        _BENCH_CACHE[key] = bench
    return bench


def fit_hybrid_surrogate(experiment: Experiment, table: TabularBenchmark) -> Any:
    """Surrogates for what the runs will ask of cells the table lacks: the search and score metrics and the
    training time, at the protocol's epochs (at every epoch when a strategy is multi-fidelity)."""
    from nasbench.strategies import strategy_class
    from nasbench.surrogates.benchmarks import HybridBenchmark

    multi = any(strategy_class(s.name).multi_fidelity for s in experiment.strategies)
    return HybridBenchmark.fit(table, protocol=experiment.protocol, every_epoch=multi).surrogate


def run_chunk(experiment: Experiment, spec: StrategySpec, seeds: Sequence[int], out: Path) -> list[Trajectory]:
    """Run one strategy under several seeds (the unit of work of a worker process; opens the benchmark once)."""
    bench = open_benchmark(experiment, out)
    return [
        run_search(
            bench,
            make_strategy(spec.name, **spec.params),
            protocol=experiment.protocol,
            budget=experiment.budget,
            seed=seed,
            workers=experiment.workers,
            charge_overhead=experiment.charge_overhead,
            label=spec.label,
        )
        for seed in seeds
    ]


def read_config(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(out_dir) / CONFIG_FILE
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise ResultsError(f"{out_dir} holds no {CONFIG_FILE}: not a comparison results directory") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path} is damaged: {exc}") from None
    if not isinstance(config, dict) or "strategies" not in config:
        raise ResultsError(f"{path} is not a comparison config")
    return config


def read_runs(out_dir: str | os.PathLike[str]) -> list[Trajectory]:
    """Every finished run; a torn last line (a killed writer) is ignored, any other damage is an error."""
    path = Path(out_dir) / RUNS_FILE
    if not path.exists():
        return []
    lines = path.read_text().split("\n")
    runs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            runs.append(Trajectory.from_dict(json.loads(line)))
        except (json.JSONDecodeError, TypeError) as exc:
            if number == len(lines):  # the last line has no newline: torn by a kill, redo that run
                log.warning("%s: ignoring a torn last line", path)
                break
            raise ResultsError(f"{path}, line {number} is damaged: {exc}") from None
    return runs


def runs_frame(out_dir: str | os.PathLike[str]) -> Any:
    """Every trial of a results directory as a pandas DataFrame, one row per trial in the order results arrived:
    strategy, seed, trial_id, arch (the space's official string), epoch, table_seed, resume_from, score, cost_s,
    finished_s, and the incumbent (string and score) after it; with objectives or constraints also each trial's
    constraint violation, its arch's score metric (``scored``) and one column per cost, named as the objective."""
    import pandas as pd

    fields = ("trial_id", "arch", "epoch", "table_seed", "resume_from", "score", "cost_s", "finished_s", "incumbent",
              "incumbent_score")  # fmt: skip
    costs = [text.partition(":")[0] for text in (read_config(out_dir).get("objectives") or {}).get("objectives", [])]

    def columns(t: Trajectory) -> dict[str, Any]:
        out = {"strategy": t.strategy, "seed": t.seed, **{f: getattr(t, f) for f in fields}}
        if t.violation:
            out.update({"violation": t.violation, "scored": t.scored})
            out.update({name: [row[i] for row in t.costs] for i, name in enumerate(costs)})
        return out

    frames = [pd.DataFrame(columns(t)) for t in read_runs(out_dir)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["strategy", "seed", *fields])


def load_results(out_dir: str | os.PathLike[str]) -> tuple[dict[str, Any], list[Trajectory]]:
    """The config and the runs of a results directory, checked against each other."""
    config = read_config(out_dir)
    runs = read_runs(out_dir)
    labels = {s["label"] for s in config["strategies"]}
    stray = {t.strategy for t in runs} - labels
    if stray:
        raise ResultsError(f"{out_dir}/{RUNS_FILE} holds runs of strategies not in the config: {sorted(stray)}")
    return config, runs
