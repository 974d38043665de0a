"""Model-based strategies: they learn (beat random search where quality is learnable), follow their papers'
mechanics, and reject bad hyperparameters clearly. Determinism, pending proposals and pickling are covered for
every registered strategy by tests/test_strategies.py."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nasbench import TabularBenchmark
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.spaces.nb201 import NONE, NB201Space
from nasbench.strategies import SearchContext, make_strategy
from nasbench.strategies._common import Proposed, canonical_keys, mutations
from nasbench.strategies._ensemble import MLPEnsemble
from nasbench.strategies.bo import GPBO, expected_improvement

PROTOCOL = Protocol(search_epoch=9, score_epoch=9)
SINGLE_FIDELITY = ("bananas", "gp_bo", pytest.param("smac", marks=pytest.mark.slow), "pnas")
SPACE = NB201Space()


@pytest.fixture(scope="module")
def bench(full_store):
    return TabularBenchmark.open(full_store)


def _final(bench, name, seed, **budget):
    traj = run_search(bench, make_strategy(name), protocol=PROTOCOL, budget=Budget(**budget), seed=seed)
    return traj.incumbent_score[-1]


@pytest.mark.parametrize("name", SINGLE_FIDELITY)
def test_beats_random_search_where_quality_is_learnable(bench, name):
    # quality of the synthetic store = share of conv edges; 64 of 15,625 cells are best
    seeds = range(4)
    model = np.mean([_final(bench, name, s, evaluations=40) for s in seeds])
    random = np.mean([_final(bench, "random_search", s, evaluations=40) for s in seeds])
    assert model > random + 0.02, (model, random)


def test_bohb_beats_random_search_under_a_time_budget(bench):
    seeds = range(4)
    budget = {"time_s": 3000.0}  # ~20 full trainings of a good cell
    bohb = np.mean([_final(bench, "bohb", s, **budget) for s in seeds])
    random = np.mean([_final(bench, "random_search", s, **budget) for s in seeds])
    assert bohb > random, (bohb, random)


def test_bohb_samples_from_the_model_once_it_has_one(bench):
    strategy = make_strategy("bohb", random_fraction=0.0)
    traj = run_search(bench, strategy, protocol=PROTOCOL, budget=Budget(evaluations=150), seed=0)
    assert set(traj.epoch) == {1, 3, 9}  # Hyperband rungs at eta = 3
    assert strategy._models, "no density model was fitted"
    archs = np.array([SPACE.from_str(s) for s in traj.arch[-40:]])
    conv_share = np.isin(archs, (2, 3)).mean()
    assert conv_share > 0.6  # uniform cells have 2/5 conv edges; the good density favours conv


def test_pnas_starts_from_the_simplest_live_cells_and_grows():
    strategy = make_strategy("pnas", beam_size=4)
    strategy.setup(SearchContext(SPACE, (9,), 9), np.random.default_rng(0))
    first = [strategy.ask().arch for _ in range(4)]
    # one op, on the only edge that links input to output alone (other one-op cells compute zero)
    assert sorted(first) == [(0, 0, 0, op, 0, 0) for op in (1, 2, 3, 4)]
    expansions = SPACE.grow((0, 3, 0, 1, 0, 3))  # what pnas expands a cell into
    # node 1 is unreachable: one more op changes nothing, so the expansions add two (edge 0 and 2 or 4)
    assert expansions and all(SPACE.num_active_ops(a) == 5 for a in expansions)
    assert all(a[0] != NONE for a in expansions)
    parent = canonical_keys(SPACE, [(0, 3, 0, 1, 0, 3)])[0]
    assert (canonical_keys(SPACE, expansions) != parent).all()


def test_bananas_proposes_each_isomorphism_class_once(bench):
    traj = run_search(bench, make_strategy("bananas"), protocol=PROTOCOL, budget=Budget(evaluations=60), seed=1)
    archs = [SPACE.from_str(s) for s in traj.arch]
    assert len(set(canonical_keys(SPACE, archs).tolist())) == len(archs)


def test_mlp_ensemble_learns_and_disagrees_off_data():
    rng = np.random.default_rng(0)
    archs = [SPACE.sample(rng) for _ in range(200)]
    x = SPACE.encode(archs, "onehot")
    y = np.array([sum(op in (2, 3) for op in a) for a in archs], dtype=float)
    model = MLPEnsemble(num_layers=2, width=32, epochs=100).fit(x[:150], y[:150], rng)
    pred = model.predict(x[150:])
    assert pred.shape == (5, 50)
    assert np.corrcoef(pred.mean(0), y[150:])[0, 1] > 0.9
    assert pred.std(0).mean() > 0


def test_gp_likelihood_gradient_matches_finite_differences():
    from scipy.optimize import check_grad

    rng = np.random.default_rng(0)
    x = SPACE.encode([SPACE.sample(rng) for _ in range(30)], "onehot").astype(float)
    y = rng.normal(size=30)
    gp = GPBO()
    sq = gp._sq_dist(x, x)
    for point in ([0.0, 0.5, -2.0], [0.3, 1.2, -1.0]):
        err = check_grad(lambda p: gp._neg_log_likelihood(p, sq, y)[0], lambda p: gp._neg_log_likelihood(p, sq, y)[1],
                         np.array(point))  # fmt: skip
        assert err < 1e-3


def test_expected_improvement_is_positive_and_grows_with_mean_and_uncertainty():
    ei = expected_improvement(np.array([0.0, 0.5, 0.5]), np.array([0.1, 0.1, 0.3]), best=0.4)
    assert (ei > 0).all() and ei[1] > ei[0] and ei[2] > ei[1]


def test_canonical_keys_are_the_index_of_the_class_representative():
    archs = [SPACE.sample(np.random.default_rng(s)) for s in range(50)]
    assert canonical_keys(SPACE, archs).tolist() == [SPACE.index(SPACE.canonical(a)) for a in archs]


def test_mutations_change_at_least_one_edge_and_proposed_filters_isomorphs():
    rng = np.random.default_rng(0)
    parent = (3, 3, 3, 3, 3, 3)
    children = mutations(SPACE, parent, 200, 1 / 3, rng)
    assert len(children) == 200
    assert all(c != parent and all(0 <= op < 5 for op in c) for c in children)
    proposed = Proposed(SPACE)
    proposed.add([(0, 0, 0, 0, 0, 0)])
    # edge 0 alone is dead: isomorphic to the zero cell
    assert proposed.new([(2, 0, 0, 0, 0, 0), (0, 0, 0, 2, 0, 0), (0, 0, 0, 2, 0, 0)]) == [(0, 0, 0, 2, 0, 0)]


BAD = [
    ("bananas", {"k": 0}, "k must be"),
    ("bananas", {"acquisition": "ei"}, "acquisition must be one of its, ucb"),
    ("bananas", {"encoding": "graph"}, "unknown encoding"),
    ("bananas", {"loss": "huber"}, "loss must be one of"),
    ("bananas", {"mutation_edge_prob": 0}, "mutation_edge_prob"),
    ("bananas", {"refit_epochs": -1}, "refit_epochs must be"),
    ("gp_bo", {"num_init": 0}, "num_init must be"),
    ("gp_bo", {"num_random": 0, "num_best": 0, "num_mutations": 0}, "no candidates"),
    ("smac", {"random_probability": 1.5}, "random_probability must be in"),
    ("smac", {"num_trees": 0}, "num_trees"),
    ("bohb", {"top_n_percent": 100}, "top_n_percent"),
    ("bohb", {"min_points_in_model": 3}, "min_points_in_model must be an integer > 6"),
    ("bohb", {"eta": 1}, "eta must be > 1"),
    ("pnas", {"beam_size": 0}, "beam_size"),
    ("pnas", {"width": 0}, "width must be"),
]


@pytest.mark.parametrize(("name", "params", "message"), BAD)
def test_bad_hyperparameters_are_clear_errors(name, params, message):
    declared = "|".join(f"{key}={value!r} is not allowed" for key, value in params.items())
    with pytest.raises(ValueError, match=f"{message}|{declared}"):  # refused at construction, or at setup
        strategy = make_strategy(name, **params)
        strategy.setup(SearchContext(SPACE, tuple(range(1, 10)), 9), np.random.default_rng(0))


def test_pnas_sizes_its_beam_from_the_budget_as_the_paper_did():
    from nasbench.strategies.pnas import auto_beam, complexity_levels

    # the budget reaches the 6-operation cells: 4 one-operation cells, then 5 steps of one beam each
    assert [auto_beam(n, 4, 6) for n in (150, 40, 5, None)] == [29, 7, 1, 29]
    assert complexity_levels(SPACE) == 6
    for evaluations, beam in ((150, 29), (40, 7), (None, 29)):
        strategy = make_strategy("pnas")
        strategy.setup(SearchContext(SPACE, (9,), 9, evaluations=evaluations), np.random.default_rng(0))
        assert strategy.beam_size_ == beam


# ---- the fast paths give what the plain ones give --------------------------------------------------------------


def test_row_helpers_draw_what_sample_many_and_mutations_draw():
    from nasbench.spaces.base import sample_many
    from nasbench.strategies._common import as_archs, mutation_rows, sample_rows

    for seed in range(3):
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        assert as_archs(sample_rows(SPACE, a, 50)) == sample_many(SPACE, b, 50)
        assert as_archs(mutation_rows(SPACE, (1, 2, 3, 4, 0, 1), 30, 1 / 3, a)) == mutations(
            SPACE, (1, 2, 3, 4, 0, 1), 30, 1 / 3, b
        )
        assert a.random() == b.random()  # and consumed the same draws


def test_new_mask_keeps_what_new_keeps():
    from nasbench.strategies._common import as_archs, sample_rows

    rng = np.random.default_rng(0)
    proposed = Proposed(SPACE)
    proposed.add(sample_rows(SPACE, rng, 40))
    for _ in range(5):
        rows = sample_rows(SPACE, rng, 2000)
        assert as_archs(rows[proposed.new_mask(rows)]) == proposed.new(as_archs(rows))
    proposed._table = None  # the set-based path of large spaces
    rows = sample_rows(SPACE, rng, 2000)
    assert as_archs(rows[proposed.new_mask(rows)]) == proposed.new(as_archs(rows))


@pytest.mark.parametrize("kind", ["onehot", "path", "cell_stats"])
def test_cached_encodings_are_the_spaces_own(kind):
    from nasbench.strategies._common import Encodings, encodings, sample_rows

    rows = sample_rows(SPACE, np.random.default_rng(1), 300)
    expected = SPACE.encode([tuple(r) for r in rows.tolist()], kind)
    assert np.array_equal(encodings(SPACE, kind)(rows), expected)
    assert np.array_equal(encodings(SPACE, kind)(rows[::-1]), expected[::-1])  # served from the table
    as_dict = Encodings(SPACE, kind)
    as_dict.TABLE_LIMIT = 0  # the dictionary path of large spaces
    assert np.array_equal(as_dict(rows), expected) and np.array_equal(as_dict(rows), expected)


def test_mlp_refit_continues_the_same_members():
    rng = np.random.default_rng(0)
    archs = [SPACE.sample(rng) for _ in range(120)]
    x = SPACE.encode(archs, "path")
    y = np.array([sum(op in (2, 3) for op in a) for a in archs], dtype=float)
    model = MLPEnsemble(num_layers=3, width=16, epochs=50).fit(x[:60], y[:60], rng)
    before = model.predict(x[60:])
    untouched = ~(x[:60] != 0).any(axis=0)  # path columns never 1 in the data keep their initial weights
    first_layer = model._views(model._theta)[0][:, :-1, :][:, untouched].copy()
    model.refit(x[:100], y[:100] + 3.0, rng, epochs=0)  # new targets' scale: predictions unchanged by it
    assert np.allclose(model.predict(x[60:]), before, atol=1e-4)
    model.refit(x[:100], y[:100], rng, epochs=30)
    assert np.corrcoef(model.predict(x[100:]).mean(0), y[100:])[0, 1] > 0.5
    still = model._views(model._theta)[0][:, :-1, :][:, untouched & ~(x[:100] != 0).any(axis=0)]
    assert np.array_equal(still, first_layer[:, ~(x[:100] != 0).any(axis=0)[untouched]])


def test_gp_pool_conditioned_result_by_result_has_the_exact_posterior():
    from scipy.linalg import cho_solve, solve_triangular

    from nasbench.strategies.bo import _Pool

    rng = np.random.default_rng(0)
    gp = GPBO()
    gp._log_params = np.array([0.2, np.log(1.5), np.log(0.05)])
    gp._chol = None
    x_all = SPACE.encode([SPACE.sample(rng) for _ in range(140)], "onehot")
    rows = np.array([SPACE.sample(rng) for _ in range(800)])
    xs = SPACE.encode([tuple(r) for r in rows], "onehot")
    pool = _Pool(rows, xs, gp._kernel, gp._log_params)
    for n in (12, 13, 60, 140):  # one result at a time, then blocks of them
        x, y = x_all[:n], rng.normal(size=n)
        chol = gp._factor(x)
        pool.condition(x, chol)
        direct = np.linalg.cholesky(gp._kernel(x, x, gp._log_params) + gp._noise() * np.eye(n))
        cross = gp._kernel(xs, x, gp._log_params)
        v = solve_triangular(direct, cross.T, lower=True)
        assert np.allclose(pool.variance, np.exp(2 * gp._log_params[0]) - (v * v).sum(0))
        mean = pool.v.T @ solve_triangular(chol, y, lower=True)
        assert np.allclose(mean, cross @ cho_solve((direct, True), y))


def test_smac_refits_its_forest_every_refit_every_results(bench):
    strategy = make_strategy("smac", random_probability=0.0)
    fits = []
    original = type(strategy)._fit

    def counting_fit(self):
        fits.append(len(self._scores))
        original(self)

    strategy._fit = counting_fit.__get__(strategy)
    run_search(bench, strategy, protocol=PROTOCOL, budget=Budget(evaluations=60), seed=0)
    assert fits[0] == 10 and all(b - a >= 8 for a, b in itertools.pairwise(fits))
    assert len(fits) <= (60 - 10) // 8 + 2


def test_bananas_refit_epochs_none_fits_from_scratch_every_time(bench, monkeypatch):
    from nasbench.strategies._ensemble import MLPEnsemble

    calls = {"fit": 0, "refit": 0}

    def counting(kind):
        original = getattr(MLPEnsemble, kind)

        def counted(self, *args, **kwargs):
            calls[kind] += 1
            return original(self, *args, **kwargs)

        return counted

    for kind in calls:
        monkeypatch.setattr(MLPEnsemble, kind, counting(kind))
    small = {"num_layers": 2, "width": 8, "epochs": 5}
    run_search(bench, make_strategy("bananas", refit_epochs=None, **small), protocol=PROTOCOL,
               budget=Budget(evaluations=40), seed=0)  # fmt: skip
    assert calls == {"fit": 3, "refit": 0}  # batches of 10 after 10, 20 and 30 results
    run_search(bench, make_strategy("bananas", **small), protocol=PROTOCOL, budget=Budget(evaluations=40), seed=0)
    assert calls == {"fit": 4, "refit": 2}  # the first fit, then warm refits
