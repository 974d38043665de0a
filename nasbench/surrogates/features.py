"""Feature matrices for surrogates, selectable by name and combinable with ``+`` (e.g. ``"path+static"``).

A surrogate sees only what the space protocol and the store offer, so it works on any search space:

- every encoding of the space (``space.encodings``: ``onehot`` always; ``path``, ``adjacency``, ... where the
  space has them; NB201 also ``live_onehot`` and ``cell_stats``), computed by ``space.encode``;
- ``static`` / ``static:<name>,<name>``: the store's own per-architecture figures (``/static``), known only for
  the archs the store holds (see :mod:`nasbench.surrogates.static` for the rule and why);
- ``graph``: the space's graph view (``space.graphs``, the :class:`~nasbench.spaces.base.GraphView` capability)
  flattened to ``n*n`` adjacency bits then ``n`` node types (-1 = absent node): the input of the GIN.

Defaults (:func:`default_features`): ``path`` where the space has it, else ``onehot``, plus the structural
encodings the space offers (:data:`STRUCTURAL_ENCODINGS`). On NB201 that is ``path+live_onehot+cell_stats``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from nasbench.errors import InvalidQuery
from nasbench.spaces.base import Enumerable, SearchSpace, arch_keys, check_rows, has, require
from nasbench.surrogates.static import StaticTable

STATIC = "static"
GRAPH = "graph"
#: Encodings that describe what a cell computes (dead parts removed, structure counted) rather than how it is
#: written; a space offering one under these names gets it in its default and noise-model features.
STRUCTURAL_ENCODINGS: tuple[str, ...] = ("live_onehot", "cell_stats")
#: Enumerable spaces up to this size get a per-space feature table computed once (large batches cost a gather).
CACHE_SPACES_UP_TO = 100_000
_DIRECT_BELOW = 256


def default_features(space: SearchSpace) -> str:
    """``path`` (or ``onehot`` where the space has no path encoding) plus the space's structural encodings."""
    base = "path" if "path" in space.encodings else "onehot"
    return "+".join([base, *(k for k in STRUCTURAL_ENCODINGS if k in space.encodings)])


def noise_features(space: SearchSpace) -> str:
    """What the seed-noise model regresses on: the structural encodings, else ``onehot`` (never store columns,
    so the noise of any arch can be predicted)."""
    return "+".join([k for k in STRUCTURAL_ENCODINGS if k in space.encodings] or ["onehot"])


def available_features(space: SearchSpace) -> tuple[str, ...]:
    """Every feature name ``featurize`` accepts for ``space``."""
    extra = (GRAPH,) if has(space, "graph") else ()
    return (*space.encodings, STATIC, *extra)


def parse_features(spec: str | Sequence[str], space: SearchSpace) -> tuple[str, ...]:
    """``"path+static"`` or ``["path", "static"]`` -> ``("path", "static")``; names the space does not offer
    raise InvalidQuery (``graph`` on a space without a graph view: MissingCapability)."""
    names = tuple(n.strip() for n in (spec.split("+") if isinstance(spec, str) else spec) if n.strip())
    known = available_features(space)
    if not names:
        raise InvalidQuery(f"no features given; choose one or more of {', '.join(known)} joined by '+'")
    for name in names:
        if name == GRAPH:
            require(space, "graph", "the 'graph' feature (the GIN's input)")
        elif name not in space.encodings and name.partition(":")[0] != STATIC:
            raise InvalidQuery(
                f"unknown feature {name!r} for the {space.name} space; known: {', '.join(known)} "
                "(static:<name>,<name> picks store columns; combine with '+')"
            )
    if len(set(names)) != len(names):
        raise InvalidQuery(f"feature names repeat in {'+'.join(names)}")
    return names


def static_columns(names: Sequence[str]) -> list[str]:
    """The feature names among ``names`` that read the store's static columns."""
    return [n for n in names if n.partition(":")[0] == STATIC]


