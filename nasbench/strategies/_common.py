"""Helpers shared by the strategies: isomorphism keys, per-decision mutations, candidate pools as arrays, cached
encodings, single-threaded BLAS.

Everything here uses only the :class:`~nasbench.spaces.base.SearchSpace` protocol, so it serves every space.
Model-based strategies score pools of hundreds of candidate archs per proposal; the helpers below keep such a pool
an ``(n, width)`` int64 array from its draw to its score (one vectorised step each), instead of a list of tuples
that every step walks in Python.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from nasbench.errors import InvalidArchitecture
from nasbench.spaces.base import Arch, Enumerable, SearchSpace, canonical_keys, enumerated_keys, find_keys, key_weights

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
    return as_archs(mutation_rows(space, parent, count, prob, rng))


def mutation_rows(space: SearchSpace, parent: Arch, count: int, prob: float, rng: np.random.Generator) -> np.ndarray:
    """:func:`mutations` as an ``(n, width)`` int64 array (the same draws, the same children)."""
    choices = np.asarray(space.choices, dtype=np.int64)
    mutable = np.flatnonzero(choices > 1)
    if not len(mutable) or count < 1:
        return np.zeros((0, len(choices)), dtype=np.int64)
    parent_arr = np.asarray(parent, dtype=np.int64)
    children = _mutate_rows(parent_arr, count, prob, choices, mutable, rng)
    valid = valid_rows(space, children)
    for _ in range(REDRAW_ROUNDS):
        redo = np.flatnonzero(~valid)
        if not len(redo):
            break
        children[redo] = _mutate_rows(parent_arr, len(redo), prob, choices, mutable, rng)
        valid[redo] = valid_rows(space, children[redo])
    return children[valid]


def _mutate_rows(
    parent: np.ndarray, count: int, prob: float, choices: np.ndarray, mutable: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    changes = (rng.random((count, len(parent))) < prob) & (choices > 1)
    none_changed = ~changes.any(axis=1)
    changes[none_changed, mutable[rng.integers(len(mutable), size=int(none_changed.sum()))]] = True
    return shifted(np.broadcast_to(parent, changes.shape), changes, choices, rng)


def is_valid(space: SearchSpace, arch: Arch) -> bool:
    """Whether ``arch`` (in range of the choices) is a member of the space: constrained spaces reject some."""
    try:
        space.validate(arch)
    except InvalidArchitecture:
        return False
    return True


def valid_rows(space: SearchSpace, rows: np.ndarray) -> np.ndarray:
    """:func:`is_valid` of each row of an in-range ``(n, width)`` array: one lookup in the sorted keys of an
    enumerable space (none at all where every in-range arch is a member), else one check per row."""
    if is_enumerable(space):
        if space.size == math.prod(space.choices):  # type: ignore[attr-defined]
            return np.ones(len(rows), dtype=bool)
        return find_keys(enumerated_keys(space), _keys(space, rows)) >= 0
    return np.array([is_valid(space, tuple(row)) for row in rows.tolist()], dtype=bool)


_ENUMERABLE: dict[type, bool] = {}


def is_enumerable(space: SearchSpace) -> bool:
    """``isinstance(space, Enumerable)``, remembered per class (a protocol check inspects every member each time)."""
    known = _ENUMERABLE.get(type(space))
    if known is None:
        known = _ENUMERABLE[type(space)] = isinstance(space, Enumerable)
    return known


def as_archs(rows: np.ndarray) -> list[Arch]:
    """The rows of an int array as archs (tuples of Python ints)."""
    return [tuple(row) for row in np.asarray(rows).tolist()]


def as_rows(space: SearchSpace, archs: Sequence[Arch] | np.ndarray) -> np.ndarray:
    """Archs (already members of ``space``) as an ``(n, width)`` int64 array."""
    return np.asarray(archs, dtype=np.int64).reshape(-1, len(space.choices))


def sample_rows(space: SearchSpace, rng: np.random.Generator, count: int, out: np.ndarray | None = None) -> np.ndarray:
    """:func:`~nasbench.spaces.base.sample_many` as an ``(n, width)`` array: the same draws, the same archs, without
    a tuple per draw for an enumerable space. ``out``: a ``(count, width)`` int64 array to write them into."""
    if is_enumerable(space):
        indices = rng.integers(space.size, size=count)  # type: ignore[attr-defined]
        try:
            table = _all_rows(space)
        except TypeError:  # an unhashable space
            table = None
        if table is not None:
            return np.take(table, indices, axis=0, out=out)
        rows = as_rows(space, [space.from_index(int(i)) for i in indices])  # type: ignore[attr-defined]
    else:
        rows = as_rows(space, [space.sample(rng) for _ in range(count)])
    if out is None:
        return rows
    out[...] = rows
    return out


#: Largest enumerable space whose archs :func:`sample_rows` keeps as one array (8 bytes per decision per arch).
_ALL_ROWS_LIMIT = 1 << 23


def all_rows(space: Any) -> np.ndarray:
    """Every arch of an enumerable space as a ``(size, width)`` int64 array (read-only and cached per space up to
    :data:`_ALL_ROWS_LIMIT` entries)."""
    table = _all_rows(space)
    return table if table is not None else as_rows(space, space.all_archs())


@functools.lru_cache(maxsize=8)
def _all_rows(space: Any) -> np.ndarray | None:
    if space.size * len(space.choices) > _ALL_ROWS_LIMIT:
        return None
    table = as_rows(space, space.all_archs())
    table.setflags(write=False)
    return table


def _keys(space: SearchSpace, rows: np.ndarray) -> np.ndarray:
    return np.asarray(rows, dtype=np.int64).reshape(-1, len(space.choices)) @ key_weights(space.choices)


class Proposed:
    """The isomorphism classes proposed so far, and filters against them (archs as tuples or as int arrays)."""

    #: Spaces with at most this many archs in the product of their choices also mark proposed keys in a table.
    TABLE_LIMIT = 1 << 22

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.keys: set[int] = set()
        total = math.prod(space.choices)
        self._table = np.zeros(total, dtype=bool) if total <= self.TABLE_LIMIT else None

    def add(self, archs: Sequence[Arch] | np.ndarray) -> None:
        keys = canonical_keys(self.space, archs)
        self.keys.update(keys.tolist())
        if self._table is not None:
            self._table[keys] = True

    def new_mask(self, rows: np.ndarray) -> np.ndarray:
        """For an ``(n, width)`` array: which rows :meth:`new` keeps (the first of each class not yet proposed)."""
        keep = np.zeros(len(rows), dtype=bool)
        if not len(rows):
            return keep
        keys = canonical_keys(self.space, rows)
        if self._table is not None:
            # the first row of each key: the smallest position written to a scratch table of the keys
            positions = np.arange(len(keys))
            first = _PROPOSED_WORK.get("first", self._table.shape, np.int64)
            first[keys] = len(keys)
            np.minimum.at(first, keys, positions)
            return (first[keys] == positions) & ~self._table[keys]
        _, first_rows = np.unique(keys, return_index=True)
        keep[first_rows] = True
        if self.keys:
            keep &= ~np.isin(keys, np.fromiter(self.keys, dtype=np.int64, count=len(self.keys)))
        return keep

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


class Encodings:
    """``space.encode(archs, kind)`` remembered per arch, for archs that are members of the space.

    A space's ``encode`` validates every arch it is given (a Python call each); a model-based strategy encodes the
    same few thousand archs over and over (its data and candidate pools). Encodings are pure functions of the arch,
    so they are computed once per process: in a table indexed by the arch's mixed-radix key where the product of the
    choices is small (NB201: 15,625 rows), else in a dictionary. The values are the space's own, bit for bit.
    """

    #: Largest table kept (entries, i.e. rows x encoding width); beyond it encodings live in a dictionary.
    TABLE_LIMIT = 1 << 24
    #: A dictionary of encodings is emptied when it holds more archs than this.
    DICT_LIMIT = 1 << 19

    def __init__(self, space: SearchSpace, kind: str) -> None:
        self.space = space
        self.kind = kind
        try:
            self._weights: np.ndarray | None = key_weights(space.choices)
        except ValueError:  # too many archs for int64 keys: tuples are the keys
            self._weights = None
        self._table: np.ndarray | None = None  # (product of choices, width), rows filled where ``_known``
        self._known: np.ndarray | None = None
        self._dict: dict[Any, np.ndarray] = {}
        self._sized = self._weights is None  # whether the table was allocated or ruled out

    def __call__(self, archs: Sequence[Arch] | np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The encodings of ``archs``, one row each; ``out``: an array of the right shape and dtype to write them
        into (where the table serves them)."""
        rows = as_rows(self.space, archs)
        if not len(rows):
            return self._encode(rows)
        if self._weights is None:
            return self._from_dict(rows, [tuple(r) for r in rows.tolist()])
        keys = rows @ self._weights
        if not self._sized:
            self._allocate(rows[:1])
        if self._table is None or self._known is None:
            return self._from_dict(rows, keys.tolist())
        missing = ~self._known[keys]
        if missing.any():
            new_keys, first = np.unique(keys[missing], return_index=True)
            self._table[new_keys] = self._encode(rows[missing][first])
            self._known[new_keys] = True
        return np.take(self._table, keys, axis=0, out=out)

    def width_and_dtype(self) -> tuple[int, np.dtype] | None:
        """The encoding's width and dtype once the table holds them (None before, or without a table)."""
        return None if self._table is None else (self._table.shape[1], self._table.dtype)

    def _encode(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.space.encode(as_archs(rows), self.kind))

    def _allocate(self, sample: np.ndarray) -> None:
        self._sized = True
        first = self._encode(sample)
        total = math.prod(self.space.choices)
        if total * first.shape[1] <= self.TABLE_LIMIT:
            self._table = np.zeros((total, first.shape[1]), dtype=first.dtype)
            self._known = np.zeros(total, dtype=bool)

    def _from_dict(self, rows: np.ndarray, keys: list[Any]) -> np.ndarray:
        cache = self._dict
        if len(cache) > self.DICT_LIMIT:
            cache.clear()
        todo: dict[Any, int] = {}
        for i, key in enumerate(keys):
            if key not in cache and key not in todo:
                todo[key] = i
        if todo:
            cache.update(zip(todo, self._encode(rows[list(todo.values())]), strict=True))
        return np.stack([cache[key] for key in keys])


