"""The NAS-Bench-Macro and TransNAS-Bench-101 spaces: exactly the published sets of architectures, official strings
that round-trip, typed errors that say what is wrong and what is allowed, and their optional capabilities."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest

from nasbench.errors import InvalidArchitecture, MissingCapability
from nasbench.spaces import get_space
from nasbench.spaces.base import has, require
from nasbench.spaces.nb201 import NB201Space
from tests.conftest import REFERENCE
from tests.conftest import require as require_path

MACRO_JSON = REFERENCE / "nas-bench-macro" / "nas-bench-macro_cifar10.json"
TNB = REFERENCE / "transnas-bench-101"

MACRO, MICRO, TMACRO = get_space("nb_macro"), get_space("tnb_micro"), get_space("tnb_macro")


def _csv_archs(name: str) -> list[str]:
    with open(require_path(TNB / name), newline="") as f:
        return [row["arch"] for row in csv.DictReader(f)]


def _raises(obj, space, *fragments):
    with pytest.raises(InvalidArchitecture) as info:
        space.validate(obj)
    for fragment in fragments:
        assert re.search(fragment, str(info.value)), (fragment, str(info.value))


# ---- the published sets ---------------------------------------------------------------------------------------


def test_nb_macro_is_exactly_the_6561_strings_of_the_published_file():
    keys = json.loads(require_path(MACRO_JSON).read_text())
    assert MACRO.size == len(keys) == 6561
    assert {MACRO.to_str(a) for a in MACRO.all_archs()} == set(keys)


@pytest.mark.parametrize(("space", "name", "count"), [(MICRO, "micro.csv", 4096), (TMACRO, "macro.csv", 3256)])
def test_transnas_spaces_are_exactly_the_networks_of_the_published_tables(space, name, count):
    archs = _csv_archs(name)
    assert space.size == len(archs) == len(set(archs)) == count
    assert {space.to_str(a) for a in space.all_archs()} == set(archs)


@pytest.mark.parametrize("space", [MACRO, MICRO, TMACRO], ids=lambda s: s.name)
def test_every_arch_round_trips_through_its_official_string_and_its_index(space):
    for i, arch in enumerate(space.all_archs()):
        text = space.to_str(arch)
        assert space.from_str(text) == arch and space.validate(text) == arch
        assert space.index(arch) == i and space.from_index(i) == arch


def test_official_strings_look_like_the_benchmarks_own():
    assert MACRO.to_str((2, 2, 2, 1, 2, 2, 2, 0)) == "22212220"
    assert MICRO.to_str((1, 0, 2, 3, 3, 3)) == "64-41414-1_02_333"
    assert TMACRO.to_str((1, 2, 3, 4, 0, 0)) == "64-1234-basic"
    assert TMACRO.from_str("64-224131-basic") == (2, 2, 4, 1, 3, 1)


# ---- validation errors --------------------------------------------------------------------------------------


def test_a_string_of_another_space_is_refused_naming_the_space_it_belongs_to():
    _raises("64-1234-basic", MICRO, "tnb_macro", "64-41414-1_02_333")
    _raises("64-41414-1_02_333", TMACRO, "tnb_micro", "64-1234-basic")
    _raises("64-41414-1_02_333", MACRO, "8 digits", "22212220")
    _raises("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", MICRO, "64-41414-")


def test_out_of_range_choices_name_the_decision_and_its_allowed_values():
    _raises((0, 0, 0, 0, 0, 0, 0, 3), MACRO, r"layer 8", r"0\.\.2", "MB6_K5")
    _raises("22212223", MACRO, "each 0 .*Identity.* 1 .*MB3_K3.* 2 .*MB6_K5")
    _raises((0, 0, 0, 4, 0, 0), MICRO, r"edge 3<-0", r"0\.\.3", "nor_conv_3x3")
    _raises("64-41414-1_02_334", MICRO, "a_bc_def", "nor_conv_3x3")
    _raises("64-41414-1_023_33", MICRO, "a_bc_def")
    _raises((1, 2, 3, 5, 0, 0), TMACRO, r"module 4", r"0\.\.4")
    _raises("64-12345-basic", TMACRO, "each 1 .*normal.* 4 .*both")
    _raises((0, 0, 0, 0, 0, 0, 0), MACRO, "8 decisions")


def test_tnb_macro_enforces_the_official_rules_with_a_reason():
    _raises((1, 2, 0, 3, 4, 0), TMACRO, "position 3 is empty but a module follows", "pad the end")
    _raises((1, 3, 2, 0, 0, 0), TMACRO, "3 modules", "4 to 6")
    _raises("64-123-basic", TMACRO, "4 to 6 modules")
    _raises("64-1111111-basic", TMACRO, "4 to 6 modules")
    _raises((1, 1, 2, 2, 0, 0), TMACRO, "0 of its modules halve the resolution", "1 to 4")
    _raises((3, 3, 3, 3, 4, 0), TMACRO, "5 of its modules halve the resolution", "1 to 4")
    _raises((1, 1, 1, 3, 0, 0), TMACRO, "0 of its modules double the channels", "1 to 3")
    _raises((2, 2, 2, 4, 0, 0), TMACRO, "4 of its modules double the channels", "1 to 3")


def test_tnb_macro_rules_give_the_3256_networks_naslib_samples():
    """4 + r modules (r in 0..2), p in 1..4 downsampling and q in 1..3 channel-doubling modules, in any order."""
    expected = set()
    for length in range(4, 7):
        for p in range(1, 5):
            for q in range(1, 4):
                for arch in np.ndindex(*(4,) * length):
                    modules = [m + 1 for m in arch]
                    if sum(m in (3, 4) for m in modules) == p and sum(m in (2, 4) for m in modules) == q:
                        expected.add((*modules, *(0,) * (6 - length)))
    assert set(TMACRO.all_archs()) == expected and len(expected) == 3256


# ---- moves and encodings --------------------------------------------------------------------------------------


@pytest.mark.parametrize("space", [MACRO, MICRO, TMACRO], ids=lambda s: s.name)
def test_random_moves_stay_in_the_space(space):
    rng = np.random.default_rng(0)
    valid = set(space.all_archs())
    for _ in range(200):
        arch = space.sample(rng)
        child = space.mutate(arch, rng)
        assert arch in valid and child in valid and child != arch
        assert all(n in valid and sum(a != b for a, b in zip(n, arch, strict=True)) == 1 for n in space.neighbors(arch))
    assert space.encode(space.all_archs()[:5]).shape == (5, sum(space.choices))


# ---- nb_macro: isomorphism and progressive ---------------------------------------------------------------------


def test_nb_macro_canonical_moves_no_op_identities_to_the_end_of_their_stage():
    assert MACRO.canonical((0, 0, 0, 1, 0, 0, 0, 2)) == (0, 0, 0, 1, 0, 0, 2, 0)
    assert MACRO.canonical((0, 1, 0, 0, 1, 1, 0, 2)) == (0, 1, 0, 1, 0, 1, 2, 0)
    # the first layer of a stage is a strided 1x1 convolution even as "identity": it stays in place
    assert MACRO.canonical((0, 2, 0, 2, 2, 0, 2, 2)) == (0, 2, 0, 2, 2, 0, 2, 2)
    assert len({MACRO.canonical(a) for a in MACRO.all_archs()}) == 3969


def test_nb_macro_canonical_partition_is_the_one_of_the_published_file():
    """Strings of one class share a record in the file and different classes never do: 3,969 networks."""
    records = json.loads(require_path(MACRO_JSON).read_text())
    by_class: dict = {}
    for key, record in records.items():
        by_class.setdefault(MACRO.canonical(MACRO.from_str(key)), set()).add(json.dumps(record, sort_keys=True))
    assert all(len(v) == 1 for v in by_class.values())
    assert len({next(iter(v)) for v in by_class.values()}) == len(by_class) == 3969


def test_nb_macro_canonical_onehot_is_equal_for_strings_of_one_network():
    a, b = (0, 0, 0, 1, 0, 0, 0, 0), (0, 0, 0, 0, 1, 0, 0, 0)
    enc = MACRO.encode([a, b], "canonical_onehot")
    assert enc.shape == (2, 24) and np.array_equal(enc[0], enc[1])
    assert not np.array_equal(*MACRO.encode([a, b]))


def test_nb_macro_grows_from_the_all_identity_network_one_block_at_a_time():
    assert has(MACRO, "progressive")
    (empty,) = MACRO.simplest()
    assert empty == (0,) * 8 and MACRO.complexity(empty) == 0
    children = MACRO.grow(empty)
    assert len(children) == 12  # 2 blocks x (2 layers of stage 1 + 2 distinct places in each of stages 2, 3)
    assert all(MACRO.complexity(c) == 1 and MACRO.canonical(c) == c for c in children)
    assert len(set(children)) == len(children)
    arch = (1, 0, 2, 0, 0, 1, 2, 0)
    grown = MACRO.grow(arch)
    assert grown and all(MACRO.complexity(c) == MACRO.complexity(arch) + 1 == 5 for c in grown)
    assert MACRO.grow((1, 2, 1, 2, 1, 2, 1, 2)) == []


# ---- tnb_micro: canonical, graph view, progressive -------------------------------------------------------------


def test_tnb_micro_keeps_nb201_isomorphic_cells_apart():
    a, b = (0, 0, 0, 3, 0, 0), (3, 0, 0, 0, 1, 0)  # conv on 3<-0 / conv on 1<-0 then skip 3<-1: NB201-isomorphic
    assert NB201Space().is_isomorphic(a, b)
    assert MICRO.canonical(a) == a and MICRO.canonical(b) == b


def test_tnb_micro_graph_view_drops_dead_ops():
    assert has(MICRO, "graph") and MICRO.num_node_types == 6
    adj, types = MICRO.graphs([(0, 0, 0, 3, 0, 0), (1, 0, 0, 3, 0, 0), (1, 0, 2, 0, 0, 3)])
    assert adj.shape == (3, 8, 8) and adj.dtype == np.float32 and types.dtype == np.int64
    assert types[0].tolist() == [4, -1, -1, -1, 3, -1, -1, 5]
    assert np.array_equal(adj[0], adj[1]) and np.array_equal(types[0], types[1])  # the op on 1<-0 feeds nothing
    assert types[2].tolist() == [4, 1, -1, 2, -1, -1, 3, 5]  # input -> skip -> conv1x1 -> conv3x3 -> output
    assert adj[2, 0, 1] == adj[2, 1, 3] == adj[2, 3, 6] == adj[2, 6, 7] == 1 and adj[2].sum() == 4


def test_tnb_micro_grows_from_the_single_ops_on_the_input_output_edge():
    assert MICRO.simplest() == [(0, 0, 0, op, 0, 0) for op in (1, 2, 3)]
    grown = MICRO.grow((0, 0, 0, 3, 0, 0))
    assert len(grown) == 5 * 3 and all(MICRO.complexity(c) == 2 and c[3] == 3 for c in grown)
    assert MICRO.grow((1, 1, 2, 2, 3, 3)) == []


def test_tnb_macro_has_no_progressive_capability_and_pnas_says_so():
    assert not has(TMACRO, "progressive")
    with pytest.raises(MissingCapability, match=r"pnas needs .*'progressive'.*'tnb_macro' space has: enumerable"):
        require(TMACRO, "progressive", "pnas")
