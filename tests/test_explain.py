"""nasbench.explain: the landscape's decomposition, the winner's contributions and neighbours, what strategies
learned, the command and the report's section, on stores whose answers are known by construction."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nasbench.benchmark import TabularBenchmark
from nasbench.cli import main
from nasbench.errors import (
    InvalidArchitecture,
    InvalidQuery,
    MissingResult,
    StoreError,
    StoreMismatch,
    UnknownMetric,
)
from nasbench.explain import explain_arch, landscape, learned
from nasbench.explain.anova import factorial_orders, factorial_tensor, main_and_pairs
from nasbench.explain.shapley import exact_shapley
from nasbench.runner.experiment import Experiment, run_experiment, runs_frame
from nasbench.runner.simulate import Budget, Protocol
from nasbench.spaces import get_space
from nasbench.store import StoreData, write_store

SPACE = get_space("nb201")
GRID = np.asarray(SPACE.all_archs(), dtype=np.int64)
# Known terms, each zero-mean over its decisions' choices, so that each is exactly one fANOVA term:
A = np.array([-0.06, -0.02, 0.0, 0.05, 0.03])  # decision 0 alone
B = np.array([0.04, -0.01, -0.01, -0.01, -0.01])  # decision 3 alone
S = np.array([0.02, -0.02, 0.01, -0.01, 0.0])  # decisions 1 x 2: a pure interaction s_i * t_j
T = np.array([1.0, -1.0, 0.5, -0.5, 0.0])
U = np.array([0.01, -0.01, 0.0, 0.0, 0.0])  # decisions 0 x 4 x 5: a pure three-way term


def known(archs: np.ndarray) -> np.ndarray:
    x = np.asarray(archs)
    return (0.6 + A[x[:, 0]] + B[x[:, 3]] + S[x[:, 1]] * T[x[:, 2]] + U[x[:, 0]] * T[x[:, 4]] * T[x[:, 5]]).astype(
        np.float64
    )


def known_variances() -> dict[str, float]:
    var = lambda v: float(np.mean(v**2))  # noqa: E731 - population variance of a zero-mean term
    return {"0": var(A), "3": var(B), "1x2": var(S) * var(T), "0x4x5": var(U) * var(T) ** 2}


def store_data(rows: np.ndarray | None = None, dataset: str = "known") -> StoreData:
    archs = GRID if rows is None else GRID[rows]
    y = known(archs).astype(np.float32)
    return StoreData(
        space="nb201",
        dataset=dataset,
        protocol={"recipe": "a known function of the decisions (tests)"},
        seeds=(None,),
        epochs=(1,),
        archs=archs.astype(np.int8),
        metrics={"test_acc": y[:, None, None]},
        static={},
        provenance={"maker": "tests/test_explain.py"},
    )


@pytest.fixture(scope="module")
def known_bench() -> TabularBenchmark:
    return TabularBenchmark(store_data())


@pytest.fixture(scope="module")
def known_land(known_bench):
    return landscape(known_bench)


@pytest.fixture(scope="module")
def known_store(tmp_path_factory) -> Path:
    return write_store(tmp_path_factory.mktemp("known") / "known.h5", store_data())


# ---------------------------------------------------------------- the landscape


def test_exact_decomposition_on_a_full_factorial_recovers_every_known_term(known_land):
    land = known_land
    assert land.exact and land.design.startswith("full factorial")
    want = known_variances()
    total = sum(want.values())
    assert land.variance == pytest.approx(total, rel=1e-4)
    frac = {tuple(r.decisions): r.fraction for r in land.importance.itertuples()}
    assert frac[(0,)] == pytest.approx(want["0"] / total, rel=1e-3)
    assert frac[(3,)] == pytest.approx(want["3"] / total, rel=1e-3)
    assert frac[(1, 2)] == pytest.approx(want["1x2"] / total, rel=1e-3)
    for d in (1, 2, 4, 5):  # no main effect where the function has none
        assert frac[(d,)] == pytest.approx(0, abs=1e-6)
    assert land.orders is not None and sum(land.orders) == pytest.approx(1.0, abs=1e-9)  # exact: orders add up
    assert land.orders[2] == pytest.approx(want["0x4x5"] / total, rel=1e-3)
    assert land.shares["higher"] == pytest.approx(want["0x4x5"] / total, rel=1e-3)
    assert land.shares["main"] + land.shares["pairs"] + land.shares["higher"] == pytest.approx(1.0, abs=1e-9)
    effect = land.effects.set_index(["d", "c"])["effect"]
    assert effect[(0, 3)] == pytest.approx(A[3], abs=1e-6) and effect[(3, 0)] == pytest.approx(B[0], abs=1e-6)
    assert land.top_effects(1)["effect"].iloc[0] == pytest.approx(A[0], abs=1e-6)  # the largest in size
    assert land.best_choice(0) == 3


def test_group_means_equal_the_factorial_terms_on_a_full_factorial():
    rng = np.random.default_rng(3)
    y = rng.normal(size=len(GRID))
    dec = main_and_pairs(GRID, y, SPACE.choices)
    orders = factorial_orders(factorial_tensor(GRID, y, SPACE.choices))
    assert dec.main.sum() == pytest.approx(orders[0], rel=1e-10)
    assert sum(dec.pairs.values()) == pytest.approx(orders[1], rel=1e-10)
    assert orders.sum() == pytest.approx(dec.total, rel=1e-10)


def test_seed_bootstrap_intervals_are_reproducible(full_store):
    a = landscape(full_store, "val_acc", 9, seed=4)
    b = landscape(full_store, "val_acc", 9, seed=4)
    assert a.exact and a.replicas == 100 and "training seeds" in a.interval
    assert (a.importance["ci_high"] >= a.importance["ci_low"]).all()
    assert (a.importance["ci_high"] - a.importance["ci_low"]).max() > 0
    assert a.importance.equals(b.importance) and a.effects.equals(b.effects)


def test_estimated_landscape_from_a_partial_store_ranks_the_decisions_like_the_exact_one(known_land):
    rows = np.random.default_rng(0).choice(len(GRID), size=1000, replace=False)
    partial = TabularBenchmark(store_data(np.sort(rows)))
    est = landscape(partial, repeats=2, seed=1, features="onehot")
    assert not est.exact and est.design.startswith("estimated") and est.n_train == 1000 and est.replicas == 2
    top2 = {tuple(r.decisions) for r in est.importance.head(2).itertuples()}
    assert top2 == {tuple(r.decisions) for r in known_land.importance.head(2).itertuples()}
    assert (est.importance["ci_low"] <= est.importance["ci_high"]).all()
    again = landscape(partial, repeats=2, seed=1, features="onehot")
    assert np.array_equal(est.values, again.values) and est.importance.equals(again.importance)


# ---------------------------------------------------------------- the winner


def test_contributions_add_up_and_split_a_pure_interaction_evenly(known_land):
    arch = (0, 0, 1, 0, 1, 1)
    win = explain_arch(known_land, arch)
    value = known(np.asarray([arch]))[0]
    assert win.value == pytest.approx(value, abs=1e-6) and win.measured == pytest.approx(value, abs=1e-6)
    assert win.total == pytest.approx(win.value - win.baseline_value, abs=1e-9)
    assert win.baseline_value == pytest.approx(known_land.mean, abs=1e-9)
    phi = win.contributions["contribution"].to_numpy()
    three_way = U[0] * T[1] * T[1]
    assert three_way != 0
    assert phi[3] == pytest.approx(B[0], abs=1e-6)  # additive: exactly its main effect
    assert phi[1] == pytest.approx(S[0] * T[1] / 2, abs=1e-6) == pytest.approx(phi[2], abs=1e-6)
    assert phi[0] == pytest.approx(A[0] + three_way / 3, abs=1e-6)
    assert phi[4] == pytest.approx(three_way / 3, abs=1e-6) and phi[5] == pytest.approx(three_way / 3, abs=1e-6)


def test_median_baseline_contributions_add_up_to_value_minus_the_median_cell(known_land):
    win = explain_arch(known_land, (3, 0, 1, 0, 4, 4), baseline="median")
    base = win.baseline_arch
    assert base is not None and list(win.contributions["baseline_choice"]) == [
        SPACE.options[d][base[d]] for d in range(6)
    ]
    assert win.baseline_value == pytest.approx(float(np.median(known_land.values)), abs=1e-6)
    assert win.total == pytest.approx(win.value - known(np.asarray([base]))[0], abs=1e-6)


def test_exact_shapley_matches_the_permutation_definition_on_a_small_design():
    rng = np.random.default_rng(1)
    choices = (2, 3, 2)
    archs = np.array([(a, b, c) for a in range(2) for b in range(3) for c in range(2)])
    y = rng.normal(size=len(archs))
    arch, base = (1, 2, 0), (0, 0, 1)
    phi, v0, _ = exact_shapley(archs, y, arch, choices, base)

    def value(coalition: set[int]) -> float:
        mixed = tuple(arch[d] if d in coalition else base[d] for d in range(3))
        return float(y[[tuple(r) for r in archs.tolist()].index(mixed)])

    import itertools

    brute = np.zeros(3)
    perms = list(itertools.permutations(range(3)))
    for order in perms:
        seen: set[int] = set()
        for d in order:
            brute[d] += value(seen | {d}) - value(seen)
            seen.add(d)
    assert np.allclose(phi, brute / len(perms)) and v0 == pytest.approx(value(set()))


def test_counterfactual_neighbours_are_read_from_the_table(known_bench, known_land):
    arch = known_bench.best("test_acc")[0]
    win = explain_arch(known_land)  # default: the table's best measured cell
    assert win.arch == arch
    near = win.neighbours
    assert len(near) == 24 and set(near["source"]) == {"table"}
    for row in near.itertuples():
        measured = known_bench.query(row.arch, epoch=1).test_acc
        assert row.value == pytest.approx(measured, abs=1e-9)
        assert row.gain == pytest.approx(measured - win.value, abs=1e-9)  # "max": gain = delta
        assert SPACE.from_str(row.arch)[row.d] == row.c
    assert (near["gain"] <= 0).all()  # the optimum has no better single change


def test_tree_shap_contributions_add_up_to_the_model_output(known_bench):
    rows = np.random.default_rng(2).choice(len(GRID), size=800, replace=False)
    partial = TabularBenchmark(store_data(np.sort(rows)))
    land = landscape(partial, repeats=0)
    win = explain_arch(land, (3, 0, 1, 0, 4, 4), method="tree_shap")
    assert win.baseline == "model mean" and not win.exact
    assert win.total == pytest.approx(win.value - win.baseline_value, abs=1e-6)
    phi = win.contributions["contribution"].to_numpy()
    assert phi[0] > 0 and phi[3] > 0  # A[3] = +0.05 and B[0] = +0.04: both decisions raise this cell
    with pytest.raises(InvalidQuery, match="baseline='mean'"):
        explain_arch(land, (3, 0, 1, 0, 4, 4), method="tree_shap", baseline="median")


# ---------------------------------------------------------------- bad input


def test_bad_input_is_one_typed_error(known_bench, known_land):
    with pytest.raises(InvalidArchitecture):
        explain_arch(known_land, "22212220")  # a NAS-Bench-Macro string
    with pytest.raises(UnknownMetric, match="holds: test_acc"):
        landscape(known_bench, "val_loss")
    with pytest.raises(MissingResult, match="available"):
        landscape(known_bench, epoch=200)
    with pytest.raises(InvalidQuery, match="baseline"):
        explain_arch(known_land, baseline="best")
    with pytest.raises(InvalidQuery, match="source"):
        landscape(known_bench, source="magic")


# ---------------------------------------------------------------- what strategies learned


@pytest.fixture(scope="module")
def results(known_store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cmp") / "cmp"
    experiment = Experiment(
        str(known_store),
        ["random_search", "regularized_evolution"],
        range(3),
        protocol=Protocol(search_metric="test_acc", score_metric="test_acc"),
        budget=Budget(evaluations=40),
    )
    return run_experiment(experiment, out, processes=1)


def test_learned_counts_every_proposal_and_measures_distance_to_the_optimum(results, known_land):
    learn = learned(results, land=known_land)
    frame = runs_frame(results)
    archs = {s: SPACE.from_str(s) for s in set(frame["arch"])}
    for label, part in frame.groupby("strategy"):
        mine = learn.choices[learn.choices["strategy"] == label]
        assert np.allclose(mine.groupby("d")["share"].sum(), 1.0)
        counted = np.mean([archs[a][3] == 0 for a in part["arch"]])
        assert mine[(mine["d"] == 3) & (mine["c"] == 0)]["share"].iloc[0] == pytest.approx(counted)
        first = part[part.groupby("seed").cumcount() == 0]
        hamming = np.mean([sum(x != y for x, y in zip(archs[a], learn.optimum[0], strict=True)) for a in first["arch"]])
        dist = learn.distance[(learn.distance["strategy"] == label) & (learn.distance["evaluation"] == 1)]
        assert dist["distance"].iloc[0] == pytest.approx(hamming)
    assert set(learn.summary["strategy"]) == {"random_search", "regularized_evolution"}
    assert all(
        s.startswith(label) for s, label in zip(learn.summary["sentence"], learn.summary["strategy"], strict=True)
    )
    assert learn.summary["top_decision"].iloc[0] == SPACE.decisions[0]
    finals = frame.groupby(["strategy", "seed"]).tail(1)
    means = finals.groupby("strategy")["incumbent_score"].mean()
    assert learn.winner == means.idxmax()


def test_learned_refuses_another_store(results, tmp_path):
    other = write_store(tmp_path / "other.h5", store_data(np.arange(0, len(GRID), 2), dataset="other"))
    with pytest.raises(StoreMismatch, match="not the store"):
        learned(results, store=other)
    with pytest.raises(StoreError, match="--store"):
        learned(results, store=tmp_path / "absent.h5")


# ---------------------------------------------------------------- the command and the report


@pytest.mark.slow  # draws the four figures (matplotlib)
def test_cli_explains_a_store_and_replaces_only_its_own_files(known_store, tmp_path, capsys):
    out = tmp_path / "why"
    assert main(["explain", str(known_store), "3,0,1,0,4,4", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "exact landscape of test_acc@1" in printed and "higher orders" in printed
    names = {p.name for p in out.iterdir()}
    assert {"explain.md", "explain.json", "importance.png", "interactions.png", "effects.png", "waterfall.png"} <= names
    saved = json.loads((out / "explain.json").read_text())
    contributions = sum(r["contribution"] for r in saved["winner"]["contributions"])
    assert contributions == pytest.approx(saved["winner"]["value"] - saved["winner"]["baseline_value"], abs=1e-9)
    (out / "mine.txt").write_text("kept")
    assert main(["explain", str(known_store), "--out", str(out), "--no-plots", "-q"]) == 0
    assert (out / "mine.txt").read_text() == "kept" and not (out / "waterfall.png").exists()


def test_cli_refuses_bad_input_in_one_line_before_writing(known_store, tmp_path, capsys):
    for args in (["22212220"], ["--metric", "val_acc"], ["--epoch", "7"], ["--store", str(known_store)]):
        out = tmp_path / "never"
        assert main(["explain", str(known_store), *args, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("nasbench explain: error:") and "\n" not in err
        assert not out.exists()


def test_cli_explains_a_results_directory_and_the_report_links_it(results, known_store, capsys):
    from nasbench.analysis.report import write_report

    write_report(results, plots=False)
    text = (results / "report.md").read_text()
    assert "## Why the winner wins" in text and "Exact landscape of `test_acc`@1" in text
    assert "nasbench explain" in text
    assert main(["explain", str(results), "--no-plots"]) == 0
    assert "random_search:" in capsys.readouterr().out
    assert "explain" in json.loads((results / ".nasbench.json").read_text())["files"]
    write_report(results, plots=False)
    assert "[explain/explain.md](explain/explain.md)" in (results / "report.md").read_text()


def test_importing_explain_stays_light():
    code = (
        "import sys, nasbench.explain\n"
        "print(','.join(m for m in ('torch', 'xgboost', 'pandas', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_math_is_finite_in_the_saved_json(known_store, tmp_path):
    assert main(["explain", str(known_store), "--out", str(tmp_path / "j"), "--no-plots", "-q"]) == 0
    saved = json.loads((tmp_path / "j" / "explain.json").read_text())
    assert all(math.isfinite(r["fraction"]) for r in saved["landscape"]["importance"])
