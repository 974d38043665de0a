"""Every argument is checked before anything is written, and every mistake is a typed, one-line error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasbench.benchmark import TabularBenchmark
from nasbench.cli import main
from nasbench.errors import InvalidArchitecture, InvalidQuery, NasbenchError
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.strategies import InvalidHyperparameter, UnknownStrategy, make_strategy


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("regularized_evolution", {"population_size": "abc"}, r"population_size='abc' is not allowed; it takes .*int"),
        ("regularized_evolution", {"population_size": 1}, r"int in \[2, 100000\]"),
        ("regularized_evolution", {"population_size": 2.5}, "population_size=2.5"),
        ("regularized_evolution", {"population_size": True}, "population_size=True"),
        ("random_search", {"unique": "no"}, "unique='no' is not allowed; it takes unique: bool"),
        ("reinforce", {"learning_rate": math.nan}, r"learning_rate=nan .* float in \(0, 100\]"),
        ("reinforce", {"learning_rate": -1.0}, "learning_rate=-1.0"),
        ("local_search", {"num_init": 10**6}, r"num_init=1000000 .* \[1, 10000\]"),
        ("hyperband", {"eta": 1}, r"eta=1 .* \(1, 1000\]"),
    ],
)
def test_bad_hyperparameters_are_refused_at_construction(name, params, message):
    with pytest.raises(InvalidHyperparameter, match=message) as info:
        make_strategy(name, **params)
    assert isinstance(info.value, NasbenchError) and name in str(info.value)


def test_hyperparameters_are_normalised_and_unknown_ones_named():
    strategy = make_strategy("regularized_evolution", population_size=np.int64(20))
    assert type(strategy.population_size) is int
    assert make_strategy("hyperband", eta=4).eta == 4.0
    with pytest.raises(UnknownStrategy, match=r"no hyperparameter\(s\) \['populaton_size'\]"):
        make_strategy("regularized_evolution", populaton_size=20)
    with pytest.raises(UnknownStrategy, match="did you mean 'local_search'"):
        make_strategy("local_serach")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"evaluations": math.nan},
        {"evaluations": 2.5},
        {"evaluations": True},
        {"evaluations": 0},
        {"evaluations": 10**7},
        {"time_s": math.inf},
        {"time_s": math.nan},
        {"time_s": -1.0},
        {},
    ],
)
def test_budgets_are_finite_and_bounded(kwargs):
    with pytest.raises(InvalidQuery):
        Budget(**kwargs)


def test_a_time_budget_alone_is_still_bounded():
    assert Budget(time_s=1e9).max_evaluations == 1_000_000


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3"])
def test_run_search_refuses_a_seed_that_is_not_a_natural_number(full_store, seed):
    bench = TabularBenchmark.open(full_store)
    with pytest.raises(InvalidQuery, match="seed is an integer >= 0"):
        run_search(bench, make_strategy("random_search"), protocol=Protocol(), budget=Budget(evaluations=2), seed=seed)


def test_op_indices_are_integers_in_every_form(full_store):
    bench = TabularBenchmark.open(full_store)
    arch = bench.archs()[7]
    expected = bench.query(arch, epoch=9).val_acc
    for good in (arch, list(arch), np.array(arch), tuple(np.int64(v) for v in arch)):
        assert bench.query(good, epoch=9).val_acc == expected
        assert bench.query_many([good], epoch=9)["val_acc"][0] == pytest.approx(expected)
    floats, bools = tuple(float(v) for v in arch), tuple(bool(v % 2) for v in arch)
    for bad in (floats, list(floats), bools, list(bools)):
        with pytest.raises(InvalidArchitecture):
            bench.query(bad, epoch=9)
        with pytest.raises(InvalidArchitecture):
            bench.query_many([bad], epoch=9)
    for bad_array in (np.array([floats]), np.array([bools])):
        with pytest.raises(InvalidArchitecture):
            bench.query_many(bad_array, epoch=9)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--processes", "0"], "--processes must be >= 1"),
        (["--first-seed", "-1"], "--first-seed must be >= 0"),
        (["--workers", "0"], "--workers must be >= 1"),
        (["--time-budget", "inf"], "finite number of seconds"),
        (["--time-budget", "nan"], "finite number of seconds"),
        (["--budget", "0"], "integer in 1..1,000,000"),
        (["--seeds", "10000000"], "--seeds must be in 1..100,000"),
        (["--strategies", "random_search,random_search"], "strategies repeat"),
        (["--strategies", "regularized_evolution:population_size=abc"], "population_size='abc'"),
        (["--strategies", "local_search:num_init=1000000"], "num_init=1000000"),
        (["--strategies", "bohb"], "multi-fidelity"),
    ],
)
def test_a_mistake_leaves_nothing_behind(small_store, tmp_path, capsys, extra, message):
    from nasbench.store import write_store
    from tests.conftest import make_store_data

    store = small_store if "bohb" not in extra else write_store(tmp_path / "one.h5", make_store_data(epochs=(4,)))
    out = tmp_path / "out"
    assert main(["compare", str(store), "--out", str(out), "--no-report", "--surrogate", "never", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_a_folder_given_as_a_store_says_so(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) == 2
    assert "is a folder; a store is one .h5 file" in capsys.readouterr().err


def test_decisions_that_are_not_integers_name_the_culprit(full_store, capsys):
    assert main(["query", str(full_store), "3,3,4,1,3,1.0", "--epoch", "9"]) == 2
    assert "decision 5 is '1.0': each is an integer" in capsys.readouterr().err


def test_a_huge_input_is_cut_in_the_message(full_store, capsys):
    assert main(["query", str(full_store), "9," * 20_000, "--epoch", "9"]) == 2
    err = capsys.readouterr().err
    assert len(err) < 800 and "characters cut" in err


def test_a_report_over_runs_that_finished_nothing_says_so(full_store, tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(["compare", str(full_store), "--out", str(out), "--seeds", "2", "--time-budget", "1",
                 "--strategies", "random_search", "--processes", "1"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "no run finished an evaluation (random_search: 2)" in err and "Traceback" not in err


def test_strategies_lists_hyperparameters_and_needs(capsys):
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    assert "population_size: int in [2, 100000] (default 10)" in out
    assert "hyperband  (nasbench.strategies.hyperband:Hyperband)  needs: several epochs (multi-fidelity)" in out
    assert main(["strategies", "pnas"]) == 0 and "needs: progressive" in capsys.readouterr().out
    assert main(["strategies", "bananaz"]) == 2 and "did you mean 'bananas'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (["--param", "alpha=abc"], "alpha='abc' is not allowed; it takes a finite number"),
        (["--param", "alpha=-1"], "'ridge' cannot be fitted as configured"),
    ],
)
def test_surrogate_parameters_are_checked_before_anything_is_written(small_store, tmp_path, capsys, params, message):
    out = tmp_path / "sur"
    args = ["surrogate", "fit", str(small_store), "--metric", "val_acc", "--epoch", "4", "--model", "ridge"]
    assert main([*args, "--out", str(out), *params]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_verbosity_flags_work_after_the_subcommand_and_logs_get_plain_progress_lines(full_store, tmp_path, capsys):
    out = tmp_path / "cmp"
    args = ["compare", str(full_store), "--out", str(out), "--seeds", "2", "--budget", "5", "--processes", "1",
            "--strategies", "random_search", "--no-report"]  # fmt: skip
    assert main([*args, "-q"]) == 0
    assert capsys.readouterr().err == ""
    assert main([*args, "--first-seed", "5", "--overwrite", "-v"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "compare: 1 strategies x 2 seeds: 2/2 runs (100 %)" in err


def test_processes_and_seeds_mean_the_same_in_every_command():
    from nasbench.cli import build_parser

    parser = build_parser()
    for command in (["build", "--out", "x.h5"], ["validate", "x.h5", "--out", "v"], ["compare", "x.h5", "--out", "o"]):
        args = parser.parse_args([*command, "--processes", "3", "--seeds", "4", "--first-seed", "7"])
        assert (args.processes, args.seeds, args.first_seed) == (3, 4, 7)
