"""The NAS-Bench-101 cell space (Ying et al., ICML 2019).

A cell is a DAG of at most 7 nodes: the input, up to 5 operation nodes and the output, with at most 9 edges.
Inside nasbench a cell is a tuple of 26 decisions over a fixed 7-node frame::

    decisions 0..20   the strictly upper-triangular 7x7 adjacency, row-major: edges 0->1, 0->2, ..., 0->6,
                      1->2, ..., 5->6 (0 absent, 1 present)
    decisions 21..25  the op of nodes 1..5: 0 conv3x3-bn-relu, 1 conv1x1-bn-relu, 2 maxpool3x3

Node 0 is the input, node 6 the output. A smaller cell (k < 7 nodes) is embedded with its output at node 6 and
nodes k-1..5 isolated. A tuple is a member of the space when its cell is valid after the *official pruning*
(every node not on an input->output path is removed): the input reaches the output and at most 9 edges remain.
So many tuples stand for one trained cell: :meth:`NB101Space.canonical` maps each to the representative of its
isomorphism class, and :meth:`NB101Space.hash` gives the official module hash that keys the published data.

String format (:meth:`NB101Space.to_str`): the two fields of an official NAS-Bench-101 tfrecord row joined by
``|``: the square adjacency matrix as a row-major bit string, then the comma-separated op names from ``input`` to
``output``, e.g. ``0101000001110000010000000001000001000000010000000|input,conv3x3-bn-relu,...,output``
(any size from 2 to 7 nodes is read; the full 7-node frame is written, so strings round-trip exactly).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
from collections.abc import Sequence

import numpy as np

from nasbench.errors import InvalidArchitecture
from nasbench.spaces.base import Arch, DiscreteSpace, key_weights

#: Operation names by index: the order of the official ``config['available_ops']`` (it defines the hash labels).
OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
INPUT, OUTPUT = "input", "output"
NUM_NODES = 7
MAX_EDGES = 9
NUM_OPS = len(OPS)
#: The (from, to) node pair of each adjacency decision: row-major upper triangle.
EDGES: tuple[tuple[int, int], ...] = tuple((i, j) for i in range(NUM_NODES) for j in range(i + 1, NUM_NODES))
NUM_EDGES = len(EDGES)  # 21
OP_NODES = tuple(range(1, NUM_NODES - 1))  # nodes 1..5 carry an op
WIDTH = NUM_EDGES + len(OP_NODES)  # 26
#: Node types of :meth:`NB101Space.graphs`.
NODE_TYPES: tuple[str, ...] = (INPUT, *OPS, OUTPUT)
#: Path encoding: one bit per op sequence of length 0..5 (White et al.), 3**0 + ... + 3**5 bits.
PATH_ENCODING_SIZE = sum(NUM_OPS**length for length in range(len(OP_NODES) + 1))  # 364
ENCODINGS = ("onehot", "adjacency", "path")
#: A real cell of the published data (module hash ff92c322c5d9d3d587d9c146a63d0807).
EXAMPLE = (
    "0101000001110000010000000001000001000000010000000|input,conv3x3-bn-relu,conv1x1-bn-relu,conv1x1-bn-relu,"
    "conv3x3-bn-relu,conv1x1-bn-relu,output"
)

_EDGE_INDEX = {edge: e for e, edge in enumerate(EDGES)}
_OP_INDEX = {name: i for i, name in enumerate(OPS)}
_CHOICES = (2,) * NUM_EDGES + (NUM_OPS,) * len(OP_NODES)
_WEIGHTS = key_weights(_CHOICES)


def _frame_bits(arch: Arch) -> list[int]:
    """Out-neighbour bit masks of the 7 nodes."""
    out = [0] * NUM_NODES
    for e, (i, j) in enumerate(EDGES):
        if arch[e]:
            out[i] |= 1 << j
    return out


@functools.lru_cache(maxsize=1 << 18)
def _prune(arch: Arch) -> tuple[int, int]:
    """(bit mask of live nodes, number of edges between live nodes): the official pruning keeps the nodes that are
    reachable from the input and reach the output; the mask is 0 when the input does not reach the output."""
    out = _frame_bits(arch)
    forward = 1
    for i in range(NUM_NODES):
        if forward >> i & 1:
            forward |= out[i]
    backward = 1 << (NUM_NODES - 1)
    for i in range(NUM_NODES - 2, -1, -1):
        if out[i] & backward:
            backward |= 1 << i
    live = forward & backward
    if not live >> (NUM_NODES - 1) & 1:
        return 0, 0
    edges = sum((out[i] & live).bit_count() for i in range(NUM_NODES) if live >> i & 1)
    return live, edges


def _pruned_in_place(arch: Arch) -> Arch:
    """The arch with every edge and op of a removed node cleared (dead ops set to 0): same frame positions."""
    live, _ = _prune(arch)
    bits = [b if (live >> i & 1 and live >> j & 1) else 0 for b, (i, j) in zip(arch, EDGES, strict=False)]
    ops = [op if live >> v & 1 else 0 for op, v in zip(arch[NUM_EDGES:], OP_NODES, strict=True)]
    return (*bits, *ops)


# ---- the official isomorphism-invariant hash ---------------------------------------------------------------


def module_hash(matrix: np.ndarray, labels: Sequence[int]) -> str:
    """The official NAS-Bench-101 module hash (``graph_util.hash_module``) of a pruned cell: md5 hex digest.

    ``labels`` are ``-1`` for the input, the op index (:data:`OPS` order) of each op node, ``-2`` for the output.
    Weisfeiler-Lehman style: each node starts from the md5 of ``str((out_degree, in_degree, label))``; then, as
    many rounds as there are nodes, a node's digest becomes the md5 of its sorted in-neighbour digests, ``|``, its
    sorted out-neighbour digests, ``|``, its own digest; the hash is the md5 of ``str`` of the sorted final list.
    """
    adj = np.asarray(matrix).astype(bool)
    n = adj.shape[0]
    ins = [[w for w in range(n) if adj[w, v]] for v in range(n)]
    outs = [[w for w in range(n) if adj[v, w]] for v in range(n)]
    return _wl_hash(ins, outs, [int(label) for label in labels])


def _wl_hash(ins: list[list[int]], outs: list[list[int]], labels: list[int]) -> str:
    n = len(labels)
    digests = [_md5(str((len(outs[v]), len(ins[v]), labels[v]))) for v in range(n)]
    for _ in range(n):
        digests = [
            _md5(
                "".join(sorted([digests[w] for w in ins[v]]))
                + "|"
                + "".join(sorted([digests[w] for w in outs[v]]))
                + "|"
                + digests[v]
            )
            for v in range(n)
        ]
    return _md5(str(sorted(digests)))


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


# ---- isomorphism: relabelings of the 5 op nodes ------------------------------------------------------------

# Every permutation of nodes 1..5 (input and output stay); new node a is old node PERMS[p, a].
_PERMS = np.array([(0, *p, NUM_NODES - 1) for p in itertools.permutations(OP_NODES)], dtype=np.int64)


def _relabel_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lookup tables that give, for every permutation at once, the key of the relabeled arch.

    The 21 adjacency bits are read as 3 chunks of 7 bits: ``bit_table[c, v, p]`` is the bit pattern (as a key
    part) that the present old edges ``v`` of chunk ``c`` become under permutation ``p``; ``backwards[p]`` is the
    mask of old edges that ``p`` would turn backwards (it is allowed only for an arch with none of them);
    ``op_table[code, p]`` is the base-3 key of the op nodes' ops (``code``: ops 1..5 as a base-3 number) after
    ``p``.
    """
    n = len(_PERMS)
    new_edge = np.full((n, NUM_EDGES), -1, dtype=np.int64)  # old edge -> new edge index, -1 if turned backwards
    backwards = np.zeros(n, dtype=np.int64)
    for p, perm in enumerate(_PERMS.tolist()):
        position = {old: new for new, old in enumerate(perm)}
        for e, (i, j) in enumerate(EDGES):
            a, c = position[i], position[j]
            if a < c:
                new_edge[p, e] = _EDGE_INDEX[(a, c)]
            else:
                backwards[p] |= 1 << e
    bit_key = 1 << (NUM_EDGES - 1 - np.arange(NUM_EDGES, dtype=np.int64))  # edge 0 most significant
    bit_table = np.zeros((3, 1 << _CHUNK, n), dtype=np.int32)  # keys < 2**21 * 3**5 < 2**31
    for c in range(3):
        for v in range(1 << _CHUNK):
            for b in range(_CHUNK):
                e = c * _CHUNK + b
                if v >> b & 1:
                    bit_table[c, v] |= np.where(new_edge[:, e] >= 0, bit_key[np.maximum(new_edge[:, e], 0)], 0)
    codes = np.arange(NUM_OPS ** len(OP_NODES))
    digits = codes[:, None] // NUM_OPS ** np.arange(len(OP_NODES) - 1, -1, -1) % NUM_OPS  # (243, 5), slot 0 first
    op_weights = NUM_OPS ** np.arange(len(OP_NODES) - 1, -1, -1)
    op_table = (digits[:, _PERMS[:, 1:-1] - 1] @ op_weights).astype(np.int32)  # (243, perms)
    return bit_table, backwards, op_table


