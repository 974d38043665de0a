"""The NAS-Bench-201 cell space (Dong & Yang, ICLR 2020).

A cell is a DAG of 4 nodes; each of its 6 edges ``j <- i`` (i < j) carries one of 5 operations, so the space has
5**6 = 15,625 cells. Inside nasbench a cell is a tuple of 6 op indices, in the edge order of the official string::

    |op~0|+|op~0|op~1|+|op~0|op~1|op~2|
     1<-0   2<-0 2<-1   3<-0 3<-1 3<-2        -> arch = (e0, e1, e2, e3, e4, e5)

The op indices follow the order of the official ``str2matrix``; this module is the one place that defines it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import cast

import numpy as np

from nasbench.errors import InvalidArchitecture
from nasbench.spaces.base import Arch, EnumerableSpace

#: Operation names by index: the order of the official NAS-Bench-201 ``str2matrix``.
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NONE, SKIP, CONV1, CONV3, POOL = range(5)
#: The (to, from) node pair of each edge, in the order of the official string.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
NUM_EDGES = len(EDGES)
NUM_OPS = len(OPS)
SIZE = NUM_OPS**NUM_EDGES

# Input-to-output paths as tuples of edge indices; path encoding features are op sequences along them.
_PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))
_PATH_OFFSET = {1: 0, 2: NUM_OPS, 3: NUM_OPS + NUM_OPS**2}
PATH_ENCODING_SIZE = NUM_OPS + NUM_OPS**2 + NUM_OPS**3  # 155
_WEIGHTS = NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)  # base-5 digits, edge 0 most significant

ENCODINGS = ("onehot", "adjacency", "path", "canonical_onehot", "live_onehot", "cell_stats")


class NB201Space(EnumerableSpace):
    """The NAS-Bench-201 search space: parsing, enumeration, isomorphism, neighbourhoods and encodings.

    Stateless and cheap to construct; every random method takes an explicit ``np.random.Generator``. Besides the
    protocol it has a graph view (:meth:`graph`) and a notion of "simpler" (:meth:`complexity`, :meth:`grow`).
    """

    name = "nb201"
    choices = (NUM_OPS,) * NUM_EDGES
    decisions = tuple(f"edge {dst}<-{src}" for dst, src in EDGES)
    options = (OPS,) * NUM_EDGES
    encodings = ENCODINGS
    ops = OPS
    edges = EDGES
    num_edges = NUM_EDGES
    num_ops = NUM_OPS
    size = SIZE

    # ---- validation and string format ---------------------------------------------------------------------

    def validate(self, arch: object) -> Arch:
        """Return ``arch`` as a tuple of 6 Python ints; accept an op-index sequence or an official string."""
        if type(arch) is tuple and arch in _index_of() and all(type(op) is int for op in arch):
            return arch  # fast path: already a valid cell of plain ints
        if isinstance(arch, str):
            return self.from_str(arch)
        if isinstance(arch, np.ndarray):
            arch = arch.tolist()
        if not isinstance(arch, Sequence):
            raise InvalidArchitecture(
                f"an nb201 architecture is a sequence of {NUM_EDGES} op indices or an official string, "
                f"got {type(arch).__name__}"
            )
        if len(arch) != NUM_EDGES:
            raise InvalidArchitecture(f"an nb201 architecture has {NUM_EDGES} edges, got {len(arch)}: {arch!r}")
        out = []
        for op in arch:
            if isinstance(op, bool) or not isinstance(op, (int, np.integer)) or not 0 <= op < NUM_OPS:
                raise InvalidArchitecture(
                    f"nb201 op indices are integers 0..{NUM_OPS - 1} ({', '.join(OPS)}), got {op!r} in {arch!r}"
                )
            out.append(int(op))
        return tuple(out)

    def to_str(self, arch: Arch) -> str:
        """The official string, e.g. ``|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|``."""
        arch = self.validate(arch)
        return _to_str(arch)

    def from_str(self, text: str) -> Arch:
        """Parse the official string; raise :class:`InvalidArchitecture` naming the offending part."""
        if not isinstance(text, str):
            raise InvalidArchitecture(f"expected an nb201 string, got {type(text).__name__}")
        return _parse(text)

    # ---- indexing and enumeration -------------------------------------------------------------------------

    def index(self, arch: Arch) -> int:
        """Position of ``arch`` in :meth:`all_archs` (base-5 number, edge 0 most significant). Not the official
        NAS-Bench-201 index, whose order is arbitrary; importers map that one explicitly."""
        return _index_of()[self.validate(arch)]

    def from_index(self, index: int) -> Arch:
        if not 0 <= index < SIZE:
            raise InvalidArchitecture(f"nb201 indices are 0..{SIZE - 1}, got {index}")
        return _all_tuples()[index]

    def all_archs(self) -> list[Arch]:
        """All 15,625 cells in index order."""
        return list(_all_tuples())

    def indices(self, archs: Iterable[Arch]) -> np.ndarray:
        """Vectorized :meth:`index` over already-valid archs."""
        arr = archs if isinstance(archs, np.ndarray) else np.asarray(list(archs))
        return arr.astype(np.int64).reshape(-1, NUM_EDGES) @ _WEIGHTS

    # ---- random moves -------------------------------------------------------------------------------------

    def sample(self, rng: np.random.Generator) -> Arch:
        """A cell drawn uniformly from all 15,625."""
        return _all_tuples()[int(rng.integers(SIZE))]

    def mutate(self, arch: Arch, rng: np.random.Generator) -> Arch:
        """Change the op of one uniformly chosen edge to a uniformly chosen different op."""
        arch = self.validate(arch)
        edge = int(rng.integers(NUM_EDGES))
        new_op = int(rng.integers(NUM_OPS - 1))
        new_op += new_op >= arch[edge]  # skip the current op
        return (*arch[:edge], new_op, *arch[edge + 1 :])

    def neighbors(self, arch: Arch) -> list[Arch]:
        """All 24 cells that differ from ``arch`` on exactly one edge, in edge-then-op order."""
        arch = self.validate(arch)
        return [(*arch[:e], op, *arch[e + 1 :]) for e in range(NUM_EDGES) for op in range(NUM_OPS) if op != arch[e]]

    # ---- isomorphism --------------------------------------------------------------------------------------

    def canonical(self, arch: Arch) -> Arch:
        """The smallest-index member of ``arch``'s isomorphism class.

        Two cells are isomorphic when they compute the same expression with ``skip_connect`` read as identity,
        ``none`` as zero and the sum at each node as unordered, exactly as the official NAS-Bench-201 tools
        decide it: this gives their 6,466 classes, the partition of the official ``iso_rep`` column.
        """
        return self.from_index(int(_canonical_table()[self.index(arch)]))

    def canonical_indices(self, indices: np.ndarray | Sequence[int] | None = None) -> np.ndarray:
        """Vectorised ``index(canonical(from_index(i)))``; for every cell of the space when ``indices`` is None."""
        table = _canonical_table()
        return table if indices is None else table[np.asarray(indices, dtype=np.int64)]

    def canonical_keys(self, archs: Sequence[Arch] | np.ndarray) -> np.ndarray:
        """Vectorised ``arch_keys`` of each valid cell's canonical form (for NB201 the key is the index): the
        strategies' isomorphism filter, without a Python call per cell."""
        return self.canonical_indices(self.indices(archs))

    def is_isomorphic(self, a: Arch, b: Arch) -> bool:
        table = _canonical_table()
        return bool(table[self.index(a)] == table[self.index(b)])

    def num_active_ops(self, arch: Arch) -> int:
        """Edges that carry an operation other than ``none`` (PNAS-style complexity)."""
        return sum(op != NONE for op in self.validate(arch))

    # ---- "simpler than" (Progressive) -----------------------------------------------------------------------

    def complexity(self, arch: Arch) -> int:
        """The number of edges that carry an operation."""
        return self.num_active_ops(arch)

    def simplest(self) -> list[Arch]:
        """The effective one-operation cells (an op on the input->output edge), as :meth:`grow` of the empty cell."""
        return self.grow((NONE,) * NUM_EDGES)

    def grow(self, arch: Arch) -> list[Arch]:
        """The next effective complexity above ``arch``: cells with one more operation; when every such cell is
        isomorphic to ``arch`` or dead (no input->output path), cells with two more, and so on (a cell whose node
        1 is unreachable takes two operations to make that branch matter). Full cells (no ``none`` edge) cannot
        grow: their one-edge changes among operations are returned instead, so progressive search can go on."""
        arch = self.validate(arch)
        if NONE not in arch:
            return [n for n in self.neighbors(arch) if NONE not in n]
        table = _canonical_table()
        parent = int(table[self.index(arch)])
        out: list[Arch] = []
        frontier, seen = [arch], {arch}
        while frontier and not out:  # the fewest added operations that change the cell
            children = [c for c in dict.fromkeys(child for a in frontier for child in _add_op(a)) if c not in seen]
            seen.update(children)
            arr = np.asarray(children, dtype=np.int64).reshape(-1, NUM_EDGES)
            same = (table[arr @ _WEIGHTS] == parent) | ~_path_encoding(arr).any(axis=1)
            out = [c for c, s in zip(children, same, strict=True) if not s]
            frontier = [c for c, s in zip(children, same, strict=True) if s]
        return out

    # ---- graph view (GraphView) -----------------------------------------------------------------------------

    #: node types of :meth:`graphs`: the 5 ops, then input, then output
    num_node_types = NUM_OPS + 2

    def graphs(self, archs: Sequence[Arch] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ops-on-nodes DAGs: node 0 the input, nodes 1..6 the edges' ops, node 7 the output. Dead op nodes
        (``none``, or off every live input->output path) are removed (type -1, no edges), so isomorphic cells get
        the same graph. Returns adjacency (n, 8, 8) float32 and node types (n, 8) int64."""
        arr = self.as_array(archs)
        n = len(arr)
        alive = np.ones((n, _ADJ_NODES), dtype=bool)
        alive[:, 1:-1] = live_mask(arr)
        pairs = np.asarray(_ADJ_PAIRS)
        adj = np.zeros((n, _ADJ_NODES, _ADJ_NODES), dtype=np.float32)
        adj[:, pairs[:, 0], pairs[:, 1]] = alive[:, pairs[:, 0]] & alive[:, pairs[:, 1]]
        types = np.zeros((n, _ADJ_NODES), dtype=np.int64)
        types[:, 1:-1] = arr
        types[:, 0], types[:, -1] = NUM_OPS, NUM_OPS + 1
        return adj, np.where(alive, types, -1)

    def as_array(self, archs: Sequence[object] | np.ndarray) -> np.ndarray:
        if isinstance(archs, np.ndarray) and archs.ndim == 2:
            return super().as_array(archs)
        return np.asarray([self.validate(a) for a in archs], dtype=np.int64).reshape(-1, NUM_EDGES)

    # ---- encodings ----------------------------------------------------------------------------------------

    def encode(self, archs: Sequence[Arch] | np.ndarray, kind: str = "onehot") -> np.ndarray:
        """Feature matrix (len(archs), d) as float32.

        - ``onehot`` (30): the op of each edge, one-hot.
        - ``adjacency`` (8*7/2 + 6*5 = 58): ops-on-nodes DAG (input, 6 op nodes, output) with ``none`` nodes
          removed from the adjacency, upper triangle flattened, then each op node's op one-hot.
        - ``path`` (155): White et al.'s path encoding; one bit per op sequence of length 1-3 that labels a live
          input->output path (paths through ``none`` are dead, so their bits are always 0).
        - ``canonical_onehot`` (30): the one-hot of the isomorphism-class representative.
        - ``live_onehot`` (30): the one-hot of each edge's op with dead edges (off every live input->output path)
          read as ``none``: cells that differ only in dead edges compute the same function.
        - ``cell_stats`` (18, named by :data:`CELL_STATS_NAMES`): op counts on live edges, active ops, live paths
          (total and by length), most / fewest non-skip, conv and conv3x3 ops along a live path, connectedness,
          and the conv cost (kernel area summed over conv edges, all and live ones).
        """
        arr = np.asarray([self.validate(a) for a in archs], dtype=np.int64).reshape(-1, NUM_EDGES)
        if kind == "onehot":
            return _onehot(arr)
        if kind == "canonical_onehot":
            canon = _canonical_table()[arr @ _WEIGHTS]
            return _onehot((canon[:, None] // _WEIGHTS) % NUM_OPS)
        if kind == "path":
            return _path_encoding(arr)
        if kind == "adjacency":
            return _adjacency_encoding(arr)
        if kind == "live_onehot":
            return _onehot(np.where(live_mask(arr), arr, NONE))
        if kind == "cell_stats":
            return _cell_stats(arr)
        raise ValueError(f"unknown encoding {kind!r}; known: {', '.join(ENCODINGS)}")

    def encoding_size(self, kind: str) -> int:
        return self.encode([(0,) * NUM_EDGES], kind).shape[1]

    def __repr__(self) -> str:
        return "NB201Space()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NB201Space)

    def __hash__(self) -> int:
        return hash(self.name)


# ---- helpers (module level so that caches are shared by every NB201Space instance) ------------------------


def _to_str(arch: Arch) -> str:
    tokens = [f"{OPS[op]}~{src}" for op, (_, src) in zip(arch, EDGES, strict=True)]
    return "|" + "|+|".join(["|".join(tokens[0:1]), "|".join(tokens[1:3]), "|".join(tokens[3:6])]) + "|"


_OP_INDEX = {name: i for i, name in enumerate(OPS)}


@functools.lru_cache(maxsize=65536)
def _parse(text: str) -> Arch:
    example = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    nodes = text.strip().split("+")
    if len(nodes) != 3:
        raise InvalidArchitecture(
            f"an nb201 string has 3 nodes joined by '+', got {len(nodes)} in {text!r}; example: {example}"
        )
    arch: list[int] = []
    for node_idx, node in enumerate(nodes, start=1):
        if not (node.startswith("|") and node.endswith("|")) or len(node) < 2:
            raise InvalidArchitecture(f"node {node_idx} of {text!r} must be wrapped in '|': got {node!r}")
        tokens = node[1:-1].split("|")
        if len(tokens) != node_idx:
            raise InvalidArchitecture(
                f"node {node_idx} of an nb201 string has {node_idx} incoming edge(s), got {len(tokens)} in {text!r}"
            )
        for src, token in enumerate(tokens):
            op, sep, src_text = token.partition("~")
            if not sep:
                raise InvalidArchitecture(f"edge {token!r} of {text!r} must look like 'op~source'")
            if op not in _OP_INDEX:
                raise InvalidArchitecture(f"unknown op {op!r} in {text!r}; nb201 ops are: {', '.join(OPS)}")
            if src_text != str(src):
                raise InvalidArchitecture(
                    f"edge {token!r} of node {node_idx} in {text!r} must come from node {src}, got {src_text!r}"
                )
            arch.append(_OP_INDEX[op])
    return tuple(arch)


@functools.lru_cache(maxsize=1)
def _all_array() -> np.ndarray:
    ids = np.arange(SIZE)
    out = (ids[:, None] // _WEIGHTS) % NUM_OPS
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=1)
def _all_tuples() -> tuple[Arch, ...]:
    return tuple(tuple(row) for row in _all_array().tolist())


@functools.lru_cache(maxsize=1)
def _index_of() -> dict[Arch, int]:
    """Cell -> index; also the set of valid cells for the fast path of ``validate``."""
    return {arch: i for i, arch in enumerate(_all_tuples())}


def _expression(arch: Arch) -> str:
    """The official isomorphism key: node values as sorted sums of terms; ``none`` (or a zero input) is the
    term '#', ``skip_connect`` passes its input's expression unchanged, any other op wraps it."""
    nodes = ["in"]
    for node in (1, 2, 3):
        terms = []
        for op, (dst, src) in zip(arch, EDGES, strict=True):
            if dst != node:
                continue
            value = nodes[src]
            if op == NONE or value == "#":
                terms.append("#")
            elif op == SKIP:
                terms.append(value)
            else:
                terms.append(f"({value})@{OPS[op]}")
        nodes.append("+".join(sorted(terms)))
    return nodes[3]


@functools.lru_cache(maxsize=1)
def _canonical_table() -> np.ndarray:
    """For every arch index, the index of the smallest member of its isomorphism class (built once, ~0.1 s)."""
    first: dict[str, int] = {}
    table = np.empty(SIZE, dtype=np.int64)
    for idx, arch in enumerate(_all_array().tolist()):
        table[idx] = first.setdefault(_expression(tuple(arch)), idx)
    table.setflags(write=False)
    return table


def _onehot(arr: np.ndarray) -> np.ndarray:
    out = np.zeros((arr.shape[0], NUM_EDGES * NUM_OPS), dtype=np.float32)
    cols = np.arange(NUM_EDGES) * NUM_OPS + arr
    np.put_along_axis(out, cols, 1.0, axis=1)
    return out


def _add_op(arch: Arch) -> list[Arch]:
    """Cells with one more operation: one ``none`` edge of ``arch`` set to each other op."""
    return [
        (*arch[:edge], op, *arch[edge + 1 :])
        for edge in range(NUM_EDGES)
        if arch[edge] == NONE
        for op in range(1, NUM_OPS)
    ]


def live_mask(ops: np.ndarray) -> np.ndarray:
    """(n, 6) bool: the edges that lie on at least one input->output path with no ``none`` op."""
    live = np.zeros(ops.shape, dtype=bool)
    for path in _PATHS:
        alive = (ops[:, list(path)] != NONE).all(axis=1)
        for e in path:
            live[:, e] |= alive
    return live


#: Column names of the ``cell_stats`` encoding.
CELL_STATS_NAMES: tuple[str, ...] = (
    "live_skip",
    "live_conv1x1",
    "live_conv3x3",
    "live_pool",
    "active_ops",
    "live_paths",
    "live_paths_len1",
    "live_paths_len2",
    "live_paths_len3",
    "max_depth",
    "min_depth",
    "max_convs",
    "min_convs",
    "max_conv3x3",
    "min_conv3x3",
    "connected",
    "conv_cost",
    "live_conv_cost",
)


def _cell_stats(ops: np.ndarray) -> np.ndarray:
    """(n, 18) float32 structural figures of each cell (see :data:`CELL_STATS_NAMES`): pure functions of the
    cell, not of any network it is trained in."""
    live = live_mask(ops)
    live_ops = np.where(live, ops, NONE)
    cols: list[np.ndarray] = [(live_ops == op).sum(axis=1) for op in (SKIP, CONV1, CONV3, POOL)]
    cols.append((ops != NONE).sum(axis=1))  # active ops (PNAS complexity)
    path_alive = np.stack([(ops[:, list(p)] != NONE).all(axis=1) for p in _PATHS], axis=1)
    cols.append(path_alive.sum(axis=1))
    cols += [path_alive[:, [i for i, p in enumerate(_PATHS) if len(p) == n]].sum(axis=1) for n in (1, 2, 3)]
    # Per live path: non-skip ops (depth of computation), conv ops, conv3x3 ops; dead paths excluded.
    nonskip = np.stack([(ops[:, list(p)] != SKIP).sum(axis=1) for p in _PATHS], axis=1)
    convs = np.stack([np.isin(ops[:, list(p)], (CONV1, CONV3)).sum(axis=1) for p in _PATHS], axis=1)
    conv3 = np.stack([(ops[:, list(p)] == CONV3).sum(axis=1) for p in _PATHS], axis=1)
    any_path = cast(np.ndarray, path_alive.any(axis=1))  # (n,): numpy's stubs also allow a scalar for any()
    for values in (nonskip, convs, conv3):
        cols.append(np.where(any_path, np.where(path_alive, values, -1).max(axis=1), 0))
        cols.append(np.where(any_path, np.where(path_alive, values, 99).min(axis=1), 0))
    cols.append(any_path)  # the output depends on the input at all
    # Conv cost: kernel area (1x1 -> 1, 3x3 -> 9) summed over conv edges, all of them (every edge is built and
    # trained) and the live ones. Proportional to the cell's conv weights and multiply-adds per channel^2 and
    # pixel, so it ranks cells by size as params / FLOPs would, whatever network width, depth or resolution.
    cost = (ops == CONV1) + 9 * (ops == CONV3)
    cols += [cost.sum(axis=1), np.where(live, cost, 0).sum(axis=1)]
    return np.stack(cols, axis=1).astype(np.float32)


def _path_encoding(arr: np.ndarray) -> np.ndarray:
    out = np.zeros((arr.shape[0], PATH_ENCODING_SIZE), dtype=np.float32)
    rows = np.arange(arr.shape[0])
    for path in _PATHS:
        ops = arr[:, list(path)]
        live = (ops != NONE).all(axis=1)
        col = _PATH_OFFSET[len(path)] + ops @ (NUM_OPS ** np.arange(len(path) - 1, -1, -1))
        out[rows[live], col[live]] = 1.0
    return out


# Ops-on-nodes graph: node 0 = input, nodes 1..6 = the 6 edges' ops, node 7 = output. An op node for edge
# (dst <- src) reads every op node that writes into cell node src (or the input) and feeds every op node reading
# from dst (or the output when dst == 3).
_ADJ_NODES = NUM_EDGES + 2


def _adjacency_pairs() -> list[tuple[int, int]]:
    pairs = []
    for e, (dst, src) in enumerate(EDGES):
        if src == 0:
            pairs.append((0, e + 1))
        if dst == 3:
            pairs.append((e + 1, _ADJ_NODES - 1))
        for f, (_dst2, src2) in enumerate(EDGES):
            if src2 == dst:
                pairs.append((e + 1, f + 1))
    return pairs


_ADJ_PAIRS = _adjacency_pairs()
_TRIU = np.triu_indices(_ADJ_NODES, k=1)


def _adjacency_encoding(arr: np.ndarray) -> np.ndarray:
    n = arr.shape[0]
    adj = np.zeros((n, _ADJ_NODES, _ADJ_NODES), dtype=np.float32)
    alive = np.ones((n, _ADJ_NODES), dtype=bool)
    alive[:, 1:-1] = arr != NONE
    for i, j in _ADJ_PAIRS:
        adj[:, i, j] = alive[:, i] & alive[:, j]
    return np.concatenate([adj[:, _TRIU[0], _TRIU[1]], _onehot(arr)], axis=1)
