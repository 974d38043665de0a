"""Training throughput of the default recipe (fmnist-fast) on one CPU core: trainings per CPU-minute.

A "training" is one (arch, seed) under the recipe, evaluation of val and test after every epoch included, i.e.
exactly what ``nasbench build`` journals. The sample is the first cells of the stratified build order, so its
mix of convolutions matches the shipped store's. Skips when Fashion-MNIST is not installed.
"""

from __future__ import annotations

import time

import pytest

torch = pytest.importorskip("torch")

from nasbench.errors import DatasetError  # noqa: E402
from nasbench.train.data import load_splits  # noqa: E402
from nasbench.train.recipe import DIGITS_TINY, FMNIST_FAST  # noqa: E402
from nasbench.train.selection import select_archs  # noqa: E402
from nasbench.train.trainer import train  # noqa: E402

ARCHS = select_archs("stratified", n=4, seed=0)


def _splits(name, recipe):
    try:
        return load_splits(
            name,
            resolution=recipe.resolution,
            train_size=recipe.train_size,
            val_size=recipe.val_size,
            test_size=recipe.test_size,
        )
    except DatasetError as exc:
        pytest.skip(str(exc))


def _throughput(benchmark, name, recipe):
    splits = _splits(name, recipe)
    cpu = {"s": 0.0, "n": 0}

    def run():
        start = time.process_time()
        for arch in ARCHS:
            train(arch, recipe, splits, seed=0, threads=1)
        cpu["s"] += time.process_time() - start
        cpu["n"] += len(ARCHS)

    benchmark.pedantic(run, rounds=1, iterations=1)
    per_training = cpu["s"] / cpu["n"]
    benchmark.extra_info["cpu_s_per_training"] = round(per_training, 2)
    benchmark.extra_info["trainings_per_cpu_minute"] = round(60 / per_training, 2)
    return per_training


@pytest.mark.slow
def test_default_recipe_trainings_per_cpu_minute(benchmark):
    per_training = _throughput(benchmark, "fashion_mnist", FMNIST_FAST)
    # the recipe was chosen so that ~1000 trainings fit in ~1.5 h on 2 cores: about 10 CPU-s each
    assert per_training < 30


def test_tiny_digits_recipe_trainings_per_cpu_minute(benchmark):
    per_training = _throughput(benchmark, "digits", DIGITS_TINY.replace(train_size=400))
    assert per_training < 5


def test_gpu_throughput_script_runs_on_cpu(capsys):
    """Smoke test of benchmarks/gpu_train_throughput.py with its tiny CPU default (one in-process worker)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("gpu_train_throughput.py")
    spec = importlib.util.spec_from_file_location("gpu_train_throughput", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--workers", "1", "--trainings", "2"])
    import json

    row = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert row["trainings"] == 2 and row["trainings_per_minute"] > 0
