"""The NAS-Bench-101 cell space: official pruning and validity, module hash, isomorphism, strings, specs, moves,
encodings and graph view."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench.errors import InvalidArchitecture, NasbenchError
from nasbench.spaces import get_space
from nasbench.spaces import nb101 as nb101_module
from nasbench.spaces.base import has
from nasbench.spaces.nb101 import EDGES, EXAMPLE, NUM_EDGES, OPS, PATH_ENCODING_SIZE, NB101Space

SPACE = NB101Space()
REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "nas-bench-101"
RECORDS = REFERENCE / "nb101_30_official_records.pkl"
C3, C1, MP = OPS
SEEDS = st.integers(0, 2**32 - 1)


def official_records() -> dict:
    """The 30 official records, read with the project's restricted unpickler (skips when the reference is absent)."""
    if not RECORDS.exists():
        pytest.skip(f"reference data absent: {RECORDS} (it lives in ../shared/reference beside the project)")
    from nasbench.store.import_nb101 import load_records_pickle

    return load_records_pickle(RECORDS)


def arch_of(edges: list[tuple[int, int]], ops: tuple[int, ...] = (0, 0, 0, 0, 0)) -> tuple[int, ...]:
    """An arch on the 7-node frame from its edge list and the ops of nodes 1..5."""
    return tuple(int((i, j) in edges) for i, j in EDGES) + tuple(ops)


def relabel(arch: tuple[int, ...], perm: tuple[int, ...]) -> tuple[int, ...] | None:
    """``arch`` with op node v moved to position perm[v - 1]; None when that breaks upper triangularity."""
    position = (0, *perm, 6)
    edges = []
    for e, (i, j) in enumerate(EDGES):
        if arch[e]:
            a, b = position[i], position[j]
            if a > b:
                return None
            edges.append((a, b))
    ops = [0] * 5
    for v in range(1, 6):
        ops[position[v] - 1] = arch[NUM_EDGES + v - 1]
    return arch_of(edges, tuple(ops))


def brute_canonical(arch: tuple[int, ...]) -> tuple[int, ...]:
    """The definition, spelled out: prune, then the smallest arch over every upper-triangular relabeling."""
    matrix, ops = SPACE.to_spec(arch)
    k = len(matrix)
    frame = [*range(k - 1), 6]
    edges = [(frame[i], frame[j]) for i, j in zip(*np.nonzero(matrix), strict=True)]
    pruned = arch_of(edges, tuple(OPS.index(op) for op in ops[1:-1]) + (0,) * (7 - k))
    candidates = [relabel(pruned, p) for p in itertools.permutations(range(1, 6))]
    return min(c for c in candidates if c is not None)


# ---- registration, protocol, capabilities ------------------------------------------------------------------


def test_space_is_registered_and_has_the_documented_layout():
    assert isinstance(get_space("nb101"), NB101Space)
    assert SPACE.name == "nb101"
    assert SPACE.choices == (2,) * 21 + (3,) * 5
    assert len(SPACE.decisions) == len(SPACE.options) == 26
    assert SPACE.decisions[0] == "edge 0->1" and SPACE.decisions[20] == "edge 5->6"
    assert SPACE.decisions[21] == "op of node 1"
    assert SPACE.options[21] == ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
    assert has(SPACE, "graph") and not has(SPACE, "enumerable") and not has(SPACE, "progressive")
    assert SPACE.num_node_types == 5


# ---- the official hash -------------------------------------------------------------------------------------


def test_all_30_official_module_hashes_are_reproduced_from_matrix_and_ops():
    records = official_records()
    assert len(records) == 30
    for module_hash, (fixed, _) in records.items():
        arch = SPACE.validate((fixed["module_adjacency"], fixed["module_operations"]))
        assert SPACE.hash(arch) == module_hash
        labels = [-1, *(OPS.index(op) for op in fixed["module_operations"][1:-1]), -2]
        assert nb101_module.module_hash(fixed["module_adjacency"], labels) == module_hash


def test_to_spec_gives_back_the_official_pruned_spec():
    for fixed, _ in official_records().values():
        matrix, ops = SPACE.to_spec(SPACE.from_spec(fixed["module_adjacency"], fixed["module_operations"]))
        np.testing.assert_array_equal(matrix, fixed["module_adjacency"])
        assert ops == fixed["module_operations"]


@settings(max_examples=200, deadline=None)
@given(seed=SEEDS)
def test_hash_is_invariant_under_relabeling_and_pruning(seed):
    rng = np.random.default_rng(seed)
    arch = SPACE.sample(rng)
    perms = [p for p in itertools.permutations(range(1, 6)) if relabel(arch, p) is not None]
    other = relabel(arch, perms[int(rng.integers(len(perms)))])
    assert SPACE.hash(other) == SPACE.hash(arch) == SPACE.hash(SPACE.canonical(arch))


