"""Rank statistics against hand-computed values and Demšar's published tables."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from nasbench.analysis.stats import (
    cd_cliques,
    friedman,
    holm,
    nemenyi_critical_difference,
    pairwise_wilcoxon,
    rank_rows,
    wilcoxon_pair,
)


def test_holm_matches_hand_computation():
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.06
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_skips_nan():
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])
    out = holm([math.nan, 0.02, 0.04])
    assert math.isnan(out[0])
    np.testing.assert_allclose(out[1:], [0.04, 0.04])  # m = 2, not 3
    assert holm([]).shape == (0,)


@pytest.mark.parametrize(
    ("k", "alpha", "q"),
    # Demšar (2006), Table 5: q_alpha of the Nemenyi test.
    [(2, 0.05, 1.960), (3, 0.05, 2.343), (4, 0.05, 2.569), (5, 0.05, 2.728), (10, 0.05, 3.164), (4, 0.10, 2.291)],
)
def test_nemenyi_critical_difference_matches_demsar_table(k, alpha, q):
    n = 30
    expected = q * math.sqrt(k * (k + 1) / (6 * n))
    assert nemenyi_critical_difference(k, n, alpha) == pytest.approx(expected, abs=2e-3)


def test_nemenyi_rejects_bad_arguments():
    with pytest.raises(ValueError, match="2 strategies"):
        nemenyi_critical_difference(1, 10)
    with pytest.raises(ValueError, match="alpha"):
        nemenyi_critical_difference(3, 10, alpha=1.5)


def test_rank_rows_best_first_ties_averaged_nan_last():
    ranks = rank_rows(np.array([[0.9, 0.5, 0.7], [0.5, 0.5, 0.1], [math.nan, 0.2, 0.3]]))
    np.testing.assert_allclose(ranks, [[1, 3, 2], [1.5, 1.5, 3], [3, 2, 1]])


def test_friedman_hand_computed():
    # two seeds, identical orderings: average ranks 1, 2, 3; chi2 = 12*2/(3*4) * (1 + 0 + 1) = 4, p = e^-2
    result = friedman(np.array([[3.0, 2.0, 1.0], [30.0, 20.0, 10.0]]))
    np.testing.assert_allclose(result.avg_ranks, [1, 2, 3])
    assert result.statistic == pytest.approx(4.0)
    assert result.pvalue == pytest.approx(math.exp(-2))


def test_friedman_agrees_with_scipy_including_ties():
    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(size=(25, 4)), 1)  # rounding makes ties
    ours = friedman(scores)
    theirs = stats.friedmanchisquare(*scores.T)
    assert ours.statistic == pytest.approx(theirs.statistic)
    assert ours.pvalue == pytest.approx(theirs.pvalue)


def test_friedman_all_tied_is_p_one_and_two_strategies_work():
    tied = friedman(np.ones((10, 3)))
    assert (tied.statistic, tied.pvalue) == (0.0, 1.0)
    two = friedman(np.column_stack([np.arange(12.0), np.arange(12.0) - 1]))
    assert two.k == 2 and two.pvalue < 0.01  # the first column wins all 12 seeds


def test_wilcoxon_identical_samples_are_not_significant():
    x = np.linspace(0.9, 0.95, 20)
    assert wilcoxon_pair(x, x) == (0.0, 1.0)


def test_wilcoxon_agrees_with_scipy():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=15), rng.normal(size=15) + 0.5
    assert wilcoxon_pair(a, b)[1] == pytest.approx(stats.wilcoxon(a, b).pvalue)


def test_pairwise_wilcoxon_orients_and_adjusts():
    rng = np.random.default_rng(2)
    base = rng.normal(size=20)
    lead = 1.0 + 0.01 * np.arange(20)  # distinct differences: the exact null distribution applies
    scores = np.column_stack([base + lead, base, base])  # column 0 dominates; 1 and 2 identical
    pairs = {(p.a, p.b): p for p in pairwise_wilcoxon(scores)}
    assert set(pairs) == {(0, 1), (0, 2), (1, 2)}
    assert pairs[(0, 1)].wins == 20 and pairs[(0, 1)].mean_lead == pytest.approx(lead.mean())
    # exact two-sided p with 20 wins of 20 is 2 / 2**20; Holm multiplies the smallest by 3
    assert pairs[(0, 1)].pvalue == pytest.approx(2 / 2**20)
    assert pairs[(0, 1)].p_holm == pytest.approx(3 * 2 / 2**20)
    assert pairs[(1, 2)].ties == 20 and pairs[(1, 2)].p_holm == 1.0


def test_cd_cliques_are_maximal_runs_below_the_critical_difference():
    assert cd_cliques(np.array([2.0, 1.0, 1.2, 3.5]), 1.0) == [(0, 1), (1, 2)]
    assert cd_cliques(np.array([1.0, 2.0, 3.0]), 0.5) == []
    assert cd_cliques(np.array([1.0, 1.1, 1.2]), 0.5) == [(0, 2)]


def test_min_direction_ranks_the_lowest_first_and_orients_leads():
    losses = np.array([[0.1, 0.3, 0.2], [0.2, 0.4, math.nan]])
    np.testing.assert_allclose(rank_rows(losses, "min"), [[1, 3, 2], [1, 2, 3]])  # NaN still last
    up, down = friedman(losses[:1].repeat(3, axis=0)), friedman(losses[:1].repeat(3, axis=0), "min")
    assert up.statistic == down.statistic
    np.testing.assert_allclose(down.avg_ranks, [1, 3, 2])
    pairs = {(p.a, p.b): p for p in pairwise_wilcoxon(losses, "min")}
    first = pairs[(0, 1)]  # 0.1 vs 0.3 and 0.2 vs 0.4: strategy 0 is 0.2 lower, so it leads and wins
    assert first.mean_lead == pytest.approx(0.2) and (first.wins, first.losses) == (2, 0)
    assert first.pvalue == pairwise_wilcoxon(losses)[0].pvalue  # the two-sided test does not depend on it
    with pytest.raises(ValueError, match="'max' or 'min'"):
        rank_rows(losses, "lower")