_ENCODINGS: collections.OrderedDict[tuple[Any, str], Encodings] = collections.OrderedDict()


def encodings(space: SearchSpace, kind: str) -> Encodings:
    """The process's :class:`Encodings` of ``space`` and ``kind`` (the last few spaces used are kept)."""
    try:
        key = (space, kind)
        cached = _ENCODINGS.get(key)
    except TypeError:  # an unhashable space: nothing to share
        return Encodings(space, kind)
    if cached is None:
        cached = _ENCODINGS[key] = Encodings(space, kind)
        while len(_ENCODINGS) > 8:
            _ENCODINGS.popitem(last=False)
    else:
        _ENCODINGS.move_to_end(key)
    return cached


class Workspace:
    """Scratch arrays reused from call to call, by name.

    A fresh array of a megabyte costs more here than the arithmetic done in it (the allocator hands large blocks
    back to the system when they are freed, and touching new pages is slow), so hot paths that build the same
    large temporaries at every proposal (a candidates x data kernel matrix) write them into these instead. Each
    name is one buffer: a caller must be done with an array before asking for its name again. One per module,
    never part of a strategy's state (nor pickled with it).
    """

    def __init__(self) -> None:
        self._buffers: dict[tuple[str, str], np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
        """An uninitialised C-contiguous array of ``shape`` in the buffer ``name``."""
        dtype = np.dtype(dtype)
        size = math.prod(shape)
        buffer = self._buffers.get((name, dtype.str))
        if buffer is None or buffer.size < size:
            buffer = self._buffers[name, dtype.str] = np.empty(max(size, 1), dtype=dtype)
        return buffer[:size].reshape(shape)


_PROPOSED_WORK = Workspace()


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
