"""Benchmarks answered by surrogates: :class:`SurrogateBenchmark` (any arch of the space) and
:class:`HybridBenchmark` (the table where it has a result, the surrogate elsewhere). Both follow the Benchmark
protocol of :mod:`nasbench.benchmark` for a space of any shape, so strategies and the runner use them unchanged;
every Result says where it came from in ``source``, and metric names and directions are the store's.

A SurrogateBenchmark holds one fitted :class:`Surrogate` per (metric, epoch). Over an enumerable space of at most
:data:`PREDICT_UP_TO` archs its predictions for the whole space are computed once per target on first use (15,625
NB201 cells in well under a second), so later queries are array lookups and ``table()`` / ``best()`` work. Over
any other space (NB101: 423,624 classes, no enumeration) it predicts lazily per query and caches each arch's
answer; ``archs()``, ``table()`` and ``best()`` then raise :class:`MissingCapability` / :class:`InvalidQuery`.

``seed=None`` answers the mean; an explicit seed answers ``mean + std * z`` where ``std`` is the noise model's
seed-to-seed std and ``z`` a standard normal that is a pure function of ``(seed, arch key)`` -- the same draw for
every metric and epoch of that (seed, arch), as one training run would be good or bad throughout. When the
training store had a single seed there is no noise model, and a seeded query returns the mean.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from nasbench import owned
from nasbench.atomic import atomic_write_text
from nasbench.benchmark import Result, TabularBenchmark
from nasbench.errors import InvalidArchitecture, InvalidQuery, MissingResult, StoreError, UnknownMetric
from nasbench.spaces.base import Arch, Enumerable, SearchSpace, arch_keys, canonical_keys, find_keys, require
from nasbench.store.format import PROTOCOL_KEYS, default_direction, metric_order
from nasbench.surrogates.features import as_rows, space_positions
from nasbench.surrogates.noise import standard_normal
from nasbench.surrogates.surrogate import Surrogate, fit_from_store

Target = tuple[str, int]
log = logging.getLogger(__name__)
KIND = "surrogate-benchmark"  # the kind of folder in its ownership marker
#: An enumerable space up to this size is predicted whole, up front; larger or non-enumerable ones lazily.
PREDICT_UP_TO = 100_000


class SurrogateBenchmark:
    """Answers any architecture of the space from fitted surrogates, one per (metric, epoch).

    ``directions`` (metric -> "max" / "min") and ``defaults`` (the store's default protocol) come from the
    training store; a metric without a given direction takes the one its name implies, else InvalidQuery.
    """

    def __init__(
        self,
        surrogates: Iterable[Surrogate],
        *,
        name: str = "",
        directions: Mapping[str, str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        seeds: Sequence[int | None] = (None,),
    ) -> None:
        self.surrogates: dict[Target, Surrogate] = {}
        for s in surrogates:
            if s.metric is None or s.epoch is None:
                raise InvalidQuery(f"{s!r} has no target metric/epoch; fit it with fit_from_store or set them")
            self.surrogates[(s.metric, s.epoch)] = s
        if not self.surrogates:
            raise InvalidQuery("a SurrogateBenchmark needs at least one fitted surrogate")
        spaces = {s.space_name for s in self.surrogates.values()}
        if len(spaces) != 1:
            raise InvalidQuery(f"surrogates of different spaces cannot form one benchmark: {sorted(spaces)}")
        first = next(iter(self.surrogates.values()))
        self.name = name
        self.space: SearchSpace = first.space
        self.dataset = first.dataset
        self.epochs = tuple(sorted({e for _, e in self.surrogates}))
        self.metrics = metric_order(m for m, _ in self.surrogates)
        self.directions = {m: _direction(m, directions) for m in self.metrics}
        self.defaults = _usable_defaults(defaults or {}, self.metrics, self.epochs)
        self.seeds: tuple[int | None, ...] = tuple(seeds)
        self.up_front = isinstance(self.space, Enumerable) and self.space.size <= PREDICT_UP_TO
        self._mean: dict[Target, np.ndarray] = {}
        self._std: dict[Target, np.ndarray] = {}
        self._cache: dict[Target, dict[int, tuple[float, float]]] = {}
        if self.up_front:
            size = cast(Enumerable, self.space).size  # up_front is set only for an enumerable space
            everything = self._everything()
            for (metric, epoch), s in self.surrogates.items():
                if s.static is not None and not s.static.covers(everything):
                    raise InvalidQuery(
                        f"the surrogate of {metric}@{epoch} reads the store's static figures ({s.features}), which "
                        f"the store holds for only {len(s.static.archs):,} of the {size:,} archs this "
                        "benchmark answers; fit it on the space's encodings only (features without 'static')"
                    )

    @classmethod
    def from_store(
        cls,
        bench: TabularBenchmark | str | os.PathLike[str],
        *,
        metrics: Sequence[str] | None = None,
        epochs: Sequence[int] | None = None,
        model: str = "xgboost",
        features: str | None = None,
        params: dict[str, Any] | None = None,
        seed: int = 0,
        archs: Sequence[object] | np.ndarray | None = None,
    ) -> SurrogateBenchmark:
        """Fit one surrogate per (metric, epoch) the store holds among ``metrics`` (default: the store's search
        and score metrics and ``train_time_s``) and ``epochs`` (default: all); metrics the store lacks are
        skipped. ``archs`` restricts training to a subset (e.g. to evaluate honestly on the rest)."""
        if not isinstance(bench, TabularBenchmark):
            bench = TabularBenchmark.open(bench)
        if metrics is None:
            d = bench.defaults
            metrics = (d.get("search_metric", "val_acc"), d.get("score_metric", "test_acc"), "train_time_s")
        wanted = [m for m in dict.fromkeys(metrics) if m in bench.metrics]
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
        named = tuple(s for s in bench.seeds if s is not None)
        seeds: tuple[int | None, ...] = named if named and any(s.noise is not None for s in surrogates) else (None,)
        return cls(
            surrogates,
            name=f"surrogate of {bench.name or bench.dataset}",
            directions=bench.directions,
            defaults=bench.defaults,
            seeds=seeds,
        )

    # ---- persistence ----------------------------------------------------------------------------------------

    def save(self, folder: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """One saved surrogate per target in ``folder/<metric>@<epoch>``, plus ``benchmark.json``."""
        folder = Path(folder)
        if (folder / "benchmark.json").exists() and not overwrite:
            raise StoreError(f"{folder} already holds a saved benchmark; pass overwrite=True to replace it")
        if owned.claim(folder, KIND) and overwrite:
            owned.clear(folder)
        entries = []
        for (metric, epoch), s in sorted(self.surrogates.items()):
            sub = f"{metric}@{epoch}"
            owned.record(folder, sub)
            s.save(folder / sub, overwrite=overwrite)
            entries.append({"metric": metric, "epoch": epoch, "path": sub})
        owned.record(folder, "benchmark.json")
        meta = {
            "format": "nasbench-surrogate-benchmark",
            "name": self.name,
            "space": self.space.name,
            "seeds": list(self.seeds),
            "directions": self.directions,
            "defaults": self.defaults,
            "targets": entries,
        }
        atomic_write_text(folder / "benchmark.json", json.dumps(meta, indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | os.PathLike[str], *, space: SearchSpace | str | None = None) -> SurrogateBenchmark:
        """A saved benchmark; ``space`` (a name, or a space object to use) must be the one it was fitted for."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / "benchmark.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"{folder} is not a saved surrogate benchmark ({exc})") from None
        surrogates = [
            Surrogate.load(folder / e["path"], space=space, metric=e["metric"], epoch=e["epoch"])
            for e in meta["targets"]
        ]
        return cls(
            surrogates,
            name=meta.get("name", ""),
            directions=meta.get("directions"),
            defaults=meta.get("defaults"),
            seeds=tuple(meta.get("seeds") or (None,)),
        )

    # ---- the space ------------------------------------------------------------------------------------------

    def _everything(self) -> np.ndarray:
        return np.asarray(self.space.all_archs(), dtype=np.int64).reshape(-1, len(self.space.choices))  # type: ignore[attr-defined]

    def _require_listing(self, what: str) -> None:
        require(self.space, "enumerable", f"{what} of a surrogate benchmark")
        if not self.up_front:
            raise InvalidQuery(
                f"{what} needs a prediction for every arch, and the {self.space.name} space has "
                f"{self.space.size:,} (more than {PREDICT_UP_TO:,}); query archs instead"  # type: ignore[attr-defined]
            )

    def archs(self) -> list[Arch]:
        """Every architecture of the space: a surrogate answers for all of them."""
        self._require_listing("listing every arch")
        return self.space.all_archs()  # type: ignore[attr-defined]

    def __len__(self) -> int:
        self._require_listing("the size")
        return int(self.space.size)  # type: ignore[attr-defined]

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

    # ---- predictions ----------------------------------------------------------------------------------------

    def _whole_space(self, key: Target) -> tuple[np.ndarray, np.ndarray]:
        """(mean, noise std) over the whole space for one target, computed on first use."""
        if key not in self._mean:
            s = self.surrogates[key]
            everything = self._everything()
            mean = clip_prediction(key[0], s.predict(everything))
            std = s.noise_std(everything)
            mean.setflags(write=False)
            std.setflags(write=False)
            self._mean[key], self._std[key] = mean, std
        return self._mean[key], self._std[key]

    def _lazy(self, key: Target, arr: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, noise std) of the queried archs, predicting only those not asked before."""
        cache = self._cache.setdefault(key, {})
        missing = {int(k): i for i, k in enumerate(keys.tolist()) if int(k) not in cache}
        if missing:
            rows = arr[list(missing.values())]
            s = self.surrogates[key]
            mean, std = clip_prediction(key[0], s.predict(rows)), s.noise_std(rows)
            cache.update(zip(missing, zip(mean.tolist(), std.tolist(), strict=True), strict=True))
        pairs = np.asarray([cache[int(k)] for k in keys.tolist()], dtype=np.float64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]

    def _values(self, arr: np.ndarray, keys: np.ndarray, metric: str, epoch: int, seed: int | None) -> np.ndarray:
        key = (metric, epoch)
        if key not in self.surrogates:
            return np.full(len(arr), np.nan)
        if self.up_front:
            mean_all, std_all = self._whole_space(key)
            pos = space_positions(self.space, arr)
            mean, std = mean_all[pos], std_all[pos]
        else:
            mean, std = self._lazy(key, arr, keys)
        if seed is None:
            return mean
        return clip_prediction(metric, mean + std * standard_normal(_seed(seed), keys))

    def query(self, arch: Arch | str, *, epoch: int | None = None, seed: int | None = None) -> Result:
        """Every metric the surrogates predict for ``arch`` (NaN at an epoch a metric has no surrogate for);
        ``source="surrogate"``."""
        arr = as_rows(self.space, [arch])
        keys = arch_keys(self.space, arr)
        e = self._epoch(epoch)
        values = {m: float(self._values(arr, keys, m, e, seed)[0]) for m in self.metrics}
        return Result(values, e, seed, "surrogate")

    def query_many(
        self,
        archs: Sequence[Arch] | np.ndarray,
        *,
        epoch: int | None = None,
        seed: int | None = None,
        metrics: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """``{metric: array(len(archs))}``; a metric this benchmark does not predict raises UnknownMetric."""
        arr = as_rows(self.space, archs)
        keys = arch_keys(self.space, arr)
        e = self._epoch(epoch)
        return {m: self._values(arr, keys, m, e, seed) for m in self._metric_list(metrics)}

    def _metric_list(self, metrics: Sequence[str] | None) -> tuple[str, ...]:
        if metrics is None:
            return self.metrics
        unknown = [m for m in metrics if m not in self.metrics]
        if unknown:
            raise UnknownMetric(f"unknown metric(s) {unknown}; this benchmark answers: {', '.join(self.metrics)}")
        return tuple(metrics)

    def table(self, metric: str, *, epoch: int | None = None, seed: int | None = None) -> np.ndarray:
        """One metric for every arch of the space, in :meth:`archs` order (enumerable spaces only)."""
        self._metric_list([metric])
        self._require_listing("table()")
        everything = self._everything()
        return self._values(everything, arch_keys(self.space, everything), metric, self._epoch(epoch), seed).copy()

    def best(self, metric: str, *, epoch: int | None = None) -> tuple[Arch, float]:
        """The arch with the best predicted mean ``metric`` (by its direction) and that value."""
        values = self.table(metric, epoch=epoch)
        if not np.isfinite(values).any():
            raise MissingResult(f"no {metric} at epoch {epoch}")
        i = int(np.nanargmax(values) if self.directions[metric] == "max" else np.nanargmin(values))
        return self.archs()[i], float(values[i])

    def __repr__(self) -> str:
        targets = ", ".join(f"{m}@{e}" for m, e in sorted(self.surrogates))
        model = next(iter(self.surrogates.values())).model_name
        return f"SurrogateBenchmark({model}, space={self.space.name}, targets=[{targets}])"


class HybridBenchmark:
    """The table's result where it has one for the query (arch, epoch, seed), the surrogate's elsewhere.

    Metrics, epochs and seeds are those of the table and the surrogate together; directions and defaults are the
    table's. ``table()`` and ``best()`` cover the whole space where the surrogate benchmark can list it.
    """

    def __init__(self, table: TabularBenchmark, surrogate: SurrogateBenchmark) -> None:
        if table.space != surrogate.space:
            raise InvalidQuery(f"table space {table.space.name} differs from surrogate space {surrogate.space.name}")
        self.tabular = table
        self.surrogate = surrogate
        self.space = table.space
        self.dataset = table.dataset
        self.epochs = tuple(sorted(set(table.epochs) | set(surrogate.epochs)))
        self.metrics = metric_order({*table.metrics, *surrogate.metrics})
        self.directions = {m: table.directions.get(m) or surrogate.directions[m] for m in self.metrics}
        self.defaults = _usable_defaults(table.defaults, self.metrics, self.epochs)
        self.seeds = tuple(dict.fromkeys((*table.seeds, *surrogate.seeds)))
        self._present: dict[tuple[int, int | None], np.ndarray] = {}
        # The table's rows are sorted, so their keys are: a query finds its row by binary search.
        width = len(self.space.choices)
        self._keys = arch_keys(self.space, np.asarray(table.archs(), dtype=np.int64).reshape(-1, width))

    @classmethod
    def fit(
        cls, table: TabularBenchmark, *, protocol: Any = None, every_epoch: bool = False, seed: int = 0
    ) -> HybridBenchmark:
        """The table backed by surrogates fitted on it for what a search asks of cells it lacks: the protocol's
        search and score metrics and ``train_time_s``, at its epochs (``every_epoch``: at all the table's, as a
        multi-fidelity strategy asks). ``protocol``: a :class:`~nasbench.runner.simulate.Protocol`; by default
        the store's own."""
        from nasbench.runner.simulate import Protocol

        protocol = (protocol or Protocol()).resolved(table)
        wanted = (protocol.search_metric, protocol.score_metric, "train_time_s")
        metrics = tuple(m for m in dict.fromkeys(wanted) if m in table.metrics)
        epochs = table.epochs if every_epoch else tuple(sorted({protocol.search_epoch, protocol.score_epoch}))
        log.info("fitting surrogates for %s at epochs %s on %d cells of %s", metrics, epochs, len(table), table.name)
        return cls(table, SurrogateBenchmark.from_store(table, metrics=metrics, epochs=epochs, seed=seed))

    def _epoch(self, epoch: int | None) -> int:
        if epoch is None:
            if len(self.epochs) == 1:
                return self.epochs[0]
            raise InvalidQuery(f"epoch is required: this benchmark holds epochs {list(self.epochs)}")
        if epoch not in self.epochs:
            raise MissingResult(f"no epoch {epoch!r} in table or surrogate; available: {list(self.epochs)}")
        return int(epoch)

    def _rows(self, arr: np.ndarray) -> np.ndarray:
        """Table row of each validated arch (its canonical form's where the table is iso_shared), -1 if none."""
        keys = canonical_keys(self.space, arr) if self.tabular.iso_shared else arch_keys(self.space, arr)
        return find_keys(self._keys, keys)

    def _table_has(self, arr: np.ndarray, epoch: int, seed: int | None) -> np.ndarray:
        """Bool per arch: the table has a result for it at ``epoch`` (and ``seed``)."""
        if epoch not in self.tabular.epochs or (seed is not None and seed not in self.tabular.seeds):
            return np.zeros(len(arr), dtype=bool)
        rows = self._rows(arr)
        ok = rows >= 0
        key = (epoch, seed)
        if key not in self._present:
            # "Has a result" = at least one metric is finite for that row at epoch (and seed), as the table answers.
            columns = [self.tabular.table(m, epoch=epoch, seed=seed) for m in self.tabular.metrics]
            self._present[key] = np.isfinite(np.stack(columns)).any(axis=0)
        present = np.zeros(len(arr), dtype=bool)
        present[ok] = self._present[key][rows[ok]]
        return present

    def sources(
        self, archs: Sequence[Arch] | np.ndarray, *, epoch: int | None = None, seed: int | None = None
    ) -> np.ndarray:
        """Per arch, ``"table"`` or ``"surrogate"``: where :meth:`query_many` takes its answer from."""
        arr = as_rows(self.space, archs)
        return np.where(self._table_has(arr, self._epoch(epoch), seed), "table", "surrogate")

    def query(self, arch: Arch | str, *, epoch: int | None = None, seed: int | None = None) -> Result:
        valid = self.space.validate(arch)
        e = self._epoch(epoch)
        if self._table_has(as_rows(self.space, [valid]), e, seed)[0]:
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
        """``{metric: array(len(archs))}``: the table's values where it has the run, predictions elsewhere; NaN
        where the source that answers lacks the metric."""
        arr = as_rows(self.space, archs)
        e = self._epoch(epoch)
        metrics = self.metrics if metrics is None else tuple(metrics)
        unknown = [m for m in metrics if m not in self.metrics]
        if unknown:
            raise UnknownMetric(f"unknown metric(s) {unknown}; this benchmark answers: {', '.join(self.metrics)}")
        in_table = self._table_has(arr, e, seed)
        out = {m: np.full(len(arr), np.nan) for m in metrics}
        if in_table.any():
            table_metrics = [m for m in metrics if m in self.tabular.metrics]
            got = self.tabular.query_many(arr[in_table], epoch=e, seed=seed, metrics=table_metrics)
            for m in table_metrics:
                out[m][in_table] = got[m]
        rest = ~in_table
        if rest.any():
            if e not in self.surrogate.epochs:
                first = tuple(int(v) for v in arr[rest][0])
                raise MissingResult(
                    f"{self.space.to_str(first)} is not in the table at epoch {e} and the surrogate has no epoch {e}"
                )
            predicted = [m for m in metrics if m in self.surrogate.metrics]
            got = self.surrogate.query_many(arr[rest], epoch=e, seed=seed, metrics=predicted)
            for m in predicted:
                out[m][rest] = got[m]
        return out

    def archs(self) -> list[Arch]:
        """Every arch of the space (the surrogate answers those the table lacks)."""
        return self.surrogate.archs()

    def __len__(self) -> int:
        return len(self.surrogate)

    def __contains__(self, arch: object) -> bool:
        return arch in self.surrogate

    def table(self, metric: str, *, epoch: int | None = None, seed: int | None = None) -> np.ndarray:
        """One metric for every arch of the space (:meth:`archs` order): table values where present, else
        predictions."""
        everything = np.asarray(self.archs(), dtype=np.int64).reshape(-1, len(self.space.choices))
        return self.query_many(everything, epoch=epoch, seed=seed, metrics=[metric])[metric]

    def best(self, metric: str, *, epoch: int | None = None) -> tuple[Arch, float]:
        """The arch with the best ``metric`` (by its direction) over the whole space, and that value."""
        values = self.table(metric, epoch=epoch)
        if not np.isfinite(values).any():
            raise MissingResult(f"no {metric} at epoch {epoch}")
        i = int(np.nanargmax(values) if self.directions[metric] == "max" else np.nanargmin(values))
        return self.archs()[i], float(values[i])

    def __repr__(self) -> str:
        return f"HybridBenchmark(table={self.tabular!r}, surrogate={self.surrogate!r})"


