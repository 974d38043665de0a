"""Helpers shared by the strategies: isomorphism keys, per-decision mutations, single-threaded BLAS.

Everything here uses only the :class:`~nasbench.spaces.base.SearchSpace` protocol, so it serves every space.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from nasbench.errors import InvalidArchitecture
from nasbench.spaces.base import Arch, SearchSpace, canonical_keys

#: Rounds of redrawing the children of a constrained space that fall outside it before they are dropped.
REDRAW_ROUNDS = 20


def shifted(values: np.ndarray, change: np.ndarray, choices: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``values`` (n, width) with each entry where ``change`` holds moved to a uniformly chosen *other* value of its
    decision (an offset of 1 .. choices - 1, modulo choices). Entries of single-choice decisions must not change.

    Draws one offset per entry, changed or not; when every decision has the same number of choices the bound is a
    scalar, which keeps the random stream of the original fixed-width implementation.
    """
    high: int | np.ndarray = int(choices[0]) if (choices == choices[0]).all() else np.maximum(choices, 2)
    shift = rng.integers(1, high, size=values.shape)
    return np.where(change, (values + shift) % choices, values)


def mutations(space: SearchSpace, parent: Arch, count: int, prob: float, rng: np.random.Generator) -> list[Arch]:
    """Up to ``count`` children of ``parent``: each decision that has a choice changes value with probability
    ``prob`` (at least one does), to a uniformly chosen other value. Children that a constrained space rejects are
    redrawn (:data:`REDRAW_ROUNDS` times at most), then dropped; a space with a single arch has no children."""
    choices = np.asarray(space.choices, dtype=np.int64)
    mutable = np.flatnonzero(choices > 1)
    if not len(mutable) or count < 1:
        return []
    parent_arr = np.asarray(parent, dtype=np.int64)
    children = _mutate_rows(parent_arr, count, prob, choices, mutable, rng)
    valid = [is_valid(space, c) for c in children]
    for _ in range(REDRAW_ROUNDS):
        redo = [i for i, ok in enumerate(valid) if not ok]
        if not redo:
            break
        for i, child in zip(redo, _mutate_rows(parent_arr, len(redo), prob, choices, mutable, rng), strict=True):
            children[i], valid[i] = child, is_valid(space, child)
    return [c for c, ok in zip(children, valid, strict=True) if ok]


def _mutate_rows(
    parent: np.ndarray, count: int, prob: float, choices: np.ndarray, mutable: np.ndarray, rng: np.random.Generator
) -> list[Arch]:
    changes = (rng.random((count, len(parent))) < prob) & (choices > 1)
    none_changed = ~changes.any(axis=1)
    changes[none_changed, mutable[rng.integers(len(mutable), size=int(none_changed.sum()))]] = True
    rows = shifted(np.broadcast_to(parent, changes.shape), changes, choices, rng)
    return [tuple(row) for row in rows.tolist()]


def is_valid(space: SearchSpace, arch: Arch) -> bool:
    """Whether ``arch`` (in range of the choices) is a member of the space: constrained spaces reject some."""
    try:
        space.validate(arch)
    except InvalidArchitecture:
        return False
    return True


class Proposed:
    """The isomorphism classes proposed so far, and filters against them."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.keys: set[int] = set()

    def add(self, archs: Sequence[Arch]) -> None:
        self.keys.update(canonical_keys(self.space, archs).tolist())

    def __contains__(self, arch: Arch) -> bool:
        return int(canonical_keys(self.space, [arch])[0]) in self.keys

    def new(self, archs: Sequence[Arch]) -> list[Arch]:
        """``archs`` less those isomorphic to a proposed arch or to an earlier member of ``archs``."""
        out, seen = [], set(self.keys)
        for arch, key in zip(archs, canonical_keys(self.space, archs).tolist(), strict=True):
            if key not in seen:
                seen.add(key)
                out.append(arch)
        return out


@functools.lru_cache(maxsize=1)
def _controller() -> Any:
    import scipy.linalg  # noqa: F401  (scipy bundles its own OpenBLAS: load it so the controller sees it)
    from threadpoolctl import ThreadpoolController  # ships with scikit-learn

    return ThreadpoolController()


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run the enclosed linear algebra on one BLAS thread.

    The models here are tiny (a few hundred rows): OpenBLAS's threads cost far more to wake than they save, and on
    a loaded machine, or with one search per core, a 150 x 150 solve takes 100x longer with them than without.
    """
    with _controller().limit(limits=1, user_api="blas"):
        yield
