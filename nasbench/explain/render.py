"""An explanation written out: ``explain.md`` (Markdown with the figures beside it), ``explain.json`` (the same
numbers for machines) and PNG figures (importance bars, interaction heatmap, effect of each choice, the winner's
contribution waterfall; for a comparison, what each strategy kept and how far its proposals were from the optimum).

The output folder is nasbench's own (``owned.claim``): a rerun replaces the files nasbench wrote there and keeps
any other. matplotlib draws on ``Figure`` objects (Agg canvas, no display), imported only here.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench import owned
from nasbench.atomic import atomic_path, atomic_write_text
from nasbench.explain.landscape import Landscape, decision_labels, pair_matrix
from nasbench.explain.learned import Learned
from nasbench.explain.winner import ArchExplanation

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KIND = "explanation"
MARKDOWN = "explain.md"
JSON_FILE = "explain.json"
DPI = 110
_TOP_PAIRS = 10


def units(land: Landscape) -> tuple[float, str, str]:
    """(display scale, unit of a value, unit of a difference): accuracies in % and percentage points."""
    if land.metric.endswith("_acc"):
        return 100.0, "%", "pp"
    return 1.0, land.metric, land.metric


def write(
    out: str | os.PathLike[str],
    land: Landscape,
    winner: ArchExplanation | None,
    learn: Learned | None = None,
    *,
    plots: bool = True,
    inputs: Sequence[str | os.PathLike[str]] = (),
    title: str = "",
    command: str = "",
) -> list[Path]:
    """Write the explanation into ``out`` (claimed as nasbench's own); returns the files written."""
    folder = Path(out)
    previous = owned.marker(folder) if folder.exists() else None
    owned.claim(folder, KIND, inputs=inputs)
    figures = draw(folder, land, winner, learn) if plots else {}
    text = markdown(land, winner, learn, figures, title=title, command=command)
    atomic_write_text(folder / MARKDOWN, text)
    atomic_write_text(folder / JSON_FILE, json.dumps(to_json(land, winner, learn, figures), indent=1) + "\n")
    written = [folder / MARKDOWN, folder / JSON_FILE, *figures.values()]
    names = [p.name for p in written]
    owned.record(folder, *names)
    for stale in (previous or {}).get("files", []):  # a figure an earlier run drew and this one did not
        path = folder / stale
        if stale not in names and Path(stale).name == stale and path.is_file() and not path.is_symlink():
            path.unlink()
    mark = owned.marker(folder)
    if mark is not None:
        owned.write_marker(folder, KIND, [n for n in mark["files"] if (folder / n).exists()])
    return written


# ---------------------------------------------------------------- figures


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _save(fig: Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def draw(folder: Path, land: Landscape, winner: ArchExplanation | None, learn: Learned | None) -> dict[str, Path]:
    figs = {
        "importance": _save(importance_figure(land), folder / "importance.png"),
        "interactions": _save(interaction_figure(land), folder / "interactions.png"),
        "effects": _save(effects_figure(land), folder / "effects.png"),
    }
    if winner is not None:
        figs["waterfall"] = _save(waterfall_figure(land, winner), folder / "waterfall.png")
    if learn is not None:
        figs["choices"] = _save(choices_figure(learn), folder / "choices.png")
        figs["distance"] = _save(distance_figure(learn), folder / "distance.png")
    return figs


def _subtitle(land: Landscape) -> str:
    return f"{land.metric}@{land.epoch} on {land.space.name}; " + ("exact" if land.exact else "estimated")


def importance_figure(land: Landscape) -> Figure:
    imp = land.importance
    rows = [*imp[imp["order"] == 1].itertuples(), *imp[imp["order"] == 2].head(_TOP_PAIRS).itertuples()]
    rows.reverse()
    fig = _figure(7.5, 0.3 * len(rows) + 1.4)
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    frac = np.array([100 * r.fraction for r in rows])
    err = np.array([[100 * (r.fraction - r.ci_low), 100 * (r.ci_high - r.fraction)] for r in rows]).T
    colours = ["tab:blue" if r.order == 1 else "tab:orange" for r in rows]
    ax.barh(y, frac, color=colours, xerr=np.maximum(err, 0) if err.any() else None, capsize=2)
    ax.set_yticks(y, [r.term for r in rows], fontsize=8)
    ax.set_xlabel("share of variance (%)")
    ax.set_title(f"Importance: decisions (blue) and top pairs (orange)\n{_subtitle(land)}", fontsize=10)
    return fig


def interaction_figure(land: Landscape) -> Figure:
    matrix = 100 * pair_matrix(land)
    labels = decision_labels(land.space)
    n = len(labels)
    fig = _figure(max(5.0, 0.55 * n + 2.5), max(4.0, 0.5 * n + 1.8))
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="viridis")
    ax.set_xticks(range(n), labels, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(n), labels, fontsize=7)
    if n <= 12:
        for i in range(n):
            for j in range(n):
                ax.text(j, i, f"{matrix[i, j]:.1f}", ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(image, ax=ax, label="share of variance (%); diagonal: the decision alone")
    ax.set_title(f"Interactions ({_subtitle(land)})", fontsize=10)
    return fig


def effects_figure(land: Landscape) -> Figure:
    scale, _, diff = units(land)
    labels = decision_labels(land.space)
    n = len(labels)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig = _figure(3.2 * cols, 2.2 * rows + 0.6)
    axes = fig.subplots(rows, cols, squeeze=False)
    for d in range(rows * cols):
        ax = axes[d // cols][d % cols]
        if d >= n:
            ax.set_axis_off()
            continue
        part = land.effects[land.effects["d"] == d]
        y = np.arange(len(part))
        effect = scale * part["effect"].to_numpy()
        err = scale * np.vstack([part["effect"] - part["ci_low"], part["ci_high"] - part["effect"]])
        sign = land.target.sign
        colours = ["tab:green" if sign * e > 0 else "tab:red" for e in effect]
        ax.barh(y, effect, color=colours, xerr=np.maximum(err, 0) if np.any(err > 0) else None, capsize=2)
        ax.axvline(0, color="k", lw=0.6)
        ax.set_yticks(y, list(part["choice"]), fontsize=7)
        ax.set_title(labels[d], fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(f"Effect of each choice ({diff}, vs the mean; {_subtitle(land)})", fontsize=10)
    return fig


def waterfall_figure(land: Landscape, winner: ArchExplanation) -> Figure:
    scale, unit, diff = units(land)
    parts = winner.contributions.reindex(winner.contributions["contribution"].abs().sort_values(ascending=False).index)
    names = ["baseline", *(f"{r.decision}: {r.choice}" for r in parts.itertuples()), "value"]
    fig = _figure(7.5, 0.32 * len(names) + 1.5)
    ax = fig.add_subplot()
    level = scale * winner.baseline_value
    bars = [(0.0, level, "tab:gray")]
    for value in scale * parts["contribution"].to_numpy():
        good = land.target.sign * value >= 0
        bars.append((level, value, "tab:green" if good else "tab:red"))
        level += value
    bars.append((0.0, level, "tab:blue"))
    lo = min(min(s, s + w) for s, w, _ in bars[1:-1]) if len(bars) > 2 else level
    lo = min(lo, scale * winner.baseline_value, level)
    for i, (start, width, colour) in enumerate(bars):
        ax.barh(len(bars) - 1 - i, width, left=start, color=colour)
    ax.set_yticks(range(len(bars)), list(reversed(names)), fontsize=8)
    span = max(level, scale * winner.baseline_value) - lo
    ax.set_xlim(lo - 0.4 * span - 1e-9, max(level, scale * winner.baseline_value) + 0.15 * span + 1e-9)
    ax.set_xlabel(f"{land.metric} ({unit}); steps in {diff}")
    ax.set_title(f"Why {winner.arch_str[:60]} scores {scale * winner.value:.2f}\n({winner.method})", fontsize=9)
    return fig


def choices_figure(learn: Learned) -> Figure:
    land = learn.landscape
    main = land.importance[land.importance["order"] == 1]
    order = [int(r.decisions[0]) for r in main.itertuples()]  # most important first
    best = {d: land.best_choice(d) for d in order}
    labels = decision_labels(land.space)
    strategies = list(learn.summary["strategy"])
    fig = _figure(8.0, 4.2)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(strategies))
    x = np.arange(len(order))
    for i, label in enumerate(strategies):
        mine = learn.choices[learn.choices["strategy"] == label]
        share = [float(mine[(mine["d"] == d) & (mine["c"] == best[d])]["share_late"].iloc[0]) for d in order]
        ax.bar(x + i * width - 0.4 + width / 2, [100 * s for s in share], width, label=label)
    uniform = [100 / land.space.choices[d] for d in order]
    ax.step(np.r_[x - 0.5, x[-1] + 0.5], [*uniform, uniform[-1]], where="post", color="k", lw=0.8, label="at random")
    frac = {int(r.decisions[0]): 100 * r.fraction for r in main.itertuples()}
    ax.set_xticks(
        x,
        [f"{labels[d]}\n{land.space.options[d][best[d]]}\n({frac[d]:.0f} % of var.)" for d in order],
        fontsize=7,
    )
    ax.set_ylabel("share of late proposals with the best choice (%)")
    ax.set_title("What each strategy kept in the last quarter of its runs (decisions by importance)", fontsize=10)
    ax.legend(fontsize=7)
    return fig


def distance_figure(learn: Learned) -> Figure:
    fig = _figure(7.0, 4.0)
    ax = fig.add_subplot()
    for label in learn.summary["strategy"]:
        part = learn.distance[learn.distance["strategy"] == label]
        ax.plot(part["evaluation"], part["distance"], label=label, lw=1.2)
    ax.set_xlabel("evaluation")
    ax.set_ylabel("decisions differing from the optimum (mean over runs)")
    ax.set_title("Where the evaluations went: distance to the optimum", fontsize=10)
    ax.legend(fontsize=7)
    return fig


# ---------------------------------------------------------------- text


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(":---" if i == 0 else "---:" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return out


def _ci(land: Landscape, low: float, high: float, scale: float, digits: int = 2) -> str:
    if land.replicas == 0:
        return "–"
    return f"[{scale * low:.{digits}f}, {scale * high:.{digits}f}]"


def landscape_lines(land: Landscape) -> list[str]:
    scale, unit, diff = units(land)
    shares = land.shares
    kind = "Exact" if land.exact else "Estimated"
    lines = [
        f"- {kind}: {land.design}.",
        f"- Metric `{land.metric}` at epoch {land.epoch} ({'higher' if land.target.sign > 0 else 'lower'} is better); "
        f"mean {scale * land.mean:.2f} {unit}, standard deviation {scale * math.sqrt(land.variance):.2f} {diff}.",
        f"- Share of variance: main effects {100 * shares['main']:.1f} %, pairs {100 * shares['pairs']:.1f} %"
        + (
            f", higher orders {100 * shares['higher']:.1f} % (all orders add up to the variance exactly)"
            if shares.get("higher") is not None
            else " (not a full factorial: no higher-order remainder is claimed)"
        )
        + ".",
        f"- Intervals: {land.interval}.",
        *(f"- {note}." for note in land.notes),
    ]
    return lines


def markdown(
    land: Landscape,
    winner: ArchExplanation | None,
    learn: Learned | None,
    figures: dict[str, Path],
    *,
    title: str = "",
    command: str = "",
) -> str:
    scale, _, diff = units(land)

    def fig(key: str, caption: str) -> list[str]:
        return [f"![{caption}]({figures[key].name})", ""] if key in figures else []

    imp = land.importance
    lines = [f"# {title or f'Why architectures win: {land.metric}@{land.epoch} on {land.space.name}'}", ""]
    if command:
        lines += [f"Made by `{command}` in {land.seconds:.1f} s (the landscape).", ""]
    lines += ["## The landscape", "", *landscape_lines(land), ""]
    lines += ["### Importance of each decision", ""]
    lines += _table(
        ["decision", "share of variance (%)", "95 % interval"],
        [
            [r.term, f"{100 * r.fraction:.2f}", _ci(land, r.ci_low, r.ci_high, 100)]
            for r in imp[imp["order"] == 1].itertuples()
        ],
    )
    lines += ["", f"### Top pairs (of {int((imp['order'] == 2).sum())})", ""]
    lines += _table(
        ["pair", "share of variance (%)", "95 % interval"],
        [
            [r.term, f"{100 * r.fraction:.2f}", _ci(land, r.ci_low, r.ci_high, 100)]
            for r in imp[imp["order"] == 2].head(5).itertuples()
        ],
    )
    lines += ["", *fig("importance", "importance"), *fig("interactions", "interactions")]
    lines += [f"### The largest choice effects ({diff} against the mean)", ""]
    lines += _table(
        ["decision", "choice", f"effect ({diff})", "95 % interval", "cells"],
        [
            [r.decision, r.choice, f"{scale * r.effect:+.2f}", _ci(land, r.ci_low, r.ci_high, scale), str(r.cells)]
            for r in land.top_effects(6).itertuples()
        ],
    )
    lines += ["", *fig("effects", "effect of each choice")]
    if winner is not None:
        lines += winner_lines(land, winner, fig)
    if learn is not None:
        lines += learned_lines(learn, fig)
    return "\n".join(lines).rstrip() + "\n"


def winner_lines(land: Landscape, winner: ArchExplanation, fig: Any) -> list[str]:
    scale, unit, diff = units(land)
    measured = (
        f"measured {scale * winner.measured:.2f} {unit}"
        if math.isfinite(winner.measured)
        else "not in the table (predicted)"
    )
    base = (
        f"the median architecture `{land.space.to_str(winner.baseline_arch)}`"
        if winner.baseline_arch is not None
        else "the mean over the design"
        if winner.baseline == "mean"
        else "the model's mean over its training cells"
    )
    lines = [
        "## The winner explained",
        "",
        f"`{winner.arch_str}`: {scale * winner.value:.2f} {unit} ({measured}). Contributions are {winner.method}, "
        f"against {base} ({scale * winner.baseline_value:.2f} {unit}); they add up to "
        f"{scale * winner.total:+.2f} {diff} = value − baseline.",
        "",
    ]
    parts = winner.contributions.reindex(winner.contributions["contribution"].abs().sort_values(ascending=False).index)
    lines += _table(
        ["decision", "choice", f"contribution ({diff})"],
        [[r.decision, r.choice, f"{scale * r.contribution:+.3f}"] for r in parts.itertuples()],
    )
    lines += ["", *fig("waterfall", "contribution waterfall")]
    near = winner.neighbours.sort_values("gain", ascending=False, kind="stable")
    better = int((near["gain"] > 0).sum())
    lines += [
        "### Counterfactual neighbours",
        "",
        f"Every single-decision change ({len(near)}), best first; {better} of them would do better. `source`: the "
        "table (measured) or the surrogate (predicted).",
        "",
    ]
    lines += _table(
        ["decision", "change", f"{land.metric} ({unit})", f"gain ({diff})", "source"],
        [
            [
                r.decision,
                f"{r.from_choice} → {r.to_choice}" + (" (same network)" if r.same_network else ""),
                f"{scale * r.value:.2f}",
                f"{scale * r.gain:+.2f}",
                r.source,
            ]
            for r in near.itertuples()
        ],
    )
    return [*lines, ""]


def learned_lines(learn: Learned, fig: Any) -> list[str]:
    land = learn.landscape
    scale, unit, diff = units(land)
    lines = [
        "## What each strategy learned",
        "",
        f"From `{learn.results_dir}`: the optimum is `{land.space.to_str(learn.optimum[0])}` "
        f"({scale * learn.optimum[1]:.2f} {unit}); the most important decision is "
        f"{learn.summary['top_decision'].iloc[0]}, where the best choice on average is "
        f"{learn.summary['top_choice'].iloc[0]}.",
        "",
        *(f"- {s}" for s in learn.summary["sentence"]),
        "",
    ]
    lines += _table(
        ["strategy", "runs", "reached", "median evals to reach", f"median final regret ({diff})", "late share", "ρ"],
        [
            [
                r.strategy,
                str(r.runs),
                str(r.reached_runs),
                "–" if math.isnan(r.reach_median) else f"{r.reach_median:.0f}",
                f"{scale * r.final_regret_median:.2f}",
                f"{100 * r.top_share_late:.0f} %",
                "–" if math.isnan(r.alignment) else f"{r.alignment:.2f}",
            ]
            for r in learn.summary.itertuples()
        ],
    )
    lines += ["", *fig("choices", "choices kept"), *fig("distance", "distance to the optimum")]
    lines += [
        "### Final incumbents",
        "",
        f"Each strategy's most frequent final incumbent; the winner is {learn.winner}.",
        "",
    ]
    lines += _table(
        ["strategy", "architecture", "runs", f"{land.metric} ({unit})"],
        [
            [r.strategy, f"`{r.arch}`", f"{r.runs} of {r.of}", f"{scale * r.score:.2f}"]
            for r in learn.incumbents.itertuples()
        ],
    )
    return [*lines, ""]


# ---------------------------------------------------------------- json


def _records(frame: Any) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def to_json(
    land: Landscape, winner: ArchExplanation | None, learn: Learned | None, figures: dict[str, Path]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "landscape": {
            "space": land.space.name,
            "metric": land.metric,
            "epoch": land.epoch,
            "direction": land.target.direction,
            "exact": land.exact,
            "design": land.design,
            "cells": len(land.values),
            "mean": land.mean,
            "variance": land.variance,
            "shares": land.shares,
            "orders": land.orders,
            "interval": land.interval,
            "model": land.model,
            "n_train": land.n_train,
            "replicas": land.replicas,
            "seconds": land.seconds,
            "optimum": {"arch": land.space.to_str(land.optimum[0]), "value": land.optimum[1]},
            "importance": _records(land.importance),
            "effects": _records(land.effects),
        },
        "figures": {k: v.name for k, v in figures.items()},
    }
    if winner is not None:
        out["winner"] = {
            "arch": winner.arch_str,
            "value": winner.value,
            "measured": winner.measured,
            "method": winner.method,
            "baseline": winner.baseline,
            "baseline_value": winner.baseline_value,
            "baseline_arch": None if winner.baseline_arch is None else land.space.to_str(winner.baseline_arch),
            "contributions": _records(winner.contributions),
            "neighbours": _records(winner.neighbours),
        }
    if learn is not None:
        out["learned"] = {
            "results_dir": str(learn.results_dir),
            "optimum": {"arch": land.space.to_str(learn.optimum[0]), "value": learn.optimum[1]},
            "within": learn.within,
            "winner": learn.winner,
            "summary": _records(learn.summary),
            "incumbents": _records(learn.incumbents),
            "choices": _records(learn.choices),
        }
    return _clean(out)
