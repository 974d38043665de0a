"""What nasbench may assume about a search space: the :class:`SearchSpace` protocol and its optional capabilities.

An architecture (:data:`Arch`) is a fixed-width tuple of Python ints, one per *decision*; decision ``d`` takes a
value in ``0 .. choices[d] - 1``. Strings exist only at the edges (``to_str`` / ``from_str`` in the benchmark's own
official format). Every generic module of nasbench (store, benchmark, runner, strategies, surrogates) uses only
this protocol; a capability that only some spaces have is its own small protocol, asked for with
:func:`require`, which raises :class:`MissingCapability` naming the space and what is missing.

:class:`DiscreteSpace` implements the protocol from ``choices`` plus a validity rule, so a new space is one module
that names its decisions and writes its string format (see ``nasbench/spaces/nb_macro.py``).

numpy only: importing a space never imports torch.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from nasbench.errors import InvalidArchitecture, MissingCapability

Arch = tuple[int, ...]


@runtime_checkable
class SearchSpace(Protocol):
    """Every space has these. ``decisions`` names each position of an Arch and ``options`` names each choice of
    each decision (official names where the benchmark has them), so reports and explanations can speak its words."""

    name: str
    choices: tuple[int, ...]
    decisions: tuple[str, ...]
    options: tuple[tuple[str, ...], ...]
    encodings: tuple[str, ...]  # the kinds :meth:`encode` accepts; "onehot" is always one

    def validate(
        self, obj: object
    ) -> Arch: ...  # tuple / array row / official string -> Arch, else InvalidArchitecture
    def canonical(self, arch: Arch) -> Arch: ...  # isomorphism / pruning representative (identity where none)
    def sample(self, rng: np.random.Generator) -> Arch: ...
    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch: ...
    def neighbors(self, arch: Arch) -> list[Arch]: ...
    def encode(self, archs: Sequence[Arch] | np.ndarray, kind: str = "onehot") -> np.ndarray: ...
    def to_str(self, arch: Arch) -> str: ...
    def from_str(self, text: str) -> Arch: ...

    if TYPE_CHECKING:  # for the type checker only, so isinstance() checks stay as they were

        def __hash__(self) -> int: ...  # spaces key functools.lru_cache caches (features, enumerated keys)


@runtime_checkable
class Enumerable(Protocol):
    """A space small enough to list: ``all_archs()[index(a)] == a``."""

    size: int

    def all_archs(self) -> list[Arch]: ...
    def index(self, arch: Arch) -> int: ...
    def from_index(self, index: int) -> Arch: ...


@runtime_checkable
class GraphView(Protocol):
    """Archs as DAGs with typed nodes (for graph neural surrogates such as the GIN): ``graphs(archs)`` returns a
    ``(b, n, n)`` float32 0/1 adjacency (``[k, i, j] = 1``: edge i -> j in arch k) and ``(b, n)`` int64 node types
    in ``0 .. num_node_types - 1``, ``-1`` for a node that is absent (padding, or pruned as dead). ``n`` is the
    same for every arch of the space."""

    num_node_types: int

    def graphs(self, archs: Sequence[Arch] | np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


@runtime_checkable
class Progressive(Protocol):
    """A notion of "simpler than", for progressive search (PNAS): start from the simplest archs and grow."""

    def complexity(self, arch: Arch) -> int: ...
    def simplest(self) -> list[Arch]: ...
    def grow(self, arch: Arch) -> list[Arch]: ...  # the archs one step more complex that contain ``arch``


CAPABILITIES: dict[str, type] = {"enumerable": Enumerable, "graph": GraphView, "progressive": Progressive}


def has(space: object, capability: str) -> bool:
    """Whether ``space`` has the named capability (a key of :data:`CAPABILITIES`)."""
    return isinstance(space, CAPABILITIES[capability])


def require(space: object, capability: str, who: str) -> None:
    """Raise :class:`MissingCapability` unless ``space`` has ``capability``; ``who`` says what needs it."""
    if not has(space, capability):
        present = [c for c in CAPABILITIES if has(space, c)]
        raise MissingCapability(
            f"{who} needs a search space with the {capability!r} capability; the {getattr(space, 'name', space)!r} "
            f"space has: {', '.join(present) or 'none of ' + ', '.join(CAPABILITIES)}"
        )


def key_weights(choices: Sequence[int]) -> np.ndarray:
    """Mixed-radix weights, decision 0 most significant: ``arch @ w`` is a unique int64 key whose order is the
    lexicographic order of archs."""
    weights = np.ones(len(choices), dtype=np.int64)
    for d in range(len(choices) - 2, -1, -1):
        weights[d] = weights[d + 1] * int(choices[d + 1])
    if float(np.prod([float(c) for c in choices])) >= 2.0**62:
        raise ValueError(f"a space with choices {tuple(choices)} is too large for int64 keys")
    return weights


def arch_keys(space: SearchSpace, archs: np.ndarray) -> np.ndarray:
    """The int64 key of each row of an (n, width) array of archs (see :func:`key_weights`)."""
    return np.asarray(archs, dtype=np.int64).reshape(-1, len(space.choices)) @ _weights(tuple(space.choices))


def find_keys(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Position of each key in the sorted array ``sorted_keys`` (a table's rows), -1 where it is absent."""
    if not len(sorted_keys):
        return np.full(len(keys), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return np.where(sorted_keys[pos] == keys, pos, -1)


@functools.lru_cache(maxsize=64)
def _weights(choices: tuple[int, ...]) -> np.ndarray:
    w = key_weights(choices)
    w.setflags(write=False)
    return w


@functools.lru_cache(maxsize=16)
def enumerated_keys(space: SearchSpace) -> np.ndarray:
    """For an enumerable space: the sorted keys of all its archs."""
    keys = np.sort(arch_keys(space, np.asarray(space.all_archs(), dtype=np.int64)))  # type: ignore[attr-defined]
    keys.setflags(write=False)
    return keys


def canonical_keys(space: SearchSpace, archs: Sequence[Arch] | np.ndarray) -> np.ndarray:
    """The key of each arch's canonical form: two archs have the same key exactly when the space holds them
    isomorphic. A space may offer a vectorised ``canonical_keys(archs)`` method with the same values."""
    if not len(archs):
        return np.zeros(0, dtype=np.int64)
    fast = getattr(space, "canonical_keys", None)
    if fast is not None:
        return np.asarray(fast(archs), dtype=np.int64)
    canon = [space.canonical(tuple(a)) for a in np.asarray(archs).tolist()]
    return arch_keys(space, np.asarray(canon, dtype=np.int64).reshape(-1, len(space.choices)))


def sample_many(space: SearchSpace, rng: np.random.Generator, count: int) -> list[Arch]:
    """``count`` independent samples; one vectorised draw for an enumerable space (uniform over its archs)."""
    if isinstance(space, Enumerable):
        return [space.from_index(int(i)) for i in rng.integers(space.size, size=count)]
    return [space.sample(rng) for _ in range(count)]


def check_rows(space: SearchSpace, archs: np.ndarray, what: str = "architectures") -> np.ndarray:
    """An (n, width) int64 array of in-range values, or :class:`InvalidArchitecture` saying what is wrong."""
    arr = np.asarray(archs)
    width = len(space.choices)
    if arr.ndim != 2 or arr.shape[1] != width or not (arr.size == 0 or np.issubdtype(arr.dtype, np.integer)):
        raise InvalidArchitecture(
            f"{what} of the {space.name} space are (n, {width}) integer arrays, got shape {arr.shape} of {arr.dtype}"
        )
    arr = arr.astype(np.int64, copy=False)
    bad = (arr < 0) | (arr >= np.asarray(space.choices))
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise InvalidArchitecture(
            f"{what}: decision {col} ({space.decisions[col]}) of row {row} is {int(arr[row, col])}; the {space.name} "
            f"space allows 0..{space.choices[col] - 1} there"
        )
    return arr


class DiscreteSpace:
    """The protocol implemented from ``choices`` and a validity rule.

    Subclasses set the class attributes ``name``, ``choices``, ``decisions``, ``options`` and implement
    :meth:`to_str` / :meth:`from_str`; a space whose product of choices holds invalid archs overrides
    :meth:`invalid_reason`. A space small enough to list (up to a few hundred thousand archs) derives from
    :class:`EnumerableSpace` instead.
    """

    name: str = ""
    choices: tuple[int, ...] = ()
    decisions: tuple[str, ...] = ()
    options: tuple[tuple[str, ...], ...] = ()
    encodings: tuple[str, ...] = ("onehot",)

    # ---- validity -------------------------------------------------------------------------------------------

    def invalid_reason(self, arch: Arch) -> str | None:
        """Why an in-range ``arch`` is not a member of the space, or None when it is."""
        return None

    def validate(self, obj: object) -> Arch:
        try:
            if type(obj) is tuple and obj in self._valid_cache() and all(type(v) is int for v in obj):
                return obj  # fast path; the type check because (False, 1.0) hashes like (0, 1)
        except TypeError:  # an unhashable member: the checks below say what is wrong
            pass
        if isinstance(obj, str):
            return self.from_str(obj)
        if isinstance(obj, np.ndarray):
            obj = obj.tolist()
        if not isinstance(obj, Sequence):
            raise InvalidArchitecture(
                f"a {self.name} architecture is a sequence of {len(self.choices)} integers or an official string, "
                f"got {type(obj).__name__}"
            )
        if len(obj) != len(self.choices):
            raise InvalidArchitecture(
                f"a {self.name} architecture has {len(self.choices)} decisions, got {len(obj)}: {obj!r}"
            )
        out = []
        for d, (value, n) in enumerate(zip(obj, self.choices, strict=True)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < n:
                names = ", ".join(f"{i} {o}" for i, o in enumerate(self.options[d]))
                raise InvalidArchitecture(
                    f"decision {d} ({self.decisions[d]}) of a {self.name} architecture takes 0..{n - 1} ({names}), "
                    f"got {value!r} in {obj!r}"
                )
            out.append(int(value))
        arch = tuple(out)
        reason = self.invalid_reason(arch)
        if reason is not None:
            raise InvalidArchitecture(f"{arch} is not a {self.name} architecture: {reason}")
        return arch

    def _valid_cache(self) -> frozenset[Arch] | dict[Arch, int]:
        """Archs known valid, for the fast path of :meth:`validate` (the index of an enumerable space)."""
        return frozenset()

    def canonical(self, arch: Arch) -> Arch:
        return self.validate(arch)

    # ---- random moves ---------------------------------------------------------------------------------------

    def sample(self, rng: np.random.Generator) -> Arch:
        """Uniform per decision, rejecting invalid draws (an :class:`EnumerableSpace` is uniform over valid archs)."""
        for _ in range(100_000):
            arch = tuple(int(rng.integers(n)) for n in self.choices)
            if self.invalid_reason(arch) is None:
                return arch
        raise RuntimeError(f"{self.name}: no valid architecture in 100,000 random draws")  # pragma: no cover

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        """Change one uniformly chosen decision to a uniformly chosen other value; redrawn until valid."""
        arch = self.validate(arch)
        mutable = [d for d, n in enumerate(self.choices) if n > 1]
        for _ in range(10_000):
            d = mutable[int(rng.integers(len(mutable)))]
            value = int(rng.integers(self.choices[d] - 1))
            value += value >= arch[d]
            child = (*arch[:d], value, *arch[d + 1 :])
            if self.invalid_reason(child) is None:
                return child
        raise RuntimeError(f"{self.name}: {arch} has no valid mutation")  # pragma: no cover

    def neighbors(self, arch: Arch) -> list[Arch]:
        """Every valid arch that differs from ``arch`` in exactly one decision, in decision-then-value order."""
        arch = self.validate(arch)
        out = []
        for d, n in enumerate(self.choices):
            for value in range(n):
                if value != arch[d]:
                    child = (*arch[:d], value, *arch[d + 1 :])
                    if self.invalid_reason(child) is None:
                        out.append(child)
        return out

    # ---- encodings ------------------------------------------------------------------------------------------

    def encode(self, archs: Sequence[Arch] | np.ndarray, kind: str = "onehot") -> np.ndarray:
        """(len(archs), d) float32 features; ``onehot``: each decision's value one-hot, decisions concatenated."""
        if kind not in self.encodings:
            raise InvalidArchitecture(f"unknown encoding {kind!r} for {self.name}; known: {', '.join(self.encodings)}")
        arr = self.as_array(archs)
        if kind == "onehot":
            return onehot(arr, self.choices)
        return self._encode(arr, kind)

    def _encode(self, arr: np.ndarray, kind: str) -> np.ndarray:
        raise NotImplementedError(kind)

    def as_array(self, archs: Sequence[object] | np.ndarray) -> np.ndarray:
        """Validated (n, width) int64 array; rows may be tuples, array rows or official strings."""
        if isinstance(archs, np.ndarray) and archs.ndim == 2:
            arr = check_rows(self, archs)
            if type(self).invalid_reason is not DiscreteSpace.invalid_reason:
                for row in arr.tolist():
                    self.validate(tuple(row))
            return arr
        return np.asarray([self.validate(a) for a in archs], dtype=np.int64).reshape(-1, len(self.choices))

    # ---- strings --------------------------------------------------------------------------------------------

    def to_str(self, arch: Arch) -> str:
        raise NotImplementedError

    def from_str(self, text: str) -> Arch:
        raise NotImplementedError

    # ---- identity -------------------------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name))


class EnumerableSpace(DiscreteSpace):
    """A :class:`DiscreteSpace` that lists its valid archs (lexicographic order) and so satisfies
    :class:`Enumerable`; sampling is uniform over valid archs."""

    @property
    def size(self) -> int:
        return len(self._all())

    def all_archs(self) -> list[Arch]:
        """Every valid arch, in lexicographic order."""
        return list(self._all())

    def index(self, arch: Arch) -> int:
        return self._index()[self.validate(arch)]

    def from_index(self, index: int) -> Arch:
        archs = self._all()
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(archs):
            raise InvalidArchitecture(f"{self.name} indices are 0..{len(archs) - 1}, got {index}")
        return archs[index]

    def sample(self, rng: np.random.Generator) -> Arch:
        archs = self._all()
        return archs[int(rng.integers(len(archs)))]

    def _valid_cache(self) -> frozenset[Arch] | dict[Arch, int]:
        return self._index()

    def _all(self) -> tuple[Arch, ...]:
        return _enumerate(self)

    def _index(self) -> dict[Arch, int]:
        return _index_of(self)


@functools.lru_cache(maxsize=16)
def _enumerate(space: DiscreteSpace) -> tuple[Arch, ...]:
    reason = space.invalid_reason
    return tuple(a for a in itertools.product(*(range(n) for n in space.choices)) if reason(a) is None)


@functools.lru_cache(maxsize=16)
def _index_of(space: DiscreteSpace) -> dict[Arch, int]:
    return {a: i for i, a in enumerate(_enumerate(space))}


def onehot(arr: np.ndarray, choices: Sequence[int]) -> np.ndarray:
    """Per-decision one-hot of an (n, width) int array, concatenated: width ``sum(choices)``."""
    offsets = np.concatenate([[0], np.cumsum(choices)[:-1]]).astype(np.int64)
    out = np.zeros((arr.shape[0], int(sum(choices))), dtype=np.float32)
    if arr.shape[0]:
        np.put_along_axis(out, arr + offsets, 1.0, axis=1)
    return out