_CHUNK = 7
_BIT_TABLE, _BACKWARDS, _OP_TABLE = _relabel_tables()
_BIT_VALUES = 1 << np.arange(NUM_EDGES, dtype=np.int64)  # edge e -> bit e of the "present" mask
_OP_CODE = NUM_OPS ** np.arange(len(OP_NODES) - 1, -1, -1)
_OP_RADIX = NUM_OPS ** len(OP_NODES)


def _canonical_rows(pruned: np.ndarray) -> np.ndarray:
    """Canonical form of (n, 26) archs already pruned in place: the lexicographically smallest arch over every
    relabeling of the op nodes that keeps the adjacency upper triangular (an arch's key is its 21 bits as a
    number, edge 0 most significant, times 3**5, plus its ops in base 3)."""
    present = pruned[:, :NUM_EDGES].astype(np.int64) @ _BIT_VALUES
    mask = (1 << _CHUNK) - 1
    bits = (
        _BIT_TABLE[0, present & mask]
        | _BIT_TABLE[1, present >> _CHUNK & mask]
        | _BIT_TABLE[2, present >> 2 * _CHUNK & mask]
    )
    keys = bits * _OP_RADIX + _OP_TABLE[pruned[:, NUM_EDGES:].astype(np.int64) @ _OP_CODE]
    keys[(present[:, None] & _BACKWARDS[None, :]) != 0] = np.iinfo(np.int32).max
    best = keys.min(axis=1).astype(np.int64)
    return (best[:, None] // _WEIGHTS) % np.asarray(_CHOICES)


@functools.lru_cache(maxsize=1 << 16)
def _canonical(arch: Arch) -> Arch:
    """One arch's canonical form: :func:`_canonical_rows` on a single row, without the batch machinery."""
    pruned = _pruned_in_place(arch)
    present = sum(1 << e for e in range(NUM_EDGES) if pruned[e])
    mask = (1 << _CHUNK) - 1
    bits = (
        _BIT_TABLE[0, present & mask]
        | _BIT_TABLE[1, present >> _CHUNK & mask]
        | _BIT_TABLE[2, present >> 2 * _CHUNK & mask]
    )
    code = sum(v * w for v, w in zip(pruned[NUM_EDGES:], _OP_CODE.tolist(), strict=True))
    keys = np.where(_BACKWARDS & present, np.iinfo(np.int32).max, bits * _OP_RADIX + _OP_TABLE[code])
    best = int(keys.min())
    return tuple(best // w % n for w, n in zip(_WEIGHTS.tolist(), _CHOICES, strict=True))


@functools.lru_cache(maxsize=1 << 16)
def _hash(arch: Arch) -> str:
    live, _ = _prune(arch)
    nodes = [v for v in range(NUM_NODES) if live >> v & 1]
    index = {v: k for k, v in enumerate(nodes)}
    out = _frame_bits(arch)
    outs = [[index[w] for w in nodes if out[v] >> w & 1] for v in nodes]
    ins: list[list[int]] = [[] for _ in nodes]
    for k, targets in enumerate(outs):
        for t in targets:
            ins[t].append(k)
    labels = [-1] + [arch[NUM_EDGES + v - 1] for v in nodes[1:-1]] + [-2]
    return _wl_hash(ins, outs, labels)


def _spec(arch: Arch) -> tuple[np.ndarray, list[str]]:
    live, _ = _prune(arch)
    nodes = [v for v in range(NUM_NODES) if live >> v & 1]
    full = np.zeros((NUM_NODES, NUM_NODES), dtype=np.int8)
    for e, (i, j) in enumerate(EDGES):
        full[i, j] = arch[e]
    ops = [INPUT] + [OPS[arch[NUM_EDGES + v - 1]] for v in OP_NODES] + [OUTPUT]
    return full[np.ix_(nodes, nodes)], [ops[v] for v in nodes]


# ---- batch helpers (numpy over many archs) -------------------------------------------------------------------


def _matrices(arr: np.ndarray) -> np.ndarray:
    """(n, 7, 7) int8 adjacency of (n, 26) archs."""
    adj = np.zeros((len(arr), NUM_NODES, NUM_NODES), dtype=np.int8)
    src, dst = np.asarray(EDGES).T
    adj[:, src, dst] = arr[:, :NUM_EDGES]
    return adj


def live_nodes(arr: np.ndarray) -> np.ndarray:
    """(n, 7) bool: the nodes the official pruning keeps (none when the input does not reach the output)."""
    adj = _matrices(arr).astype(bool)
    forward = np.zeros((len(arr), NUM_NODES), dtype=bool)
    forward[:, 0] = True
    for j in range(1, NUM_NODES):
        forward[:, j] = (forward[:, :j] & adj[:, :j, j]).any(axis=1)
    backward = np.zeros_like(forward)
    backward[:, -1] = True
    for i in range(NUM_NODES - 2, -1, -1):
        backward[:, i] = (backward[:, i + 1 :] & adj[:, i, i + 1 :]).any(axis=1)
    live = forward & backward
    live &= live[:, -1:]
    return live


def _pruned_rows(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(archs pruned in place, live nodes) of (n, 26) archs."""
    live = live_nodes(arr)
    src, dst = np.asarray(EDGES).T
    out = arr.copy()
    out[:, :NUM_EDGES] *= live[:, src] & live[:, dst]
    out[:, NUM_EDGES:] *= live[:, 1:-1]
    return out, live


# Path encoding: appending op o to a sequence of length L adds 3**L * (o + 1) to its index (bijective base 3,
# first op least significant, as in White et al.'s code), so the empty path is index 0.
def _extend_table() -> np.ndarray:
    table = np.full((PATH_ENCODING_SIZE, NUM_OPS), -1, dtype=np.int64)
    starts = np.cumsum([0] + [NUM_OPS**length for length in range(len(OP_NODES) + 1)])
    for length in range(len(OP_NODES)):
        for index in range(starts[length], starts[length + 1]):
            for op in range(NUM_OPS):
                table[index, op] = index + NUM_OPS**length * (op + 1)
    return table


_EXTEND = _extend_table()


def _path_encoding(arr: np.ndarray) -> np.ndarray:
    """Bit s of row k: some input->output path of arch k runs through op nodes whose ops spell sequence s."""
    adj = _matrices(arr).astype(bool)
    n = len(arr)
    arriving = np.zeros((NUM_NODES, n, PATH_ENCODING_SIZE), dtype=bool)  # sequences of paths input -> node
    arriving[0, :, 0] = True
    leaving = [arriving[0]]  # sequences of paths input -> node, including the node's own op
    for j in range(1, NUM_NODES):
        for i in range(j):
            arriving[j] |= leaving[i] & adj[:, i, j, None]
        if j < NUM_NODES - 1:
            extended = np.zeros((n, PATH_ENCODING_SIZE), dtype=bool)
            op = arr[:, NUM_EDGES + j - 1]
            for o in range(NUM_OPS):
                rows = np.flatnonzero((op == o) & arriving[j].any(axis=1))
                if rows.size:
                    k, s = np.nonzero(arriving[j][rows])
                    extended[rows[k], _EXTEND[s, o]] = True
            leaving.append(extended)
    return arriving[-1].astype(np.float32)


class NB101Space(DiscreteSpace):
    """The NAS-Bench-101 search space: official pruning, validity, isomorphism, module hash, string and spec
    formats, encodings and a graph view (not enumerable: 423,624 isomorphism classes in about 2**21 * 3**5 tuples).

    Stateless; results are cached per tuple (module-level LRU caches), so repeated validation, canonical form and
    hashing of the same arch cost a dictionary lookup.
    """

    name = "nb101"
    choices = _CHOICES
    decisions = tuple(f"edge {i}->{j}" for i, j in EDGES) + tuple(f"op of node {v}" for v in OP_NODES)
    options = (("absent", "present"),) * NUM_EDGES + (OPS,) * len(OP_NODES)
    encodings = ENCODINGS
    ops = OPS
    edges = EDGES
    max_edges = MAX_EDGES
    num_nodes = NUM_NODES

    # ---- validity ---------------------------------------------------------------------------------------

    def invalid_reason(self, arch: Arch) -> str | None:
        live, edges = _prune(arch)
        if not live:
            return "its input does not reach its output, so the official pruning leaves no cell (a cell needs a path"
            " input -> ... -> output)"
        if edges > MAX_EDGES:
            return f"it has {edges} edges after the official pruning; NAS-Bench-101 allows at most {MAX_EDGES}"
        return None

    def validate(self, obj: object) -> Arch:
        """Arch of 26 ints, an official string, a ``(matrix, ops)`` pair or an official ``ModelSpec``-like object
        (``original_matrix``, ``original_ops``); unpruned cells are accepted when their pruned form is valid."""
        if (
            type(obj) is tuple
            and len(obj) == WIDTH
            and all(type(v) is int and 0 <= v < n for v, n in zip(obj, self.choices, strict=True))
        ):
            live, edges = _prune(obj)
            if live and edges <= MAX_EDGES:
                return obj  # fast path: a valid tuple of plain ints
        if hasattr(obj, "original_matrix") and hasattr(obj, "original_ops"):
            return self.from_spec(obj.original_matrix, obj.original_ops)
        if isinstance(obj, (tuple, list)) and len(obj) == 2 and not isinstance(obj[0], (int, np.integer)):
            return self.from_spec(obj[0], obj[1])
        return super().validate(obj)

    def sample(self, rng: np.random.Generator) -> Arch:
        """As the official ``random_spec``: every edge bit and op uniform, redrawn until the pruned cell is valid."""
        high = np.asarray(self.choices)
        for _ in range(100_000):
            arch = tuple(rng.integers(0, high).tolist())
            if self.invalid_reason(arch) is None:
                return arch
        raise RuntimeError("nb101: no valid architecture in 100,000 random draws")  # pragma: no cover

    # ---- official (matrix, ops) specs ---------------------------------------------------------------------

    def from_spec(self, matrix: object, ops: object) -> Arch:
        """The arch of an official ``ModelSpec(matrix, ops)``: a k x k upper-triangular 0/1 matrix (2 <= k <= 7)
        and k op names from ``'input'`` to ``'output'``; a smaller cell is embedded with its output at node 6."""
        try:
            m = np.asarray(matrix)
        except (TypeError, ValueError) as exc:
            raise InvalidArchitecture(f"an nb101 matrix is a square 0/1 array, got {matrix!r}: {exc}") from None
        if m.ndim != 2 or m.shape[0] != m.shape[1] or not 2 <= m.shape[0] <= NUM_NODES:
            raise InvalidArchitecture(
                f"an nb101 matrix is square with 2..{NUM_NODES} nodes (input, op nodes, output), got shape {m.shape}"
            )
        if not (m.size and (np.issubdtype(m.dtype, np.integer) or m.dtype == bool)) or not ((m == 0) | (m == 1)).all():
            raise InvalidArchitecture(f"an nb101 matrix holds only 0 and 1 (edge absent/present), got {m.tolist()}")
        k = m.shape[0]
        if np.tril(m).any():
            raise InvalidArchitecture(
                f"an nb101 matrix must be strictly upper triangular (edges run from lower to higher nodes), got "
                f"{m.tolist()}"
            )
        if isinstance(ops, str) or not isinstance(ops, Sequence) or len(ops) != k:
            raise InvalidArchitecture(f"an nb101 cell of {k} nodes needs a list of {k} op names, got {ops!r}")
        if ops[0] != INPUT or ops[-1] != OUTPUT:
            raise InvalidArchitecture(f"the ops of an nb101 cell start with 'input' and end with 'output', got {ops!r}")
        unknown = [op for op in ops[1:-1] if op not in _OP_INDEX]
        if unknown:
            raise InvalidArchitecture(
                f"unknown nb101 op(s) {unknown} in {list(ops)}; the op nodes take: {', '.join(OPS)}"
            )
        frame = [*range(k - 1), NUM_NODES - 1]  # node i of the spec is node frame[i] of the 7-node frame
        bits = [0] * NUM_EDGES
        for i, j in zip(*np.nonzero(m), strict=True):
            bits[_EDGE_INDEX[(frame[i], frame[j])]] = 1
        op_values = [_OP_INDEX[op] for op in ops[1:-1]] + [0] * (NUM_NODES - k)
        return super().validate((*bits, *op_values))

    def to_spec(self, arch: Arch) -> tuple[np.ndarray, list[str]]:
        """The pruned official spec of ``arch``: (k x k int8 adjacency, k op names), as ``ModelSpec.matrix`` /
        ``ModelSpec.ops`` after the official pruning (removed nodes dropped, order kept)."""
        matrix, ops = _spec(self.validate(arch))
        return matrix.copy(), ops

    # ---- strings ------------------------------------------------------------------------------------------

    def to_str(self, arch: Arch) -> str:
        """``<49 adjacency bits>|input,<5 op names>,output``: the full 7-node frame (unpruned), so
        ``from_str(to_str(a)) == a``."""
        arch = self.validate(arch)
        full = np.zeros((NUM_NODES, NUM_NODES), dtype=np.int8)
        for e, (i, j) in enumerate(EDGES):
            full[i, j] = arch[e]
        names = [INPUT, *(OPS[op] for op in arch[NUM_EDGES:]), OUTPUT]
        return "".join(map(str, full.ravel().tolist())) + "|" + ",".join(names)

    def from_str(self, text: str) -> Arch:
        """Parse ``<k*k adjacency bits>|<k comma-separated op names>`` (2 <= k <= 7), the fields of an official
        tfrecord row; raise :class:`InvalidArchitecture` saying what is wrong."""
        if not isinstance(text, str):
            raise InvalidArchitecture(f"expected an nb101 string, got {type(text).__name__}")
        parts = text.strip().split("|")
        if len(parts) != 2:
            raise InvalidArchitecture(
                f"an nb101 string is '<adjacency bits>|<op names>' (one '|'), got {text!r}; example: {EXAMPLE}"
            )
        bits, names = parts
        k = math.isqrt(len(bits))
        if not bits or set(bits) - {"0", "1"} or k * k != len(bits) or not 2 <= k <= NUM_NODES:
            raise InvalidArchitecture(
                f"the adjacency of an nb101 string is k*k characters 0/1 (row-major, 2 <= k <= {NUM_NODES}), got "
                f"{bits!r} in {text!r}; example: {EXAMPLE}"
            )
        matrix = np.array([int(c) for c in bits], dtype=np.int8).reshape(k, k)
        return self.from_spec(matrix, names.split(","))

    # ---- isomorphism and the official hash ------------------------------------------------------------------

    def canonical(self, arch: Arch) -> Arch:
        """The representative of ``arch``'s isomorphism class: prune (removed nodes' edges and ops cleared), then
        the lexicographically smallest arch over every relabeling of nodes 1..5 that keeps the adjacency upper
        triangular. Isomorphic cells, pruned or not, get the same arch; ``canonical`` is idempotent."""
        return _canonical(self.validate(arch))

    def canonical_many(self, archs: Sequence[Arch] | np.ndarray) -> np.ndarray:
        """Vectorised :meth:`canonical`: (n, 26) int64 (about 10 us per arch; for importers)."""
        arr = self.as_array(archs)
        out = np.empty_like(arr)
        for start in range(0, len(arr), 2048):
            pruned, _ = _pruned_rows(arr[start : start + 2048])
            out[start : start + 2048] = _canonical_rows(pruned)
        return out

    def hash(self, arch: Arch) -> str:
        """The official isomorphism-invariant module hash (md5 hex) that keys the NAS-Bench-101 data."""
        return _hash(self.validate(arch))

    def is_isomorphic(self, a: Arch, b: Arch) -> bool:
        return self.canonical(a) == self.canonical(b)

    # ---- graph view (GraphView) -----------------------------------------------------------------------------

    #: node types of :meth:`graphs`: 0 input, 1 + op index for an op node, 4 output (see :data:`NODE_TYPES`)
    num_node_types = len(NODE_TYPES)

    def graphs(self, archs: Sequence[Arch] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pruned cells on the 7-node frame: adjacency (n, 7, 7) float32 without the edges of removed nodes, and
        node types (n, 7) int64 (:data:`NODE_TYPES` indices), -1 for a removed node."""
        pruned, live = _pruned_rows(self.as_array(archs))
        types = np.empty((len(pruned), NUM_NODES), dtype=np.int64)
        types[:, 0], types[:, -1] = 0, len(NODE_TYPES) - 1
        types[:, 1:-1] = pruned[:, NUM_EDGES:] + 1
        return _matrices(pruned).astype(np.float32), np.where(live, types, -1)

    # ---- encodings ----------------------------------------------------------------------------------------

    def encode(self, archs: Sequence[Arch] | np.ndarray, kind: str = "onehot") -> np.ndarray:
        """(len(archs), d) float32 features:

        - ``onehot`` (57): every decision one-hot, of the arch as given (unpruned);
        - ``adjacency`` (36): the 21 adjacency bits and the 5 op nodes' op one-hot of the cell pruned in place
          (a removed node has no edges and an all-zero op), White et al.'s adjacency encoding;
        - ``path`` (364): White et al.'s path encoding, one bit per op sequence (length 0..5) of an input->output
          path, index ``sum_i 3**i * (op_i + 1)`` (first op least significant, as in their code).
        """
        return super().encode(archs, kind)

    def _encode(self, arr: np.ndarray, kind: str) -> np.ndarray:
        if kind == "adjacency":
            pruned, live = _pruned_rows(arr)
            onehot = np.zeros((len(arr), len(OP_NODES), NUM_OPS), dtype=np.float32)
            rows, slots = np.nonzero(live[:, 1:-1])
            onehot[rows, slots, pruned[rows, NUM_EDGES + slots]] = 1.0
            return np.concatenate([pruned[:, :NUM_EDGES].astype(np.float32), onehot.reshape(len(arr), -1)], axis=1)
        if kind == "path":
            return _path_encoding(arr)
        raise ValueError(f"unknown encoding {kind!r}; known: {', '.join(ENCODINGS)}")  # pragma: no cover

    def __repr__(self) -> str:
        return "NB101Space()"
