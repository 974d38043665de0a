"""How good is a surrogate? Rank and error metrics over repeated random train/test splits and training sizes.

As White et al. (2021, "How powerful are performance predictors in NAS?"): for each training-set size (log-spaced)
and trial, draw a random training set, fit, and score on every other architecture with a finite target. The same
splits are used for every model, so models are compared on paired data.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import atomic_path, atomic_write_text
from nasbench.errors import InvalidQuery
from nasbench.spaces.base import SearchSpace
from nasbench.surrogates.static import StaticTable
from nasbench.surrogates.surrogate import Surrogate, target_epoch, target_metric

log = logging.getLogger(__name__)

SCORES = ("kendall_tau", "spearman_rho", "r2", "mae", "sparse_kendall_tau", "top_precision")


def score(y_true: np.ndarray, y_pred: np.ndarray, *, top_fraction: float = 0.01) -> dict[str, float]:
    """Kendall tau, Spearman rho, R2, MAE, sparse Kendall tau (predictions rounded to 0.1 % as NB301) and top-k
    precision: the share of the truly best ``top_fraction`` that the predictions also put in their best k."""
    from scipy import stats
    from sklearn.metrics import mean_absolute_error, r2_score

    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if len(y_true) != len(y_pred) or len(y_true) < 2:
        raise InvalidQuery(f"need two or more paired values to score, got {len(y_true)} and {len(y_pred)}")
    k = max(1, math.ceil(top_fraction * len(y_true)))
    top_true = set(np.argsort(-y_true, kind="stable")[:k].tolist())
    top_pred = set(np.argsort(-y_pred, kind="stable")[:k].tolist())
    ss_tot = float(((y_true - y_true.mean()) ** 2).sum())
    return {
        "kendall_tau": _rank_corr(stats.kendalltau, y_true, y_pred),
        "spearman_rho": _rank_corr(stats.spearmanr, y_true, y_pred),
        "r2": float(r2_score(y_true, y_pred)) if ss_tot > 0 else float("nan"),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "sparse_kendall_tau": _rank_corr(stats.kendalltau, y_true, np.round(y_pred, 3)),
        "top_precision": len(top_true & top_pred) / k,
    }


def _rank_corr(fn: Callable[..., Any], a: np.ndarray, b: np.ndarray) -> float:
    """A rank correlation; a constant side (no ranking at all) counts as 0 rather than NaN, so means stay defined."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(fn(a, b).statistic)


@dataclass(frozen=True)
class ModelSpec:
    """One contender: a model name, its features (None = the model's default) and constructor parameters."""

    model: str
    features: str | None = None
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        """``"xgboost"`` or ``"xgboost:path+static"`` (model, then features)."""
        model, _, features = text.partition(":")
        return cls(model.strip(), features.strip() or None)

    def make(self, seed: int = 0, *, space: SearchSpace | str, static: StaticTable | None = None) -> Surrogate:
        """An unfitted surrogate for ``space``; unknown models, parameters or features raise now."""
        return Surrogate(self.model, self.features, space=space, params=dict(self.params), seed=seed, static=static)


def log_sizes(low: int, high: int, count: int) -> list[int]:
    """``count`` log-spaced integer training sizes from ``low`` to ``high`` (duplicates removed)."""
    return sorted({round(float(v)) for v in np.geomspace(low, high, count)})


def evaluate(
    bench: Any,
    metric: str | None,
    epoch: int | None,
    specs: Sequence[ModelSpec],
    sizes: Sequence[int],
    *,
    trials: int = 10,
    seed: int = 0,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """One record per (model, size, trial): the scores on the held-out archs plus fit and predict seconds.
    ``bench`` is a store of any space (a :class:`~nasbench.benchmark.TabularBenchmark`); ``metric`` None is its
    default score metric. A minimised metric (a loss) is scored on its negation, so "top" means best."""
    metric = target_metric(bench, metric)
    epoch = target_epoch(bench, epoch)
    archs = np.asarray(bench.archs(), dtype=np.int64).reshape(-1, len(bench.space.choices))
    static = StaticTable.from_bench(bench)
    labels = {spec: f"{spec.model}:{spec.make(space=bench.space, static=static).features}" for spec in specs}
    y = bench.table(metric, epoch=epoch)
    sign = -1.0 if bench.directions.get(metric) == "min" else 1.0
    finite = np.flatnonzero(np.isfinite(y))
    if len(finite) < len(y):
        log.warning("evaluation ignores %d archs whose %s@%s is NaN", len(y) - len(finite), metric, epoch)
    if max(sizes) >= len(finite) - 1:
        raise InvalidQuery(f"training size {max(sizes)} leaves no test set: only {len(finite)} archs have a target")
    records: list[dict[str, Any]] = []
    for size in sizes:
        for trial in range(trials):
            rng = np.random.default_rng([seed, size, trial])
            perm = rng.permutation(finite)
            train, test = perm[:size], perm[size:]
            for spec in specs:
                surrogate = spec.make(seed=trial, space=bench.space, static=static)
                t0 = time.perf_counter()
                surrogate.fit(archs[train], y[train])
                t1 = time.perf_counter()
                pred = surrogate.predict(archs[test])
                t2 = time.perf_counter()
                rec = {
                    "model": labels[spec],
                    "metric": metric,
                    "epoch": epoch,
                    "size": int(size),
                    "trial": trial,
                    "n_test": len(test),
                }
                rec.update(score(sign * y[test], sign * pred))
                rec.update({"fit_s": t1 - t0, "predict_s": t2 - t1})
                records.append(rec)
                if progress is not None:
                    progress(rec)
    return records


def summarize(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean and std over trials per (model, size), in first-seen model order and increasing size."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for rec in records:
        groups.setdefault((rec["model"], rec["size"]), []).append(rec)
    models = list(dict.fromkeys(r["model"] for r in records))
    rows = []
    for (model, size), recs in sorted(groups.items(), key=lambda kv: (models.index(kv[0][0]), kv[0][1])):
        row: dict[str, Any] = {"model": model, "size": size, "trials": len(recs)}
        for key in (*SCORES, "fit_s", "predict_s"):
            values = np.asarray([r[key] for r in recs], dtype=np.float64)
            row[key] = float(values.mean())
            row[f"{key}_std"] = float(values.std())
        rows.append(row)
    return rows


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table: mean ± std over trials of every score, fit seconds."""
    head = ["model", "n_train", "trials", "kendall τ", "spearman ρ", "R²", "MAE", "sparse τ", "top-1% prec", "fit s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["model"], str(r["size"]), str(r["trials"])]
        cells += [f"{r[k]:.3f} ± {r[k + '_std']:.3f}" for k in SCORES]
        cells.append(f"{r['fit_s']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(rows: Sequence[dict[str, Any]], path: str | Path, *, score_name: str = "kendall_tau", title: str = "") -> Path:
    """PNG of a score against training-set size (log x), one line per model with a ±std band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        x = np.asarray([r["size"] for r in mine])
        m = np.asarray([r[score_name] for r in mine])
        s = np.asarray([r[f"{score_name}_std"] for r in mine])
        ax.plot(x, m, marker="o", label=model)
        ax.fill_between(x, m - s, m + s, alpha=0.15)
    ax.set_xscale("log")
    ax.set_xlabel("training architectures")
    ax.set_ylabel(score_name.replace("_", " "))
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return path


def write_table(rows: Sequence[dict[str, Any]], path: str | Path) -> None:
    atomic_write_text(path, format_table(rows))
