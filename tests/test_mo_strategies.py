"""The multi-objective strategies: what users rely on (survival keeps the front, the archive is the front, ParEGO's
weights, the EHVI closed form) and, on NB201 x HW-NAS-Bench, that searching beats sampling."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench import TabularBenchmark
from nasbench.analysis.pareto import hypervolume
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.spaces import get_space
from nasbench.strategies import InvalidHyperparameter, make_strategy, registry
from nasbench.strategies._common import all_rows
from nasbench.strategies._pareto import (
    CheapestTwin,
    cheapest_members,
    constrained_ranks,
    crowding_distance,
    non_dominated,
)
from nasbench.strategies.base import Feedback, SearchContext, Trial
from nasbench.strategies.bo import expected_improvement
from nasbench.strategies.ehvi import expected_hvi
from nasbench.strategies.parego import scalarise, simplex_weights
from nasbench.testing import synthetic_table
from tests.conftest import REFERENCE, require

NEW = ("nsga2", "pareto_local_search", "parego_gp", "parego_smac", "parego_bananas", "ehvi_gp")
TWO = Protocol(objectives=("latency_ms",))


@pytest.fixture(scope="module")
def table():
    return synthetic_table()


def _told(strategy, points, feasible=None):
    """Set ``strategy`` up on NB201 with two objectives and tell it one arch per point (no runner)."""
    space = get_space("nb201")
    context = SearchContext(space, (1,), 1, objectives=("val_acc", "latency_ms"))
    strategy.setup(context, np.random.default_rng(0))
    archs = [space.from_index(i) for i in range(len(points))]
    for i, (arch, point) in enumerate(zip(archs, points, strict=True)):
        ok = True if feasible is None else feasible[i]
        strategy.tell(Trial(i, arch, 1, None, None, 0.0), Feedback(point[0], 1, 1.0, 1.0, tuple(point), ok))
    return strategy, archs


# ---- Pareto helpers ------------------------------------------------------------------------------------------


def test_crowding_distance_of_the_extremes_is_infinite_and_of_the_others_the_normalised_gap():
    front = np.array([[0.0, 4.0], [1.0, 3.0], [3.0, 1.0], [4.0, 0.0]])
    distance = crowding_distance(front)
    assert np.isinf(distance[[0, 3]]).all()
    assert distance[1] == pytest.approx((3 - 0) / 4 + (4 - 1) / 4)
    assert distance[2] == pytest.approx((4 - 1) / 4 + (3 - 0) / 4)


def test_constrained_ranks_put_feasible_fronts_first_then_infeasible_by_violation():
    points = np.array([[1.0, 1.0], [2.0, 0.0], [0.5, 0.5], [9.0, 9.0], [9.0, 9.0], [0.0, 0.0]])
    violation = np.array([0.0, 0.0, 0.0, 0.3, 0.1, 0.0])
    assert constrained_ranks(points, violation).tolist() == [0, 0, 1, 4, 3, 2]


# ---- NSGA-II -------------------------------------------------------------------------------------------------


def test_nsga2_survival_keeps_the_non_dominated_and_the_extremes():
    rng = np.random.default_rng(1)
    front = np.array([[0.0, 1.0], [0.25, 0.75], [0.5, 0.5], [0.75, 0.25], [1.0, 0.0]])
    dominated = rng.random((15, 2)) * 0.4  # every one below the line x + y = 1
    points = np.concatenate([dominated[:7], front, dominated[7:]])
    strategy, archs = _told(make_strategy("nsga2", population_size=6), points)
    kept = set(strategy._archs)
    assert {archs[7 + i] for i in range(5)} <= kept  # the whole front survives 15 dominated arrivals
    strategy, archs = _told(make_strategy("nsga2", population_size=3), points)
    assert {archs[7], archs[11]} <= set(strategy._archs)  # too small for the front: its two ends stay


def test_nsga2_with_one_objective_keeps_the_best_scores():
    scores = np.random.default_rng(2).random(40)
    space = get_space("nb201")
    strategy = make_strategy("nsga2", population_size=5)
    strategy.setup(SearchContext(space, (1,), 1), np.random.default_rng(0))
    for i, score in enumerate(scores):
        strategy.tell(Trial(i, space.from_index(i), 1, None, None, 0.0), Feedback(float(score), 1, 1.0, 1.0))
    assert sorted(p[0] for p in strategy._points) == sorted(scores)[-5:]


def test_nsga2_prefers_feasible_members_whatever_their_objectives():
    points = np.array([[9.0, 9.0], [8.0, 8.0], [0.0, 0.0], [0.1, 0.1]])
    strategy, archs = _told(make_strategy("nsga2", population_size=2), points, feasible=[False, False, True, True])
    assert set(strategy._archs) == {archs[2], archs[3]}  # feasible beats infeasible, whatever the objectives


# ---- Pareto local search -------------------------------------------------------------------------------------


@pytest.mark.parametrize("constraints", [(), ("latency_ms<=1.2",)])
def test_pareto_local_search_archive_is_the_front_of_what_it_was_told(table, constraints):
    strategy = make_strategy("pareto_local_search")
    protocol = Protocol(objectives=("latency_ms",), constraints=constraints)
    traj = run_search(table, strategy, protocol=protocol, budget=Budget(evaluations=80), seed=0)
    space = table.space
    feasible = np.array(traj.violation) <= 0
    points = np.c_[traj.score, -np.array(traj.costs)[:, 0]][feasible]
    front = {a for a, keep in zip(np.array(traj.arch)[feasible], non_dominated(points), strict=True) if keep}
    assert {space.to_str(a) for a in strategy.archive} == front
    assert len(set(traj.arch)) == len(traj.arch)  # never proposes an arch twice


# ---- ParEGO --------------------------------------------------------------------------------------------------


def test_parego_weights_lie_on_the_simplex_and_are_reproducible():
    draws = np.stack([simplex_weights(np.random.default_rng(s), 3) for s in range(200)])
    assert (draws >= 0).all() and np.allclose(draws.sum(axis=1), 1.0)
    assert draws[:, 0].mean() == pytest.approx(1 / 3, abs=0.05)  # uniform: each corner alike
    assert np.array_equal(simplex_weights(np.random.default_rng(7), 3), simplex_weights(np.random.default_rng(7), 3))


def test_parego_scalarisation_prefers_what_the_weights_ask_for_and_ranks_infeasible_last():
    points = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [2.0, 2.0]])
    violation = np.array([0.0, 0.0, 0.0, 1.0])
    values = scalarise(points, violation, np.array([0.9, 0.1]))
    assert np.argmax(values) == 0 and values[3] < values[:3].min()
    assert np.argmax(scalarise(points, violation, np.array([0.1, 0.9]))) == 1
    assert np.argmax(scalarise(points, violation, np.array([0.5, 0.5]))) == 2  # Chebyshev: the knee


@pytest.mark.parametrize("name", ["parego_gp", "parego_smac", "parego_bananas"])
def test_parego_redraws_its_weights_as_the_model_is_refitted_and_the_same_seed_repeats_them(table, name):
    weights = []
    for _ in range(2):
        strategy = make_strategy(name, num_init=5)
        run_search(table, strategy, protocol=TWO, budget=Budget(evaluations=40), seed=3)
        weights.append(strategy.weights_)
    first = make_strategy(name, num_init=5)
    run_search(table, first, protocol=TWO, budget=Budget(evaluations=6), seed=3)
    assert np.array_equal(weights[0], weights[1]) and weights[0].sum() == pytest.approx(1.0)
    assert not np.array_equal(first.weights_, weights[0])  # a later refit drew another


# ---- EHVI ----------------------------------------------------------------------------------------------------


def _monte_carlo_hvi(front, costs, mean, std, ref, draws, rng):
    base = hypervolume(front, ref, ["max"] * len(ref))
    ys = rng.normal(mean, std, draws)
    return np.mean([hypervolume(np.vstack([front, np.r_[y, costs]]), ref, ["max"] * len(ref)) - base for y in ys])


@pytest.mark.parametrize("k", [2, 3])
def test_ehvi_closed_form_equals_monte_carlo(k):
    rng = np.random.default_rng(k)
    ref = np.full(k, -0.1)
    front = rng.random((6, k))
    costs = rng.random((4, k - 1)) * 1.2 - 0.1  # some beyond the front's range, some worse than the reference
    mean, std = rng.random(4), 0.05 + 0.3 * rng.random(4)
    exact = expected_hvi(front, costs, mean, std, ref)
    for i in range(4):
        estimate = _monte_carlo_hvi(front, costs[i], mean[i], std[i], ref, 3000, rng)
        assert exact[i] == pytest.approx(estimate, abs=0.004 + 0.03 * estimate)
    assert (exact >= 0).all() and exact.max() > 0.01


def test_ehvi_with_one_objective_is_expected_improvement():
    front = np.array([[0.6], [0.3]])
    mean, std = np.array([0.2, 0.6, 0.9]), np.array([0.1, 0.2, 0.05])
    assert expected_hvi(front, np.zeros((3, 0)), mean, std, np.array([-0.1])) == pytest.approx(
        expected_improvement(mean, std, 0.6)
    )


def test_ehvi_of_a_candidate_whose_known_costs_are_dominated_is_zero():
    front = np.array([[0.5, 0.9], [0.9, 0.5]])
    value = expected_hvi(front, np.array([[0.4]]), np.array([0.45]), np.array([1e-9]), np.array([-0.1, -0.1]))
    assert value[0] == pytest.approx(0.0, abs=1e-9)


def test_ehvi_gp_proposes_no_infeasible_arch_once_feasible_candidates_exist(table):
    protocol = Protocol(objectives=("latency_ms",), constraints=("latency_ms<=0.5",))
    traj = run_search(table, make_strategy("ehvi_gp", num_init=5), protocol=protocol,
                      budget=Budget(evaluations=30), seed=0)  # fmt: skip
    assert all(v == 0 for v in traj.violation[5:])  # costs are known before training: the model-based part obeys


def test_cheapest_members_keeps_of_each_class_the_feasible_member_with_the_best_costs():
    keys = np.array([7, 3, 7, 3, 7, 5])
    known = np.array([  # oriented costs (higher is cheaper), then minus the violation
        [-1.0, -1.0, 0.0], [-2.0, -2.0, 0.0], [-0.5, -0.5, -1.0],
        [-1.0, -1.0, 0.0], [-0.9, -1.0, 0.0], [-3.0, -3.0, -2.0],
    ])  # fmt: skip
    # class 7: row 2 is cheapest but infeasible, row 4 beats row 0; class 3: row 3; class 5: its only member
    assert cheapest_members(keys, known).tolist() == [3, 4, 5]


def _dead_ops_cost_latency(space):
    """A device cost of NB201 cells that, as HW-NAS-Bench's, counts every operation, dead ones included."""

    def costs(rows):
        latency = 1.0 + (np.asarray(rows) != 0).sum(axis=1)  # op 0 is none
        return np.column_stack([-latency, np.zeros(len(latency))])

    return SearchContext(space, (1,), 1, objectives=("val_acc", "latency_ms"), costs=costs)


