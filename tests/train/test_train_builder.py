"""The builder: stores what it trained, resumes after kill -9 with every result exactly once, honours budgets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

from nasbench.benchmark import TabularBenchmark
from nasbench.errors import NasbenchError, RecipeError, StoreError
from nasbench.spaces.nb201 import NB201Space
from nasbench.store import read_store
from nasbench.train.builder import BuildConfig, Journal, build
from nasbench.train.recipe import DIGITS_TINY
from nasbench.train.selection import canonical_reps, select_archs, stratum

TINY = DIGITS_TINY.replace(epochs=2, train_size=200, channels=2)


def _config(tmp_path: Path, **kw) -> BuildConfig:
    base = dict(
        out=tmp_path / "b.h5",
        dataset="digits",
        recipe=TINY,
        archs=tuple(select_archs("stratified", n=3, seed=0)),
        seeds=(0, 1),
    )
    base.update(kw)
    return BuildConfig(**base)


def test_build_writes_a_store_that_answers_queries_and_a_rerun_trains_nothing(tmp_path):
    config = _config(tmp_path)
    seen = []
    summary = build(config, on_result=lambda done, total: seen.append((done, total)))
    assert summary.complete and summary.trained_now == 6 and seen[-1] == (6, 6)
    data = read_store(config.out)
    assert data.seeds == (0, 1) and data.epochs == (1, 2) and data.iso_shared
    assert len(data.archs) == 3 and np.isfinite(data.metrics["val_acc"]).all()
    assert data.protocol["recipe"]["train_size"] == 200 and data.protocol["data"]["dataset"] == "digits"
    assert set(data.static) == {"params_m", "flops_m"}
    journal = Journal(config.work_dir / "journal.jsonl")
    arch = config.archs[0]
    i = [tuple(a) for a in data.archs.tolist()].index(arch)
    assert data.metrics["val_acc"][i, 1].tolist() == pytest.approx(journal.entries[(arch, 1)]["curves"]["val_acc"])
    bench = TabularBenchmark.open(config.out)
    assert 0 <= bench.query(arch, epoch=2, seed=0).val_acc <= 1
    again = build(config)
    assert again.trained_now == 0 and again.complete


def test_rerun_with_another_recipe_is_refused(tmp_path):
    build(_config(tmp_path, archs=tuple(select_archs("stratified", n=1)), seeds=(0,)))
    with pytest.raises(RecipeError, match="another build"):
        build(_config(tmp_path, recipe=TINY.replace(lr=0.2)))


def test_time_budget_stops_early_and_only_complete_archs_are_stored(tmp_path):
    summary = build(_config(tmp_path, time_budget_s=0))
    assert summary.trained_now == 0 and summary.out is None and not (tmp_path / "b.h5").exists()
    # journal one seed of one arch by hand (as a budget cut would leave it): that arch is not stored
    config = _config(tmp_path, archs=tuple(select_archs("stratified", n=2)), seeds=(0,))
    build(config)
    wide = _config(tmp_path, archs=config.archs, seeds=(0, 1), time_budget_s=0)
    summary = build(wide)
    assert summary.out is None and summary.stored_archs == 0 and not summary.complete


def test_existing_store_from_elsewhere_is_not_overwritten(tmp_path):
    (tmp_path / "b.h5").write_text("someone else's file")
    with pytest.raises(StoreError, match="already exists"):
        build(_config(tmp_path))


def test_torn_last_journal_line_is_dropped_and_duplicates_count_once(tmp_path):
    path = tmp_path / "journal.jsonl"
    entry = {"arch": [1, 2, 3, 4, 0, 1], "seed": 0, "curves": {}}
    path.write_text(json.dumps(entry) + "\n" + json.dumps(entry | {"pid": 2}) + "\n" + '{"arch": [1, 2')
    journal = Journal(path)
    assert list(journal.entries) == [((1, 2, 3, 4, 0, 1), 0)] and "pid" not in journal.entries[((1, 2, 3, 4, 0, 1), 0)]
    assert path.read_text().endswith("}\n")  # torn tail cut off, so the next append starts a fresh line


def test_selection_prefixes_are_balanced_samples_of_the_isomorphism_classes():
    reps = canonical_reps()
    space = NB201Space()
    assert len(reps) == 6466 and all(space.canonical(tuple(r)) == tuple(r) for r in reps[:50].tolist())
    order = np.array(select_archs("stratified", seed=1))
    assert len({tuple(r) for r in order.tolist()}) == 6466
    full = np.bincount(stratum(reps), minlength=49) / len(reps)
    for m in (30, 300):
        counts = np.bincount(stratum(order[:m]), minlength=49)
        assert np.abs(counts - full * m).max() < 2  # a random (unstratified) sample is off by ~sqrt(m * p)
    assert select_archs("stratified", n=5, seed=1) == [tuple(r) for r in order[:5].tolist()]
    assert select_archs("stratified", n=5, seed=2) != select_archs("stratified", n=5, seed=1)
    assert len(select_archs("all")) == 15625
    with pytest.raises(NasbenchError, match="unknown selection"):
        select_archs("best")


@pytest.mark.slow
def test_kill_9_mid_build_then_rerun_finishes_with_every_result_exactly_once(tmp_path):
    out = tmp_path / "k.h5"
    cmd = [
        sys.executable, "-m", "nasbench", "build", "--out", str(out), "--dataset", "digits",
        "--recipe", "digits-tiny", "--train-size", "200", "--channels", "2", "--epochs", "1",
        "-n", "8", "--seeds", "2", "--no-progress",
    ]  # fmt: skip
    journal = out.with_name("k.h5.work") / "journal.jsonl"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_text().count("\n") >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the build ended before it could be killed: {proc.stderr.read()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = journal.read_text().count("\n")
    assert 3 <= done_before < 16 and not out.exists()
    with open(journal, "a") as f:  # as if the kill had hit in the middle of writing a line
        f.write('{"arch": [0, 1, 2, 3, 4')
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    keys = [(tuple(e["arch"]), e["seed"]) for e in lines]
    assert len(keys) == len(set(keys)) == 16
    data = read_store(out)
    assert data.archs.shape == (8, 6) and np.isfinite(data.metrics["val_acc"]).all()
    assert f"trained {16 - done_before} now" in rerun.stdout


def test_ray_backend_without_ray_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(NasbenchError, match="pip install"):
        build(_config(tmp_path, backend="ray"))


@pytest.mark.ray
@pytest.mark.slow
def test_ray_backend_gives_the_same_results_as_local_workers(tmp_path):
    ray = pytest.importorskip("ray")
    local = build(_config(tmp_path / "local", out=tmp_path / "local" / "b.h5"))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = build(_config(tmp_path / "ray", out=tmp_path / "ray" / "b.h5", backend="ray"))
    finally:
        ray.shutdown()
    assert local.complete and remote.complete and remote.trained_now == 6
    a, b = read_store(local.out), read_store(remote.out)
    assert np.array_equal(a.archs, b.archs)
    assert np.array_equal(a.metrics["val_acc"], b.metrics["val_acc"])  # CPU training is bit-reproducible


def test_a_rerun_may_add_architectures_or_seeds_but_never_drop_them(tmp_path):
    build(_config(tmp_path, archs=tuple(select_archs("stratified", n=2, seed=0)), seeds=(0,)))
    with pytest.raises(RecipeError, match="only add architectures or seeds"):
        build(_config(tmp_path, archs=tuple(select_archs("stratified", n=1, seed=0)), seeds=(0,)))
    with pytest.raises(RecipeError, match="only add architectures or seeds"):
        build(_config(tmp_path, archs=tuple(select_archs("stratified", n=2, seed=1)), seeds=(0,)))
    summary = build(_config(tmp_path, archs=tuple(select_archs("stratified", n=3, seed=0)), seeds=(0,)))
    assert summary.stored_archs == 3 and summary.trained_now == 1
    summary = build(_config(tmp_path, archs=tuple(select_archs("stratified", n=1, seed=0)), seeds=(0,), overwrite=True))
    assert summary.stored_archs == 1 and summary.trained_now == 1  # --overwrite starts over
