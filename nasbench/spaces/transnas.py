"""The two search spaces of TransNAS-Bench-101 (Duan et al., CVPR 2021), trained on tasks of the Taskonomy data.

Both are written as the official net code ``<base channels>-<macro skeleton>-<cell>``:

- **micro** (:class:`TNBMicroSpace`, 4,096 cells): ``64-41414-a_bc_def``. A fixed skeleton of 5 modules
  (``41414``) stacks an NB201-like cell of 4 nodes whose 6 edges, in NB201's edge order
  (1<-0 | 2<-0 2<-1 | 3<-0 3<-1 3<-2), each carry one of 4 ops; ``a_bc_def`` lists them by destination node.
- **macro** (:class:`TNBMacroSpace`, 3,256 networks): ``64-XXXX-basic``, 4 to 6 residual modules of ResNet basic
  blocks, each module a digit: ``1`` normal, ``2`` channels x2, ``3`` resolution /2, ``4`` both.

numpy only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nasbench.errors import InvalidArchitecture
from nasbench.spaces.base import Arch, EnumerableSpace
from nasbench.spaces.nb201 import EDGES, live_mask
from nasbench.spaces.nb201 import OPS as NB201_OPS

BASE_CHANNELS = "64"

# ---- micro ----------------------------------------------------------------------------------------------------

#: Op names by the official TransNAS-Bench-101 op code (``cell_ops.OPS``: Zero, Identity / FactorizedReduce,
#: ReLUConvBN 1x1, ReLUConvBN 3x3): NAS-Bench-201's first four ops, with the same codes (its cell, without pooling).
MICRO_OPS: tuple[str, ...] = NB201_OPS[:4]
MICRO_NONE = 0
MICRO_SKELETON = "41414"
_MICRO_EXAMPLE = "64-41414-1_02_333"
_MICRO_EDGES = len(EDGES)
_NODE_SLICES = ((0, 1), (1, 3), (3, 6))  # the edges into node 1, 2, 3, in the string's order
_INPUT_EDGE_3 = 3  # the edge 3<-0: the only edge that alone joins input and output


def _op_node_pairs() -> tuple[tuple[int, int], ...]:
    """Edges of the ops-on-nodes DAG: node 0 = input, node e + 1 = the op of cell edge e, node 7 = output. The op
    of edge (dst <- src) reads the input when src is 0 and every op writing into src, and feeds the output when
    dst is 3 and every op reading from dst."""
    out = _MICRO_EDGES + 1
    pairs = []
    for e, (dst, src) in enumerate(EDGES):
        if src == 0:
            pairs.append((0, e + 1))
        if dst == 3:
            pairs.append((e + 1, out))
        pairs += [(e + 1, f + 1) for f, (_, src2) in enumerate(EDGES) if src2 == dst]
    return tuple(pairs)


_PAIRS = np.asarray(_op_node_pairs(), dtype=np.int64)


class TNBMicroSpace(EnumerableSpace):
    """The TransNAS-Bench-101 cell space: 4**6 = 4,096 cells, every one a member.

    Canonical form: the identity. Unlike NB201, cells that NB201's rule calls isomorphic are not the same network
    here: in the first cell of each module that halves the resolution and doubles the channels (the 4s of the
    skeleton 41414) the edges from node 0 are strided, so ``skip_connect`` from node 0 is a FactorizedReduce there,
    not an identity, and the benchmark trained each cell on its own. The published results agree: of the 405 NB201
    isomorphism classes with several members, only 5 have identical results on all five tasks. Each of the 4,096
    cells is its own row.

    Graph view: NB201's ops-on-nodes DAG (:meth:`graphs`). Progressive: complexity is the number of edges that
    carry an op (not ``none``); the simplest cells are the three with a single op on the edge 3<-0 (every other
    one-op cell has no input-to-output path and computes nothing); :meth:`grow` sets one ``none`` edge to an op.
    """

    name = "tnb_micro"
    choices = (len(MICRO_OPS),) * _MICRO_EDGES
    decisions = tuple(f"edge {dst}<-{src}" for dst, src in EDGES)
    options = (MICRO_OPS,) * _MICRO_EDGES
    edges = EDGES
    #: node types of :meth:`graphs`: the 4 ops, then input, then output
    num_node_types = len(MICRO_OPS) + 2

    def to_str(self, arch: Arch) -> str:
        digits = "".join(str(v) for v in self.validate(arch))
        return f"{BASE_CHANNELS}-{MICRO_SKELETON}-" + "_".join(digits[a:b] for a, b in _NODE_SLICES)

    def from_str(self, text: str) -> Arch:
        if not isinstance(text, str):
            raise InvalidArchitecture(
                f"expected a tnb_micro string such as {_MICRO_EXAMPLE!r}, got {type(text).__name__}"
            )
        parts = text.strip().split("-")
        if len(parts) == 3 and parts[2] == "basic":
            raise InvalidArchitecture(
                f"{text!r} is a TransNAS-Bench-101 macro network (tnb_macro), not a tnb_micro cell; "
                f"a tnb_micro string looks like {_MICRO_EXAMPLE!r}"
            )
        if len(parts) != 3 or parts[0] != BASE_CHANNELS or parts[1] != MICRO_SKELETON:
            raise InvalidArchitecture(
                f"a tnb_micro string is '{BASE_CHANNELS}-{MICRO_SKELETON}-' then the cell, e.g. {_MICRO_EXAMPLE!r}; "
                f"got {text!r}"
            )
        nodes = parts[2].split("_")
        if [len(n) for n in nodes] != [1, 2, 3] or any(c not in "0123" for c in "".join(nodes)):
            raise InvalidArchitecture(
                f"the cell of a tnb_micro string is 'a_bc_def': 1, 2 and 3 op codes for the edges into nodes 1, 2, 3, "
                f"each 0 (none), 1 (skip_connect), 2 (nor_conv_1x1) or 3 (nor_conv_3x3), e.g. {_MICRO_EXAMPLE!r}; "
                f"got {text!r}"
            )
        return tuple(int(c) for c in "".join(nodes))

    # ---- "simpler than" (Progressive) ---------------------------------------------------------------------

    def complexity(self, arch: Arch) -> int:
        """The number of edges that carry an op."""
        return sum(op != MICRO_NONE for op in self.validate(arch))

    def simplest(self) -> list[Arch]:
        """The three one-op cells that compute something: one op on the edge 3<-0."""
        empty = (MICRO_NONE,) * _MICRO_EDGES
        return [(*empty[:_INPUT_EDGE_3], op, *empty[_INPUT_EDGE_3 + 1 :]) for op in range(1, len(MICRO_OPS))]

    def grow(self, arch: Arch) -> list[Arch]:
        """Cells with one more op: one ``none`` edge set to each other op (edge-then-op order). Empty for a cell
        without ``none`` edges."""
        arch = self.validate(arch)
        return [
            (*arch[:e], op, *arch[e + 1 :])
            for e in range(_MICRO_EDGES)
            if arch[e] == MICRO_NONE
            for op in range(1, len(MICRO_OPS))
        ]

    # ---- graph view (GraphView) ---------------------------------------------------------------------------

    def graphs(self, archs: Sequence[Arch] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ops-on-nodes DAGs as NB201's: node 0 the input, nodes 1..6 the edges' ops, node 7 the output. Op nodes
        that are ``none`` or off every live input-to-output path are absent (type -1, no edges). Returns adjacency
        (n, 8, 8) float32 and node types (n, 8) int64 (ops 0..3, input 4, output 5)."""
        arr = self.as_array(archs)
        n, nodes = len(arr), _MICRO_EDGES + 2
        alive = np.ones((n, nodes), dtype=bool)
        alive[:, 1:-1] = live_mask(arr)
        adj = np.zeros((n, nodes, nodes), dtype=np.float32)
        adj[:, _PAIRS[:, 0], _PAIRS[:, 1]] = alive[:, _PAIRS[:, 0]] & alive[:, _PAIRS[:, 1]]
        types = np.zeros((n, nodes), dtype=np.int64)
        types[:, 1:-1] = arr
        types[:, 0], types[:, -1] = len(MICRO_OPS), len(MICRO_OPS) + 1
        return adj, np.where(alive, types, -1)


