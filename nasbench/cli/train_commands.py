"""``nasbench build`` (train architectures into a store) and ``nasbench validate`` (retrain finalists).

torch is imported only when one of these commands runs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from nasbench.cli.progress import Progress

RECIPE_OVERRIDES = (
    ("epochs", int),
    ("batch_size", int),
    ("lr", float),
    ("weight_decay", float),
    ("augmentation", str),
    ("channels", int),
    ("cells_per_stage", int),
    ("resolution", int),
    ("train_size", int),
    ("val_size", int),
    ("test_size", int),
    ("split_seed", int),
)


def _add_recipe_args(p: argparse.ArgumentParser, default: str | None) -> None:
    p.add_argument("--recipe", default=default, help=f"recipe preset or JSON file (default: {default})")
    for name, kind in RECIPE_OVERRIDES:
        p.add_argument(f"--{name.replace('_', '-')}", type=kind, dest=f"r_{name}", help=f"override recipe {name}")


def _recipe_from_args(args: argparse.Namespace, fallback: Any = None) -> Any:
    from nasbench.train.recipe import Recipe, get_recipe

    if args.recipe is None:
        recipe = fallback
    elif args.recipe.endswith(".json"):
        recipe = Recipe.from_dict(json.loads(Path(args.recipe).read_text()))
    else:
        recipe = get_recipe(args.recipe)
    changes = {n: getattr(args, f"r_{n}") for n, _ in RECIPE_OVERRIDES if getattr(args, f"r_{n}") is not None}
    return recipe.replace(**changes) if changes else recipe


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "build",
        help="train architectures x seeds into a new benchmark store",
        description="Train NB201 architectures x seeds under a recipe and write a store. Resumable: rerun the "
        "same command after an interruption (kill -9 included) and it trains only what is missing; results "
        "are journaled in OUT.work/ beside the store.",
    )
    p.add_argument("--out", required=True, help="store to write (.h5)")
    p.add_argument(
        "--dataset",
        default="fashion_mnist",
        help="fashion_mnist (default), cifar10, digits, or dna_splice (sequences: use --recipe dna-fast)",
    )
    p.add_argument("--data-dir", help="folder with the dataset files (default: env var / standard places)")
    p.add_argument("--download", action="store_true", help="download Fashion-MNIST if absent (checksummed)")
    _add_recipe_args(p, "fmnist-fast")
    p.add_argument(
        "--archs",
        default="stratified",
        help="all (15,625 cells), iso (6,466 isomorphism-class representatives) or stratified (representatives "
        "in a stratified random order whose every prefix is a balanced sample; default)",
    )
    p.add_argument("-n", "--num-archs", type=int, help="train only the first N of the selection")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the stratified order (default 0)")
    p.add_argument("--seeds", type=int, default=2, help="training seeds per architecture (default 2)")
    p.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed .. first-seed+N-1")
    p.add_argument("--processes", type=int, default=1, help="real processes training in parallel (default 1)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker (default 1)")
    p.add_argument("--backend", choices=("local", "ray"), default="local", help="local processes or a Ray cluster")
    p.add_argument("--ray-address", help="address of a running Ray cluster (default: start a local one)")
    p.add_argument("--gpus-per-task", type=float, default=1.0, help="GPU share per training on Ray (e.g. 0.25)")
    p.add_argument(
        "--device",
        default="auto",
        help="auto (default: cuda when there is one; on Ray, when the cluster has GPUs, and then each task asks "
        "for --gpus-per-task of a GPU), cpu or cuda",
    )
    p.add_argument("--time-budget", type=float, help="stop starting trainings after this many seconds")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (as -q)")
    p.set_defaults(run=run_build)

    v = subparsers.add_parser(
        "validate",
        help="train finalists for real and compare with the benchmark",
        description="Train architectures (given, or the top-k final incumbents of a comparison) with several "
        "seeds under the store's recipe and report measured vs stored (or, for cells the table lacks, predicted) "
        "accuracy: mean ± std, whether the "
        "benchmark lies within the seed noise, and whether the ranking holds (Kendall tau). Writes "
        "report.json, report.md and validation.png into --out.",
    )
    v.add_argument("store", help="the benchmark store (.h5) whose values are checked")
    v.add_argument("--arch", action="append", default=[], help="architecture to validate (repeat)")
    v.add_argument("--from-comparison", help="results directory of `nasbench compare`")
    v.add_argument("--top-k", type=int, default=5, help="finalists taken from the comparison (default 5)")
    v.add_argument("--seeds", type=int, default=3, help="training seeds per finalist (default 3)")
    v.add_argument(
        "--first-seed",
        type=int,
        default=1000,
        help="seeds are first-seed .. first-seed+N-1 (default 1000: unlike the store's own)",
    )
    v.add_argument("--metric", default="test_acc", help="metric to compare (default test_acc)")
    v.add_argument("--epoch", type=int, help="epoch to compare (default: the recipe's last)")
    v.add_argument("--out", required=True, help="report directory")
    v.add_argument("--data-dir", help="folder with the dataset files")
    v.add_argument("--device", default="cpu", help="cpu (default), cuda or auto")
    v.add_argument("--processes", type=int, default=1, help="real processes training in parallel (default 1)")
    _add_recipe_args(v, None)
    v.add_argument(
        "--surrogate",
        help="saved surrogate folder predicting the cells the table lacks (default with --from-comparison: the "
        "comparison's DIR/surrogate when it has one)",
    )
    v.add_argument("--allow-recipe-mismatch", action="store_true", help="compare even under another recipe")
    v.add_argument("--no-plot", action="store_true", help="do not draw validation.png")
    v.set_defaults(run=run_validate)


def run_build(args: argparse.Namespace) -> int:
    from nasbench.train.builder import BuildConfig, build
    from nasbench.train.selection import select_archs

    recipe = _recipe_from_args(args)
    archs = select_archs(args.archs, n=args.num_archs, seed=args.sample_seed)
    selection = {"kind": args.archs, "n": args.num_archs, "sample_seed": args.sample_seed}
    config = BuildConfig(
        out=Path(args.out),
        dataset=args.dataset,
        recipe=recipe,
        archs=tuple(archs),
        seeds=_seed_range(args.seeds, args.first_seed),
        data_dir=args.data_dir,
        download=args.download,
        selection=selection,
        workers=args.processes,
        backend=args.backend,
        device=args.device,
        threads_per_worker=args.threads,
        time_budget_s=args.time_budget,
        ray_address=args.ray_address,
        gpus_per_task=args.gpus_per_task,
        overwrite=args.overwrite,
    )
    with Progress("build", "training", quiet=args.no_progress) as bar:
        summary = build(config, on_result=bar.update)
    state = "complete" if summary.complete else "partial (rerun the same command to continue)"
    where = summary.out if summary.out is not None else "no store written yet"
    print(
        f"{where}: {summary.stored_archs}/{summary.planned_archs} architectures x {len(config.seeds)} seeds, "
        f"{state}; trained {summary.trained_now} now in {summary.elapsed_s:.0f} s; journal in {config.work_dir}"
    )
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from nasbench.cli.store_commands import parse_arch
    from nasbench.errors import NasbenchError
    from nasbench.spaces.nb201 import NB201Space
    from nasbench.store import read_store
    from nasbench.train.validate import finalists_from_comparison, store_recipe

    space = NB201Space()
    archs = [parse_arch(space, a) for a in args.arch]
    if args.from_comparison:
        archs += finalists_from_comparison(args.from_comparison, args.top_k)
    if not archs:
        raise NasbenchError("give architectures with --arch or a comparison with --from-comparison")
    recipe = None
    if args.recipe is not None or any(getattr(args, f"r_{n}") is not None for n, _ in RECIPE_OVERRIDES):
        recipe = _recipe_from_args(args, fallback=store_recipe(read_store(args.store).protocol))
        if recipe is None:
            raise NasbenchError("the store records no recipe to override; name one with --recipe")
    surrogate = args.surrogate
    if surrogate is None and args.from_comparison:
        from nasbench.runner.experiment import saved_surrogate

        surrogate = saved_surrogate(args.from_comparison)
    with Progress("validate", "training") as bar:
        report = _validate(args, archs, recipe, surrogate, bar.update)
    print((Path(args.out) / "report.md").read_text())
    return 0 if report["finalists"] else 1


def _validate(args: argparse.Namespace, archs: Any, recipe: Any, surrogate: Any, progress: Any) -> dict[str, Any]:
    from nasbench.train.validate import validate

    return validate(
        args.store,
        archs,
        args.out,
        seeds=_seed_range(args.seeds, args.first_seed),
        metric=args.metric,
        epoch=args.epoch,
        recipe=recipe,
        allow_recipe_mismatch=args.allow_recipe_mismatch,
        data_dir=args.data_dir,
        device=args.device,
        workers=args.processes,
        plot=not args.no_plot,
        surrogate=surrogate,
        progress=progress,
    )


def _seed_range(count: int, first: int) -> tuple[int, ...]:
    """``--seeds N --first-seed F``: the seeds F .. F+N-1, as in ``compare``."""
    from nasbench.errors import InvalidQuery

    if count < 1 or first < 0:
        raise InvalidQuery(f"--seeds must be >= 1 and --first-seed >= 0, got {count} and {first}")
    return tuple(range(first, first + count))