def _direction(metric: str, directions: Mapping[str, str] | None) -> str:
    direction = (directions or {}).get(metric) or default_direction(metric)
    if direction not in ("max", "min"):
        raise InvalidQuery(f"metric {metric!r} needs a direction ('max' or 'min'): give directions={{...}}")
    return direction


def _usable_defaults(defaults: Mapping[str, Any], metrics: Sequence[str], epochs: Sequence[int]) -> dict[str, Any]:
    """The store's default protocol, less entries naming a metric or epoch this benchmark does not answer."""
    out = {}
    for key, value in defaults.items():
        if key not in PROTOCOL_KEYS:
            continue
        if key.endswith("_metric") and value not in metrics:
            continue
        if key.endswith("_epoch") and value not in epochs:
            continue
        out[key] = value
    return out


def clip_prediction(metric: str, values: np.ndarray) -> np.ndarray:
    """Keep predictions physically possible: ``*_acc`` fractions in [0, 1]; what a name marks as minimised
    (losses, errors, times, latencies, energies) non-negative; any other metric as predicted."""
    values = np.asarray(values, dtype=np.float64)
    if metric.endswith("_acc"):
        return np.clip(values, 0.0, 1.0)
    if default_direction(metric) == "min":
        return np.maximum(values, 0.0)
    return values


def _seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidQuery(f"seed must be an int or None, got {seed!r}")
    return int(seed)
