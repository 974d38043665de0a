"""Measure a cheap recipe against a longer one on a stratified sample of NB201 cells (Fashion-MNIST).

    python benchmarks/recipe_study.py --archs 20 --seeds 2 --out /tmp/study.jsonl   # trains (minutes)
    python benchmarks/recipe_study.py --out /tmp/study.jsonl --report                # summarizes what is there

Reports: spread of final val/test accuracy across cells, seed-to-seed noise, seconds per training on one core,
and the Kendall tau / Spearman rho between the short recipe's final val accuracy and the long recipe's test accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np


def train_all(args: argparse.Namespace) -> None:
    import torch

    from nasbench.train.data import load_splits
    from nasbench.train.recipe import get_recipe
    from nasbench.train.selection import select_archs
    from nasbench.train.trainer import train

    torch.set_num_threads(1)
    base = get_recipe(args.recipe)
    long = base.replace(name="long", epochs=args.long_epochs, train_size=args.long_train_size)
    short = base.replace(batch_size=args.batch_size) if args.batch_size else base
    archs = select_archs("stratified", n=args.archs, seed=args.sample_seed)
    done = set()
    out = Path(args.out)
    if out.exists():
        done = {(r["recipe"], tuple(r["arch"]), r["seed"]) for r in map(json.loads, out.read_text().splitlines())}
    jobs = []
    if args.part in ("short", "both"):
        seeds = [int(x) for x in args.seed_list.split(",")] if args.seed_list else range(args.seeds)
        jobs += [(short, a, s) for s in seeds for a in archs]
    if args.part in ("long", "both"):
        jobs += [(long, a, 0) for a in archs]
    for recipe, arch, seed in jobs:
        if (recipe.name, arch, seed) in done:
            continue
        splits = load_splits(
            args.dataset,
            resolution=recipe.resolution,
            train_size=recipe.train_size,
            val_size=recipe.val_size,
            test_size=recipe.test_size,
        )
        start, cpu = time.perf_counter(), time.process_time()
        res = train(arch, recipe, splits, seed=seed, threads=1)
        row = {
            "recipe": recipe.name,
            "arch": list(arch),
            "seed": seed,
            "wall_s": time.perf_counter() - start,
            "cpu_s": time.process_time() - cpu,  # one thread: CPU time = time on one free core
        }
        row.update(res.to_json())
        with open(out, "a") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()
            os.fsync(f.fileno())


def report(path: Path) -> dict:
    from scipy.stats import kendalltau, spearmanr

    rows = [json.loads(line) for line in path.read_text().splitlines()]
    short = [r for r in rows if r["recipe"] != "long"]
    long = {tuple(r["arch"]): r for r in rows if r["recipe"] == "long"}
    by_arch: dict[tuple, dict[int, dict]] = {}
    for r in short:
        by_arch.setdefault(tuple(r["arch"]), {})[r["seed"]] = r
    final = {a: {s: r["curves"]["val_acc"][-1] for s, r in d.items()} for a, d in by_arch.items()}
    final_test = {a: {s: r["curves"]["test_acc"][-1] for s, r in d.items()} for a, d in by_arch.items()}
    vals = np.array([np.mean(list(v.values())) for v in final.values()])
    tests = np.array([np.mean(list(v.values())) for v in final_test.values()])
    pairs = [(v[0], v[1]) for v in final.values() if 0 in v and 1 in v]
    seed_sd = float(np.std([a - b for a, b in pairs]) / np.sqrt(2)) if pairs else float("nan")
    seed_tau = kendalltau([p[0] for p in pairs], [p[1] for p in pairs])[0] if len(pairs) > 2 else float("nan")
    out = {
        "archs": len(final),
        "short_trainings": len(short),
        "val_acc_final": {"min": vals.min(), "median": float(np.median(vals)), "max": vals.max(), "std": vals.std()},
        "test_acc_final": {"min": tests.min(), "median": float(np.median(tests)), "max": tests.max()},
        "seed_noise_sd_val_acc": seed_sd,
        "seed0_vs_seed1_kendall_tau": seed_tau,
        "seconds_per_short_training_wall": float(np.mean([r["wall_s"] for r in short])),
        "cpu_seconds_per_short_training": float(np.mean([r["cpu_s"] for r in short])),
        "cpu_seconds_per_short_training_max": float(np.max([r["cpu_s"] for r in short])),
    }
    common = [a for a in final if a in long]
    if len(common) > 2:
        s = [np.mean(list(final[a].values())) for a in common]
        s_half = [
            np.mean([r["curves"]["val_acc"][len(r["curves"]["val_acc"]) // 2 - 1] for r in by_arch[a].values()])
            for a in common
        ]
        lt = [long[a]["curves"]["test_acc"][-1] for a in common]
        out["long_archs"] = len(common)
        out["long_test_acc"] = {"min": min(lt), "max": max(lt)}
        out["kendall_tau_short_val_vs_long_test"] = kendalltau(s, lt)[0]
        out["spearman_short_val_vs_long_test"] = spearmanr(s, lt)[0]
        out["kendall_tau_half_epochs_val_vs_long_test"] = kendalltau(s_half, lt)[0]
        out["cpu_seconds_per_long_training"] = float(np.mean([long[a]["cpu_s"] for a in common]))
    return {k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in out.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--dataset", default="fashion_mnist")
    p.add_argument("--recipe", default="fmnist-fast")
    p.add_argument("--archs", type=int, default=20)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--sample-seed", type=int, default=0)
    p.add_argument("--long-epochs", type=int, default=10)
    p.add_argument("--long-train-size", type=int, default=8000)
    p.add_argument("--part", choices=("short", "long", "both"), default="both")
    p.add_argument("--batch-size", type=int, help="override the short recipe's batch size")
    p.add_argument("--seed-list", help="comma-separated seeds of the short runs (instead of --seeds)")
    p.add_argument("--report", action="store_true")
    args = p.parse_args()
    if not args.report:
        train_all(args)
    print(json.dumps(report(Path(args.out)), indent=2, default=str))


if __name__ == "__main__":
    main()
