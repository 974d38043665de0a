"""The NAS-Bench-Graph space (Qin et al., "NAS-Bench-Graph: Benchmarking Graph Neural Architecture Search",
NeurIPS 2022 Datasets and Benchmarks; Apache-2.0): a GNN of 4 computing nodes, each one GNN operation, wired by
one of 9 link patterns.

An arch is ``(link, op 1, op 2, op 3, op 4)``: ``link`` indexes the benchmark's ``link_list`` (entry ``i`` of a
link names the node whose output node ``i + 1`` reads, 0 = the input), ``op k`` one of its operations. The
official string is the link then the ops, as the package's ``Arch(link, ops)`` holds them:
``[0,1,2,3]:gcn,gat,skip,sage``.

Equivalence: the benchmark trained one network per class of equivalent archs. Its ``Arch.valid_hash`` (in
``nas_bench_graph/architecture.py``) moves ``skip`` operations that change nothing out of the way
(``move_skip_op``) and sorts the operations of interchangeable nodes (``equalpart_sort``); the ``.bench`` files are
keyed by the hash of that representative. :meth:`NBGraphSpace.canonical` is the same procedure, re-implemented
here (numpy only, the package is not imported), and a store holds one row per class (``iso_shared``). The
all-``skip`` network computes nothing and is not a member (the package's ``all_archs`` leaves it out too).

Two spaces: :class:`NBGraphSpace` (``nbgraph``, 9 operations, 8 data sets) and :class:`NBGraphProteinsSpace`
(``nbgraph_proteins``, the 5 operations ogbn-proteins was trained with: ``gcn, sage, arma, fc, skip``).
"""

from __future__ import annotations

import functools
import re

from nasbench.errors import InvalidArchitecture
from nasbench.spaces.base import Arch, EnumerableSpace

#: The 9 link patterns, in the benchmark's order (``link_list``).
LINKS: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 0, 0),
    (0, 0, 0, 1),
    (0, 0, 1, 1),
    (0, 0, 1, 2),
    (0, 0, 1, 3),
    (0, 1, 1, 1),
    (0, 1, 1, 2),
    (0, 1, 2, 2),
    (0, 1, 2, 3),
)
#: The operations in the benchmark's order (``gnn_list``): GAT (2 heads), GCN, GIN, ChebNet, GraphSAGE, ARMA,
#: k-GNN ("graph"), a fully connected layer, skip connection.
OPS: tuple[str, ...] = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
#: ogbn-proteins' operations (``gnn_list_proteins``), in the same relative order as :data:`OPS`.
PROTEINS_OPS: tuple[str, ...] = ("gcn", "sage", "arma", "fc", "skip")
NODES = 4
_EXAMPLE = "[0,1,2,3]:gcn,gat,skip,sage"
_STRING = re.compile(r"^\[\s*(\d)\s*,\s*(\d)\s*,\s*(\d)\s*,\s*(\d)\s*\]\s*:\s*([a-z]+(?:\s*,\s*[a-z]+)*)$")


def official_hash(link: tuple[int, ...], ops: tuple[str, ...]) -> int:
    """The key of an arch in a ``.bench`` file: ``Arch.hash_arch``, base ``len(OPS) + 1`` (also for proteins)."""
    key = LINKS.index(tuple(link))
    for op in ops:
        key = key * (len(OPS) + 1) + OPS.index(op)
    return key


