"""Your own strategy in a few lines: classes, instances and import paths, in Python and on the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from nasbench.benchmark import TabularBenchmark
from nasbench.cli import main
from nasbench.runner.experiment import Experiment, StrategySpec, read_runs, run_experiment
from nasbench.runner.simulate import Budget, Protocol, run_search
from nasbench.strategies import Proposal, Strategy, UnknownStrategy


class Greedy(Strategy):
    """Mutates the best cell so far (a user's strategy, neither registered nor packaged)."""

    name = "greedy"

    def __init__(self, num_init: int = 3) -> None:
        self.num_init = num_init

    def _setup(self) -> None:
        self.told = 0

    def ask(self) -> Proposal:
        if self.best_ is None or self.told < self.num_init:
            return Proposal(self.space.sample(self.rng))
        return Proposal(self.space.mutate(self.best_[2], self.rng))

    def tell(self, trial, feedback) -> None:
        super().tell(trial, feedback)
        self.told += 1


PATH = f"{Greedy.__module__}:Greedy"  # as pytest imported this file


def test_experiment_takes_classes_instances_and_import_paths(full_store, tmp_path):
    bench = TabularBenchmark.open(full_store)
    experiment = Experiment(bench, [Greedy, Greedy(num_init=5), "random_search", f"{PATH}:num_init=2"], range(3),
                            budget=Budget(evaluations=10))  # fmt: skip
    assert [s.label for s in experiment.strategies] == [PATH, f"{PATH}:num_init=5", "random_search",
                                                        f"{PATH}:num_init=2"]  # fmt: skip
    out = run_experiment(experiment, tmp_path / "cmp", processes=2)
    assert len(read_runs(out)) == 12


def test_run_search_takes_a_class_an_instance_or_a_spec(full_store):
    bench = TabularBenchmark.open(full_store)
    runs = [run_search(bench, s, protocol=Protocol(), budget=Budget(evaluations=8), seed=4)
            for s in (Greedy, Greedy(), PATH)]  # fmt: skip
    assert runs[0].arch == runs[1].arch == runs[2].arch


def test_the_cli_takes_an_import_path(full_store, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(full_store), "--out", str(out), "--strategies", f"random_search,{PATH}:num_init=4",
                 "--seeds", "2", "--budget", "10", "--processes", "2", "--no-report"]) == 0  # fmt: skip
    assert {t.strategy for t in read_runs(out)} == {"random_search", f"{PATH}:num_init=4"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nomodule_xyz:Thing", "cannot import strategy 'nomodule_xyz:Thing': ModuleNotFoundError"),
        (f"{Greedy.__module__}:Nothing", "has no 'Nothing'"),
        (f"{Greedy.__module__}:PATH", "is not a strategy"),
        (f"{PATH}:num_init=abc", "num_init='abc' is not allowed"),
    ],
)
def test_an_import_path_that_does_not_lead_to_a_strategy_is_a_clear_error(text, message):
    with pytest.raises((UnknownStrategy, ValueError), match=message):
        StrategySpec.parse(text)


SCRIPT = """
from nasbench.benchmark import TabularBenchmark
from nasbench.runner.experiment import Experiment, run_experiment, read_runs
from nasbench.runner.simulate import Budget
from nasbench.strategies import Proposal, Strategy

class Mine(Strategy):
    name = "mine"
    def _setup(self):
        pass
    def ask(self):
        return Proposal(self.space.sample(self.rng))

out = run_experiment(Experiment({store!r}, [{strategies}], range(2), budget=Budget(evaluations=5)), {out!r},
                     processes=2)
print("runs", len(read_runs(out)))
"""


def _script(tmp_path, store, strategies):
    path = tmp_path / "script.py"  # no `if __name__ == "__main__":` guard, as scripts are written
    path.write_text(textwrap.dedent(SCRIPT.format(store=str(store), strategies=strategies, out=str(tmp_path / "o"))))
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_a_script_without_a_main_guard_runs_its_own_strategy_in_process(full_store, tmp_path):
    result = _script(tmp_path, full_store, "Mine")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "runs 2"


def test_a_script_without_a_main_guard_is_told_how_to_use_processes(full_store, tmp_path):
    result = _script(tmp_path, full_store, "'random_search', 'regularized_evolution'")
    assert result.returncode != 0
    assert 'if __name__ == "__main__":' in result.stderr and "processes=1" in result.stderr


def test_tables_and_runs_as_data_frames_with_official_strings(full_store, tmp_path):
    from nasbench.runner.experiment import runs_frame

    bench = TabularBenchmark.open(full_store)
    frame = bench.to_frame(epoch=9)
    assert len(frame) == len(bench) and frame["arch"][0] == bench.space.to_str(bench.archs()[0])
    assert frame["val_acc"].to_numpy() == pytest.approx(bench.table("val_acc", epoch=9))
    out = run_experiment(Experiment(bench, ["random_search", Greedy], range(2), budget=Budget(evaluations=5)),
                         tmp_path / "cmp", processes=1)  # fmt: skip
    runs = runs_frame(out)
    assert len(runs) == 20 and set(runs["strategy"]) == {"random_search", PATH}
    assert all(bench.space.validate(a) for a in runs["arch"])  # official strings, read back by the space


def test_python_and_cli_agree_on_a_partial_store(small_store, tmp_path):
    """Experiment, like `compare --surrogate auto`, backs a store that does not cover the space by a surrogate."""
    out = run_experiment(Experiment(small_store, ["random_search"], range(2), budget=Budget(evaluations=30)),
                         tmp_path / "py", processes=1)  # fmt: skip
    assert json.loads((out / "experiment.json").read_text())["benchmark"]["kind"] == "hybrid"
    assert main(["compare", str(small_store), "--out", str(tmp_path / "cli"), "--strategies", "random_search",
                 "--seeds", "2", "--budget", "30", "--processes", "1", "--no-report"]) == 0  # fmt: skip
    assert [t.arch for t in read_runs(out)] == [t.arch for t in read_runs(tmp_path / "cli")]