# ---- macro ----------------------------------------------------------------------------------------------------

#: Module names by the official code (0 = no module, padding at the end of the fixed-width arch).
MACRO_MODULES: tuple[str, ...] = ("none", "normal", "channel_x2", "resolution_half", "channel_x2_resolution_half")
MACRO_WIDTH = 6
MIN_MODULES = 4
DOWNSAMPLES = (1, 4)  # allowed number of modules that halve the resolution (codes 3, 4)
DOUBLINGS = (1, 3)  # allowed number of modules that double the channels (codes 2, 4)
_MACRO_EXAMPLE = "64-1234-basic"


class TNBMacroSpace(EnumerableSpace):
    """The TransNAS-Bench-101 macro skeleton space: 3,256 networks.

    An arch is 6 module codes, ``0`` (no module) only after the last module. The official rules, which give exactly
    the 3,256 networks of the benchmark (NASLib's ``TransBench101SearchSpaceMacro`` samples them the same way:
    4 + r modules with r in 0..2, p in 1..4 downsampling and q in 1..3 channel-doubling modules, permuted):

    - 4 to 6 modules;
    - 1 to 4 of them halve the resolution (codes 3 and 4);
    - 1 to 3 of them double the channels (codes 2 and 4).

    Canonical form: the identity (the order of modules changes the network). No "simpler than": depth has only
    three values here and the 210 four-module networks are no simpler in any useful sense (they score like the
    deeper ones), so progressive search (PNAS) refuses this space with MissingCapability.
    """

    name = "tnb_macro"
    choices = (len(MACRO_MODULES),) * MACRO_WIDTH
    decisions = tuple(f"module {i + 1}" for i in range(MACRO_WIDTH))
    options = (MACRO_MODULES,) * MACRO_WIDTH

    def invalid_reason(self, arch: Arch) -> str | None:
        modules = [m for m in arch if m]
        if 0 in arch[: len(modules)]:
            gap = arch.index(0)
            return (
                f"position {gap + 1} is empty but a module follows it; modules are listed from position 1 and 0 "
                "(no module) may only pad the end"
            )
        if len(modules) < MIN_MODULES:
            return f"it has {len(modules)} modules; a tnb_macro network has {MIN_MODULES} to {MACRO_WIDTH}"
        down = sum(m in (3, 4) for m in modules)
        if not DOWNSAMPLES[0] <= down <= DOWNSAMPLES[1]:
            return (
                f"{down} of its modules halve the resolution (codes 3, 4); the benchmark allows "
                f"{DOWNSAMPLES[0]} to {DOWNSAMPLES[1]}"
            )
        double = sum(m in (2, 4) for m in modules)
        if not DOUBLINGS[0] <= double <= DOUBLINGS[1]:
            return (
                f"{double} of its modules double the channels (codes 2, 4); the benchmark allows "
                f"{DOUBLINGS[0]} to {DOUBLINGS[1]}"
            )
        return None

    def to_str(self, arch: Arch) -> str:
        return f"{BASE_CHANNELS}-" + "".join(str(m) for m in self.validate(arch) if m) + "-basic"

    def from_str(self, text: str) -> Arch:
        if not isinstance(text, str):
            raise InvalidArchitecture(
                f"expected a tnb_macro string such as {_MACRO_EXAMPLE!r}, got {type(text).__name__}"
            )
        parts = text.strip().split("-")
        if len(parts) == 3 and parts[1] == MICRO_SKELETON and parts[2] != "basic":
            raise InvalidArchitecture(
                f"{text!r} is a TransNAS-Bench-101 micro cell (tnb_micro), not a tnb_macro network; "
                f"a tnb_macro string looks like {_MACRO_EXAMPLE!r}"
            )
        if len(parts) != 3 or parts[0] != BASE_CHANNELS or parts[2] != "basic" or not parts[1]:
            raise InvalidArchitecture(
                f"a tnb_macro string is '{BASE_CHANNELS}-', the module codes, then '-basic', e.g. {_MACRO_EXAMPLE!r}; "
                f"got {text!r}"
            )
        codes = parts[1]
        if any(c not in "1234" for c in codes) or not MIN_MODULES <= len(codes) <= MACRO_WIDTH:
            raise InvalidArchitecture(
                f"a tnb_macro network has {MIN_MODULES} to {MACRO_WIDTH} modules, each 1 (normal), 2 (channels x2), "
                f"3 (resolution /2) or 4 (both); got {codes!r} in {text!r}"
            )
        return self.validate(tuple(int(c) for c in codes) + (0,) * (MACRO_WIDTH - len(codes)))
