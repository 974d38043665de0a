"""Which architectures a build trains, and in which order. No torch here.

``stratified`` orders the isomorphism-class representatives so that every prefix of the order is itself a
uniform, well-balanced sample of the classes: the classes are grouped into strata by their number of 3x3 and
1x1 convolutions (the strongest drivers of accuracy and cost), and positions are interleaved systematically, so
a prefix of length m holds about m * n_s / N classes of a stratum of size n_s (never off by more than one or two).
A build cut short by a time budget therefore still leaves a good training set for a surrogate.
"""

from __future__ import annotations

import numpy as np

from nasbench.errors import NasbenchError
from nasbench.spaces.nb201 import CONV1, CONV3, NB201Space

SELECTIONS = ("all", "iso", "stratified")


def canonical_reps() -> np.ndarray:
    """(6466, 6) int8 array of the isomorphism-class representatives, in index order."""
    space = NB201Space()
    table = space.canonical_indices()
    ids = np.unique(table)
    return np.array([space.from_index(int(i)) for i in ids], dtype=np.int8)


def select_archs(selection: str, *, n: int | None = None, seed: int = 0) -> list[tuple[int, ...]]:
    """The architectures of a build, in training order.

    ``all``: all 15,625 cells in index order; ``iso``: the 6,466 class representatives in index order;
    ``stratified``: the representatives in stratified-random order (``seed``), cut to the first ``n``.
    ``n`` cuts any selection to its first ``n`` members.
    """
    space = NB201Space()
    if selection == "all":
        archs = np.array(space.all_archs(), dtype=np.int8)
    elif selection == "iso":
        archs = canonical_reps()
    elif selection == "stratified":
        archs = _stratified_order(canonical_reps(), np.random.default_rng(seed))
    else:
        raise NasbenchError(f"unknown selection {selection!r}; allowed: {', '.join(SELECTIONS)}")
    if n is not None:
        if n < 1:
            raise NasbenchError(f"the number of architectures must be >= 1, got {n}")
        archs = archs[:n]
    return [tuple(int(op) for op in row) for row in archs]


def stratum(archs: np.ndarray) -> np.ndarray:
    """Stratum id of each arch: 7 * (#conv3x3) + (#conv1x1)."""
    archs = np.asarray(archs)
    return 7 * (archs == CONV3).sum(axis=1) + (archs == CONV1).sum(axis=1)


def _stratified_order(archs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    strata = stratum(archs)
    keys = np.empty(len(archs))
    for s in np.unique(strata):
        members = np.flatnonzero(strata == s)
        perm = rng.permutation(members)
        # member k of a stratum of size m sits at (k + u) / m: systematic sampling with a random phase u
        keys[perm] = (np.arange(len(perm)) + rng.random()) / len(perm)
    # ties (equal keys across strata) are broken by a random draw so no stratum is favoured
    order = np.lexsort((rng.random(len(archs)), keys))
    return archs[order]
