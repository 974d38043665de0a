"""PNG figures of a comparison. matplotlib is imported here only, and used through ``Figure`` objects on the Agg
canvas (no pyplot state, no display needed)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench.analysis.curves import Curve
from nasbench.analysis.stats import Direction
from nasbench.atomic import atomic_path

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 120


def _figure(width: float = 7.0, height: float = 4.5) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(fig: Figure, path: str | os.PathLike[str]) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)


def colors(labels: Sequence[str]) -> dict[str, Any]:
    """One colour per strategy, stable across every figure of a report."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(labels) <= 10 else "tab20"]
    return {label: cmap(i % cmap.N) for i, label in enumerate(labels)}


def plot_curves(
    curves: dict[str, Curve],
    path: str | os.PathLike[str],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    scale: float = 100.0,
    direction: Direction = "max",
    offset: float | None = None,
    logx: bool = False,
    logy: bool = False,
    palette: dict[str, Any] | None = None,
    optimum: float | None = None,
) -> Path:
    """Mean ± standard error bands; ``optimum`` (raw, on a score plot) is drawn as a dashed line. Plots
    ``scale * mean`` or, with ``offset`` (the optimum), the regret ``scale * (offset - mean)`` for a "max" metric
    and ``scale * (mean - offset)`` for a "min" one, so that regret is >= 0 either way; on a log y axis
    non-positive values are left out."""
    fig = _figure()
    ax = fig.add_subplot()
    palette = palette or colors(list(curves))
    sign = 1.0 if direction == "max" else -1.0
    for label, c in curves.items():
        y = sign * scale * (offset - c.mean) if offset is not None else scale * c.mean
        lo, hi = y - scale * c.se, y + scale * c.se
        if logy:
            y, lo = np.where(y > 0, y, np.nan), np.where(lo > 0, lo, np.nan)
            lo = np.where(np.isnan(lo), y, lo)
        ax.plot(c.grid, y, color=palette[label], label=label, lw=1.6, drawstyle="steps-post")
        ax.fill_between(c.grid, lo, hi, color=palette[label], alpha=0.2, lw=0, step="post")
    if optimum is not None and offset is None:
        ax.axhline(scale * optimum, color="black", ls="--", lw=1, label="optimum of the benchmark")
    if offset is None and not logy and curves:
        _settled_ylim(ax, curves, scale, sign, None if optimum is None else sign * scale * optimum)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)


def _settled_ylim(ax: Any, curves: dict[str, Curve], scale: float, sign: float, optimum: float | None) -> None:
    """The first few evaluations sit far on the bad side of the rest (below for "max", above for "min"); bound
    the axis where the curves have settled a little, and just past the best band (and the optimum line)."""
    settled = [
        sign * scale * c.mean[len(c.grid) // 20] for c in curves.values() if not np.isnan(c.mean[len(c.grid) // 20])
    ]
    best: list[float] = [
        np.nanmax(sign * scale * c.mean + scale * c.se) for c in curves.values() if not np.all(np.isnan(c.mean))
    ]  # higher-is-better units
    if optimum is not None:
        best.append(optimum)
    if settled and best and max(best) > min(settled):
        pad = 0.05 * (max(best) - min(settled))
        lo, hi = sorted((sign * (min(settled) - pad), sign * (max(best) + pad)))
        ax.set_ylim(lo, hi)


def plot_ranks(curves: dict[str, Curve], path: str | os.PathLike[str], *, xlabel: str, palette: dict[str, Any]) -> Path:
    """Average rank (1 = best) over paired seeds, ± standard error."""
    fig = _figure()
    ax = fig.add_subplot()
    for label, c in curves.items():
        ax.plot(c.grid, c.mean, color=palette[label], label=label, lw=1.6, drawstyle="steps-post")
        ax.fill_between(c.grid, c.mean - c.se, c.mean + c.se, color=palette[label], alpha=0.2, lw=0, step="post")
    k = len(curves)
    ax.set_ylim(k + 0.2, 0.8)  # rank 1 on top
    ax.set_yticks(range(1, k + 1))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("average rank (1 = best)")
    ax.set_title("Average rank over paired seeds")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)