# ---- isomorphism -------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(seed=SEEDS)
def test_canonical_is_idempotent_equal_for_relabelings_and_matches_its_definition(seed):
    rng = np.random.default_rng(seed)
    arch = SPACE.sample(rng)
    canon = SPACE.canonical(arch)
    assert SPACE.canonical(canon) == canon
    assert canon == brute_canonical(arch)
    for perm in itertools.permutations(range(1, 6)):
        other = relabel(arch, perm)
        if other is not None:
            assert SPACE.canonical(other) == canon
            assert SPACE.is_isomorphic(other, arch)


def test_canonical_many_matches_canonical():
    rng = np.random.default_rng(0)
    archs = [SPACE.sample(rng) for _ in range(500)]
    batch = SPACE.canonical_many(archs)
    assert batch.shape == (500, 26)
    assert [tuple(row) for row in batch.tolist()] == [SPACE.canonical(a) for a in archs]


def test_different_ops_are_different_classes():
    chain = [(0, 1), (1, 6)]
    classes = {SPACE.canonical(arch_of(chain, (op, 0, 0, 0, 0))) for op in range(3)}
    assert len(classes) == 3
    # the same op at another node of the frame is the same class
    assert SPACE.canonical(arch_of(chain, (1, 0, 0, 0, 0))) == SPACE.canonical(
        arch_of([(0, 4), (4, 6)], (0, 0, 0, 1, 0))
    )


@pytest.mark.slow
def test_the_space_has_423624_isomorphism_classes():
    """The number the NAS-Bench-101 paper reports, counted over every valid pruned labelled cell."""
    codes = np.arange(1 << 21, dtype=np.int64)
    bits = (codes[:, None] >> np.arange(21)) & 1
    frame = np.concatenate([bits, np.zeros((len(bits), 5), dtype=np.int64)], axis=1)
    live = nb101_module.live_nodes(frame)
    src, dst = np.asarray(EDGES).T
    pruned_bits = bits * (live[:, src] & live[:, dst])
    keep = live[:, -1] & (pruned_bits.sum(axis=1) <= 9)
    patterns, first = np.unique(pruned_bits[keep] @ (1 << np.arange(21)), return_index=True)
    rows = []
    for b, alive in zip(pruned_bits[keep][first], live[keep][first], strict=True):
        slots = np.flatnonzero(alive[1:-1])
        ops = np.zeros((3 ** len(slots), 5), dtype=np.int64)
        ops[:, slots] = np.array(list(itertools.product(range(3), repeat=len(slots)))).reshape(len(ops), -1)
        rows.append(np.concatenate([np.broadcast_to(b, (len(ops), 21)), ops], axis=1))
    cells = np.concatenate(rows)
    canon = SPACE.canonical_many(cells)
    keys = canon @ nb101_module._WEIGHTS
    assert len(patterns) == 13_839
    assert len(np.unique(keys)) == 423_624


# ---- validity and the official pruning ---------------------------------------------------------------------


def test_the_official_inception_like_example_is_valid():
    matrix = [
        [0, 1, 1, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ]
    ops = ["input", C1, C3, C3, C3, MP, "output"]
    arch = SPACE.validate((matrix, ops))
    assert arch == SPACE.from_spec(np.array(matrix), ops)
    assert SPACE.to_spec(arch)[1] == ops
    assert SPACE.invalid_reason(arch) is None


def test_pruning_removes_nodes_off_every_input_output_path():
    # node 2 is reachable from the input but reaches nothing; node 3 reaches the output but is not reachable
    arch = arch_of([(0, 1), (1, 6), (1, 2), (3, 6)], (1, 2, 2, 0, 0))
    matrix, ops = SPACE.to_spec(arch)
    np.testing.assert_array_equal(matrix, [[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    assert ops == ["input", C1, "output"]
    assert SPACE.canonical(arch) == SPACE.canonical(arch_of([(0, 1), (1, 6)], (1, 0, 0, 0, 0)))
    _, types = SPACE.graphs([arch])
    assert types[0].tolist() == [0, 2, -1, -1, -1, -1, 4]


def test_more_than_9_raw_edges_is_valid_when_pruning_leaves_at_most_9():
    live = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 6), (0, 6), (1, 6), (2, 6)]  # 8 live edges
    dead = [(0, 5), (1, 5), (2, 5), (3, 5)]  # node 5 never reaches the output
    arch = arch_of(live + dead)
    assert sum(arch[:NUM_EDGES]) == 12
    assert SPACE.validate(arch) == arch
    assert int(SPACE.to_spec(arch)[0].sum()) == 8


def test_more_than_9_edges_after_pruning_is_refused_naming_the_rule():
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (0, 6), (1, 6), (2, 6), (3, 6)]
    with pytest.raises(InvalidArchitecture, match=r"10 edges after the official pruning; .* at most 9"):
        SPACE.validate(arch_of(edges))
    assert SPACE.invalid_reason(arch_of(edges)) is not None


def test_a_cell_whose_input_does_not_reach_its_output_is_refused():
    with pytest.raises(InvalidArchitecture, match="input does not reach its output"):
        SPACE.validate(arch_of([(0, 1), (2, 6)]))
    with pytest.raises(InvalidArchitecture, match="input does not reach its output"):
        SPACE.validate(arch_of([]))


def test_the_two_node_cell_is_valid():
    arch = SPACE.from_str("0100|input,output")
    assert arch == arch_of([(0, 6)])
    matrix, ops = SPACE.to_spec(arch)
    assert matrix.tolist() == [[0, 1], [0, 0]] and ops == ["input", "output"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ((2,) + (0,) * 25, r"decision 0 \(edge 0->1\) .* takes 0..1"),
        ((1,) * 21 + (3, 0, 0, 0, 0), r"decision 21 \(op of node 1\) .* takes 0..2 \(0 conv3x3-bn-relu"),
        ((0, 1, 0), "has 26 decisions, got 3"),
        ((True,) + (0,) * 25, "takes 0..1"),
        (3.5, "sequence of 26 integers or an official string"),
    ],
)
def test_out_of_range_and_malformed_archs_are_refused_with_what_is_allowed(bad, message):
    with pytest.raises(InvalidArchitecture, match=message):
        SPACE.validate(bad)


