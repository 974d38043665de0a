"""`nasbench suite`: a TOML file of strategies and benchmarks, each an ordinary comparison, ranked across them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from nasbench.analysis.suite_report import write_suite_report
from nasbench.errors import InvalidQuery, NasbenchError
from nasbench.runner.suite import Suite, SuiteError, run_suite
from nasbench.spaces import get_space
from nasbench.store import write_store
from tests.conftest import make_store_data


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("suite")
    size = get_space("nb201").size
    for seed in (1, 2):  # two complete synthetic tables of different noise: two benchmarks
        write_store(folder / f"b{seed}.h5", make_store_data(n_archs=size, seeds=(0, 1), epochs=(1, 3, 9), seed=seed))
    return folder


SUITE = """
strategies = ["random_search", "regularized_evolution", "local_search"]
seeds = 4
budget = 30

[[benchmarks]]
name = "first"
store = "b1.h5"

[[benchmarks]]
name = "second"
store = "b2.h5"
search_epoch = 3
budget = 20
"""


def test_a_suite_runs_each_benchmark_as_a_comparison_and_ranks_across_them(stores, tmp_path):
    (stores / "s.toml").write_text(SUITE)
    suite = Suite.read(stores / "s.toml")
    assert [e.name for e in suite.entries] == ["first", "second"]
    assert suite.entries[1].experiment.budget.evaluations == 20
    out = run_suite(suite, tmp_path / "out", processes=1)
    sa, report = write_suite_report(out, ["first", "second"])
    for name in ("first", "second"):
        assert (out / name / "report.md").is_file()
    # the ranks across benchmarks are the ranks of the per-benchmark means
    for i, name in enumerate(sa.names):
        means = {r.label: r.mean for r in sa.analyses[name].table}
        assert np.allclose(sa.scores[i], [means[label] for label in sa.labels])
    assert sa.avg_ranks.sum() == pytest.approx(6.0)  # 1 + 2 + 3 in each benchmark
    text = report.read_text()
    assert "## Across benchmarks" in text and "### second" in text and "wins/ties/losses" in text
    summary = json.loads((out / "suite.json").read_text())
    assert summary["benchmarks"] == ["first", "second"]
    again = run_suite(suite, tmp_path / "out", processes=1)  # resumes: nothing left to run, same results
    assert write_suite_report(again, ["first", "second"])[0].scores.tolist() == sa.scores.tolist()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("strategies = []\n[[benchmarks]]\nname='a'\nstore='b1.h5'\n", "non-empty list"),
        ("strategies = ['random_search']\n", "at least one"),
        ("strategies = ['random_search']\n[[benchmarks]]\nname='a'\nstore='none.h5'\n", "no store"),
        ("strategies = ['random_search']\n[[benchmarks]]\nname='a b'\nstore='b1.h5'\n", "folder name"),
        ("strategies = ['random_search']\nseed = 3\n[[benchmarks]]\nname='a'\nstore='b1.h5'\n", "unknown keys"),
        (
            "strategies = ['random_search']\n[[benchmarks]]\nname='a'\nstore='b1.h5'\n[[benchmarks]]\nname='a'\n"
            "store='b2.h5'\n",
            "repeat",
        ),
        ("strategies = ['random_serch']\n[[benchmarks]]\nname='a'\nstore='b1.h5'\n", "random_search"),
        ("strategies = [\n", "not valid TOML"),
    ],
)
def test_a_bad_suite_file_is_one_typed_error(stores, text, match):
    (stores / "bad.toml").write_text(text)
    with pytest.raises(NasbenchError, match=match):
        Suite.read(stores / "bad.toml")


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("search_epoch = 7", "epoch"),  # the store holds epochs 1, 3, 9
        ("score_metric = 'test_top5'", "test_top5"),  # a metric the store lacks
        ("objectives = ['val_acc']", "trained metric"),  # objectives beside the search metric are known costs
        ("constraints = ['no_such_cost<=1']", "no_such_cost"),  # a constraint on a figure the store lacks
    ],
)
def test_a_bad_protocol_in_the_last_entry_stops_the_suite_before_anything_runs(stores, tmp_path, line, match):
    (stores / "late.toml").write_text(SUITE + f"\n[[benchmarks]]\nname = 'third'\nstore = 'b1.h5'\n{line}\n")
    with pytest.raises(NasbenchError, match=match):
        run_suite(Suite.read(stores / "late.toml"), tmp_path / "never", processes=1)
    assert not (tmp_path / "never").exists()


def test_a_suite_killed_mid_run_resumes_without_redoing_finished_runs(stores, tmp_path):
    """kill -9 once the first benchmark is reported, then the same command again: the first benchmark's runs
    are kept as they were, the rest finish, each run exactly once."""
    text = SUITE.replace("seeds = 4", "seeds = 12").replace("budget = 20", "budget = 150")
    (stores / "kill.toml").write_text(text)
    out = tmp_path / "kill"
    command = [sys.executable, "-m", "nasbench", "suite", str(stores / "kill.toml"), "--out", str(out),
               "--processes", "1", "-q"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (out / "first" / "report.md").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    first = (out / "first" / "runs.jsonl").read_bytes()
    assert subprocess.run(command, capture_output=True).returncode == 0
    assert (out / "first" / "runs.jsonl").read_bytes() == first
    for name in ("first", "second"):
        runs = [json.loads(line) for line in (out / name / "runs.jsonl").read_text().splitlines()]
        keys = [(r["strategy"], r["seed"]) for r in runs]
        assert len(keys) == len(set(keys)) == 3 * 12, name
    assert (out / "report.md").is_file()


def test_the_cli_runs_a_suite(stores, tmp_path):
    small = "strategies = ['random_search', 'local_search']\nseeds = 2\nbudget = 10\n"
    (stores / "small.toml").write_text(small + "[[benchmarks]]\nname = 'a'\nstore = 'b1.h5'\n")
    result = subprocess.run(
        [sys.executable, "-m", "nasbench", "suite", str(stores / "small.toml"), "--out", str(tmp_path / "cli"),
         "--processes", "1", "-q"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "average rank" in result.stdout and (tmp_path / "cli" / "report.md").is_file()
    bad = subprocess.run([sys.executable, "-m", "nasbench", "suite", str(stores / "missing.toml"), "--out", "x"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode != 0 and "no suite file" in bad.stderr and "Traceback" not in bad.stderr


def test_suite_error_is_an_invalid_query():
    assert issubclass(SuiteError, InvalidQuery)
