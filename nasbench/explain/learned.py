"""What each strategy of a comparison learned: which choices its proposals kept at each decision as its runs went
on, set against the landscape's importance map, and where its evaluations went (distance to the optimum).

Read from a results directory (``runs.jsonl``, ``experiment.json``) and the store it was computed on; the
landscape is that of the comparison's score metric at its score epoch. A store that is not the comparison's (its
SHA-256, space or dataset differ) is refused with :class:`StoreMismatch` before anything is computed.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.atomic import sha256_file
from nasbench.benchmark import TabularBenchmark
from nasbench.errors import InvalidQuery, StoreError, StoreMismatch
from nasbench.explain.landscape import Landscape, choice_label, decision_labels, landscape
from nasbench.runner.experiment import ResultsError, load_results
from nasbench.spaces.base import Arch

#: The share of each run's evaluations that counts as its start and as its end.
PHASE = 0.25


@dataclass
class Learned:
    """DataFrames, one row per strategy (``summary``, ``incumbents``), per (strategy, decision, choice)
    (``choices``: ``share`` of all proposals, ``share_early`` / ``share_late`` in the first / last quarter of each
    run) and per (strategy, evaluation) (``distance``: mean number of decisions in which the proposal differs
    from the optimum, over the runs that reached that evaluation)."""

    results_dir: Path
    config: dict[str, Any]
    landscape: Landscape
    optimum: tuple[Arch, float]
    within: float
    scale: float
    unit: str
    summary: Any
    choices: Any
    distance: Any
    incumbents: Any
    winner: str
    winner_arch: Arch


def comparison_store(
    results_dir: str | os.PathLike[str], config: dict[str, Any], store: Any = None
) -> TabularBenchmark:
    """The store a comparison was computed on (``store``: where it is now, a path or an opened table), checked to
    be the same file (SHA-256), space and dataset."""
    bench = config.get("benchmark") or {}
    if isinstance(store, TabularBenchmark):
        table, path = store, Path(store.name) if store.name else None
    else:
        path = Path(store if store is not None else str(bench.get("store", "")))
        if not path.is_file():
            raise StoreError(
                f"the store {results_dir} was computed on is not at {path}; give its current path (--store)"
            )
        table = None
    want = bench.get("sha256")
    if path is not None and path.is_file() and want:
        have = sha256_file(path)
        if have != want:
            raise StoreMismatch(
                f"{path} is not the store {results_dir} was computed on: its SHA-256 is {have[:12]}…, the "
                f"comparison's {want[:12]}… ({bench.get('space', '?')} / {bench.get('dataset', '?')}); give that store"
            )
    if table is None:
        assert path is not None
        table = TabularBenchmark.open(path)
    for key, have in (("space", table.space.name), ("dataset", table.dataset)):
        if bench.get(key) not in (None, have):
            raise StoreMismatch(
                f"the store is of {key} {have!r}, but {results_dir} compared strategies on {bench.get(key)!r}; "
                "give the comparison's store"
            )
    return table


def learned(
    results_dir: str | os.PathLike[str],
    *,
    store: Any = None,
    land: Landscape | None = None,
    within: float | None = None,
    seed: int = 0,
    repeats: int | None = None,
) -> Learned:
    """Analyze a results directory (see the module's note). ``within``: how close (in the score's raw units) an
    incumbent must come to the optimum to count as reaching it; default 0.2 percentage points for an accuracy,
    else 1 % of the landscape's range. ``land``: a landscape of the comparison's score already computed."""
    out = Path(results_dir)
    config, runs = load_results(out)
    if not runs:
        raise ResultsError(f"{out} holds no finished runs yet; run `nasbench compare` first (or let it finish)")
    table = comparison_store(out, config, land.table if land is not None else store)
    protocol = config.get("protocol") or {}
    metric, epoch = protocol.get("score_metric"), protocol.get("score_epoch")
    if land is None:
        land = landscape(table, metric, epoch, seed=seed, repeats=repeats)
    elif (land.metric, land.epoch) != (metric or land.metric, epoch or land.epoch):
        raise InvalidQuery(
            f"the landscape is of {land.metric}@{land.epoch}; the comparison scores {metric}@{epoch}: give that one"
        )
    space, target = land.space, land.target
    scale, unit = (100.0, "pp") if target.metric.endswith("_acc") else (1.0, target.metric)
    if within is None:
        within = 0.002 if target.metric.endswith("_acc") else 0.01 * float(np.ptp(land.values))
    if not (isinstance(within, (int, float)) and math.isfinite(within) and within >= 0):
        raise InvalidQuery(f"within is a number >= 0 (in the score's units), got {within!r}")
    opt = config.get("optimum")
    if isinstance(opt, dict) and isinstance(opt.get("arch"), str) and opt.get("score") is not None:
        optimum = (space.from_str(opt["arch"]), float(opt["score"]))
    else:
        optimum = land.optimum
    parsed: dict[str, Arch] = {}

    def arch_of(text: str) -> Arch:
        if text not in parsed:
            parsed[text] = space.from_str(text)
        return parsed[text]

    import pandas as pd

    labels = [s["label"] for s in config["strategies"]]
    main = land.importance[land.importance["order"] == 1]
    importance = np.zeros(len(space.choices))
    for row in main.itertuples():
        importance[row.decisions[0]] = row.fraction
    top = int(np.argmax(importance))
    top_choice = land.best_choice(top)
    names = decision_labels(space)
    best = np.asarray(optimum[0], dtype=np.int64)
    summary, choice_rows, distance_rows, incumbents = [], [], [], []
    means: dict[str, float] = {}
    for label in labels:
        mine = [t for t in runs if t.strategy == label]
        if not mine:
            continue
        X, phase = [], []
        reach: list[int] = []
        regrets = []
        dist_sum: dict[int, float] = {}
        dist_n: dict[int, int] = {}
        for traj in mine:
            arr = np.asarray([arch_of(a) for a in traj.arch], dtype=np.int64).reshape(-1, len(space.choices))
            n = len(arr)
            pos = np.arange(n)
            X.append(arr)
            phase.append(np.where(pos < PHASE * n, 0, np.where(pos >= (1 - PHASE) * n, 2, 1)))
            hamming = (arr != best[None, :]).sum(axis=1)
            for i, h in enumerate(hamming.tolist()):
                dist_sum[i + 1] = dist_sum.get(i + 1, 0.0) + h
                dist_n[i + 1] = dist_n.get(i + 1, 0) + 1
            inc = target.sign * (np.asarray(traj.incumbent_score, dtype=np.float64) - optimum[1])
            hit = np.flatnonzero(inc >= -within - 1e-12)
            if len(hit):
                reach.append(int(hit[0]) + 1)
            if n:
                regrets.append(max(0.0, -float(inc[-1])))
        allx = np.concatenate(X)
        ph = np.concatenate(phase)
        for d, k in enumerate(space.choices):
            for c in range(k):
                hit_dc = allx[:, d] == c
                choice_rows.append(
                    {
                        "strategy": label,
                        "decision": names[d],
                        "d": d,
                        "choice": choice_label(space, d, c),
                        "c": c,
                        "share": float(hit_dc.mean()),
                        "share_early": _share(hit_dc, ph == 0),
                        "share_late": _share(hit_dc, ph == 2),
                    }
                )
        distance_rows += [
            {"strategy": label, "evaluation": i, "distance": dist_sum[i] / dist_n[i], "runs": dist_n[i]}
            for i in sorted(dist_sum)
        ]
        late = allx[ph == 2] if (ph == 2).any() else allx
        focus = np.array(
            [
                0.5 * np.abs(np.bincount(late[:, d], minlength=k) / len(late) - 1 / k).sum()
                for d, k in enumerate(space.choices)
            ]
        )
        uniform_late = _looks_uniform(late, space.choices)
        alignment = math.nan if uniform_late else _spearman(importance, focus)
        top_share = float((late[:, top] == top_choice).mean())
        finals = Counter(t.incumbent[-1] for t in mine if t.incumbent)
        final_scores = [t.incumbent_score[-1] for t in mine if t.incumbent_score]
        means[label] = target.sign * float(np.mean(final_scores)) if final_scores else -math.inf
        if finals:
            arch_str, count = finals.most_common(1)[0]
            score = next(t.incumbent_score[-1] for t in mine if t.incumbent and t.incumbent[-1] == arch_str)
            incumbents.append({"strategy": label, "arch": arch_str, "runs": count, "of": len(mine), "score": score})
        row = {
            "strategy": label,
            "runs": len(mine),
            "evaluations": float(np.mean([len(t.arch) for t in mine])),
            "reached_runs": len(reach),
            "reach_median": float(np.median(reach)) if reach else math.nan,
            "final_regret_median": float(np.median(regrets)) if regrets else math.nan,
            "top_decision": names[top],
            "top_choice": choice_label(space, top, top_choice),
            "top_share_late": top_share,
            "uniform": 1 / space.choices[top],
            "alignment": alignment,
            "uniform_late": uniform_late,
        }
        row["sentence"] = _sentence(row, within, scale, unit)
        summary.append(row)
    if not incumbents:
        raise ResultsError(f"{out} holds runs without incumbents; nothing to explain")
    winner = max(means, key=lambda k: means[k])
    winner_arch = next(arch_of(r["arch"]) for r in incumbents if r["strategy"] == winner)
    return Learned(
        results_dir=out,
        config=config,
        landscape=land,
        optimum=optimum,
        within=float(within),
        scale=scale,
        unit=unit,
        summary=pd.DataFrame(summary),
        choices=pd.DataFrame(choice_rows),
        distance=pd.DataFrame(distance_rows),
        incumbents=pd.DataFrame(incumbents),
        winner=winner,
        winner_arch=winner_arch,
    )


def _share(hit: np.ndarray, where: np.ndarray) -> float:
    return float(hit[where].mean()) if where.any() else math.nan


def _looks_uniform(late: np.ndarray, choices: tuple[int, ...], alpha: float = 0.001) -> bool:
    """Whether the late proposals are indistinguishable from uniform draws at every decision (chi-square tests at
    a strict level, Bonferroni over decisions): then their departures from uniform are sampling noise, not
    something learned (random search's last quarters on the main job give p = 0.0009 at one decision of six)."""
    from scipy.stats import chisquare

    for d, k in enumerate(choices):
        counts = np.bincount(late[:, d], minlength=k)
        if k > 1 and float(chisquare(counts).pvalue) < alpha / len(choices):
            return False
    return True


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho, NaN when either side is constant (nothing to align)."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def _sentence(row: dict[str, Any], within: float, scale: float, unit: str) -> str:
    """One data-driven line per strategy."""
    runs, reached = row["runs"], row["reached_runs"]
    tol = f"{scale * within:.2g} {unit}"
    if reached:
        reach = (
            f"came within {tol} of the optimum in {reached} of {runs} runs (median after "
            f"{row['reach_median']:.0f} evaluations)"
        )
    else:
        reach = f"never came within {tol} of the optimum in {runs} runs"
    regret = f"median final regret {scale * row['final_regret_median']:.2f} {unit}"
    keep = (
        f"in the last quarter of its runs {100 * row['top_share_late']:.0f} % of its proposals kept "
        f"{row['top_choice']} on {row['top_decision']}, the most important decision ({100 * row['uniform']:.0f} % at "
        "random)"
    )
    align = row["alignment"]
    focus = (
        "; its late proposals are indistinguishable from uniform draws at every decision (chi-square)"
        if row["uniform_late"]
        else ""
        if math.isnan(align)
        else f"; its late choices were most decided where the landscape says it matters (Spearman ρ {align:.2f})"
        if align >= 0.5
        else f"; its late choices did not follow the importance map (Spearman ρ {align:.2f})"
    )
    return f"{row['strategy']}: {reach}; {regret}; {keep}{focus}."
