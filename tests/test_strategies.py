"""Conformance of every registered strategy: determinism, pending proposals, no test metrics, pickling."""

from __future__ import annotations

import functools
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

from nasbench import TabularBenchmark
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.store import read_store, write_store
from nasbench.strategies import Feedback, SearchContext, Trial, UnknownStrategy, _plugins, make_strategy, registry

# optuna_gp costs about a second per GP step: test_conformance runs it with fewer GP steps instead.
STRATEGIES = sorted(n for n in registry() if n != "optuna_gp")
PROTOCOL = Protocol(search_epoch=9, score_epoch=9)


def _run(store, name, seed=3, workers=1, evaluations=60):
    bench = TabularBenchmark.open(store)
    traj = run_search(
        bench, make_strategy(name), protocol=PROTOCOL, budget=Budget(evaluations=evaluations), seed=seed,
        workers=workers,
    )  # fmt: skip
    return traj


@pytest.mark.parametrize("name", STRATEGIES)
def test_same_seed_same_trajectory_and_other_seed_differs(full_store, name):
    a, b, c = _run(full_store, name), _run(full_store, name), _run(full_store, name, seed=4)
    assert a.arch == b.arch and a.score == b.score and a.incumbent_score == b.incumbent_score
    assert a.arch != c.arch


def test_same_seed_same_trajectory_in_a_fresh_process(full_store):
    code = (
        "import json, sys\n"
        "from nasbench import TabularBenchmark\n"
        "from nasbench.runner.simulate import Budget, Protocol, run_search\n"
        "from nasbench.strategies import make_strategy, registry\n"
        "b = TabularBenchmark.open(sys.argv[1])\n"
        "out = {n: run_search(b, make_strategy(n), protocol=Protocol(search_epoch=9, score_epoch=9),\n"
        "                     budget=Budget(evaluations=60), seed=3).arch for n in sys.argv[2:]}\n"
        "print(json.dumps(out))\n"
    )
    fresh = json.loads(subprocess.run([sys.executable, "-c", code, str(full_store), *STRATEGIES], capture_output=True,
                                      text=True, check=True).stdout)  # fmt: skip
    for name in STRATEGIES:
        assert fresh[name] == _run(full_store, name).arch, name


@pytest.mark.parametrize("name", STRATEGIES)
def test_works_with_pending_proposals(full_store, name):
    traj = _run(full_store, name, workers=4, evaluations=80)
    assert len(traj.arch) == 80
    # with 4 workers results arrive out of launch order for cells of different cost: the clock never goes back
    assert all(b >= a for a, b in zip(traj.finished_s, traj.finished_s[1:], strict=False))


@pytest.mark.parametrize("name", STRATEGIES)
def test_never_reads_test_metrics(full_store, tmp_path, name):
    data = read_store(full_store)
    rng = np.random.default_rng(0)
    data.metrics["test_acc"] = rng.permutation(data.metrics["test_acc"].ravel()).reshape(data.metrics["test_acc"].shape)
    shuffled = write_store(tmp_path / "shuffled.h5", data)
    original, permuted = _run(full_store, name), _run(shuffled, name)
    assert original.arch == permuted.arch and original.score == permuted.score
    assert original.incumbent_score != permuted.incumbent_score  # the test scores did change


@pytest.mark.parametrize("name", STRATEGIES)
def test_survives_pickling_mid_run(full_store, name):
    bench = TabularBenchmark.open(full_store)
    strategy = make_strategy(name)
    strategy.setup(SearchContext(bench.space, bench.epochs, search_epoch=9), np.random.default_rng(0))

    def step(s, trial_id):
        proposal = s.ask()
        assert proposal is not None
        epoch = proposal.epoch or 9
        score = bench.query(proposal.arch, epoch=epoch).val_acc
        trial = Trial(trial_id, proposal.arch, epoch, None, proposal.resume_from, float(trial_id))
        s.tell(trial, Feedback(score=score, epoch=epoch, cost_s=1.0, finished_at_s=float(trial_id)))
        return proposal

    for t in range(25):
        step(strategy, t)
    clone = pickle.loads(pickle.dumps(strategy))
    assert [step(strategy, t) for t in range(25, 50)] == [step(clone, t) for t in range(25, 50)]
    assert strategy.recommend() == clone.recommend()


def test_unknown_strategy_lists_known_names():
    with pytest.raises(UnknownStrategy, match="random_search"):
        make_strategy("random_serach")


def test_unknown_hyperparameter_names_the_allowed_ones():
    with pytest.raises(UnknownStrategy, match="population_size"):
        make_strategy("regularized_evolution", populaton_size=5)


def test_entry_point_plugins_are_registered(monkeypatch):
    class EP:
        name, value = "my_plugin", "nasbench.strategies.random_search:RandomSearch"

    def fake_entry_points(group):
        return [EP()] if group == "nasbench.strategies" else []

    monkeypatch.setattr("nasbench.strategies.entry_points", fake_entry_points)
    monkeypatch.setattr("nasbench.strategies._plugins", functools.lru_cache(maxsize=1)(_plugins.__wrapped__))
    assert registry()["my_plugin"] == EP.value
    assert make_strategy("my_plugin").name == "random_search"
