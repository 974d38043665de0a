"""Validate finalists: train them again for real and compare with what the benchmark said.

For each finalist: the measured mean ± std over fresh seeds, the benchmark's value (stored mean over its seeds,
or, for a cell the table lacks, the prediction of the surrogate a hybrid comparison answered it with), and whether
the benchmark's value lies within the seed noise — within two standard errors of the difference,
sqrt(sd_measured^2 / n_measured + sd_stored^2 / n_stored) (the stored term is left out when the benchmark has one
seed or is a prediction). Over all finalists: Kendall tau between the benchmark's and the measured ranking.
Trainings go through the builder, so an interrupted validation resumes.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import atomic_path, atomic_write_text
from nasbench.errors import NasbenchError, RecipeError
from nasbench.spaces.nb201 import NB201Space
from nasbench.store import read_store
from nasbench.train.builder import BuildConfig, build
from nasbench.train.data import DATASETS
from nasbench.train.recipe import Recipe
from nasbench.train.registry import require_network

log = logging.getLogger(__name__)

Arch = tuple[int, ...]


@dataclass(frozen=True)
class ValidationRow:
    arch: Arch
    benchmark_mean: float
    benchmark_std: float
    benchmark_seeds: int
    measured_mean: float
    measured_std: float
    measured_seeds: int
    within_noise: bool
    benchmark_source: str  # "table" or "surrogate"


def finalists_from_comparison(results_dir: str | Path, k: int) -> list[Arch]:
    """The ``k`` architectures most often returned (final incumbent) by the runs of a comparison, all strategies
    pooled; ties go to the lexicographically smaller arch."""
    from nasbench.runner.experiment import read_runs

    if k < 1:
        raise NasbenchError(f"--top-k must be >= 1, got {k}")
    runs = read_runs(results_dir)
    counts = Counter(t.incumbent[-1] for t in runs if t.incumbent)
    if not counts:
        raise NasbenchError(f"{results_dir} holds no finished run with an incumbent")
    space = NB201Space()
    archs = {text: space.from_str(text) for text in counts}
    ranked = sorted(counts, key=lambda text: (-counts[text], archs[text]))[:k]
    return [archs[text] for text in ranked]


def store_recipe(protocol: dict[str, Any]) -> Recipe | None:
    raw = protocol.get("recipe")
    if not isinstance(raw, dict):
        return None
    try:
        return Recipe.from_dict(raw)
    except (RecipeError, TypeError):
        return None


def validate(
    store: str | Path,
    archs: Sequence[Arch],
    out_dir: str | Path,
    *,
    seeds: Sequence[int] = (1000, 1001, 1002),
    metric: str = "test_acc",
    epoch: int | None = None,
    recipe: Recipe | None = None,
    allow_recipe_mismatch: bool = False,
    data_dir: str | None = None,
    device: str = "cpu",
    workers: int = 1,
    plot: bool = True,
    surrogate: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Train ``archs`` x ``seeds`` under the store's recipe and write ``report.json``, ``report.md`` and
    ``validation.png`` into ``out_dir``. Returns the report as a dict. ``surrogate``: a saved surrogate folder
    (a hybrid comparison's ``OUT/surrogate``) whose predictions stand in for cells the table lacks;
    ``progress(done, total)`` is called after each finished training."""
    data = read_store(store)
    require_network(data.space, "nasbench validate")
    space = NB201Space()
    archs = [space.validate(a) for a in archs]
    if not archs:
        raise NasbenchError("no architecture to validate")
    if len(set(seeds)) != len(seeds) or len(seeds) < 2:
        raise NasbenchError(f"validation needs at least 2 distinct seeds to measure noise, got {list(seeds)}")
    overlap = sorted(set(seeds) & {s for s in data.seeds if s is not None})
    if overlap:
        raise NasbenchError(
            f"validation seeds {overlap} were used to build the store; pick others (default 1000,1001,1002) so "
            "the measurement is independent of the stored values"
        )
    if metric not in data.metrics:
        raise NasbenchError(f"the store has no metric {metric!r}; it holds {', '.join(sorted(data.metrics))}")
    if data.dataset not in DATASETS:
        raise NasbenchError(
            f"the store's dataset {data.dataset!r} cannot be trained here; trainable datasets: {', '.join(DATASETS)}"
        )
    built_with = store_recipe(data.protocol)
    if recipe is None:
        if built_with is None:
            raise RecipeError(
                f"{store} does not record a nasbench recipe; give one (--recipe) and --allow-recipe-mismatch"
            )
        recipe = built_with
    elif built_with is None or built_with.differences(recipe):
        diff = built_with.differences(recipe) if built_with is not None else "store records no recipe"
        if not allow_recipe_mismatch:
            raise RecipeError(
                f"the recipe differs from the one the store was built with ({diff}); measured and stored values "
                "would not be comparable. Pass --allow-recipe-mismatch to compare anyway"
            )
        log.warning("validating under a recipe unlike the store's: %s", diff)
    epoch = recipe.epochs if epoch is None else epoch
    if epoch not in data.epochs:
        raise NasbenchError(f"the store has no epoch {epoch}; it holds {list(data.epochs)}")
    if not 1 <= epoch <= recipe.epochs:
        raise NasbenchError(f"epoch {epoch} is outside the recipe's 1..{recipe.epochs}")
    stored = {int(i) for i in space.indices(data.archs)}
    missing = [a for a in archs if space.index(space.canonical(a) if data.iso_shared else a) not in stored]
    if missing and surrogate is None:  # refuse before any training
        raise NasbenchError(
            f"{space.to_str(missing[0])} is not in the store, so there is nothing to validate against; give the "
            "surrogate that predicted it (--surrogate DIR, a hybrid comparison's DIR/surrogate)"
        )
    predictor = None
    if missing:
        from nasbench.surrogates.benchmarks import SurrogateBenchmark

        assert surrogate is not None  # refused above: missing cells and no surrogate
        predictor = SurrogateBenchmark.load(surrogate, space=space.name)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = BuildConfig(
        out=out_dir / "measured.h5",
        dataset=data.dataset,
        recipe=recipe,
        archs=tuple(dict.fromkeys(archs)),
        seeds=tuple(int(s) for s in seeds),
        data_dir=data_dir,
        selection={"kind": "validation", "store": str(store)},
        workers=workers,
        device=device,
    )
    build(config, on_result=progress)
    measured = read_store(config.out)
    rows = _compare(data, measured, archs, metric, epoch, predictor)
    bench_vals = [r.benchmark_mean for r in rows]
    meas_vals = [r.measured_mean for r in rows]
    tau = _kendall(bench_vals, meas_vals)
    report = {
        "store": str(store),
        "metric": metric,
        "epoch": epoch,
        "recipe": recipe.to_dict(),
        "recipe_matches_store": built_with is not None and not built_with.differences(recipe),
        "seeds": list(seeds),
        "device": device,
        "rows": [{**r.__dict__, "arch": list(r.arch), "arch_str": space.to_str(r.arch)} for r in rows],
        "within_noise": sum(r.within_noise for r in rows),
        "finalists": len(rows),
        "kendall_tau": tau,
        "ranking_holds": bool(len(rows) < 2 or (tau is not None and tau > 0)),
        "best_by_benchmark": space.to_str(rows[int(np.argmax(bench_vals))].arch),
        "best_measured": space.to_str(rows[int(np.argmax(meas_vals))].arch),
    }
    atomic_write_text(out_dir / "report.json", json.dumps(report, indent=2))
    atomic_write_text(out_dir / "report.md", _markdown(report))
    if plot:
        _plot(rows, metric, out_dir / "validation.png")
    return report


