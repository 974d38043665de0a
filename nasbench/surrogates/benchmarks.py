"""Benchmarks answered by surrogates: :class:`SurrogateBenchmark` (every arch of the space) and
:class:`HybridBenchmark` (the table where it has a result, the surrogate elsewhere). Both follow the Benchmark
protocol of :mod:`nasbench.benchmark`, so strategies and the runner use them unchanged; every Result says where it
came from in ``source``.

A SurrogateBenchmark holds one fitted :class:`Surrogate` per (metric, epoch). Its predictions for the whole space
are computed once per target on first use (15,625 NB201 cells in well under a second), so later queries are array
lookups. ``seed=None`` answers the mean; an explicit seed answers ``mean + std * z`` where ``std`` is the noise
model's seed-to-seed std and ``z`` a standard normal that is a pure function of ``(seed, arch)`` -- the same draw
for every metric and epoch of that (seed, arch), as one training run would be good or bad throughout. When the
training store had a single seed there is no noise model, and a seeded query returns the mean.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import atomic_write_text
from nasbench.benchmark import Result, TabularBenchmark
from nasbench.errors import InvalidArchitecture, InvalidQuery, MissingResult, StoreError, UnknownMetric
from nasbench.spaces.nb201 import Arch
from nasbench.store.format import ACCURACY_METRICS, METRICS
from nasbench.surrogates.features import as_ops
from nasbench.surrogates.noise import standard_normal
from nasbench.surrogates.surrogate import Surrogate, fit_from_store

Target = tuple[str, int]


class SurrogateBenchmark:
    """Answers every architecture of the space from fitted surrogates, one per (metric, epoch)."""

    def __init__(self, surrogates: Iterable[Surrogate], *, name: str = "") -> None:
        self.surrogates: dict[Target, Surrogate] = {}
        for s in surrogates:
            if s.metric is None or s.epoch is None:
                raise InvalidQuery(f"{s!r} has no target metric/epoch; fit it with fit_from_store or set them")
            if s.metric not in METRICS:
                raise UnknownMetric(f"surrogate target {s.metric!r} is not a benchmark metric ({', '.join(METRICS)})")
            self.surrogates[(s.metric, s.epoch)] = s
        if not self.surrogates:
            raise InvalidQuery("a SurrogateBenchmark needs at least one fitted surrogate")
        spaces = {s.space_name for s in self.surrogates.values()}
        if len(spaces) != 1:
            raise InvalidQuery(f"surrogates of different spaces cannot form one benchmark: {sorted(spaces)}")
        first = next(iter(self.surrogates.values()))
        self.name = name
        self.space = first.space
        self.dataset = first.dataset
        self.epochs = tuple(sorted({e for _, e in self.surrogates}))
        self.metrics = tuple(m for m in METRICS if any(m == k[0] for k in self.surrogates))
        self.seeds: tuple[int | None, ...] = (None,)
        self._mean: dict[Target, np.ndarray] = {}
        self._std: dict[Target, np.ndarray] = {}

    @classmethod
    def from_store(
        cls,
        bench: TabularBenchmark | str | os.PathLike[str],
        *,
        metrics: Sequence[str] = ("val_acc", "test_acc", "train_time_s"),
        epochs: Sequence[int] | None = None,
        model: str = "xgboost",
        features: str | None = None,
        params: dict[str, Any] | None = None,
        seed: int = 0,
        archs: Sequence[object] | np.ndarray | None = None,
    ) -> SurrogateBenchmark:
        """Fit one surrogate per (metric, epoch) the store holds among ``metrics`` and ``epochs`` (default: all
        epochs); ``archs`` restricts training to a subset (e.g. to evaluate honestly on the rest)."""
        if not isinstance(bench, TabularBenchmark):
            bench = TabularBenchmark.open(bench)
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise UnknownMetric(f"unknown metric(s) {unknown}; metrics are: {', '.join(METRICS)}")
        wanted = [m for m in metrics if m in bench.metrics]
        if not wanted:
            raise MissingResult(f"the store holds none of {list(metrics)}; it holds: {', '.join(bench.metrics)}")
        epochs = bench.epochs if epochs is None else tuple(epochs)
        absent = [e for e in epochs if e not in bench.epochs]
        if absent:
            raise MissingResult(f"the store has no epoch(s) {absent}; available: {list(bench.epochs)}")
        surrogates = []
        for metric in wanted:
            for epoch in epochs:
                y = bench.table(metric, epoch=epoch)
                if not np.isfinite(y).any():
                    continue  # e.g. a metric recorded only at the final epoch
                surrogates.append(
                    fit_from_store(
                        bench, metric, epoch, model=model, features=features, params=params, seed=seed, archs=archs
                    )
                )
        out = cls(surrogates, name=f"surrogate of {bench.name or bench.dataset}")
        named = tuple(s for s in bench.seeds if s is not None)
        if any(s.noise is not None for s in surrogates) and named:
            out.seeds = named
        return out

    # ---- persistence ----------------------------------------------------------------------------------------

    def save(self, folder: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """One saved surrogate per target in ``folder/<metric>@<epoch>``, plus ``benchmark.json``."""
        folder = Path(folder)
        if (folder / "benchmark.json").exists() and not overwrite:
            raise StoreError(f"{folder} already holds a saved benchmark; pass overwrite=True to replace it")
        folder.mkdir(parents=True, exist_ok=True)
        entries = []
        for (metric, epoch), s in sorted(self.surrogates.items()):
            sub = f"{metric}@{epoch}"
            s.save(folder / sub, overwrite=overwrite)
            entries.append({"metric": metric, "epoch": epoch, "path": sub})
        meta = {
            "format": "nasbench-surrogate-benchmark",
            "name": self.name,
            "seeds": list(self.seeds),
            "targets": entries,
        }
        atomic_write_text(folder / "benchmark.json", json.dumps(meta, indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike[str], *, space: str | None = None) -> SurrogateBenchmark:
        folder = Path(folder)
        try:
            meta = json.loads((folder / "benchmark.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"{folder} is not a saved surrogate benchmark ({exc})") from None
        surrogates = [
            Surrogate.load(folder / e["path"], space=space, metric=e["metric"], epoch=e["epoch"])
            for e in meta["targets"]
        ]
        out = cls(surrogates, name=meta.get("name", ""))
        out.seeds = tuple(meta.get("seeds") or (None,))
        return out

    # ---- queries --------------------------------------------------------------------------------------------

    def archs(self) -> list[Arch]:
        """Every architecture of the space: a surrogate answers for all of them."""
        return self.space.all_archs()

    def __len__(self) -> int:
        return self.space.size

    def __contains__(self, arch: object) -> bool:
        try:
            self.space.validate(arch)
        except InvalidArchitecture:
            return False
        return True

    def _epoch(self, epoch: int | None) -> int:
        if epoch is None:
            if len(self.epochs) == 1:
                return self.epochs[0]
            raise InvalidQuery(f"epoch is required: this surrogate answers epochs {list(self.epochs)}")
        if epoch not in self.epochs:
            raise MissingResult(f"this surrogate has no epoch {epoch!r}; available: {list(self.epochs)}")
        return int(epoch)

    def _target_arrays(self, metric: str, epoch: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(mean, noise std) over the whole space for one target, computed on first use; None = no surrogate."""
        key = (metric, epoch)
        if key not in self.surrogates:
            return None
        if key not in self._mean:
            s = self.surrogates[key]
            everything = np.asarray(self.space.all_archs(), dtype=np.int64)
            mean = _clip(metric, s.predict(everything))
            std = s.noise_std(everything) if s.noise is not None else np.zeros(self.space.size)
            mean.setflags(write=False)
            std.setflags(write=False)
            self._mean[key], self._std[key] = mean, std
        return self._mean[key], self._std[key]

    def _values(self, idx: np.ndarray, metric: str, epoch: int, seed: int | None) -> np.ndarray:
        arrays = self._target_arrays(metric, epoch)
        if arrays is None:
            return np.full(len(idx), np.nan)
        mean, std = arrays
        out = mean[idx]
        if seed is not None:
            out = _clip(metric, out + std[idx] * standard_normal(_seed(seed), idx))
        return out

    def query(self, arch: Arch | str, *, epoch: int | None = None, seed: int | None = None) -> Result:
        """All metrics the surrogates predict for ``arch`` (NaN for the others); ``source="surrogate"``."""
        idx = np.asarray([self.space.index(self.space.validate(arch))])
        e = self._epoch(epoch)
        values = [float(self._values(idx, m, e, seed)[0]) for m in METRICS]
        return Result(*values, e, seed, "surrogate")

    def query_many(
        self,
        archs: Sequence[Arch] | np.ndarray,
        *,
        epoch: int | None = None,
        seed: int | None = None,
        metrics: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """``{metric: array(len(archs))}``; metrics without a surrogate are NaN, unknown names raise."""
        idx = self.space.indices(as_ops(self.space, archs))
        e = self._epoch(epoch)
        return {m: self._values(idx, m, e, seed) for m in self._metric_list(metrics)}

    def _metric_list(self, metrics: Sequence[str] | None) -> tuple[str, ...]:
        if metrics is None:
            return self.metrics
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise UnknownMetric(f"unknown metric(s) {unknown}; this benchmark answers: {', '.join(self.metrics)}")
        return tuple(metrics)

    def table(self, metric: str, *, epoch: int | None = None, seed: int | None = None) -> np.ndarray:
        """One metric for every arch of the space, in :meth:`archs` (index) order."""
        if metric not in self.metrics:
            raise UnknownMetric(
                f"this surrogate benchmark does not predict {metric!r}; it predicts: {', '.join(self.metrics)}"
            )
        return self._values(np.arange(self.space.size), metric, self._epoch(epoch), seed).copy()

    def best(self, metric: str, *, epoch: int | None = None) -> tuple[Arch, float]:
        values = self.table(metric, epoch=epoch)
        i = int(np.argmax(values))
        return self.space.from_index(i), float(values[i])

    def __repr__(self) -> str:
        targets = ", ".join(f"{m}@{e}" for m, e in sorted(self.surrogates))
        model = next(iter(self.surrogates.values())).model_name
        return f"SurrogateBenchmark({model}, space={self.space.name}, targets=[{targets}])"


class HybridBenchmark:
    """The table's result where it has one for the query (arch, epoch, seed), the surrogate's elsewhere.

    Epochs are those of the table and the surrogate together. ``table()`` covers the whole space.
    """

    def __init__(self, table: TabularBenchmark, surrogate: SurrogateBenchmark) -> None:
        if table.space != surrogate.space:
            raise InvalidQuery(f"table space {table.space.name} differs from surrogate space {surrogate.space.name}")
        self.tabular = table
        self.surrogate = surrogate
        self.space = table.space
        self.dataset = table.dataset
        self.epochs = tuple(sorted(set(table.epochs) | set(surrogate.epochs)))
        self.metrics = tuple(m for m in METRICS if m in table.metrics or m in surrogate.metrics)
        self.seeds = tuple(dict.fromkeys((*table.seeds, *surrogate.seeds)))
        self._present: dict[tuple[int, int | None], np.ndarray] = {}
        # Row in the table of every arch index (or -1): the table's own answer of "do you have it".
        everything = np.asarray(self.space.all_archs(), dtype=np.int64)
        self._row = np.full(self.space.size, -1, dtype=np.int64)
        if table.iso_shared:
            canon = np.asarray([self.space.canonical(tuple(a)) for a in everything.tolist()], dtype=np.int64)
            have = {a: r for r, a in enumerate(table.archs())}
            self._row = np.asarray([have.get(tuple(c), -1) for c in canon.tolist()], dtype=np.int64)
        else:
            self._row[self.space.indices(np.asarray(table.archs(), dtype=np.int64))] = np.arange(len(table))

    def _epoch(self, epoch: int | None) -> int:
        if epoch is None:
            if len(self.epochs) == 1:
                return self.epochs[0]
            raise InvalidQuery(f"epoch is required: this benchmark holds epochs {list(self.epochs)}")
        if epoch not in self.epochs:
            raise MissingResult(f"no epoch {epoch!r} in table or surrogate; available: {list(self.epochs)}")
        return int(epoch)

    def _table_has(self, idx: np.ndarray, epoch: int, seed: int | None) -> np.ndarray:
        """Bool per arch index: the table has a result for it at ``epoch`` (and ``seed``)."""
        rows = self._row[idx]
        ok = rows >= 0
        if epoch not in self.tabular.epochs or not ok.any():
            return np.zeros(len(idx), dtype=bool)
        if seed is not None and seed not in self.tabular.seeds:
            return np.zeros(len(idx), dtype=bool)
        key = (epoch, seed)
        if key not in self._present:
            # "Has a result" = at least one metric is finite for that row at epoch (and seed), as the table answers.
            columns = [self.tabular.table(m, epoch=epoch, seed=seed) for m in self.tabular.metrics]
            self._present[key] = np.isfinite(np.stack(columns)).any(axis=0)
        present = np.zeros(len(idx), dtype=bool)
        present[ok] = self._present[key][rows[ok]]
        return present

    def sources(
        self, archs: Sequence[Arch] | np.ndarray, *, epoch: int | None = None, seed: int | None = None
    ) -> np.ndarray:
        """Per arch, ``"table"`` or ``"surrogate"``: where :meth:`query_many` takes its answer from."""
        idx = self.space.indices(as_ops(self.space, archs))
        return np.where(self._table_has(idx, self._epoch(epoch), seed), "table", "surrogate")

    def query(self, arch: Arch | str, *, epoch: int | None = None, seed: int | None = None) -> Result:
        valid = self.space.validate(arch)
        e = self._epoch(epoch)
        if self._table_has(np.asarray([self.space.index(valid)]), e, seed)[0]:
            return self.tabular.query(valid, epoch=e, seed=seed)
        if e not in self.surrogate.epochs:
            raise MissingResult(
                f"{self.space.to_str(valid)} is not in the table at epoch {e} and the surrogate has no epoch {e}"
            )
        return self.surrogate.query(valid, epoch=e, seed=seed)

    def query_many(
        self,
        archs: Sequence[Arch] | np.ndarray,
        *,
        epoch: int | None = None,
        seed: int | None = None,
        metrics: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        ops = as_ops(self.space, archs)
        idx = self.space.indices(ops)
        e = self._epoch(epoch)
        metrics = self.metrics if metrics is None else tuple(metrics)
        unknown = [m for m in metrics if m not in self.metrics]
        if unknown:
            raise UnknownMetric(f"unknown metric(s) {unknown}; this benchmark answers: {', '.join(self.metrics)}")
        in_table = self._table_has(idx, e, seed)
        out = {m: np.full(len(idx), np.nan) for m in metrics}
        if in_table.any():
            table_metrics = [m for m in metrics if m in self.tabular.metrics]
            got = self.tabular.query_many(ops[in_table], epoch=e, seed=seed, metrics=table_metrics)
            for m in table_metrics:
                out[m][in_table] = got[m]
        rest = ~in_table
        if rest.any():
            if e not in self.surrogate.epochs:
                first = tuple(ops[rest][0].tolist())
                raise MissingResult(
                    f"{self.space.to_str(first)} is not in the table at epoch {e} and the surrogate has no epoch {e}"
                )
            got = self.surrogate.query_many(ops[rest], epoch=e, seed=seed, metrics=metrics)
            for m in metrics:
                out[m][rest] = got[m]
        return out

    def archs(self) -> list[Arch]:
        return self.space.all_archs()

    def __len__(self) -> int:
        return self.space.size

    def table(self, metric: str, *, epoch: int | None = None, seed: int | None = None) -> np.ndarray:
        """One metric for every arch of the space (index order): table values where present, else predictions."""
        return self.query_many(
            np.asarray(self.space.all_archs(), dtype=np.int64), epoch=epoch, seed=seed, metrics=[metric]
        )[metric]

    def best(self, metric: str, *, epoch: int | None = None) -> tuple[Arch, float]:
        values = self.table(metric, epoch=epoch)
        if not np.isfinite(values).any():
            raise MissingResult(f"no {metric} at epoch {epoch}")
        i = int(np.nanargmax(values))
        return self.space.from_index(i), float(values[i])

    def __repr__(self) -> str:
        return f"HybridBenchmark(table={self.tabular!r}, surrogate={self.surrogate!r})"


def _clip(metric: str, values: np.ndarray) -> np.ndarray:
    """Keep predictions physically possible: accuracies in [0, 1], losses and times non-negative."""
    hi = 1.0 if metric in ACCURACY_METRICS else np.inf
    return np.clip(np.asarray(values, dtype=np.float64), 0.0, hi)


def _seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidQuery(f"seed must be an int or None, got {seed!r}")
    return int(seed)
