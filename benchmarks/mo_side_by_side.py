"""nasbench's multi-objective strategies beside optuna's NSGA-II and multi-objective TPE, on one protocol, in one run.

Builds the NB201 CIFAR-10 table from ../shared/reference (cifar10.csv), joins HW-NAS-Bench's device costs and the
CIFAR-10 network's parameter count, then runs one comparison per cost (accuracy against that cost) in which
optuna's samplers are strategies like the others (``optuna_nsga2``: ``NSGAIISampler``; ``optuna_tpe`` on a
multi-objective study: MOTPE): the same runner, seeds, budget, incumbent sets and hypervolume. Prints each final
table (mean ± std hypervolume, Holm-adjusted Wilcoxon p of the best against each optuna sampler) and writes the
full reports under --out.

    python benchmarks/mo_side_by_side.py --out results/mo --seeds 100 --budget 150
    python benchmarks/mo_side_by_side.py --out results/mo500 --seeds 100 --budget 500 --costs edgegpu_latency_ms
    python benchmarks/mo_side_by_side.py --out results/mo --first-seed 100   # seeds no default was tuned on

Needs optuna (``pip install 'nasbench[optuna]'``) and the reference data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nasbench.analysis.report import write_report
from nasbench.analysis.summary import pair_between
from nasbench.runner.experiment import Experiment, run_experiment
from nasbench.runner.simulate import Budget, Protocol

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
COSTS = ("edgegpu_latency_ms", "raspi4_latency_ms", "params_m")
NASBENCH = ("random_search", "nsga2", "pareto_local_search", "parego_gp", "parego_smac", "parego_bananas", "ehvi_gp")
OPTUNA = ("optuna_nsga2", "optuna_tpe")


def build_store(folder: Path) -> Path:
    """The NB201 CIFAR-10 table with device latencies and parameter counts as static figures."""
    import csv

    from nasbench.spaces import get_space
    from nasbench.store import write_store
    from nasbench.store.format import StoreData
    from nasbench.store.import_table import TableSpec, import_table
    from nasbench.store.join import join_table
    from nasbench.train.network import params_of_every_cell

    spec = TableSpec.from_mappings(
        ["val_acc_12ep=val_acc@12", "test_acc_200ep=test_acc@200", "index=official_index"],
        percent=True,
        dataset="cifar10",
    )
    data: StoreData = import_table(REFERENCE / "nb201" / "cifar10.csv", spec)
    hw = {"edgegpu_latency": "edgegpu_latency_ms", "raspi4_latency": "raspi4_latency_ms"}
    data, _ = join_table(data, REFERENCE / "hw-nas-bench" / "hw_cifar10.csv", key="index", columns=hw)
    space = get_space("nb201")
    params = folder / "params.csv"
    with open(params, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["arch", "params"])
        for arch, count in zip(space.all_archs(), params_of_every_cell(), strict=True):
            writer.writerow([space.to_str(arch), f"{count / 1e6:.6f}"])
    data, _ = join_table(data, params, key="arch", columns={"params": "params_m"})
    return write_store(folder / "nb201-cifar10-hw.h5", data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder of the results (one comparison per cost)")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed .. first-seed+seeds-1")
    parser.add_argument("--budget", type=int, default=150)
    parser.add_argument("--costs", default=",".join(COSTS), help=f"comma-separated (default {','.join(COSTS)})")
    parser.add_argument("--strategies", default=",".join(NASBENCH), help="nasbench's side (optuna's are added)")
    parser.add_argument("--store", help="a store holding the costs already (default: built from the reference)")
    args = parser.parse_args()
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    store = Path(args.store) if args.store else root / "nb201-cifar10-hw.h5"
    if not store.exists():
        build_store(root)
    for cost in args.costs.split(","):
        protocol = Protocol(search_epoch=12, score_epoch=200, noise="mean", objectives=(cost,))
        strategies = (*args.strategies.split(","), *OPTUNA)
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        experiment = Experiment(str(store), strategies, seeds, protocol, Budget(args.budget))
        out = run_experiment(experiment, root / f"{cost}-{args.budget}")
        analysis, files = write_report(out)
        print(f"\n## test_acc vs {cost}, {args.budget} evaluations, {args.seeds} seeds ({files.report})")
        print("| strategy | hypervolume (mean ± std) | IGD | Holm p vs optuna_nsga2 | Holm p vs optuna_tpe |")
        print("|---|---:|---:|---:|---:|")
        igd = analysis.fronts.igd if analysis.fronts is not None else {}
        for row in analysis.table:
            cells = []
            for other in OPTUNA:
                pair = pair_between(analysis, row.label, other) if row.label != other else None
                cells.append("" if pair is None else f"{pair.p_holm:.2g}")
            print(
                f"| {row.label} | {row.mean:.4f} ± {row.std:.4f} | {igd.get(row.label, (float('nan'),))[0]:.4f} "
                f"| {cells[0]} | {cells[1]} |"
            )


if __name__ == "__main__":
    main()