@pytest.mark.parametrize(
    ("matrix", "ops", "message"),
    [
        ([[0, 1], [1, 0]], ["input", "output"], "strictly upper triangular"),
        ([[0, 2], [0, 0]], ["input", "output"], "only 0 and 1"),
        ([[0, 1, 0]], ["input", "output"], "square with 2..7 nodes"),
        (np.zeros((8, 8), dtype=int), ["input"] + [C3] * 6 + ["output"], "square with 2..7 nodes"),
        ([[0, 1], [0, 0]], ["input", C3, "output"], "needs a list of 2 op names"),
        ([[0, 1], [0, 0]], ["output", "input"], "start with 'input' and end with 'output'"),
        ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"], "unknown nb101 op.*conv3x3-bn-relu"),
    ],
)
def test_bad_specs_are_refused_with_what_is_allowed(matrix, ops, message):
    with pytest.raises(InvalidArchitecture, match=message):
        SPACE.from_spec(matrix, ops)


def test_an_official_modelspec_like_object_is_accepted():
    class ModelSpec:  # the official API keeps the unpruned spec in these attributes
        def __init__(self) -> None:
            self.original_matrix = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]])
            self.original_ops = ["input", MP, "output"]

    assert SPACE.validate(ModelSpec()) == arch_of([(0, 1), (0, 6), (1, 6)], (2, 0, 0, 0, 0))


def test_every_error_is_a_nasbench_error():
    with pytest.raises(NasbenchError):
        SPACE.validate("garbage")


def test_validate_is_fast():
    rng = np.random.default_rng(1)
    archs = [tuple(int(v) for v in rng.integers(0, SPACE.choices)) for _ in range(3000)]
    valid = [a for a in archs if SPACE.invalid_reason(a) is None]
    timings = []
    for _ in range(3):  # the best of 3 rounds, each on uncached archs, so a busy machine does not fail it
        nb101_module._prune.cache_clear()
        start = time.perf_counter()
        for a in valid:
            SPACE.validate(a)
        timings.append((time.perf_counter() - start) / len(valid))
    assert min(timings) < 50e-6, f"validate took {min(timings) * 1e6:.1f} us per new arch"


# ---- strings ----------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(seed=SEEDS)
def test_strings_round_trip_exactly(seed):
    arch = SPACE.sample(np.random.default_rng(seed))
    text = SPACE.to_str(arch)
    assert SPACE.from_str(text) == arch == SPACE.validate(text)
    bits, names = text.split("|")
    assert len(bits) == 49 and names.startswith("input,") and names.endswith(",output")


def test_string_format_of_a_real_cell_and_of_a_smaller_cell():
    records = official_records()
    fixed, _ = records["ff92c322c5d9d3d587d9c146a63d0807"]
    arch = SPACE.from_spec(fixed["module_adjacency"], fixed["module_operations"])
    assert SPACE.to_str(arch) == EXAMPLE
    small = SPACE.from_str(f"010001000|input,{MP},output")
    assert small == arch_of([(0, 1), (1, 6)], (2, 0, 0, 0, 0))
    assert SPACE.to_spec(SPACE.from_str(SPACE.to_str(small)))[1] == ["input", MP, "output"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|", "one '|'"),
        ("22212220", "one '|'"),
        ("0101|input,output", r"strictly upper triangular"),
        ("01010|input,output", r"k\*k characters 0/1"),
        ("01x0|input,output", r"k\*k characters 0/1"),
        ("0100|input,conv3x3,output", "needs a list of 2 op names"),
        (f"010001000|input,{C3},outputs", "start with 'input' and end with 'output'"),
        ("0000|input,output", "input does not reach its output"),
    ],
)
def test_bad_strings_are_refused_with_the_format(text, message):
    with pytest.raises(InvalidArchitecture, match=message):
        SPACE.from_str(text)