def as_rows(space: SearchSpace, archs: Sequence[object] | np.ndarray) -> np.ndarray:
    """Validated (n, width) int64 array; rows may be tuples, array rows or official strings (bad ones raise
    InvalidArchitecture)."""
    as_array = getattr(space, "as_array", None)  # DiscreteSpace's vectorised check
    if as_array is not None:
        return np.asarray(as_array(archs), dtype=np.int64)
    if isinstance(archs, np.ndarray) and archs.ndim == 2:
        archs = [tuple(row) for row in check_rows(space, archs).tolist()]
    return np.asarray([space.validate(a) for a in archs], dtype=np.int64).reshape(-1, len(space.choices))


def featurize(
    space: SearchSpace,
    archs: Sequence[object] | np.ndarray,
    features: str | Sequence[str],
    static: StaticTable | None = None,
) -> np.ndarray:
    """The (n, d) float32 feature matrix of ``archs`` for the named features, concatenated in the given order.
    ``static`` is the store's static table, needed (only) by the ``static`` features."""
    names = parse_features(features, space)
    arr = as_rows(space, archs)
    blocks = []
    for name in names:
        if name.partition(":")[0] == STATIC:
            if static is None:
                raise InvalidQuery(
                    f"the {name!r} feature reads a store's /static columns, and none was given: fit from a store "
                    "(fit_from_store, or static=StaticTable.from_bench(bench))"
                )
            blocks.append(static.lookup(arr, static.columns(name)))
        elif name == GRAPH:
            blocks.append(_graph_block(space, arr))
        else:
            blocks.append(_encoding(space, arr, name))
    return np.concatenate(blocks, axis=1).astype(np.float32, copy=False)


def _encoding(space: SearchSpace, arr: np.ndarray, kind: str) -> np.ndarray:
    if len(arr) > _DIRECT_BELOW and _cacheable(space):
        return _space_block(space, kind)[space_positions(space, arr)]
    return np.asarray(space.encode(arr, kind), dtype=np.float32)


def _cacheable(space: SearchSpace) -> bool:
    return isinstance(space, Enumerable) and space.size <= CACHE_SPACES_UP_TO


def space_positions(space: SearchSpace, arr: np.ndarray) -> np.ndarray:
    """Index of each (valid) arch in ``space.all_archs()``."""
    keys, order = _all_keys(space)
    return order[np.searchsorted(keys, arch_keys(space, arr))]


@functools.lru_cache(maxsize=16)
def _all_keys(space: SearchSpace) -> tuple[np.ndarray, np.ndarray]:
    """The sorted keys of every arch and, per sorted key, its index in ``all_archs()`` (any listing order)."""
    keys = arch_keys(space, np.asarray(space.all_archs(), dtype=np.int64))  # type: ignore[attr-defined]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    sorted_keys.setflags(write=False)
    order.setflags(write=False)
    return sorted_keys, order


@functools.lru_cache(maxsize=32)
def _space_block(space: SearchSpace, kind: str) -> np.ndarray:
    """One encoding for every arch of an enumerable space, in its order (NB201: 15,625 rows, ~0.1 s)."""
    everything = np.asarray(space.all_archs(), dtype=np.int64)  # type: ignore[attr-defined]
    block = np.asarray(space.encode(everything, kind), dtype=np.float32)
    block.setflags(write=False)
    return block


def _graph_block(space: SearchSpace, arr: np.ndarray) -> np.ndarray:
    adj, types = space.graphs(arr)  # type: ignore[attr-defined]
    return np.concatenate([adj.reshape(len(arr), -1), types], axis=1).astype(np.float32)


def feature_names(space: SearchSpace, features: str | Sequence[str], static: StaticTable | None = None) -> list[str]:
    """A name per column of :func:`featurize`'s output (for importance plots and debugging)."""
    out: list[str] = []
    probe = as_rows(space, [space.sample(np.random.default_rng(0))])
    for name in parse_features(features, space):
        if name.partition(":")[0] == STATIC:
            if static is None:
                raise InvalidQuery(f"the {name!r} feature's columns are those of a store: give its static table")
            out += list(static.columns(name))
        elif name == GRAPH:
            n = int(space.graphs(probe)[1].shape[1])  # type: ignore[attr-defined]
            out += [f"edge_{i}_{j}" for i in range(n) for j in range(n)] + [f"node_type_{i}" for i in range(n)]
        else:
            out += [f"{name}_{i}" for i in range(space.encode(probe, name).shape[1])]
    return out
