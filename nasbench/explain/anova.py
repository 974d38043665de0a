"""Functional ANOVA over a space's decisions: pure numpy, no I/O.

A design is an (n, width) int array of architectures with one value each. On a *full factorial* design (every
combination of choices once: NB201's 15,625 cells, NAS-Bench-Macro's 6,561 networks) the decomposition
``y = mu + sum_d f_d + sum_{d<e} f_de + ...`` is orthogonal and its terms' variances add up to the total variance
exactly, so the fraction each term explains is a fact about the table, not an estimate. :func:`factorial_orders`
computes every term of every order on such a design (Sobol/Hoeffding by inclusion-exclusion over group means).

On any other design (a space with invalid combinations, a table holding some cells) :func:`main_and_pairs` gives
the same group-mean formulas weighted by the cells present: identical to the exact terms on a full factorial, and
the usual estimate elsewhere (the terms are then not orthogonal, so no higher-order remainder is claimed).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Decomposition:
    """Main effects and pair terms of one design's values.

    ``effects[d]``: per choice of decision ``d``, ``mean(y | x_d = c) - mean(y)`` (NaN for a choice no cell has);
    ``main[d]`` and ``pairs[(d, e)]``: the variance each term explains (in squared units of ``y``); ``total``: the
    variance of ``y`` (population variance, weights = the cells)."""

    mean: float
    total: float
    effects: tuple[np.ndarray, ...]
    main: np.ndarray
    pairs: dict[tuple[int, int], float]


def is_full_factorial(archs: np.ndarray, choices: Sequence[int]) -> bool:
    """Whether ``archs`` holds every combination of ``choices`` exactly once."""
    size = math.prod(int(c) for c in choices)
    if len(archs) != size:
        return False
    keys = np.asarray(archs, dtype=np.int64) @ _radix(choices)
    return bool(len(np.unique(keys)) == size)


def main_and_pairs(archs: np.ndarray, y: np.ndarray, choices: Sequence[int]) -> Decomposition:
    """Group-mean main effects and pair terms of ``y`` over the cells ``archs`` (see the module's note)."""
    arr = np.asarray(archs, dtype=np.int64)
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    mu = float(y.mean())
    total = float(((y - mu) ** 2).mean())
    effects, main = [], np.zeros(len(choices))
    for d, k in enumerate(choices):
        count = np.bincount(arr[:, d], minlength=k).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            effect = np.bincount(arr[:, d], weights=y, minlength=k) / count - mu
        effects.append(effect)
        main[d] = float(np.nansum(count / n * effect**2))
    pairs = {}
    for d, e in itertools.combinations(range(len(choices)), 2):
        kd, ke = int(choices[d]), int(choices[e])
        cell = arr[:, d] * ke + arr[:, e]
        count = np.bincount(cell, minlength=kd * ke).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            joint = np.bincount(cell, weights=y, minlength=kd * ke) / count - mu
        term = joint.reshape(kd, ke) - effects[d][:, None] - effects[e][None, :]
        pairs[(d, e)] = float(np.nansum(count.reshape(kd, ke) / n * term**2))
    return Decomposition(mu, total, tuple(effects), main, pairs)


def factorial_tensor(archs: np.ndarray, y: np.ndarray, choices: Sequence[int]) -> np.ndarray:
    """The values of a full factorial design as a tensor indexed by the decisions' choices."""
    keys = np.asarray(archs, dtype=np.int64) @ _radix(choices)
    tensor = np.empty(math.prod(int(c) for c in choices))
    tensor[keys] = np.asarray(y, dtype=np.float64)
    return tensor.reshape(tuple(int(c) for c in choices))


def factorial_terms(tensor: np.ndarray) -> dict[tuple[int, ...], np.ndarray]:
    """Every fANOVA term ``f_S`` of a full factorial tensor, keyed by the sorted decisions ``S`` (``()``: the
    mean). ``f_S`` keeps the tensor's rank, with size-1 axes off ``S``, so the terms broadcast and add up to the
    tensor. Each is the group mean over ``S`` minus every lower term inside ``S`` (3**width additions)."""
    width = tensor.ndim
    terms: dict[tuple[int, ...], np.ndarray] = {}
    for order in range(width + 1):
        for subset in itertools.combinations(range(width), order):
            rest = tuple(a for a in range(width) if a not in subset)
            term = tensor.mean(axis=rest, keepdims=True) if rest else tensor.copy()
            for lower in range(order):
                for inner in itertools.combinations(subset, lower):
                    term = term - terms[inner]
            terms[subset] = term
    return terms


def factorial_orders(tensor: np.ndarray) -> np.ndarray:
    """Variance explained by the terms of each interaction order ``1 .. width`` of a full factorial tensor; they
    add up to the tensor's variance (the check of the decomposition's exactness)."""
    terms = factorial_terms(tensor)
    out = np.zeros(tensor.ndim)
    for subset, term in terms.items():
        if subset:
            out[len(subset) - 1] += float((term**2).mean())
    return out


def _radix(choices: Sequence[int]) -> np.ndarray:
    weights = np.ones(len(choices), dtype=np.int64)
    for d in range(len(choices) - 2, -1, -1):
        weights[d] = weights[d + 1] * int(choices[d + 1])
    return weights
