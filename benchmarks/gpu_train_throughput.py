"""Training throughput with several concurrent workers on one device: trainings per minute under a recipe.

Runs the production path (``nasbench.train.builder.build`` into a temporary store) with W worker processes that
share the device, for W in --workers, and prints one JSON line per W. On a GPU host::

    python benchmarks/gpu_train_throughput.py --device cuda --dataset fashion_mnist --recipe fmnist-fast \
        --workers 1,4,8,16 --trainings 64

The tiny default (digits, digits-tiny, cpu, 1 and 2 workers, 4 trainings) smoke-tests the script anywhere.
The goal stated for a GPU: the whole space (15,625 cells x 3 seeds) of the default recipe in well under an hour,
i.e. more than 781 trainings per minute.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from nasbench.train.builder import BuildConfig, build
from nasbench.train.recipe import get_recipe
from nasbench.train.selection import select_archs

SPACE_TRAININGS = 15_625 * 3


def measure(dataset: str, recipe_name: str, device: str, workers: int, trainings: int, threads: int) -> dict:
    recipe = get_recipe(recipe_name)
    archs = tuple(select_archs("stratified", n=trainings, seed=0))
    with tempfile.TemporaryDirectory() as tmp:
        config = BuildConfig(
            out=Path(tmp) / "throughput.h5",
            dataset=dataset,
            recipe=recipe,
            archs=archs,
            seeds=(0,),
            workers=workers,
            device=device,
            threads_per_worker=threads,
        )
        start = time.perf_counter()
        summary = build(config)
        elapsed = time.perf_counter() - start
    per_minute = summary.trained_now / elapsed * 60
    return {
        "device": device,
        "dataset": dataset,
        "recipe": recipe_name,
        "workers": workers,
        "trainings": summary.trained_now,
        "elapsed_s": round(elapsed, 2),
        "trainings_per_minute": round(per_minute, 2),
        "hours_for_whole_space_x3_seeds": round(SPACE_TRAININGS / per_minute / 60, 2),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--dataset", default="digits")
    p.add_argument("--recipe", default="digits-tiny")
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts to try")
    p.add_argument("--trainings", type=int, default=4, help="trainings per measurement")
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    args = p.parse_args(argv)
    for w in (int(x) for x in args.workers.split(",")):
        print(json.dumps(measure(args.dataset, args.recipe, args.device, w, args.trainings, args.threads)), flush=True)


if __name__ == "__main__":
    main()
