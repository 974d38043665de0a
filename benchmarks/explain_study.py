"""How well a surrogate-estimated landscape matches the exact one: on a complete table, fit the estimate on a random
subset of its cells (100 or 1,000, 5 repetitions) and compare the importances of every decision and pair with the
exact ones (Kendall tau), as `nasbench explain` would estimate them for a partial store of that size.

    python benchmarks/explain_study.py /work/ref/nb201.h5 --metric test_acc --epoch 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nasbench.benchmark import TabularBenchmark
from nasbench.explain.landscape import Landscape, kendall_tau, landscape


def importance_vector(land: Landscape) -> np.ndarray:
    """Fractions of every decision then every pair, in a fixed order (decision indices)."""
    frame = land.importance.sort_values("decisions", key=lambda s: s.map(lambda t: (len(t), t)))
    return frame["fraction"].to_numpy()


def study(
    table: TabularBenchmark,
    metric: str | None = None,
    epoch: int | None = None,
    sizes: tuple[int, ...] = (100, 1000),
    repetitions: int = 5,
    seed: int = 0,
) -> tuple[Landscape, list[dict[str, float]]]:
    exact = landscape(table, metric, epoch)
    assert exact.exact, "the study needs a complete table"
    want = importance_vector(exact)
    width = len(table.space.choices)
    archs = np.asarray(table.archs(), dtype=np.int64)
    rows = []
    for size in sizes:
        for rep in range(repetitions):
            rng = np.random.default_rng([seed, size, rep])
            cells = archs[np.sort(rng.choice(len(archs), size=size, replace=False))]
            start = time.perf_counter()
            est = landscape(table, exact.metric, exact.epoch, source="surrogate", train=cells, repeats=0, seed=rep)
            have = importance_vector(est)
            rows.append(
                {
                    "size": size,
                    "repetition": rep,
                    "tau_terms": kendall_tau(want, have),
                    "tau_decisions": kendall_tau(want[:width], have[:width]),
                    "main_share": est.shares["main"],
                    "seconds": time.perf_counter() - start,
                }
            )
    return exact, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--metric")
    parser.add_argument("--epoch", type=int)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    exact, rows = study(TabularBenchmark.open(args.store), args.metric, args.epoch, repetitions=args.repetitions)
    print(f"exact: main {100 * exact.shares['main']:.1f} %, pairs {100 * exact.shares['pairs']:.1f} %")
    print("| cells | Kendall τ, 6 decisions + 15 pairs | Kendall τ, decisions | main share (%) | s/fit |")
    print("|---:|---:|---:|---:|---:|")
    for size in sorted({r["size"] for r in rows}):
        part = [r for r in rows if r["size"] == size]
        tau = np.array([r["tau_terms"] for r in part])
        dec = np.array([r["tau_decisions"] for r in part])
        main_share = np.array([r["main_share"] for r in part])
        secs = np.mean([r["seconds"] for r in part])
        print(
            f"| {size} | {tau.mean():.3f} ± {tau.std(ddof=1):.3f} | {dec.mean():.3f} ± {dec.std(ddof=1):.3f} | "
            f"{100 * main_share.mean():.1f} | {secs:.2f} |"
        )


if __name__ == "__main__":
    main()
