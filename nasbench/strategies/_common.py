"""Helpers shared by the model-based strategies: isomorphism keys, edge mutations, single-threaded BLAS."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from nasbench.spaces.nb201 import Arch, NB201Space


def canonical_ids(space: NB201Space, archs: Sequence[Arch]) -> np.ndarray:
    """Index of each cell's isomorphism-class representative (vectorised ``space.index(space.canonical(a))``)."""
    if not len(archs):
        return np.zeros(0, dtype=np.int64)
    return space.canonical_indices(space.indices(archs))


def edge_mutations(
    space: NB201Space, parent: Arch, count: int, edge_prob: float, rng: np.random.Generator
) -> list[Arch]:
    """``count`` children of ``parent``: each edge changes op with probability ``edge_prob`` (at least one does)."""
    parent_arr = np.asarray(parent)
    changes = rng.random((count, len(parent))) < edge_prob
    none_changed = ~changes.any(axis=1)
    changes[none_changed, rng.integers(len(parent), size=int(none_changed.sum()))] = True
    shift = rng.integers(1, space.num_ops, size=changes.shape)  # a different op: add 1..num_ops-1 modulo num_ops
    children = np.where(changes, (parent_arr + shift) % space.num_ops, parent_arr)
    return [tuple(row) for row in children.tolist()]


class Proposed:
    """The isomorphism classes proposed so far, and filters against them."""

    def __init__(self, space: NB201Space) -> None:
        self.space = space
        self.ids: set[int] = set()

    def add(self, archs: Sequence[Arch]) -> None:
        self.ids.update(canonical_ids(self.space, archs).tolist())

    def __contains__(self, arch: Arch) -> bool:
        return int(canonical_ids(self.space, [arch])[0]) in self.ids

    def new(self, archs: Sequence[Arch]) -> list[Arch]:
        """``archs`` less those isomorphic to a proposed cell or to an earlier member of ``archs``."""
        out, seen = [], set(self.ids)
        for arch, key in zip(archs, canonical_ids(self.space, archs).tolist(), strict=True):
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