def test_ehvi_gp_candidates_are_the_cheapest_member_of_each_class_until_that_member_is_proposed():
    space = get_space("nb201")
    strategy = make_strategy("ehvi_gp")
    strategy.setup(_dead_ops_cost_latency(space), np.random.default_rng(0))
    candidates = strategy._candidates()
    rows = all_rows(space)
    latency = (rows != 0).sum(axis=1)
    keys = space.canonical_keys(rows)
    cheapest = {int(k): int(latency[keys == k].min()) for k in np.unique(keys)}
    assert len(candidates) == 6466  # one per isomorphism class
    ops = (candidates != 0).sum(axis=1)
    assert all(cheapest[int(k)] == int(c) for k, c in zip(space.canonical_keys(candidates), ops, strict=True))
    skip = space.from_str("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")  # x3 = x0, one op
    dead = space.from_str("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|")  # the same
    assert space.is_isomorphic(skip, dead)
    strategy._propose(dead)
    assert any(tuple(r) == skip for r in strategy._candidates().tolist())  # an expensive member leaves it open
    strategy._propose(skip)
    assert not any(tuple(r) == skip for r in strategy._candidates().tolist())


def test_ehvi_gp_first_archs_come_one_from_each_slice_of_the_space_by_cost():
    space = get_space("nb201")
    strategy = make_strategy("ehvi_gp", num_init=4)
    strategy.setup(_dead_ops_cost_latency(space), np.random.default_rng(1))
    members = strategy._whole_space()
    position = {tuple(r): i for i, r in enumerate(members.tolist())}
    first = [strategy.ask().arch for _ in range(4)]
    slices = [position[a] * 4 // len(members) for a in first]
    assert slices == [0, 1, 2, 3]  # the dearest quarter first, the cheapest last


def test_a_cheapest_twin_is_isomorphic_and_has_the_fewest_operations_and_none_without_costs():
    space = get_space("nb201")
    twin = CheapestTwin(_dead_ops_cost_latency(space))
    dead = space.from_str("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|")
    assert space.to_str(twin(dead)) == "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    assert CheapestTwin(SearchContext(space, (1,), 1))(dead) == dead  # no costs: the arch itself


@pytest.mark.parametrize("name", ["nsga2", "pareto_local_search", "parego_gp", "parego_smac", "parego_bananas"])
def test_multi_objective_strategies_propose_the_cheapest_member_of_each_class(name):
    space = get_space("nb201")
    strategy = make_strategy(name)
    strategy.setup(_dead_ops_cost_latency(space), np.random.default_rng(0))
    rows = all_rows(space)
    ops, keys = (rows != 0).sum(axis=1), space.canonical_keys(rows)
    for i in range(25):
        arch = strategy.ask().arch
        assert sum(op != 0 for op in arch) == ops[keys == space.canonical_keys([arch])[0]].min()
        strategy.tell(Trial(i, arch, 1, None, None, 0.0), Feedback(0.5, 1, 1.0, 1.0, (0.5, -1.0 - i), True))


# ---- optuna --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["optuna_nsga2", "optuna_tpe"])
def test_optuna_studies_are_multi_objective_and_carry_the_violation(table, name):
    pytest.importorskip("optuna")
    strategy = make_strategy(name)
    protocol = Protocol(objectives=("latency_ms", "energy_mj"), constraints=("latency_ms<=1.2",))
    traj = run_search(table, strategy, protocol=protocol, budget=Budget(evaluations=25), seed=0)
    study = strategy._study
    assert len(study.directions) == 3
    trials = study.get_trials()
    assert [t.values for t in trials] == [[s, -c[0], -c[1]] for s, c in zip(traj.score, traj.costs, strict=True)]
    assert [t.constraints["violation"] for t in trials] == pytest.approx(traj.violation)


# ---- hyperparameters and registry ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params"),
    [("nsga2", {"population_size": 1}), ("nsga2", {"mutation_prob": 0.0}), ("ehvi_gp", {"margin": 0.0}),
     ("pareto_local_search", {"num_restart": 0}), ("parego_gp", {"num_init": 0})],
)  # fmt: skip
def test_bad_hyperparameters_are_typed_errors(name, params):
    with pytest.raises(InvalidHyperparameter, match=name):
        make_strategy(name, **params)


def test_the_multi_objective_strategies_are_registered():
    assert set(NEW) <= set(registry())


# ---- NB201 x HW-NAS-Bench ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nb201hw(nb201_store, tmp_path_factory):
    from nasbench.store import read_store, write_store
    from nasbench.store.join import join_table

    hw = require(REFERENCE / "hw-nas-bench" / "hw_cifar10.csv")
    data, _ = join_table(read_store(nb201_store), hw, key="index", columns={"raspi4_latency": "raspi4_latency_ms"})
    return TabularBenchmark.open(write_store(tmp_path_factory.mktemp("hw") / "nb201hw.h5", data))


def test_ehvi_gp_finds_a_better_front_than_random_search_on_nb201(nb201hw):
    protocol = Protocol(search_epoch=12, score_epoch=200, noise="mean", objectives=("raspi4_latency_ms",))

    def mean_hv(name):
        runs = [run_search(nb201hw, name, protocol=protocol, budget=Budget(evaluations=100), seed=s) for s in range(4)]
        return np.mean([t.incumbent_score[-1] for t in runs])

    assert mean_hv("ehvi_gp") > mean_hv("random_search") + 0.004
