"""Rank-based statistics for comparing strategies over paired seeds.

The layout everywhere is a score matrix ``(n_seeds, k_strategies)``, row i holding every strategy's result under
seed i (same seed -> paired), in the metric's own units; ``direction`` says whether higher ("max", accuracy) or lower
("min", a loss) is better, and every answer is oriented by it: rank 1 = best, a positive lead = better. NaN means
"no result" and ranks last.
Friedman's test with Nemenyi's critical difference follows Demšar (JMLR 2006); the pairwise alternative is the
Wilcoxon signed-rank test with Holm's step-down correction.

The tests themselves are scipy's (``friedmanchisquare``, ``wilcoxon``, ``studentized_range`` for Nemenyi's q);
what is written here is the orientation, the NaN-ranks-last convention, Holm's few lines and the CD cliques,
which no maintained package does the same way (scikit-posthocs returns p-value matrices, not Demšar's critical
difference and cliques). They are checked against the tables published by Demšar in the tests.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

Direction = Literal["max", "min"]
DIRECTIONS: tuple[Direction, ...] = ("max", "min")


def oriented(scores: np.ndarray, direction: Direction) -> np.ndarray:
    """Scores turned so that higher is better (a "min" metric negated; NaN stays NaN)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'max' or 'min', got {direction!r}")
    scores = np.asarray(scores, dtype=float)
    return scores if direction == "max" else -scores


def rank_rows(scores: np.ndarray, direction: Direction = "max") -> np.ndarray:
    """Rank the strategies within each row: 1 = best (highest score, or lowest for "min"); ties share their
    average rank; NaN ranks after every real score (a strategy with no result yet is behind one that has one)."""
    scores = oriented(scores, direction)
    if scores.ndim != 2:
        raise ValueError(f"scores must be a (seeds, strategies) matrix, got shape {scores.shape}")
    keyed = np.where(np.isnan(scores), -np.inf, scores)
    return stats.rankdata(-keyed, method="average", axis=1)


@dataclass(frozen=True)
class FriedmanResult:
    statistic: float  # chi-square statistic, corrected for ties
    pvalue: float
    avg_ranks: np.ndarray  # (k,), 1 = best
    n: int  # number of paired seeds (blocks)
    k: int  # number of strategies


def friedman(scores: np.ndarray, direction: Direction = "max") -> FriedmanResult:
    """Friedman's test that all strategies have the same rank distribution over seeds (ranks oriented by
    ``direction``: the statistic does not depend on it, the average ranks do).

    Works for k >= 2 (scipy's version needs k >= 3) and for fully tied data, where it answers statistic 0, p = 1
    instead of dividing by zero.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2:
        raise ValueError(f"scores must be a (seeds, strategies) matrix, got shape {scores.shape}")
    n, k = scores.shape
    if k < 2 or n < 1:
        raise ValueError(f"Friedman's test needs >= 2 strategies and >= 1 seed, got {k} and {n}")
    ranks = rank_rows(scores, direction)
    avg = ranks.mean(axis=0)
    # Tie correction: sum over every group of t tied values of (t^3 - t).
    ties = 0.0
    for row in ranks:
        _, counts = np.unique(row, return_counts=True)
        ties += float((counts**3 - counts).sum())
    denom = 1.0 - ties / (n * k * (k * k - 1))
    if denom <= 1e-12:  # every seed ties every strategy: nothing to tell apart
        return FriedmanResult(0.0, 1.0, avg, n, k)
    statistic = 12.0 * n / (k * (k + 1)) * float(((avg - (k + 1) / 2.0) ** 2).sum()) / denom
    pvalue = float(stats.chi2.sf(statistic, k - 1))
    return FriedmanResult(statistic, pvalue, avg, n, k)


def nemenyi_critical_difference(k: int, n: int, alpha: float = 0.05) -> float:
    """The smallest difference of average ranks that Nemenyi's test calls significant (Demšar 2006, eq. 5):
    ``q_alpha * sqrt(k (k + 1) / (6 n))`` with ``q_alpha`` the studentized range quantile over sqrt(2)."""
    if k < 2 or n < 1:
        raise ValueError(f"the critical difference needs >= 2 strategies and >= 1 seed, got {k} and {n}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    q_alpha = float(stats.studentized_range.ppf(1.0 - alpha, k, np.inf)) / math.sqrt(2.0)
    return q_alpha * math.sqrt(k * (k + 1) / (6.0 * n))


def holm(pvalues: np.ndarray | list[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control), in the input order.

    With p sorted ascending, p_adj(i) = max over j <= i of min(1, (m - j) p(j)) (0-based j); NaN stays NaN and
    does not count towards m.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = len(valid)
    if m == 0:
        return out
    order = valid[np.argsort(p[valid], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


@dataclass(frozen=True)
class PairTest:
    a: int  # strategy index
    b: int
    n: int  # paired seeds where both have a result
    mean_lead: float  # mean of a - b oriented by the direction (positive: a is better), in the scores' units
    wins: int  # seeds where a beats b
    ties: int
    losses: int
    statistic: float
    pvalue: float  # two-sided, unadjusted
    p_holm: float  # Holm-adjusted over every pair


def wilcoxon_pair(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Two-sided Wilcoxon signed-rank test of paired samples; zero differences are dropped (Wilcoxon's rule).
    Identical samples (every difference zero) answer statistic 0, p = 1."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    d = d[~np.isnan(d)]
    if np.count_nonzero(d) == 0:
        return 0.0, 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    p = float(res.pvalue)
    return float(res.statistic), (1.0 if math.isnan(p) else p)


def pairwise_wilcoxon(scores: np.ndarray, direction: Direction = "max") -> list[PairTest]:
    """Every pair of strategies (columns) tested with Wilcoxon, p-values Holm-adjusted over all pairs; leads,
    wins and losses are oriented by ``direction`` (for "min", a lower score wins)."""
    scores = oriented(scores, direction)
    if scores.ndim != 2:
        raise ValueError(f"scores must be a (seeds, strategies) matrix, got shape {scores.shape}")
    _, k = scores.shape
    raw = []
    for i in range(k):
        for j in range(i + 1, k):
            both = ~np.isnan(scores[:, i]) & ~np.isnan(scores[:, j])
            x, y = scores[both, i], scores[both, j]
            statistic, p = wilcoxon_pair(x, y)
            d = x - y
            mean_lead = float(d.mean()) if len(d) else math.nan
            raw.append(
                (i, j, len(d), mean_lead, int((d > 0).sum()), int((d == 0).sum()), int((d < 0).sum()), statistic, p)
            )
    adjusted = holm([r[-1] for r in raw])
    return [PairTest(*r, p_holm=float(q)) for r, q in zip(raw, adjusted, strict=True)]


def cd_cliques(avg_ranks: np.ndarray, cd: float) -> list[tuple[int, int]]:
    """Groups of strategies not told apart by Nemenyi: maximal runs (first, last) of positions in rank order
    whose rank spread is below ``cd``; only runs of two or more are returned (the bars of a CD diagram)."""
    r = np.sort(np.asarray(avg_ranks, dtype=float))
    runs: list[tuple[int, int]] = []
    for start in range(len(r)):
        end = start
        while end + 1 < len(r) and r[end + 1] - r[start] < cd:
            end += 1
        if end > start and not any(s <= start and end <= e for s, e in runs):
            runs.append((start, end))
    return runs