# ---- sampling and moves ------------------------------------------------------------------------------------


def test_sample_is_valid_and_reproducible():
    a = [SPACE.sample(np.random.default_rng(3)) for _ in range(2)]
    assert a[0] == a[1]
    rng = np.random.default_rng(4)
    samples = [SPACE.sample(rng) for _ in range(300)]
    assert all(SPACE.invalid_reason(s) is None for s in samples)
    # random_spec prunes many draws down to small cells, so classes repeat, but they stay varied
    assert len({SPACE.canonical(s) for s in samples}) > 150
    bits = np.array(samples)[:, :NUM_EDGES]
    assert 0.2 < bits.mean() < 0.6  # random_spec draws each bit with p = 1/2, then keeps valid cells only


def test_mutate_and_neighbors_change_one_decision_and_stay_valid():
    rng = np.random.default_rng(5)
    for _ in range(30):
        arch = SPACE.sample(rng)
        child = SPACE.mutate(arch, rng)
        assert sum(a != b for a, b in zip(arch, child, strict=True)) == 1
        assert SPACE.invalid_reason(child) is None
        neighbors = SPACE.neighbors(arch)
        expected = [
            (*arch[:d], v, *arch[d + 1 :])
            for d, n in enumerate(SPACE.choices)
            for v in range(n)
            if v != arch[d] and SPACE.invalid_reason((*arch[:d], v, *arch[d + 1 :])) is None
        ]
        assert neighbors == expected and child in neighbors


# ---- encodings and graph view ------------------------------------------------------------------------------


def test_encoding_shapes():
    archs = [SPACE.sample(np.random.default_rng(s)) for s in range(20)]
    assert SPACE.encode(archs).shape == (20, 57)
    assert SPACE.encode(archs, "adjacency").shape == (20, 36)
    assert SPACE.encode(archs, "path").shape == (20, PATH_ENCODING_SIZE) == (20, 364)
    with pytest.raises(InvalidArchitecture, match="unknown encoding"):
        SPACE.encode(archs, "nope")


def test_path_encoding_of_known_cells():
    def bits(arch):
        return np.flatnonzero(SPACE.encode([arch], "path")[0]).tolist()

    assert bits(arch_of([(0, 6)])) == [0]  # the empty path
    assert bits(arch_of([(0, 1), (1, 6)], (0, 0, 0, 0, 0))) == [1]  # [conv3x3]: 3**0 * (0 + 1)
    # input -> conv1x1 -> maxpool -> output and the skip input -> output: 3**0 * 2 + 3**1 * 3 = 11, and 0
    assert bits(arch_of([(0, 1), (1, 2), (2, 6), (0, 6)], (1, 2, 0, 0, 0))) == [0, 11]
    # a dead branch sets no bit
    assert bits(arch_of([(0, 1), (1, 6), (0, 3)], (0, 0, 2, 0, 0))) == [1]


@settings(max_examples=100, deadline=None)
@given(seed=SEEDS)
def test_path_and_adjacency_encodings_follow_the_pruned_cell(seed):
    arch = SPACE.sample(np.random.default_rng(seed))
    canon = SPACE.canonical(arch)
    np.testing.assert_array_equal(SPACE.encode([arch], "path"), SPACE.encode([canon], "path"))
    adjacency = SPACE.encode([arch], "adjacency")[0]
    matrix, ops = SPACE.to_spec(arch)
    assert adjacency[:NUM_EDGES].sum() == matrix.sum()
    assert adjacency[NUM_EDGES:].sum() == len(ops) - 2  # one op bit per live op node


def test_graphs_are_the_pruned_cells_on_the_7_node_frame():
    rng = np.random.default_rng(6)
    archs = [SPACE.sample(rng) for _ in range(50)]
    adj, types = SPACE.graphs(archs)
    assert adj.shape == (50, 7, 7) and adj.dtype == np.float32
    assert types.shape == (50, 7) and types.dtype == np.int64
    for a, m, t in zip(archs, adj, types, strict=True):
        matrix, ops = SPACE.to_spec(a)
        alive = np.flatnonzero(t >= 0)
        np.testing.assert_array_equal(m[np.ix_(alive, alive)], matrix)
        assert m.sum() == matrix.sum()
        names = ("input", *OPS, "output")
        assert [names[x] for x in t[alive]] == ops
