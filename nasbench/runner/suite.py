"""A suite: one list of strategies compared on several benchmarks, each with its own protocol and budget.

A suite is described by a TOML file a user writes::

    strategies = ["random_search", "regularized_evolution", "local_search"]
    seeds = 100          # seeds 0..99 (or a list)
    budget = 150         # evaluations per run, unless an entry says otherwise

    [[benchmarks]]
    name = "nb201-cifar10"          # the entry's folder in the suite's output
    store = "nb201-cifar10.h5"      # relative to the suite file
    search_epoch = 12
    score_epoch = 200

    [[benchmarks]]
    name = "fcnet-protein"
    store = "fcnet/fcnet-protein_structure.h5"
    time_budget = 20000

An entry may set ``search_metric``, ``search_epoch``, ``score_metric``, ``score_epoch``, ``noise``, ``objectives``,
``constraints``, ``budget`` and ``time_budget``; what it leaves out is the store's default. Each entry is an
ordinary comparison in ``OUT/<name>`` (resumable, reported as ``nasbench compare`` reports it); the suite's own
report ranks the strategies across the entries (:mod:`nasbench.analysis.suite_report`). Every entry is checked
(store, protocol, strategies) before anything runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasbench import owned
from nasbench.errors import InvalidQuery
from nasbench.runner.experiment import Experiment, StrategySpec, covers_space, run_experiment
from nasbench.runner.simulate import Budget, Protocol

KIND = "suite"
_TOP = {"strategies", "seeds", "budget", "time_budget", "benchmarks"}
_ENTRY = {"name", "store", "search_metric", "search_epoch", "score_metric", "score_epoch", "noise", "objectives",
          "constraints", "budget", "time_budget"}  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class SuiteError(InvalidQuery):
    """A suite file that is malformed or names what does not exist."""


@dataclass(frozen=True)
class Entry:
    name: str
    experiment: Experiment


@dataclass(frozen=True)
class Suite:
    entries: tuple[Entry, ...]

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.entries[0].experiment.strategies]

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Suite:
        """Parse and check a suite file (see the module docstring)."""
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10: the same parser, as a package
            import tomli as tomllib

        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise SuiteError(f"no suite file {path}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SuiteError(f"{path} is not valid TOML: {exc}") from None
        return cls.of(raw, base=path.parent, where=str(path))

    @classmethod
    def of(cls, raw: dict[str, Any], *, base: Path = Path("."), where: str = "the suite") -> Suite:
        unknown = sorted(set(raw) - _TOP)
        if unknown:
            raise SuiteError(f"{where}: unknown keys {unknown}; a suite has {sorted(_TOP)}")
        strategies = raw.get("strategies")
        if not isinstance(strategies, list) or not strategies or not all(isinstance(s, str) for s in strategies):
            raise SuiteError(f"{where}: 'strategies' is a non-empty list of strategy texts, e.g. [\"random_search\"]")
        seeds = _seeds(raw.get("seeds", 100), where)
        entries_raw = raw.get("benchmarks")
        if not isinstance(entries_raw, list) or not entries_raw:
            raise SuiteError(f"{where}: name at least one [[benchmarks]] entry with a name and a store")
        specs = tuple(StrategySpec.parse(text) for text in strategies)
        entries = []
        for i, item in enumerate(entries_raw, start=1):
            entries.append(_entry(item, specs, seeds, raw, base, f"{where}, benchmark {i}"))
        names = [e.name for e in entries]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise SuiteError(f"{where}: benchmark names repeat: {repeated}; each names its own folder")
        return cls(tuple(entries))


def _seeds(value: object, where: str) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return tuple(range(value))
    if isinstance(value, list) and value and all(isinstance(s, int) and not isinstance(s, bool) for s in value):
        return tuple(value)
    raise SuiteError(f"{where}: 'seeds' is a count >= 1 or a list of integers, got {value!r}")


def _entry(
    item: object, specs: tuple[StrategySpec, ...], seeds: tuple[int, ...], top: dict[str, Any], base: Path, where: str
) -> Entry:
    if not isinstance(item, dict):
        raise SuiteError(f"{where}: an entry is a table of keys ({sorted(_ENTRY)})")
    unknown = sorted(set(item) - _ENTRY)
    if unknown:
        raise SuiteError(f"{where}: unknown keys {unknown}; an entry has {sorted(_ENTRY)}")
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SuiteError(f"{where}: 'name' is a folder name of letters, digits, '_', '.', '-' (got {name!r})")
    store = item.get("store")
    if not isinstance(store, str):
        raise SuiteError(f"{where} ({name}): 'store' is the path of a benchmark store")
    store_path = Path(store) if Path(store).is_absolute() else base / store
    if not store_path.is_file():
        raise SuiteError(f"{where} ({name}): no store at {store_path}")
    protocol = Protocol(
        item.get("search_metric"),
        item.get("search_epoch"),
        item.get("score_metric"),
        item.get("score_epoch"),
        item.get("noise"),
        tuple(item.get("objectives", ())),
        tuple(item.get("constraints", ())),
    )
    evaluations = item.get("budget", top.get("budget"))
    time_s = item.get("time_budget", top.get("time_budget"))
    budget = Budget(evaluations=evaluations if evaluations is not None or time_s is not None else 150, time_s=time_s)
    return Entry(name, Experiment(str(store_path), specs, seeds, protocol, budget))


def check(suite: Suite) -> None:
    """Open every store and resolve every entry's protocol and strategies: a mistake in the last entry is found
    before the first one runs."""
    from nasbench.benchmark import TabularBenchmark
    from nasbench.runner.experiment import check_strategies

    for entry in suite.entries:
        table = TabularBenchmark.open(entry.experiment.store)
        entry.experiment.protocol.resolved(table)
        if (entry.experiment.protocol.objectives or entry.experiment.protocol.constraints) and not covers_space(table):
            raise SuiteError(f"{entry.name}: objectives and constraints need a store that covers its space")
        check_strategies(entry.experiment.strategies, table)


def run_suite(
    suite: Suite,
    out_dir: str | os.PathLike[str],
    *,
    processes: int | None = None,
    backend: str = "local",
    overwrite: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> Path:
    """Run every entry's comparison not yet finished in ``out_dir/<name>`` and write its report."""
    from nasbench.analysis.report import write_report

    check(suite)
    out = Path(out_dir)
    owned.claim(out, KIND, inputs=[e.experiment.store for e in suite.entries])
    with owned.lock(out):
        for entry in suite.entries:
            report = None if progress is None else (lambda done, total, name=entry.name: progress(name, done, total))
            run_experiment(entry.experiment, out / entry.name, processes=processes, backend=backend,
                           overwrite=overwrite, progress=report)  # fmt: skip
            owned.record(out, entry.name)
            write_report(out / entry.name)
    return out