def official_unhash(key: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The (link, ops) of a ``.bench`` key; ValueError when it is none."""
    base = len(OPS) + 1
    digits = []
    for _ in range(NODES):
        key, digit = divmod(key, base)
        digits.append(digit)
    if not 0 <= key < len(LINKS) or any(d >= len(OPS) for d in digits):
        raise ValueError("not a NAS-Bench-Graph key")
    return LINKS[key], tuple(OPS[d] for d in reversed(digits))


def _move_skip_op(link: list[int], ops: list[str]) -> tuple[list[int], list[str]]:
    """``Arch.move_skip_op``: a skip node whose output is read by another node, or that has no sibling (another
    node reading what it reads), or that only forwards the input, is moved to the front of the order."""

    def move_one(k: int, link: list[int], ops: list[str]) -> tuple[list[int], list[str]]:
        ops = [ops[k], *ops[:k], *ops[k + 1 :]]
        for i, father in enumerate(link):
            if father == k + 1:
                link[i] = link[k]
            if father <= k:
                link[i] = link[i] + 1
        return [0, *link[:k], *link[k + 1 :]], ops

    def forwards_input(k: int, link: list[int], ops: list[str]) -> bool:
        while k > -1:
            if ops[k] != "skip":
                return False
            k = link[k] - 1
        return True

    for i in range(len(link)):
        if ops[i] != "skip":
            continue
        son = brother = False
        for j, father in enumerate(link):
            if father == i + 1:
                son = True
            elif j != i and father == link[i]:
                brother = True
        if son or not brother or (forwards_input(i, link, ops) and not son):
            link, ops = move_one(i, link, ops)
    if link == [0, 1, 2, 1]:
        link, ops = [0, 1, 1, 2], [*ops[:2], ops[3], ops[2]]
    elif link == [0, 1, 1, 3]:
        link, ops = [0, 1, 1, 2], [ops[0], ops[2], ops[1], ops[3]]
    return link, ops


def _equalpart_sort(link: list[int], ops: list[str]) -> list[str]:
    """``Arch.equalpart_sort``: the operations of interchangeable nodes in the benchmark's op order."""
    rank = {name: i for i, name in enumerate(OPS)}
    ops = ops[:]
    groups: dict[tuple[int, ...], list[int]] = {
        (0, 0, 0, 0): [0, 1, 2, 3],
        (0, 0, 0, 1): [1, 2],
        (0, 0, 1, 1): [2, 3],
        (0, 1, 1, 1): [1, 2, 3],
        (0, 1, 2, 2): [2, 3],
    }
    ids = groups.get(tuple(link))
    if ids:
        for pos, op in zip(ids, sorted((ops[i] for i in ids), key=rank.__getitem__), strict=True):
            ops[pos] = op
    elif tuple(link) == (0, 0, 1, 2) and (
        rank[ops[0]] > rank[ops[1]] or (ops[0] == ops[1] and rank[ops[2]] > rank[ops[3]])
    ):
        ops = [ops[1], ops[0], ops[3], ops[2]]  # the two input-fed chains swapped
    return ops


def official_canonical(link: tuple[int, ...], ops: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The representative ``Arch.valid_hash`` hashes (``regularize`` is the identity on the 9 links)."""
    new_link, new_ops = _move_skip_op(list(link), list(ops))
    new_ops = _equalpart_sort(new_link, new_ops)
    return tuple(new_link), tuple(new_ops)


class NBGraphSpace(EnumerableSpace):
    """NAS-Bench-Graph: 9 links x 9**4 operation choices, less the 9 all-skip networks; 26,206 distinct networks
    (one per class of :meth:`canonical`, as many as each ``.bench`` file of the 8 data sets holds)."""

    name = "nbgraph"
    ops: tuple[str, ...] = OPS
    choices = (len(LINKS), *(len(OPS),) * NODES)
    decisions = ("link", *(f"op {k + 1}" for k in range(NODES)))
    options = (tuple("[" + ",".join(map(str, lk)) + "]" for lk in LINKS), *(OPS,) * NODES)
    links = LINKS

    def invalid_reason(self, arch: Arch) -> str | None:
        if all(self.ops[v] == "skip" for v in arch[1:]):
            return "every operation is skip: the network computes nothing"
        return None

    # ---- strings ------------------------------------------------------------------------------------------

    def to_str(self, arch: Arch) -> str:
        arch = self.validate(arch)
        link = ",".join(str(v) for v in LINKS[arch[0]])
        return f"[{link}]:" + ",".join(self.ops[v] for v in arch[1:])

    def from_str(self, text: str) -> Arch:
        if not isinstance(text, str):
            raise InvalidArchitecture(f"expected a {self.name} string such as {_EXAMPLE!r}, got {type(text).__name__}")
        match = _STRING.match(text.strip())
        links = ", ".join("[" + ",".join(map(str, lk)) + "]" for lk in LINKS)
        if not match:
            raise InvalidArchitecture(
                f"a {self.name} string is the link list then the 4 operations, e.g. {_EXAMPLE!r}; got {text!r}"
            )
        link = tuple(int(match.group(i)) for i in range(1, 5))
        if link not in LINKS:
            raise InvalidArchitecture(f"link {list(link)} of {text!r} is not one of the benchmark's links: {links}")
        names = [n.strip() for n in match.group(5).split(",")]
        if len(names) != NODES or any(n not in self.ops for n in names):
            raise InvalidArchitecture(
                f"{text!r} needs {NODES} operations, each one of {', '.join(self.ops)}; got {', '.join(names)}"
            )
        return self.validate((LINKS.index(link), *(self.ops.index(n) for n in names)))

    # ---- equivalence --------------------------------------------------------------------------------------

    def canonical(self, arch: Arch) -> Arch:
        """The benchmark's own representative of ``arch``'s class (``Arch.valid_hash``; module docstring)."""
        return _canonical(self, self.validate(arch))

    def official_key(self, arch: Arch) -> int:
        """The key of ``arch``'s class in a ``.bench`` file."""
        canon = self.canonical(arch)
        return official_hash(LINKS[canon[0]], tuple(self.ops[v] for v in canon[1:]))

    def from_official_key(self, key: int) -> Arch:
        """The arch a ``.bench`` key names; InvalidArchitecture when it names none of this space."""
        try:
            link, ops = official_unhash(key)
            return self.validate((LINKS.index(link), *(self.ops.index(op) for op in ops)))
        except ValueError:
            raise InvalidArchitecture(f"{key!r} is not the key of a {self.name} architecture") from None


class NBGraphProteinsSpace(NBGraphSpace):
    """NAS-Bench-Graph on ogbn-proteins: the 5 operations it was trained with; 2,021 distinct networks."""

    name = "nbgraph_proteins"
    ops = PROTEINS_OPS
    choices = (len(LINKS), *(len(PROTEINS_OPS),) * NODES)
    options = (NBGraphSpace.options[0], *(PROTEINS_OPS,) * NODES)


@functools.lru_cache(maxsize=1 << 17)
def _canonical(space: NBGraphSpace, arch: Arch) -> Arch:
    link, ops = official_canonical(LINKS[arch[0]], tuple(space.ops[v] for v in arch[1:]))
    return (LINKS.index(link), *(space.ops.index(op) for op in ops))
