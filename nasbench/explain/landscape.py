"""The landscape of one metric over a space's decisions: how much of its variance each decision and each pair of
decisions explains, and what each choice does on average.

Exact where the table answers the whole space: NB201's 15,625 cells and NAS-Bench-Macro's 6,561 networks are full
factorial designs, so the functional-ANOVA terms are group means of the table and add up to its variance. Where
the table holds only some cells (the shipped Fashion-MNIST store: 638 of 15,625), the terms are computed the same
way over a surrogate's predictions for the whole space (or a large random sample of a space too big to list),
fitted on the table's cells; refits on bootstrap resamples of those cells give the estimate's uncertainty.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench.benchmark import TabularBenchmark
from nasbench.errors import InvalidQuery, MissingResult, UnknownMetric
from nasbench.explain import anova
from nasbench.spaces.base import Arch, Enumerable, SearchSpace, arch_keys, canonical_keys, find_keys, sample_many

#: Bootstrap resamples over a store's training seeds (exact designs with >= 2 seeds): a few ms each.
SEED_BOOTSTRAPS = 100
#: Surrogate refits on bootstrap resamples of the table's cells (estimated designs): ~0.3 s each on NB201.
REFITS = 10
#: Architectures a surrogate predicts for a space too large to list (NB101).
SAMPLE_SIZE = 20_000
#: Enumerable spaces up to this size are predicted whole (as SurrogateBenchmark does).
PREDICT_UP_TO = 100_000
CI_LEVEL = 0.95

Bench = Any  # a TabularBenchmark, a HybridBenchmark (its table), or a store path


@dataclass(frozen=True)
class Target:
    """The metric explained, at one epoch, and which way is better."""

    metric: str
    epoch: int
    direction: str

    @property
    def sign(self) -> float:
        return 1.0 if self.direction == "max" else -1.0


def table_of(bench: Bench) -> TabularBenchmark:
    """The measured table behind ``bench`` (a store path is opened)."""
    if isinstance(bench, (str, os.PathLike)):
        return TabularBenchmark.open(bench)
    if isinstance(bench, TabularBenchmark):
        return bench
    tabular = getattr(bench, "tabular", None)
    if isinstance(tabular, TabularBenchmark):
        return tabular
    raise InvalidQuery(
        f"explanations read a store's table: give a store path, a TabularBenchmark or a HybridBenchmark, got "
        f"{type(bench).__name__}"
    )


def resolve_target(table: TabularBenchmark, metric: str | None, epoch: int | None) -> Target:
    """``metric`` / ``epoch``, or the store's default score metric and epoch (as ``Protocol().resolved`` picks
    them: ``defaults``, else ``test_acc`` and the last epoch)."""
    defaults = table.defaults or {}
    metric = metric or defaults.get("score_metric") or "test_acc"
    if metric not in table.metrics:
        raise UnknownMetric(f"this store has no metric {metric!r}; it holds: {', '.join(table.metrics)}")
    if epoch is None:
        epoch = defaults.get("score_epoch") or table.epochs[-1]
    if isinstance(epoch, bool) or epoch not in table.epochs:
        raise MissingResult(f"this store has no epoch {epoch!r}; available: {list(table.epochs)}")
    return Target(metric, int(epoch), table.directions[metric])


def decision_labels(space: SearchSpace) -> list[str]:
    return [space.decisions[d] if d < len(space.decisions) else f"decision {d}" for d in range(len(space.choices))]


def choice_label(space: SearchSpace, d: int, c: int) -> str:
    options = space.options[d] if d < len(space.options) else ()
    return options[c] if c < len(options) else str(c)


@dataclass
class Landscape:
    """The decomposition of ``metric`` at ``epoch``; values in the metric's own units (accuracies as fractions).

    - ``importance``: one row per decision and per pair: ``term``, ``order`` (1 or 2), ``decisions`` (indices),
      ``fraction`` of the total variance, ``ci_low`` / ``ci_high`` (95 %), best first;
    - ``effects``: one row per (decision, choice): ``decision``, ``d``, ``choice``, ``c``, ``effect`` (mean over
      the design with that choice minus the overall mean), ``ci_low`` / ``ci_high``, ``cells``;
    - ``shares``: the fraction explained by all main effects (``main``), all pairs (``pairs``) and, on a full
      factorial only, all higher orders (``higher``; the three add up to 1);
    - ``exact``: no model in between (the table's own values); ``design`` says over what.
    """

    space: SearchSpace
    target: Target
    design: str
    exact: bool
    archs: np.ndarray
    values: np.ndarray
    mean: float
    variance: float
    importance: Any
    effects: Any
    shares: dict[str, float]
    orders: list[float] | None
    interval: str
    optimum: tuple[Arch, float]
    model: str | None = None
    n_train: int | None = None
    replicas: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    table: TabularBenchmark | None = field(default=None, repr=False)
    predict: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    surrogate: Any = field(default=None, repr=False)

    @property
    def metric(self) -> str:
        return self.target.metric

    @property
    def epoch(self) -> int:
        return self.target.epoch

    def top_effects(self, k: int = 3) -> Any:
        """The ``k`` choice effects largest in size (either sign)."""
        frame = self.effects.dropna(subset=["effect"])
        return frame.reindex(frame["effect"].abs().sort_values(ascending=False).index).head(k)

    def best_choice(self, d: int) -> int:
        """The choice at decision ``d`` with the best mean effect (by the metric's direction)."""
        rows = self.effects[self.effects["d"] == d].dropna(subset=["effect"])
        return int(rows.loc[(self.target.sign * rows["effect"]).idxmax(), "c"])

    def value_rows(self, archs: np.ndarray) -> np.ndarray:
        """Row of each arch in this landscape's design, -1 where it is not a cell (sorted designs only)."""
        keys = arch_keys(self.space, archs)
        own = arch_keys(self.space, self.archs)
        if np.any(np.diff(own) <= 0):
            return np.full(len(archs), -1, dtype=np.int64)
        return find_keys(own, keys)


def landscape(
    bench: Bench,
    metric: str | None = None,
    epoch: int | None = None,
    *,
    source: str = "auto",
    repeats: int | None = None,
    model: str = "xgboost",
    features: str | None = None,
    samples: int = SAMPLE_SIZE,
    seed: int = 0,
    train: np.ndarray | None = None,
) -> Landscape:
    """The fANOVA landscape of ``metric`` at ``epoch`` (defaults: the store's score metric and epoch).

    ``source="auto"``: exact when the table answers every architecture of an enumerable space, else estimated
    from a surrogate; ``"table"``: exact over the table's cells whatever they cover (e.g. a complete NB101 table);
    ``"surrogate"``: estimated even from a complete table (``train``: the cells to fit on, default all: how the
    estimate is measured against the exact one). ``repeats``: seed bootstraps (exact, >= 2 seeds) or surrogate
    refits on bootstrap resamples (estimated) for the 95 % intervals; 0 for none."""
    start = time.perf_counter()
    table = table_of(bench)
    target = resolve_target(table, metric, epoch)
    if source not in ("auto", "table", "surrogate"):
        raise InvalidQuery(f"source is 'auto', 'table' or 'surrogate', got {source!r}")
    if repeats is not None and (isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 0):
        raise InvalidQuery(f"repeats is an integer >= 0, got {repeats!r}")
    if not (isinstance(samples, int) and samples >= 100):
        raise InvalidQuery(f"samples is an integer >= 100, got {samples!r}")
    grid, rows = _space_rows(table)
    measured = table.table(target.metric, epoch=target.epoch)
    complete = grid is not None and bool((rows >= 0).all()) and bool(np.isfinite(measured[rows]).all())
    if source == "table" or (source == "auto" and complete):
        return _exact(table, target, grid if complete else None, rows if complete else None, repeats, seed, start)
    return _estimated(table, target, grid, repeats, model, features, samples, seed, train, start)


def _space_rows(table: TabularBenchmark) -> tuple[np.ndarray | None, np.ndarray]:
    """Every arch of an enumerable space (None for another) and its table row (-1 where the table lacks it;
    the canonical form's row in a store whose rows stand for isomorphism classes)."""
    space = table.space
    if not isinstance(space, Enumerable) or space.size > PREDICT_UP_TO:
        return None, np.zeros(0, dtype=np.int64)
    grid = np.asarray(space.all_archs(), dtype=np.int64).reshape(-1, len(space.choices))
    keys = canonical_keys(space, grid) if table.iso_shared else arch_keys(space, grid)
    own = arch_keys(space, np.asarray(table.archs(), dtype=np.int64).reshape(-1, len(space.choices)))
    return grid, find_keys(own, keys)


def _exact(
    table: TabularBenchmark,
    target: Target,
    grid: np.ndarray | None,
    rows: np.ndarray | None,
    repeats: int | None,
    seed: int,
    start: float,
) -> Landscape:
    space = table.space
    measured = table.table(target.metric, epoch=target.epoch)
    if grid is None or rows is None:  # the table's own cells, whatever they cover
        keep = np.flatnonzero(np.isfinite(measured))
        if len(keep) < 2:
            raise MissingResult(f"the table has fewer than 2 cells with a {target.metric} at epoch {target.epoch}")
        archs = np.asarray(table.archs(), dtype=np.int64).reshape(-1, len(space.choices))[keep]
        rows = keep
    else:
        archs = grid
    values = measured[rows]
    factorial = anova.is_full_factorial(archs, space.choices)
    design = (
        f"full factorial: all {len(archs):,} architectures of the {space.name} space, each answered by the table"
        if factorial
        else f"exact over the table's {len(archs):,} cells (not a full factorial: terms are group means over them)"
    )
    named = [s for s in table.seeds if s is not None]
    count = SEED_BOOTSTRAPS if repeats is None else repeats
    replicas: list[tuple[np.ndarray, np.ndarray]] = []
    interval = "none: every cell is in the table, which holds a mean over seeds only"
    if len(named) >= 2 and count > 0:
        per_seed = np.stack([table.table(target.metric, epoch=target.epoch, seed=s)[rows] for s in named], axis=1)
        rng = np.random.default_rng(seed)
        for _ in range(count):
            pick = per_seed[np.arange(len(rows))[:, None], rng.integers(len(named), size=(len(rows), len(named)))]
            with np.errstate(invalid="ignore"):
                replica = np.nanmean(pick, axis=1) if np.isnan(pick).any() else pick.mean(axis=1)
            replicas.append((archs, np.where(np.isfinite(replica), replica, values)))
        interval = f"95 % bootstrap over the table's {len(named)} training seeds ({count} resamples)"
    elif len(named) >= 2:
        interval = "none asked (repeats=0)"
    out = _build(space, target, design, True, archs, values, replicas, interval, factorial)
    out.table = table
    out.seconds = time.perf_counter() - start
    return out


def _estimated(
    table: TabularBenchmark,
    target: Target,
    grid: np.ndarray | None,
    repeats: int | None,
    model: str,
    features: str | None,
    samples: int,
    seed: int,
    train: np.ndarray | None,
    start: float,
) -> Landscape:
    from nasbench.surrogates.surrogate import Surrogate

    space = table.space
    width = len(space.choices)
    if train is None:
        measured = table.table(target.metric, epoch=target.epoch)
        keep = np.isfinite(measured)
        train_archs = np.asarray(table.archs(), dtype=np.int64).reshape(-1, width)[keep]
        train_y = measured[keep]
    else:
        train_archs = np.asarray(train, dtype=np.int64).reshape(-1, width)
        train_y = table.query_many(train_archs, epoch=target.epoch, metrics=[target.metric])[target.metric]
        keep = np.isfinite(train_y)
        train_archs, train_y = train_archs[keep], train_y[keep]
    seq = np.random.SeedSequence(seed)
    sample_seq, *refit_seqs = seq.spawn(1 + (REFITS if repeats is None else repeats))

    def points(rng: np.random.Generator) -> np.ndarray:
        if grid is not None:
            return grid
        return np.asarray(sample_many(space, rng, samples), dtype=np.int64).reshape(-1, width)

    def fit(archs: np.ndarray, y: np.ndarray, model_seed: int) -> Any:
        return Surrogate(model, features, space=space, seed=model_seed).fit(archs, y)

    point_model = fit(train_archs, train_y, seed)
    archs = points(np.random.default_rng(sample_seq))
    values = point_model.predict(archs)
    replicas = []
    for i, s in enumerate(refit_seqs):
        rng = np.random.default_rng(s)
        pick = rng.integers(len(train_y), size=len(train_y))
        refit = fit(train_archs[pick], train_y[pick], seed + 1 + i)
        where = points(rng)
        replicas.append((where, refit.predict(where)))
    over = (
        f"the whole {space.name} space ({len(archs):,} architectures)"
        if grid is not None
        else f"a uniform sample of {len(archs):,} {space.name} architectures"
    )
    design = (
        f"estimated: {point_model.model_name} ({point_model.features}) fitted on {len(train_y):,} cells, over {over}"
    )
    interval = (
        f"95 % bootstrap over the training cells ({len(refit_seqs)} refits)"
        + ("" if grid is not None else ", each over a fresh sample")
        if refit_seqs
        else "none asked (repeats=0)"
    )
    factorial = grid is not None and anova.is_full_factorial(archs, space.choices)
    out = _build(space, target, design, False, archs, values, replicas, interval, factorial)
    out.table, out.predict, out.surrogate = table, point_model.predict, point_model
    out.model, out.n_train, out.seconds = point_model.model_name, len(train_y), time.perf_counter() - start
    out.notes.append(
        f"{len(train_y):,} measured cells of the table trained the surrogate; every value of the decomposition is a "
        "prediction"
    )
    return out


def _build(
    space: SearchSpace,
    target: Target,
    design: str,
    exact: bool,
    archs: np.ndarray,
    values: np.ndarray,
    replicas: list[tuple[np.ndarray, np.ndarray]],
    interval: str,
    factorial: bool,
) -> Landscape:
    import pandas as pd

    choices = tuple(int(c) for c in space.choices)
    point = anova.main_and_pairs(archs, values, choices)
    reps = [anova.main_and_pairs(a, v, choices) for a, v in replicas]
    labels = decision_labels(space)
    total = point.total if point.total > 0 else math.nan

    def fractions(dec: anova.Decomposition) -> list[float]:
        denom = dec.total if dec.total > 0 else math.nan
        return [*(dec.main / denom), *(v / denom for v in dec.pairs.values())]

    names = [*labels, *(f"{labels[d]} × {labels[e]}" for d, e in point.pairs)]
    terms = [(d,) for d in range(len(choices))] + list(point.pairs)
    frac = np.asarray(fractions(point))
    low, high = _interval(frac, [fractions(r) for r in reps])
    importance = pd.DataFrame(
        {
            "term": names,
            "order": [len(t) for t in terms],
            "decisions": terms,
            "fraction": frac,
            "ci_low": low,
            "ci_high": high,
        }
    )
    importance = importance.sort_values(["fraction", "order"], ascending=[False, True], kind="stable")
    importance = importance.reset_index(drop=True)
    rows = []
    for d, effect in enumerate(point.effects):
        cells = np.bincount(archs[:, d], minlength=choices[d])
        e_low, e_high = _interval(effect, [r.effects[d] for r in reps])
        for c in range(choices[d]):
            rows.append(
                {
                    "decision": labels[d],
                    "d": d,
                    "choice": choice_label(space, d, c),
                    "c": c,
                    "effect": float(effect[c]),
                    "ci_low": float(e_low[c]),
                    "ci_high": float(e_high[c]),
                    "cells": int(cells[c]),
                }
            )
    effects = pd.DataFrame(rows)
    main_share = float(point.main.sum() / total)
    pair_share = float(sum(point.pairs.values()) / total)
    orders = None
    shares = {"main": main_share, "pairs": pair_share}  # "higher" too on a full factorial
    if factorial and len(choices) <= 12:
        by_order = anova.factorial_orders(anova.factorial_tensor(archs, values, choices))
        orders = [float(v / total) for v in by_order]
        shares["higher"] = float(sum(orders[2:]))
    best = int(np.argmax(target.sign * values))
    optimum = (tuple(int(v) for v in archs[best]), float(values[best]))
    return Landscape(
        space=space,
        target=target,
        design=design,
        exact=exact,
        archs=archs,
        values=np.asarray(values, dtype=np.float64),
        mean=point.mean,
        variance=point.total,
        importance=importance,
        effects=effects,
        shares=shares,
        orders=orders,
        interval=interval,
        optimum=optimum,
        replicas=len(reps),
    )


def _interval(point: np.ndarray, replicas: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over replicas; the point itself (zero width) when there are none."""
    point = np.asarray(point, dtype=np.float64)
    if not replicas:
        return point.copy(), point.copy()
    stack = np.asarray(replicas, dtype=np.float64)
    tail = 100 * (1 - CI_LEVEL) / 2
    with np.errstate(invalid="ignore"):
        return np.nanpercentile(stack, tail, axis=0), np.nanpercentile(stack, 100 - tail, axis=0)


def pair_matrix(land: Landscape) -> np.ndarray:
    """(width, width) fractions: main effects on the diagonal, pair terms off it (symmetric)."""
    width = len(land.space.choices)
    out = np.zeros((width, width))
    for row in land.importance.itertuples():
        idx = tuple(row.decisions)
        if len(idx) == 1:
            out[idx[0], idx[0]] = row.fraction
        else:
            out[idx[0], idx[1]] = out[idx[1], idx[0]] = row.fraction
    return out


def kendall_tau(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's tau-b between two importance vectors (scipy's)."""
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)


__all__ = ["Landscape", "Target", "kendall_tau", "landscape", "pair_matrix", "resolve_target", "table_of"]
