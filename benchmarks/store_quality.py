"""How well a store tells architectures apart: spread across cells against seed-to-seed noise.

    python benchmarks/store_quality.py data/nb201-fmnist.h5

For the final epoch (and the middle one), per metric: the spread (std) of the per-cell seed means, the seed-to-seed
noise (std of seed 0 - seed 1 over sqrt 2), the reliability of a two-seed mean (share of its variance that is
between cells), and Kendall tau between seed 0 and seed 1 and between the middle and the final epoch.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.stats import kendalltau

from nasbench import TabularBenchmark


def quality(path: str) -> dict:
    bench = TabularBenchmark.open(path)
    seeds = [s for s in bench.seeds if s is not None][:2]
    if len(seeds) < 2:
        raise SystemExit(f"{path} needs two named training seeds, it has {list(bench.seeds)}")
    last, middle = bench.epochs[-1], bench.epochs[len(bench.epochs) // 2 - 1]
    out: dict = {"cells": len(bench), "seeds": seeds, "final_epoch": last, "middle_epoch": middle}
    for metric in ("val_acc", "test_acc"):
        a = bench.table(metric, epoch=last, seed=seeds[0])
        b = bench.table(metric, epoch=last, seed=seeds[1])
        ok = np.isfinite(a) & np.isfinite(b)
        a, b = a[ok], b[ok]
        mean = (a + b) / 2
        noise = float(np.std(a - b) / np.sqrt(2))
        spread = float(np.std(mean))
        mid = bench.table(metric, epoch=middle)[ok]
        out[metric] = {
            "min": float(mean.min()),
            "median": float(np.median(mean)),
            "max": float(mean.max()),
            "spread_std": spread,
            "seed_noise_std": noise,
            "reliability_of_two_seed_mean": float(1 - noise**2 / 2 / spread**2),
            "kendall_tau_seed0_vs_seed1": float(kendalltau(a, b)[0]),
            "kendall_tau_middle_vs_final_epoch": float(kendalltau(mid, mean)[0]),
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("store")
    print(json.dumps(quality(p.parse_args().store), indent=2))


if __name__ == "__main__":
    main()
