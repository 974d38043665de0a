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
        (["--seeds", "0"], "--seeds must be in 1..100,000"),
    ],
)
def test_user_mistakes_are_one_line_errors(full_store, tmp_path, capsys, extra, message):
    code = main(["compare", str(full_store), "--out", str(tmp_path / "x"), "--no-report", *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_store_that_does_not_cover_the_space_is_backed_by_a_surrogate(tmp_path, capsys):
    from conftest import make_store_data

    from nasbench.store import write_store

    store = write_store(tmp_path / "part.h5", make_store_data(n_archs=300, epochs=(1, 2, 3)))
    out = tmp_path / "cmp"
    code = main(["compare", str(store), "--out", str(out), "--seeds", "2", "--budget", "15",
                 "--strategies", "random_search,hyperband:min_epoch=1:max_epoch=3", "--processes", "1",
                 "--no-report"])  # fmt: skip
    assert code == 0
    assert "answered by a surrogate" in capsys.readouterr().out
    config = json.loads((out / "experiment.json").read_text())
    assert config["benchmark"]["kind"] == "hybrid"
    assert (out / "surrogate" / "benchmark.json").is_file()
    runs = read_runs(out)
    assert len(runs) == 4 and all(len(t.arch) == 15 for t in runs)
    # resuming reuses the saved surrogate and redoes nothing
    assert main(["compare", str(store), "--out", str(out), "--seeds", "2", "--budget", "15",
                 "--strategies", "random_search,hyperband:min_epoch=1:max_epoch=3", "--processes", "1",
                 "--no-report"]) == 0  # fmt: skip
    assert len(read_runs(out)) == 4
    # forcing the table alone fails clearly on the first untrained cell
    code = main(["compare", str(store), "--out", str(tmp_path / "t"), "--seeds", "1", "--budget", "15",
                 "--surrogate", "never", "--processes", "1", "--no-report"])  # fmt: skip
    assert code == 2 and "is not in this store" in capsys.readouterr().err
