"""The query API: what a benchmark answers for an architecture.

A benchmark is pure: no clock, no budget, no hidden RNG. The runner (not the strategy) calls it, charges the
simulated time and records trajectories.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast, runtime_checkable

import numpy as np

from nasbench.errors import InvalidArchitecture, InvalidQuery, MissingResult, StoreError, UnknownMetric
from nasbench.spaces import get_space
from nasbench.spaces.base import Arch, SearchSpace, arch_keys, check_rows, find_keys
from nasbench.store.format import METRICS, StoreData, metric_order, read_store

Source = Literal["table", "surrogate"]


@dataclass(frozen=True, slots=True)
class Result:
    """One answer of a benchmark: ``values`` maps each metric the benchmark holds to its value (NaN where this
    run lacks it). ``result["val_acc"]`` or ``result.val_acc`` read one; a standard metric (``val_acc``,
    ``test_acc``, ``train_time_s``, ...) the benchmark does not hold reads as NaN, any other unknown name raises."""

    values: Mapping[str, float]
    epoch: int
    seed: int | None  # None = mean over the seeds that exist
    source: Source

    def __getitem__(self, metric: str) -> float:
        try:
            return self.values[metric]
        except (KeyError, TypeError):
            if metric in METRICS:
                return math.nan
            raise UnknownMetric(f"no metric {metric!r} in this result; it has: {', '.join(self.values)}") from None

    def __getattr__(self, name: str) -> float:
        if name.startswith("__") or name == "values":
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            if name in METRICS:
                return math.nan
            raise AttributeError(f"Result has no metric {name!r}; it has: {', '.join(self.values)}") from None


@runtime_checkable
class Benchmark(Protocol):
    """What the runner, strategies' context and surrogates may use: the space, the metrics with their direction
    ("max" / "min"), the epochs and seeds, and queries."""

    # Read-only members (properties), so that an implementation's plain attributes of narrower types
    # (``directions: dict[str, str]``) satisfy the protocol: a settable protocol attribute is invariant.
    @property
    def space(self) -> SearchSpace: ...
    @property
    def metrics(self) -> tuple[str, ...]: ...
    @property
    def directions(self) -> Mapping[str, str]: ...
    @property
    def epochs(self) -> tuple[int, ...]: ...
    @property
    def seeds(self) -> tuple[int | None, ...]: ...

    def query(self, arch: Arch | str, *, epoch: int | None = None, seed: int | None = None) -> Result: ...

    def query_many(
        self, archs: Sequence[Arch] | np.ndarray, *, epoch: int | None = None, seed: int | None = None
    ) -> dict[str, np.ndarray]: ...


def _plain(arch: object) -> bool:
    """A tuple of Python ints: the form a dict lookup may answer directly ((1.0, True) hashes like (1, 1))."""
    return type(arch) is tuple and all(type(v) is int for v in arch)


class TabularBenchmark:
    """Answers queries from a store loaded into memory: a query is a dict lookup and an array read.

    ``epoch`` must be given unless the store holds a single epoch, which is then the default: there is no silent
    low-fidelity default. ``seed=None`` averages over the seeds that have a result; an absent seed raises
    :class:`MissingResult`.
    """

    def __init__(self, data: StoreData, *, name: str = "") -> None:
        if set(data.metrics) - set(data.directions):
            data.validate()  # built in memory, not read: check it and fill the directions its names imply
        self.data = data
        self.name = name
        self.space = get_space(data.space)
        self.dataset = data.dataset
        self.protocol = data.protocol
        self.epochs = tuple(data.epochs)
        self.seeds = tuple(data.seeds)
        self.metrics = metric_order(data.metrics)
        self.directions = {m: data.directions[m] for m in self.metrics}
        self.defaults: dict[str, Any] = dict(data.defaults)
        self.iso_shared = data.iso_shared
        self._epoch_pos = {e: i for i, e in enumerate(self.epochs)}
        self._seed_pos = {s: i for i, s in enumerate(self.seeds) if s is not None}
        self._metric_pos = {m: i for i, m in enumerate(self.metrics)}
        arch_array = np.asarray(data.archs, dtype=np.int64).reshape(-1, len(self.space.choices))
        archs = [tuple(a) for a in arch_array.tolist()]
        self._archs = archs
        self._rows = {a: i for i, a in enumerate(archs)}
        # The rows are sorted, so their int keys are too: query_many finds arrays of archs by binary search.
        self._keys = arch_keys(self.space, arch_array)
        if np.any(np.diff(self._keys) <= 0):
            raise StoreError("the store's archs must be unique and sorted lexicographically")
        # (N, S, T, M) float32 in `metrics` order and its mean over the seeds that exist (N, T, M). float32 like
        # the store: a 200-epoch, 3-seed NATS store stays ~0.35 GB, not ~1 GB.
        n, s, t = len(archs), len(self.seeds), len(self.epochs)
        full = np.full((n, s, t, len(self.metrics)), np.nan, dtype=np.float32)
        mean = np.full((n, t, len(self.metrics)), np.nan, dtype=np.float32)
        present = np.zeros((n, s, t), dtype=bool)
        for m, metric in enumerate(self.metrics):
            values = np.asarray(data.metrics[metric], dtype=np.float32)
            full[..., m] = values
            finite = np.isfinite(values)
            present |= finite
            counts = finite.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean[..., m] = np.where(finite, values, 0).sum(axis=1, dtype=np.float64) / counts
            # The store's arrays become read-only views of `full`, so the values are held once.
            data.metrics[metric] = full[..., m]
        full.setflags(write=False)
        mean.setflags(write=False)
        self._full = full
        self._mean = mean
        self._has_any_full = present  # (N, S, T): some metric of that run exists
        # (N, T); cast: any() over an axis of a 3-d array is an array, numpy's stubs also allow a scalar
        self._has_any_mean = cast(np.ndarray, present.any(axis=1))

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> TabularBenchmark:
        """Open a store file (validated, loaded into memory; the file is closed afterwards)."""
        return cls(read_store(path), name=os.fspath(path))

    # ---- lookups ------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._archs)

    def __contains__(self, arch: object) -> bool:
        try:
            self._row(arch)
        except (MissingResult, InvalidArchitecture):
            return False
        return True

    def archs(self) -> list[Arch]:
        """The architectures the table holds, sorted."""
        return list(self._archs)

    def _row(self, arch: object) -> int:
        if _plain(arch):  # rows of an iso_shared store are canonical: checked below
            row = self._rows.get(arch)  # type: ignore[call-overload]
            if row is not None:
                return row
        valid = self.space.validate(arch)
        key = self.space.canonical(valid) if self.iso_shared else valid
        try:
            return self._rows[key]
        except KeyError:
            size = getattr(self.space, "size", None)
            of = f" of {size:,}" if size is not None else ""
            raise MissingResult(
                f"{self.space.to_str(valid)} is not in this store ({len(self):,}{of} {self.space.name} "
                "architectures were trained)"
            ) from None

    def _epoch_index(self, epoch: int | None) -> int:
        if epoch is None:
            if len(self.epochs) == 1:
                return 0
            raise InvalidQuery(
                f"epoch is required: this store holds epochs {_fmt_list(self.epochs)} and has no single final epoch"
            )
        try:
            return self._epoch_pos[epoch]
        except (KeyError, TypeError):
            raise MissingResult(f"epoch {epoch!r} is not in this store; available: {_fmt_list(self.epochs)}") from None

    def _seed_index(self, seed: int) -> int:
        try:
            return self._seed_pos[seed]
        except (KeyError, TypeError):
            known = [s for s in self.seeds if s is not None]
            avail = _fmt_list(known) if known else "none by name (the store holds means over seeds only)"
            raise MissingResult(f"seed {seed!r} is not in this store; available: {avail}") from None

    # ---- queries ------------------------------------------------------------------------------------------

    def query(self, arch: Arch | str, *, epoch: int | None = None, seed: int | None = None) -> Result:
        """All metrics of ``arch`` after ``epoch`` epochs, for ``seed`` or averaged over seeds (``None``)."""
        row = self._row(arch)
        t = self._epoch_index(epoch)
        if seed is None:
            if not self._has_any_mean[row, t]:
                raise self._missing(row, t, seed)
            values = self._mean[row, t].tolist()
        else:
            s = self._seed_index(seed)
            if not self._has_any_full[row, s, t]:
                raise self._missing(row, t, seed)
            values = self._full[row, s, t].tolist()
        return Result(dict(zip(self.metrics, values, strict=True)), self.epochs[t], seed, "table")

    def _missing(self, row: int, t: int, seed: int | None) -> MissingResult:
        which = "any seed" if seed is None else f"seed {seed}"
        return MissingResult(
            f"no result for {self.space.to_str(self._archs[row])} at epoch {self.epochs[t]} for {which}"
        )

    def query_many(
        self,
        archs: Sequence[Arch] | np.ndarray,
        *,
        epoch: int | None = None,
        seed: int | None = None,
        metrics: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Vectorized query: ``{metric: array(len(archs))}``, NaN where the store lacks that metric or run."""
        rows = self.rows(archs)
        t = self._epoch_index(epoch)
        metrics = self.metrics if metrics is None else tuple(metrics)
        cols = [self.metric_index(m) for m in metrics]
        block = self._mean[rows, t] if seed is None else self._full[rows, self._seed_index(seed), t]
        return {m: block[:, c].astype(np.float64) for m, c in zip(metrics, cols, strict=True)}

    def rows(self, archs: Sequence[Arch] | np.ndarray) -> np.ndarray:
        """Row of each arch in the table; raises :class:`MissingResult` naming the first absent one."""
        if isinstance(archs, np.ndarray) and archs.ndim == 2 and not self.iso_shared:
            rows = find_keys(self._keys, arch_keys(self.space, check_rows(self.space, archs)))
            if (rows < 0).any():
                self._row(tuple(archs[int(np.argmax(rows < 0))].tolist()))  # raises with a clear message
            return rows
        get = self._rows.get
        rows_list = [get(a) if _plain(a) else None for a in archs]
        if None in rows_list:
            rows_list = [r if r is not None else self._row(a) for r, a in zip(rows_list, archs, strict=True)]
        return np.asarray(rows_list, dtype=np.int64)

    def metric_index(self, metric: str) -> int:
        try:
            return self._metric_pos[metric]
        except (KeyError, TypeError):
            raise UnknownMetric(f"unknown metric {metric!r}; this store holds: {', '.join(self.metrics)}") from None

    def table(self, metric: str, *, epoch: int | None = None, seed: int | None = None) -> np.ndarray:
        """One metric for every stored arch (in :meth:`archs` order): the raw material of regret and ranking."""
        c = self.metric_index(metric)
        t = self._epoch_index(epoch)
        return (self._mean[:, t, c] if seed is None else self._full[:, self._seed_index(seed), t, c]).astype(np.float64)

    def to_frame(self, *, epoch: int | None = None, seed: int | None = None) -> Any:
        """A pandas DataFrame, one row per stored architecture: its official string (``arch``), every metric at
        ``epoch`` (for ``seed``, or the mean over seeds) and every static figure. pandas is imported here."""
        import pandas as pd

        columns: dict[str, Any] = {"arch": [self.space.to_str(a) for a in self._archs]}
        columns.update({m: self.table(m, epoch=epoch, seed=seed) for m in self.metrics})
        columns.update({name: self.static(name) for name in sorted(self.data.static)})
        return pd.DataFrame(columns)

    def static(self, name: str) -> np.ndarray:
        """A per-architecture static figure (``params``, ``flops``) in :meth:`archs` order."""
        try:
            return self.data.static[name].astype(np.float64)
        except KeyError:
            raise UnknownMetric(
                f"unknown static figure {name!r}; this store holds: {', '.join(sorted(self.data.static)) or 'none'}"
            ) from None

    def best(self, metric: str, *, epoch: int | None = None) -> tuple[Arch, float]:
        """The arch with the best mean ``metric`` at ``epoch`` (highest or lowest, by the metric's direction) and
        that value (NaN rows ignored; ties go to the first row)."""
        values = self.table(metric, epoch=epoch)
        if not np.isfinite(values).any():
            raise MissingResult(f"no {metric} at epoch {epoch} in this store")
        row = int(np.nanargmax(values) if self.directions[metric] == "max" else np.nanargmin(values))
        return self._archs[row], float(values[row])

    def __repr__(self) -> str:
        return (
            f"TabularBenchmark({self.name or self.dataset!r}, space={self.space.name}, archs={len(self)}, "
            f"seeds={list(self.seeds)}, epochs={_fmt_list(self.epochs)})"
        )


def _fmt_list(values: Sequence[object], limit: int = 8) -> str:
    values = list(values)
    if len(values) <= limit:
        return "[" + ", ".join(map(str, values)) + "]"
    return f"[{values[0]}, {values[1]}, ..., {values[-1]}] ({len(values)} values)"
