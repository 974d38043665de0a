"""Local search's two move rules on a landscape with one peak: best neighbour and first improvement."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.spaces.nb201 import CONV3, NB201Space
from nasbench.strategies import Feedback, SearchContext, Trial, make_strategy

SPACE = NB201Space()
PEAK = (CONV3,) * 6


def score(arch) -> float:
    """Fraction of conv3x3 edges: every cell but the peak has a better one-edge neighbour."""
    return sum(op == CONV3 for op in arch) / 6


def drive(strategy, evaluations: int) -> list[tuple]:
    strategy.setup(SearchContext(space=SPACE, epochs=(1,), search_epoch=1), np.random.default_rng(0))
    told = []
    for t in range(evaluations):
        proposal = strategy.ask()
        trial = Trial(t, proposal.arch, 1, None, None, float(t))
        strategy.tell(trial, Feedback(score(proposal.arch), 1, 1.0, float(t + 1)))
        told.append(proposal.arch)
    return told


@pytest.mark.parametrize("first_improvement", [False, True])
def test_climbs_to_the_peak_without_evaluating_a_cell_twice(first_improvement):
    told = drive(make_strategy("local_search", num_init=3, first_improvement=first_improvement), 150)
    assert PEAK in told
    reached = told.index(PEAK)
    assert len(set(told[: reached + 1])) == reached + 1


def test_best_neighbour_evaluates_the_whole_neighbourhood_before_moving():
    told = drive(make_strategy("local_search", num_init=1), 1 + 24)
    start = told[0]
    assert set(told[1:]) == set(SPACE.neighbors(start))  # all 24 neighbours of the start, none of another cell


def test_first_improvement_moves_at_the_first_better_neighbour():
    told = drive(make_strategy("local_search", num_init=1, first_improvement=True), 60)
    current = told[0]
    for arch in told[1 : told.index(PEAK) + 1]:
        assert arch in SPACE.neighbors(current)  # always exploring around the latest improvement
        if score(arch) > score(current):
            current = arch
