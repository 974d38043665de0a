"""`nasbench compare` as a user runs it: results written, mistakes reported in one line with exit code 2."""

from __future__ import annotations

import json

import pytest

from nasbench.cli import main
from nasbench.runner.experiment import read_runs


def test_compare_writes_every_run(full_store, tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(["compare", str(full_store), "--out", str(out), "--seeds", "3", "--budget", "20",
                 "--strategies", "random_search,regularized_evolution:population_size=5", "--processes", "1",
                 "--no-report"])  # fmt: skip
    assert code == 0
    config = json.loads((out / "experiment.json").read_text())
    assert [s["label"] for s in config["strategies"]] == ["random_search", "regularized_evolution:population_size=5"]
    assert config["protocol"]["noise"] == "sample"  # the store has named seeds
    assert len(read_runs(out)) == 6


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--strategies", "random_serach"], "known: random_search"),
        (["--search-epoch", "200"], "search_epoch 200"),
        (["--score-metric", "test_accuracy"], "no metric 'test_accuracy'"),
        (["--seeds", "0"], "--seeds must be >= 1"),
    ],
)
def test_user_mistakes_are_one_line_errors(full_store, tmp_path, capsys, extra, message):
    code = main(["compare", str(full_store), "--out", str(tmp_path / "x"), "--no-report", *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