def plot_cd_diagram(
    labels: Sequence[str],
    avg_ranks: Sequence[float],
    cd: float,
    cliques: Sequence[tuple[int, int]],
    path: str | os.PathLike[str],
    *,
    title: str = "",
) -> Path:
    """Demšar's critical-difference diagram: strategies placed at their average rank (1 = best, on the left);
    a thick bar joins strategies whose ranks differ by less than the critical difference ``cd``."""
    order = np.argsort(avg_ranks, kind="stable")
    ranks = np.asarray(avg_ranks, dtype=float)[order]
    names = [labels[i] for i in order]
    k = len(names)
    half = (k + 1) // 2
    fig = _figure(7.5, 1.6 + 0.32 * max(half, k - half) + 0.15 * len(cliques))
    ax = fig.add_subplot()
    ax.set_axis_off()
    lo, hi = 1.0, float(max(k, 2))
    axis_y = 0.0
    ax.hlines(axis_y, lo, hi, color="black", lw=1)
    for r in range(1, int(hi) + 1):
        ax.vlines(r, axis_y, axis_y + 0.12, color="black", lw=1)
        ax.text(r, axis_y + 0.2, str(r), ha="center", va="bottom", fontsize=9)
    # The critical difference as a ruler above the axis.
    ax.hlines(axis_y + 0.75, lo, lo + cd, color="black", lw=1.5)
    ax.vlines([lo, lo + cd], axis_y + 0.68, axis_y + 0.82, color="black", lw=1.5)
    ax.text(lo + cd / 2, axis_y + 0.88, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
    # Cliques as bars just under the axis.
    bar_y = axis_y - 0.25
    for start, end in cliques:
        ax.hlines(bar_y, ranks[start] - 0.03, ranks[end] + 0.03, color="black", lw=3.5)
        bar_y -= 0.18
    # Labels: the better half on the left, the rest on the right, each with an elbow line to its rank.
    top = bar_y - 0.15
    step = 0.4
    for i, (name, r) in enumerate(zip(names, ranks, strict=True)):
        left = i < half
        row = i if left else k - 1 - i
        y = top - step * row
        x_text = lo - 0.35 if left else hi + 0.35
        ax.plot([r, r, x_text], [axis_y, y, y], color="0.3", lw=0.9)
        ax.text(
            x_text + (-0.05 if left else 0.05),
            y,
            f"{name} ({r:.2f})",
            ha="right" if left else "left",
            va="center",
            fontsize=9,
        )
    bottom = top - step * (max(half, k - half) - 1) - 0.3
    ax.set_ylim(bottom, axis_y + 1.2)
    ax.set_xlim(lo - 0.4, hi + 0.4)
    if title:
        ax.set_title(title, fontsize=10)
    # Room for the labels outside the rank axis.
    longest = max((len(n) for n in names), default=4) + 7
    fig.set_figwidth(max(7.5, 4.0 + 0.14 * longest))
    return _save(fig, path)


def plot_fronts(
    true_front: np.ndarray,
    median_fronts: dict[str, np.ndarray],
    surfaces: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    grid: np.ndarray,
    path: str | os.PathLike[str],
    *,
    xlabel: str,
    ylabel: str,
    scale: float,
    title: str,
    palette: dict[str, Any],
) -> Path:
    """Two panels over (cost, score): left, each strategy's median run's final front with the true front; right,
    each strategy's 50 % attainment surface with the band between its 25 % and 75 % surfaces."""
    fig = _figure(11.0, 4.5)
    left, right = fig.subplots(1, 2, sharey=True)
    for ax in (left, right):
        if len(true_front):
            order = np.argsort(true_front[:, 1])
            ax.step(true_front[order, 1], scale * true_front[order, 0], where="post", color="black", lw=1,
                    ls="--", label="true front")  # fmt: skip
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    for label, front in median_fronts.items():
        if len(front):
            order = np.argsort(front[:, 1])
            left.step(front[order, 1], scale * front[order, 0], where="post", color=palette[label], label=label)
            left.plot(front[order, 1], scale * front[order, 0], "o", ms=3, color=palette[label])
    for label, (low, mid, high) in surfaces.items():
        right.step(grid, scale * mid, where="post", color=palette[label], label=label)
        right.fill_between(grid, scale * low, scale * high, step="post", color=palette[label], alpha=0.15, lw=0)
    if len(true_front) >= 3:  # the cheapest arch often scores near chance: start the axis at the next one
        levels = np.unique(scale * true_front[:, 0])
        top, second = levels[-1], levels[1]
        left.set_ylim(second - 0.1 * (top - second), top + 0.05 * (top - second))
    left.set_ylabel(ylabel)
    left.set_title("median run's final front")
    right.set_title("attainment: 50 % (line), 25-75 % (band)")
    left.legend(fontsize=7, loc="lower right")
    fig.suptitle(title)
    return _save(fig, path)


def plot_lines(
    grid: np.ndarray,
    curves: dict[str, np.ndarray],
    path: str | os.PathLike[str],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    palette: dict[str, Any],
) -> Path:
    """One line per strategy over a common grid (e.g. a suite's normalised regret)."""
    fig = _figure()
    ax = fig.add_subplot()
    for label, values in curves.items():
        ax.plot(grid, values, color=palette[label], label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)
