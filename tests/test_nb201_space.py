"""The NB201 cell space: official string format, isomorphism, sampling, moves and encodings."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from nasbench.errors import InvalidArchitecture
from nasbench.spaces import get_space
from nasbench.spaces import nb201 as nb201_module
from nasbench.spaces.nb201 import EDGES, OPS, PATH_ENCODING_SIZE, NB201Space
from tests.conftest import NB201_CSV, require

SPACE = NB201Space()
ARCHS = st.tuples(*[st.integers(0, 4)] * 6)
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


@pytest.fixture(scope="module")
def reference():
    import pandas as pd

    return pd.read_csv(require(NB201_CSV))


# ---- string format ------------------------------------------------------------------------------------------


def test_op_order_is_the_official_str2matrix_order_and_defined_once():
    assert OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    assert EDGES == ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
    # One place: no other module of the package spells out the op list.
    from pathlib import Path

    root = Path(nb201_module.__file__).resolve().parents[1]
    spelled = [
        p for p in root.rglob("*.py") if p.name != "nb201.py" and '"skip_connect", "nor_conv_1x1"' in p.read_text()
    ]
    assert spelled == []


def test_official_strings_round_trip_exactly_for_every_reference_row(reference):
    archs = [SPACE.from_str(s) for s in reference["arch"]]
    assert [SPACE.to_str(a) for a in archs] == reference["arch"].tolist()
    assert len(set(archs)) == len(reference) == 15_625


def test_string_of_a_known_cell():
    assert SPACE.from_str(BEST) == (3, 3, 3, 1, 3, 2)
    assert SPACE.to_str((3, 3, 3, 1, 3, 2)) == BEST
    assert SPACE.validate(BEST) == SPACE.validate(np.array([3, 3, 3, 1, 3, 2])) == SPACE.validate([3, 3, 3, 1, 3, 2])


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "3 nodes"),
        ("|none~0|+|none~0|none~1|", "3 nodes"),
        ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv'"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must come from node 0"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "2 incoming"),
        ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "op~source"),
        ("none~0+|none~0|none~1|+|none~0|none~1|none~2|", "wrapped"),
    ],
)
def test_malformed_strings_name_the_problem(text, fragment):
    with pytest.raises(InvalidArchitecture, match=re.escape(fragment)):
        SPACE.from_str(text)


@pytest.mark.parametrize("bad", [(0,) * 5, (0,) * 7, (0, 0, 0, 0, 0, 5), (0, 0, 0, 0, 0, -1), (0.0,) * 6, 3, None])
def test_bad_op_sequences_raise_invalid_architecture(bad):
    with pytest.raises(InvalidArchitecture):
        SPACE.validate(bad)


def test_validate_returns_plain_int_tuples():
    arch = SPACE.validate(np.array([1, 2, 3, 4, 0, 1], dtype=np.int8))
    assert arch == (1, 2, 3, 4, 0, 1) and all(type(op) is int for op in arch)
    with pytest.raises(InvalidArchitecture):
        SPACE.validate((True, 0, 0, 0, 0, 0))


_TOKENS = st.sampled_from([*OPS, "~", "|", "+", "0", "1", "2", "3", "~0", " ", "x", "conv", "\n", "|+|", "~00"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_TOKENS, max_size=30).map("".join), ARCHS.map(SPACE.to_str)))
def test_parser_fuzz_either_round_trips_or_raises_invalid_architecture(text):
    try:
        arch = SPACE.from_str(text)
    except InvalidArchitecture:
        return
    assert SPACE.validate(arch) == arch
    assert SPACE.to_str(arch) == text.strip()
    assert SPACE.from_str(SPACE.to_str(arch)) == arch


@settings(max_examples=200, deadline=None)
@given(ARCHS, st.integers(0, 5), st.sampled_from(["a", "|", "+", "~", "~9", "none", "", "|+|"]))
def test_parser_fuzz_damaged_official_strings(arch, cut, insert):
    text = SPACE.to_str(arch)
    pos = (cut * 7919) % len(text)
    damaged = text[:pos] + insert + text[pos + 1 :]
    try:
        parsed = SPACE.from_str(damaged)
    except InvalidArchitecture:
        return
    assert SPACE.to_str(parsed) == damaged.strip()


# ---- enumeration and indexing -------------------------------------------------------------------------------


def test_enumeration_and_index_are_inverse():
    archs = SPACE.all_archs()
    assert len(archs) == len(set(archs)) == SPACE.size == 15_625
    assert all(SPACE.index(a) == i for i, a in list(enumerate(archs))[::97])
    assert [SPACE.from_index(SPACE.index(a)) for a in archs[::31]] == archs[::31]
    np.testing.assert_array_equal(SPACE.indices(archs), np.arange(SPACE.size))
    with pytest.raises(InvalidArchitecture):
        SPACE.from_index(SPACE.size)
    assert get_space("nb201") == SPACE
    with pytest.raises(InvalidArchitecture, match="known: nb201"):
        get_space("nb101x")


# ---- isomorphism --------------------------------------------------------------------------------------------


def test_canonical_classes_equal_the_official_iso_rep_partition(reference):
    ours = np.array([SPACE.index(SPACE.canonical(SPACE.from_str(s))) for s in reference["arch"]])
    official = reference["iso_rep"].to_numpy()
    assert len(set(ours)) == len(set(official)) == 6_466
    # Equal as partitions: the pairs (our class, official class) form a bijection.
    pairs = set(zip(ours.tolist(), official.tolist(), strict=True))
    assert len(pairs) == 6_466


@settings(max_examples=300, deadline=None)
@given(ARCHS)
def test_canonical_is_idempotent_and_a_class_member(arch):
    canon = SPACE.canonical(arch)
    assert SPACE.canonical(canon) == canon
    assert SPACE.is_isomorphic(arch, canon)
    assert SPACE.index(canon) <= SPACE.index(arch)


def test_known_isomorphisms():
    # With a skip on edge 1 <- 0, node 1 equals the input, so edges 2 <- 0 and 2 <- 1 read the same tensor and
    # swapping their ops (the sum at a node is unordered) gives the same cell.
    assert SPACE.is_isomorphic((1, 3, 2, 0, 0, 3), (1, 2, 3, 0, 0, 3))
    assert not SPACE.is_isomorphic((2, 3, 2, 0, 0, 3), (2, 2, 3, 0, 0, 3))
    # A dead cell: everything into the output is none.
    dead = [a for a in SPACE.all_archs() if a[3] == a[4] == a[5] == 0]
    assert len({SPACE.canonical(a) for a in dead}) == 1
    # Different ops on the only path are different cells.
    assert not SPACE.is_isomorphic((0, 0, 0, 2, 0, 0), (0, 0, 0, 3, 0, 0))


# ---- random moves -------------------------------------------------------------------------------------------


def test_sampling_is_uniform_and_seeded():
    rng = np.random.default_rng(0)
    draws = np.array([SPACE.index(SPACE.sample(rng)) for _ in range(40_000)])
    buckets = np.bincount(draws // 125, minlength=125)  # 125 buckets of 125 cells
    assert stats.chisquare(buckets).pvalue > 1e-4
    digits = (draws[:, None] // 5 ** np.arange(5, -1, -1)) % 5
    for edge in range(6):
        assert stats.chisquare(np.bincount(digits[:, edge], minlength=5)).pvalue > 1e-4
    again = np.random.default_rng(0)
    assert [SPACE.sample(again) for _ in range(5)] == [SPACE.from_index(int(i)) for i in draws[:5]]


@settings(max_examples=200, deadline=None)
@given(ARCHS, st.integers(0, 2**32 - 1))
def test_mutate_changes_exactly_one_edge_and_is_a_neighbor(arch, seed):
    child = SPACE.mutate(arch, np.random.default_rng(seed))
    assert sum(a != b for a, b in zip(arch, child, strict=True)) == 1
    assert child in SPACE.neighbors(arch)


def test_mutate_reaches_every_neighbor_about_equally():
    arch = (3, 3, 3, 1, 3, 2)
    rng = np.random.default_rng(1)
    counts = Counter(SPACE.mutate(arch, rng) for _ in range(12_000))
    assert set(counts) == set(SPACE.neighbors(arch))
    assert stats.chisquare(list(counts.values())).pvalue > 1e-4


@settings(max_examples=200, deadline=None)
@given(ARCHS)
def test_neighbors_are_the_24_distinct_one_edge_changes(arch):
    nbrs = SPACE.neighbors(arch)
    assert len(nbrs) == len(set(nbrs)) == 24
    assert arch not in nbrs
    for n in nbrs:
        assert sum(a != b for a, b in zip(arch, n, strict=True)) == 1
    # And symmetric.
    assert all(arch in SPACE.neighbors(n) for n in nbrs[::5])


# ---- encodings ----------------------------------------------------------------------------------------------


def test_encoding_shapes():
    archs = SPACE.all_archs()[::101]
    for kind, width in (("onehot", 30), ("adjacency", 58), ("path", 155), ("canonical_onehot", 30)):
        enc = SPACE.encode(archs, kind)
        assert enc.shape == (len(archs), width) and enc.dtype == np.float32
        assert SPACE.encoding_size(kind) == width
    assert PATH_ENCODING_SIZE == 155
    with pytest.raises(ValueError, match="known: onehot"):
        SPACE.encode(archs, "graph")


def test_onehot_marks_the_op_of_each_edge():
    enc = SPACE.encode([(3, 3, 3, 1, 3, 2)], "onehot")[0].reshape(6, 5)
    assert enc.sum(axis=1).tolist() == [1] * 6
    assert enc.argmax(axis=1).tolist() == [3, 3, 3, 1, 3, 2]


def _bits(arch):
    return set(np.flatnonzero(SPACE.encode([arch], "path")[0]).tolist())


def test_path_encoding_on_hand_checked_cells():
    # Bits: length-1 paths at 0..4, length-2 at 5 + 5*a + b, length-3 at 30 + 25*a + 5*b + c (ops along the path
    # from input to output). Paths: edge 3; edges 0,4; edges 1,5; edges 0,2,5.
    assert _bits((3, 3, 3, 3, 3, 3)) == {3, 5 + 18, 30 + 75 + 15 + 3}
    assert _bits((1, 1, 1, 0, 1, 1)) == {5 + 6, 30 + 25 + 5 + 1}  # the direct path is none: dead
    assert _bits((0,) * 6) == set()
    # The best cell: conv3 (0) then conv3 (4); conv3 (1) then conv1 (5); conv3,conv3 (0,2) then conv1 (5); skip (3).
    assert _bits((3, 3, 3, 1, 3, 2)) == {1, 5 + 18, 5 + 17, 30 + 75 + 15 + 2}
    # A none on edge 2 kills only the length-3 path.
    assert _bits((2, 4, 0, 1, 2, 3)) == {1, 5 + 12, 5 + 23}


def test_adjacency_drops_none_nodes_and_canonical_onehot_is_constant_on_classes():
    full = SPACE.encode([(3,) * 6], "adjacency")[0]
    dead = SPACE.encode([(0,) * 6], "adjacency")[0]
    assert full[:28].sum() > 0 and dead[:28].sum() == 0
    np.testing.assert_array_equal(full[28:], SPACE.encode([(3,) * 6], "onehot")[0])
    enc = SPACE.encode([(1, 3, 2, 0, 0, 3), (1, 2, 3, 0, 0, 3)], "canonical_onehot")
    np.testing.assert_array_equal(enc[0], enc[1])