def _compare(
    data: Any, measured: Any, archs: list[Arch], metric: str, epoch: int, predictor: Any = None
) -> list[ValidationRow]:
    space = NB201Space()
    stored_ids = {int(i): n for n, i in enumerate(space.indices(data.archs))}
    meas_ids = {int(i): n for n, i in enumerate(space.indices(measured.archs))}
    t_store = list(data.epochs).index(epoch)
    t_meas = list(measured.epochs).index(epoch)
    rows = []
    for arch in dict.fromkeys(archs):
        key = space.canonical(arch) if data.iso_shared else arch
        n = stored_ids.get(space.index(key))
        if n is not None:
            stored = data.metrics[metric][n, :, t_store]
            stored = stored[np.isfinite(stored)]
        else:  # a prediction: no seed noise of its own
            stored = np.array([getattr(predictor.query(arch, epoch=epoch), metric)])
        got = measured.metrics[metric][meas_ids[space.index(arch)], :, t_meas]
        s_mean, s_std = float(np.mean(stored)), float(np.std(stored, ddof=1)) if len(stored) > 1 else 0.0
        m_mean, m_std = float(np.mean(got)), float(np.std(got, ddof=1))
        se = math.sqrt(m_std**2 / len(got) + (s_std**2 / len(stored) if len(stored) > 1 else 0.0))
        rows.append(
            ValidationRow(
                arch=arch,
                benchmark_mean=s_mean,
                benchmark_std=s_std,
                benchmark_seeds=len(stored),
                measured_mean=m_mean,
                measured_std=m_std,
                measured_seeds=len(got),
                within_noise=abs(s_mean - m_mean) <= 2 * se,
                benchmark_source="table" if n is not None else "surrogate",
            )
        )
    return rows


def _kendall(a: Sequence[float], b: Sequence[float]) -> float | None:
    if len(a) < 2:
        return None
    from scipy.stats import kendalltau

    tau = kendalltau(a, b)[0]
    return None if tau is None or math.isnan(tau) else float(tau)


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Validation of {report['finalists']} finalists ({report['metric']} at epoch {report['epoch']})",
        "",
        f"Store: `{report['store']}`; recipe `{report['recipe']['name']}`"
        + ("" if report["recipe_matches_store"] else " (NOT the store's recipe)")
        + f"; seeds {report['seeds']} on {report['device']}.",
        "",
        "| arch | benchmark | source | measured (mean ± std) | within noise |",
        "|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| `{r['arch_str']}` | {r['benchmark_mean']:.4f} | {r['benchmark_source']} "
            f"| {r['measured_mean']:.4f} ± {r['measured_std']:.4f} | {'yes' if r['within_noise'] else 'no'} |"
        )
    tau = report["kendall_tau"]
    lines += [
        "",
        f"{report['within_noise']}/{report['finalists']} benchmark values lie within the seed noise.",
        f"Kendall tau (benchmark vs measured ranking): {'n/a' if tau is None else f'{tau:.3f}'}; "
        f"ranking {'holds' if report['ranking_holds'] else 'does not hold'}.",
        "",
    ]
    return "\n".join(lines)


def _plot(rows: list[ValidationRow], metric: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    x = [r.benchmark_mean for r in rows]
    y = [r.measured_mean for r in rows]
    ax.errorbar(x, y, yerr=[r.measured_std for r in rows], xerr=[r.benchmark_std for r in rows], fmt="o", ms=4)
    lo, hi = min(x + y), max(x + y)
    pad = (hi - lo) * 0.1 + 1e-3
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "k--", lw=0.8, label="measured = benchmark")
    ax.set_xlabel(f"benchmark {metric}")
    ax.set_ylabel(f"measured {metric} (mean ± std over seeds)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
