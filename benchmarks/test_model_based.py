"""Cost of the model-based strategies beside optuna's TPE, and the wall time of the whole NB201 comparison.

On the NB201 CIFAR-10 reference table with the paper's protocol (search on val_acc after 12 epochs, score the
incumbent by test_acc after 200, mean over training seeds; 150 evaluations), skipping when the reference is
absent:

- ``test_overhead_per_evaluation_beside_optuna_tpe[name]``: a strategy's own time per evaluation (its ``ask`` and
  ``tell``, model fitting included; the runner's and the table's time excluded) beside that of optuna's
  ``TPESampler`` driven through ``study.ask`` / ``study.tell`` on the same table for the same 150 evaluations. The
  two alternate seed by seed in one process, so that whatever else loads the machine loads both alike; each is
  warmed up once first (imports, caches), as in a comparison that runs 100 seeds per process. ``extra_info``
  holds both medians, in ms per evaluation; the test fails when the strategy's exceeds TPE's. BOHB needs several
  epochs of val_acc, which the NB201 table lacks (12 only), so it runs on the synthetic 15,625-cell store of the
  test suite instead. Needs optuna: ``pip install 'nasbench[bench]'`` (skips without it).
- ``test_full_comparison_nb201_paper_protocol``: ``nasbench compare`` of the five model-free and four model-based
  strategies, 100 seeds x 150 evaluations, with the default process count, report and figures included (as the
  command writes them); ``extra_info`` splits the runs from the report.
"""

from __future__ import annotations

import statistics
import time

import pytest

from nasbench import TabularBenchmark
from nasbench.runner.experiment import Experiment, StrategySpec, run_experiment
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.strategies import make_strategy

PROTOCOL = Protocol(search_metric="val_acc", search_epoch=12, score_metric="test_acc", score_epoch=200, noise="mean")
BUDGET = Budget(evaluations=150)
MODEL_FREE = (
    "random_search",
    "regularized_evolution",
    "local_search",
    "local_search:first_improvement=true",
    "reinforce",
)
MODEL_BASED = ("bananas", "gp_bo", "smac", "pnas")
SEEDS = tuple(range(5))
WARM_UP_SEED = 10**6


@pytest.fixture(scope="module")
def nb201(nb201_store):
    return TabularBenchmark.open(nb201_store)


@pytest.fixture(scope="module")
def synthetic(full_store):
    return TabularBenchmark.open(full_store)


def strategy_overhead(bench: TabularBenchmark, name: str, seed: int, protocol: Protocol) -> float:
    """Seconds per evaluation inside the strategy's ask and tell, for one run."""
    traj = run_search(bench, make_strategy(name), protocol=protocol, budget=BUDGET, seed=seed)
    assert len(traj.arch) == BUDGET.evaluations
    return traj.overhead_s / len(traj.arch)


def tpe_overhead(bench: TabularBenchmark, seed: int) -> float:
    """Seconds per evaluation inside optuna's ask and tell: its TPE sampler (defaults, seeded) over the space's
    decisions as categorical parameters, each proposal read from the table at the protocol's search epoch."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    protocol = PROTOCOL.resolved(bench)
    space = bench.space
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    distributions = {
        f"d{i}": optuna.distributions.CategoricalDistribution(list(range(n))) for i, n in enumerate(space.choices)
    }
    spent = 0.0
    for _ in range(BUDGET.evaluations):  # type: ignore[arg-type]
        start = time.perf_counter()
        trial = study.ask(distributions)
        spent += time.perf_counter() - start
        arch = space.validate(tuple(trial.params[f"d{i}"] for i in range(len(space.choices))))
        value = bench.query(arch, epoch=protocol.search_epoch)[protocol.search_metric]
        start = time.perf_counter()
        study.tell(trial, value)
        spent += time.perf_counter() - start
    return spent / BUDGET.evaluations  # type: ignore[operator]


@pytest.mark.parametrize("name", (*MODEL_BASED, "bohb"))
def test_overhead_per_evaluation_beside_optuna_tpe(benchmark, nb201, synthetic, name):
    pytest.importorskip("optuna", reason="TPE is the reference: pip install 'nasbench[bench]'")
    # BOHB is multi-fidelity: the synthetic store has val_acc at epochs 1-9 (rungs 1, 3, 9)
    bench, protocol = (synthetic, Protocol()) if name == "bohb" else (nb201, PROTOCOL)
    strategy_overhead(bench, name, WARM_UP_SEED, protocol)
    tpe_overhead(nb201, WARM_UP_SEED)
    ours: list[float] = []
    tpe: list[float] = []

    def measure() -> None:
        for seed in SEEDS:
            ours.append(strategy_overhead(bench, name, seed, protocol))
            tpe.append(tpe_overhead(nb201, seed))

    benchmark.pedantic(measure, rounds=1, iterations=1)
    ms, ms_tpe = 1000 * statistics.median(ours), 1000 * statistics.median(tpe)
    benchmark.extra_info["overhead_ms_per_evaluation"] = round(ms, 3)
    benchmark.extra_info["tpe_overhead_ms_per_evaluation"] = round(ms_tpe, 3)
    benchmark.extra_info["runs"] = len(SEEDS)
    assert ms <= ms_tpe, f"{name}: {ms:.2f} ms per evaluation, optuna TPE {ms_tpe:.2f} ms in the same runs"


@pytest.mark.slow
def test_full_comparison_nb201_paper_protocol(benchmark, nb201_store, tmp_path):
    from nasbench.analysis.report import write_report

    experiment = Experiment(
        store=str(nb201_store),
        strategies=tuple(StrategySpec.parse(text) for text in (*MODEL_FREE, *MODEL_BASED)),
        seeds=tuple(range(100)),
        protocol=PROTOCOL,
        budget=BUDGET,
    )
    split: dict[str, float] = {}

    def compare() -> None:
        start = time.perf_counter()
        out = run_experiment(experiment, tmp_path / "run")
        split["runs_s"] = time.perf_counter() - start
        write_report(out)
        split["report_s"] = time.perf_counter() - start - split["runs_s"]

    benchmark.pedantic(compare, rounds=1, iterations=1)
    benchmark.extra_info.update({key: round(value, 2) for key, value in split.items()})


def test_bohb_one_run_under_a_time_budget(benchmark, synthetic):
    seeds = iter(range(10**6))

    def one_run():
        return run_search(
            synthetic, make_strategy("bohb"), protocol=Protocol(), budget=Budget(time_s=20_000), seed=next(seeds)
        )

    traj = benchmark.pedantic(one_run, rounds=3, iterations=1)
    benchmark.extra_info["overhead_ms_per_evaluation"] = 1000 * traj.overhead_s / len(traj.arch)
    assert traj.arch
