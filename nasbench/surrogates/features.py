"""Feature matrices for surrogates, selectable by name and combinable with ``+`` (e.g. ``"path+static"``).

Encodings come from the search space (``onehot``, ``adjacency``, ``path``, ``canonical_onehot``); the rest are
computed here from the cell alone, so every architecture of the space has features (never a table lookup):

- ``live_onehot`` (30): the one-hot of each edge's op with dead edges (not on any live input->output path) read as
  ``none`` -- two cells that differ only in dead edges compute the same function.
- ``static`` (20): cheap figures of the cell: analytic params and FLOPs of the whole NB201 network (millions, all
  edges, as the network is built) and of its live part; counts of each op type on live edges; active ops; live
  paths (total and by length); depth (most and fewest non-skip ops along a live path, conv ops along a path).
- ``ops`` (6): the raw op indices; the graph input of the GIN.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence

import numpy as np

from nasbench.errors import InvalidQuery
from nasbench.spaces.nb201 import CONV1, CONV3, EDGES, NONE, NUM_EDGES, NUM_OPS, POOL, SKIP, NB201Space

# Input->output paths of the NB201 cell as tuples of edge indices (see nasbench.spaces.nb201).
PATHS: tuple[tuple[int, ...], ...] = ((3,), (0, 4), (1, 5), (0, 2, 5))

# NB201 macro skeleton: three stages of five cells, channels 16/32/64 at 32x32/16x16/8x8; CIFAR-10 classifier.
_STAGES = ((16, 32 * 32), (32, 16 * 16), (64, 8 * 8))
_CELLS_PER_STAGE = 5
_NUM_CLASSES = 10


def _skeleton_params_flops() -> tuple[float, float]:
    """Params and multiply-adds of everything but the cells: stem, two residual reduction blocks, classifier."""
    params = 3 * 16 * 9 + 2 * 16  # stem conv 3x3 + BN
    flops = 3 * 16 * 9 * 32 * 32
    for (c_in, _), (c_out, hw_out) in itertools.pairwise(_STAGES):
        # ResNet basic block, stride 2: conv3x3 c_in->c_out, conv3x3 c_out->c_out, 1x1 shortcut conv.
        block = 9 * c_in * c_out + 9 * c_out * c_out + c_in * c_out
        params += block + 4 * c_out
        flops += block * hw_out
    params += 2 * 64 + 64 * _NUM_CLASSES + _NUM_CLASSES  # last BN + linear classifier
    flops += 64 * _NUM_CLASSES
    return float(params), float(flops)


_SKELETON_PARAMS, _SKELETON_FLOPS = _skeleton_params_flops()


def _op_params_flops(op: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Params and multiply-adds summed over all cells of the network for one edge holding ``op`` (vectorized)."""
    params = np.zeros(op.shape, dtype=np.float64)
    flops = np.zeros(op.shape, dtype=np.float64)
    for c, hw in _STAGES:
        for kind, k2 in ((CONV1, 1), (CONV3, 9)):
            is_op = op == kind
            params += is_op * _CELLS_PER_STAGE * (k2 * c * c + 2 * c)  # ReLU-Conv-BN
            flops += is_op * _CELLS_PER_STAGE * k2 * c * c * hw
        flops += (op == POOL) * _CELLS_PER_STAGE * 9 * c * hw
    return params, flops


def live_mask(ops: np.ndarray) -> np.ndarray:
    """(n, 6) bool: the edges that lie on at least one input->output path with no ``none`` op."""
    live = np.zeros(ops.shape, dtype=bool)
    for path in PATHS:
        alive = (ops[:, list(path)] != NONE).all(axis=1)
        for e in path:
            live[:, e] |= alive
    return live


def _static(ops: np.ndarray) -> np.ndarray:
    live = live_mask(ops)
    live_ops = np.where(live, ops, NONE)
    edge_params, edge_flops = _op_params_flops(ops)
    live_params = np.where(live, edge_params, 0.0)
    live_flops = np.where(live, edge_flops, 0.0)
    cols: list[np.ndarray] = [
        (_SKELETON_PARAMS + edge_params.sum(axis=1)) / 1e6,
        (_SKELETON_FLOPS + edge_flops.sum(axis=1)) / 1e6,
        (_SKELETON_PARAMS + live_params.sum(axis=1)) / 1e6,
        (_SKELETON_FLOPS + live_flops.sum(axis=1)) / 1e6,
    ]
    cols += [(live_ops == op).sum(axis=1) for op in (SKIP, CONV1, CONV3, POOL)]
    cols.append((ops != NONE).sum(axis=1))  # active ops (PNAS complexity)
    path_alive = np.stack([(ops[:, list(p)] != NONE).all(axis=1) for p in PATHS], axis=1)
    cols.append(path_alive.sum(axis=1))
    cols += [path_alive[:, [i for i, p in enumerate(PATHS) if len(p) == n]].sum(axis=1) for n in (1, 2, 3)]
    # Per live path: non-skip ops (depth of computation) and conv ops; dead paths excluded from max/min.
    nonskip = np.stack([(ops[:, list(p)] != SKIP).sum(axis=1) for p in PATHS], axis=1).astype(np.float64)
    convs = np.stack([np.isin(ops[:, list(p)], (CONV1, CONV3)).sum(axis=1) for p in PATHS], axis=1)
    conv3 = np.stack([(ops[:, list(p)] == CONV3).sum(axis=1) for p in PATHS], axis=1)
    any_path = path_alive.any(axis=1)
    for values in (nonskip, convs.astype(np.float64), conv3.astype(np.float64)):
        cols.append(np.where(any_path, np.where(path_alive, values, -1).max(axis=1), 0))
        cols.append(np.where(any_path, np.where(path_alive, values, 99).min(axis=1), 0))
    cols.append(any_path.astype(np.float64))  # the output depends on the input at all
    return np.stack(cols, axis=1).astype(np.float32)


