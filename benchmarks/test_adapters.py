"""The adapters' own cost beside the native libraries', on the NB201 CIFAR-10 reference table (skips when absent).

Native: the library's own ask/tell loop, each trial answered straight from the table (val_acc@12), 150 trials.
Adapter: the same sampler or searcher as a nasbench strategy under the runner. ``extra_info`` holds each one's
overhead per evaluation, measured in the same run: the adapter adds the runner's bookkeeping and, for syne-tune,
swapping its global generator states in and out (what makes its runs reproducible).
"""

from __future__ import annotations

import time

import pytest

from nasbench import TabularBenchmark
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.strategies import make_strategy

optuna = pytest.importorskip("optuna", reason="the adapters are an optional extra: pip install 'nasbench[optuna]'")
PROTOCOL = Protocol(search_epoch=12, score_epoch=200, noise="mean")
SAMPLERS = {"optuna_tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
            "optuna_random": lambda seed: optuna.samplers.RandomSampler(seed=seed)}  # fmt: skip


@pytest.fixture(scope="module")
def bench(nb201_store):
    return TabularBenchmark.open(nb201_store)


def _native(bench, make_sampler, seed: int) -> float:
    """Seconds optuna itself spends per trial (ask + tell), the table lookups excluded."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dists = {f"d{i}": optuna.distributions.CategoricalDistribution(list(range(5))) for i in range(6)}
    study = optuna.create_study(direction="maximize", sampler=make_sampler(seed))
    spent = 0.0
    for _ in range(150):
        start = time.perf_counter()
        trial = study.ask(dists)
        spent += time.perf_counter() - start
        value = bench.query(tuple(trial.params[f"d{i}"] for i in range(6)), epoch=12).val_acc
        start = time.perf_counter()
        study.tell(trial, value)
        spent += time.perf_counter() - start
    return spent / 150


SYNE_TUNE = {"synetune_random": "RandomSearch", "synetune_rea": "REA"}


def _native_syne_tune(bench, searcher: str, seed: int) -> float:
    import datetime

    from syne_tune.backend.trial_status import Trial
    from syne_tune.config_space import choice
    from syne_tune.optimizer import baselines

    space = {f"d{i}": choice(list(range(5))) for i in range(6)}
    kwargs = {"metrics": ["y"]} if searcher == "RandomSearch" else {"metric": "y"}
    scheduler = getattr(baselines, searcher)(space, do_minimize=False, random_seed=seed, **kwargs)
    spent = 0.0
    for trial_id in range(150):
        start = time.perf_counter()
        trial = Trial(trial_id, scheduler.suggest().config, datetime.datetime(2020, 1, 1))
        scheduler.on_trial_add(trial)
        spent += time.perf_counter() - start
        value = bench.query(tuple(int(trial.config[f"d{i}"]) for i in range(6)), epoch=12).val_acc
        start = time.perf_counter()
        scheduler.on_trial_complete(trial, {"y": value})
        spent += time.perf_counter() - start
    return spent / 150


NATIVE = {
    **{name: lambda bench, seed, make=make: _native(bench, make, seed) for name, make in SAMPLERS.items()},
    **{name: lambda bench, seed, s=searcher: _native_syne_tune(bench, s, seed) for name, searcher in SYNE_TUNE.items()},
}


@pytest.mark.parametrize("name", list(NATIVE))
def test_adapter_overhead_beside_the_native_library(benchmark, bench, name):
    if name.startswith("synetune"):
        pytest.importorskip("syne_tune", reason="an optional extra: pip install 'nasbench[synetune]'")
    seeds = iter(range(10**6))
    native, adapter = [], []

    def one_of_each():
        seed = next(seeds)
        native.append(NATIVE[name](bench, seed))
        traj = run_search(bench, make_strategy(name), protocol=PROTOCOL, budget=Budget(evaluations=150), seed=seed)
        adapter.append(traj.overhead_s / len(traj.arch))

    benchmark.pedantic(one_of_each, rounds=3, iterations=1)
    benchmark.extra_info["native_ms_per_evaluation"] = 1000 * sum(native) / len(native)
    benchmark.extra_info["adapter_ms_per_evaluation"] = 1000 * sum(adapter) / len(adapter)
    print(f"\n{name}: native {1000 * sum(native) / len(native):.2f} ms/eval, adapter "
          f"{1000 * sum(adapter) / len(adapter):.2f} ms/eval")  # fmt: skip