STATIC_NAMES: tuple[str, ...] = (
    "params_m",
    "flops_m",
    "live_params_m",
    "live_flops_m",
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
)


def _live_onehot(ops: np.ndarray) -> np.ndarray:
    live_ops = np.where(live_mask(ops), ops, NONE)
    out = np.zeros((ops.shape[0], NUM_EDGES * NUM_OPS), dtype=np.float32)
    np.put_along_axis(out, np.arange(NUM_EDGES) * NUM_OPS + live_ops, 1.0, axis=1)
    return out


def _from_space(kind: str) -> Callable[[NB201Space, np.ndarray], np.ndarray]:
    return lambda space, ops: space.encode(ops, kind)


_BUILDERS: dict[str, Callable[[NB201Space, np.ndarray], np.ndarray]] = {
    "onehot": _from_space("onehot"),
    "adjacency": _from_space("adjacency"),
    "path": _from_space("path"),
    "canonical_onehot": _from_space("canonical_onehot"),
    "live_onehot": lambda space, ops: _live_onehot(ops),
    "static": lambda space, ops: _static(ops),
    "ops": lambda space, ops: ops.astype(np.float32),
}
FEATURES: tuple[str, ...] = tuple(_BUILDERS)
DEFAULT_FEATURES = "path+live_onehot+static"


def parse_features(spec: str | Sequence[str]) -> tuple[str, ...]:
    """``"path+static"`` or ``["path", "static"]`` -> ``("path", "static")``; unknown names raise InvalidQuery."""
    names = tuple(n.strip() for n in (spec.split("+") if isinstance(spec, str) else spec) if n.strip())
    if not names:
        raise InvalidQuery(f"no features given; choose one or more of {', '.join(FEATURES)} joined by '+'")
    unknown = [n for n in names if n not in _BUILDERS]
    if unknown:
        raise InvalidQuery(f"unknown feature(s) {unknown}; known: {', '.join(FEATURES)} (combine with '+')")
    if len(set(names)) != len(names):
        raise InvalidQuery(f"feature names repeat in {'+'.join(names)}")
    return names


def as_ops(space: NB201Space, archs: Sequence[object] | np.ndarray) -> np.ndarray:
    """Validated (n, 6) int64 op-index array; strings and tuples accepted, bad ones raise InvalidArchitecture."""
    if isinstance(archs, np.ndarray) and archs.ndim == 2 and np.issubdtype(archs.dtype, np.integer):
        if archs.shape[1] != NUM_EDGES or (archs.size and (archs.min() < 0 or archs.max() >= NUM_OPS)):
            for row in archs:
                space.validate(row)  # raises InvalidArchitecture naming the first bad row
        return archs.astype(np.int64, copy=False)
    return np.asarray([space.validate(a) for a in archs], dtype=np.int64).reshape(-1, NUM_EDGES)


def featurize(space: NB201Space, archs: Sequence[object] | np.ndarray, features: str | Sequence[str]) -> np.ndarray:
    """The (n, d) float32 feature matrix of ``archs`` for the named features, concatenated in the given order."""
    names = parse_features(features)
    ops = as_ops(space, archs)
    if len(ops) > _DIRECT_BELOW:  # rows of a per-space table computed once: large batches cost one gather
        rows = space.indices(ops)
        return np.concatenate([_space_block(space, n)[rows] for n in names], axis=1)
    return np.concatenate([_BUILDERS[n](space, ops) for n in names], axis=1).astype(np.float32, copy=False)


_DIRECT_BELOW = 256


@functools.lru_cache(maxsize=32)
def _space_block(space: NB201Space, name: str) -> np.ndarray:
    """One feature for every arch of the space, in index order (NB201: 15,625 rows, built in ~0.1 s)."""
    block = _BUILDERS[name](space, np.asarray(space.all_archs(), dtype=np.int64)).astype(np.float32)
    block.setflags(write=False)
    return block


def feature_names(space: NB201Space, features: str | Sequence[str]) -> list[str]:
    """A name per column of :func:`featurize`'s output (for importance plots and debugging)."""
    out: list[str] = []
    for name in parse_features(features):
        if name == "static":
            out += list(STATIC_NAMES)
        elif name == "ops":
            out += [f"op_{dst}<-{src}" for dst, src in EDGES]
        else:
            width = _BUILDERS[name](space, np.zeros((1, NUM_EDGES), dtype=np.int64)).shape[1]
            out += [f"{name}_{i}" for i in range(width)]
    return out
