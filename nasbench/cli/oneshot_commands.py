"""``nasbench oneshot``: train weight-sharing methods (ENAS, DARTS, GDAS, RSWS) for real on a store's own data and
recipe, score the cells they return with the store, and rank them beside simulated baselines at the same cost."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nasbench.errors import InvalidQuery

DEFAULT_METHODS = "enas,darts,gdas,rsws"


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "oneshot",
        help="train weight-sharing methods on a store's dataset and rank their cells with the others",
        description="Train each weight-sharing method under N seeds on the dataset and recipe the store was built "
        "with (real training; cost = measured seconds on --device), score the returned cell with the store (a "
        "surrogate for cells the table lacks), run baseline strategies on the simulated clock up to the largest "
        "one-shot cost, and write experiment.json + runs.jsonl (read by `nasbench report`), oneshot.jsonl (cells, "
        "architecture parameters, per-epoch history, supernet rank correlation) and oneshot.md (every baseline read "
        "at each method's own cost) into --out. "
        "Re-running the same command resumes.",
    )
    p.add_argument("store", help="benchmark store (.h5) made by `nasbench build`")
    p.add_argument("--out", required=True, help="results directory")
    p.add_argument(
        "--methods",
        default=DEFAULT_METHODS,
        help="comma-separated methods, each optionally with hyperparameters: darts:order=2, "
        f"gdas:tau_max=10:tau_min=0.1, enas:controller_steps=10 (default: {DEFAULT_METHODS})",
    )
    p.add_argument("--seeds", type=int, default=3, help="seeded runs per method (default 3)")
    p.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed .. first-seed+N-1")
    p.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    p.add_argument("--epochs", type=int, help="supernet epochs of every method (default: each paper's)")
    p.add_argument("--channels", type=int, help="supernet width C (default: the store's recipe)")
    p.add_argument("--cells", type=int, help="cells per stage N (default: the store's recipe)")
    p.add_argument("--batch-size", type=int, help="search batch size (default 64)")
    p.add_argument("--time-budget", type=float, help="seconds of search per run (stops after the last epoch that fits)")
    p.add_argument(
        "--baselines",
        default="random_search,regularized_evolution",
        help="strategies run on the simulated clock up to the largest one-shot cost ('' for none)",
    )
    p.add_argument("--baseline-seeds", type=int, help="seeds per baseline (default: --seeds)")
    p.add_argument("--rank-sample", type=int, default=50, help="table cells ranked by each supernet (0: skip)")
    p.add_argument("--no-surrogate", action="store_true", help="never score with a surrogate (partial tables fail)")
    p.add_argument("--data-dir", help="folder holding the store's dataset files")
    p.add_argument("--download", action="store_true", help="download the dataset if it is not found")
    p.add_argument("--overwrite", action="store_true", help="replace a results directory holding another experiment")
    p.add_argument("--no-report", action="store_true", help="do not write the comparison report afterwards")
    p.add_argument("--no-plots", action="store_true", help="write the report without figures")
    p.set_defaults(run=run_oneshot)


def run_oneshot(args: argparse.Namespace) -> int:
    from nasbench.benchmark import TabularBenchmark
    from nasbench.oneshot.experiment import OneShotConfig
    from nasbench.runner.simulate import Protocol, default_noise

    for name in ("seeds", "baseline_seeds", "epochs", "channels", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise InvalidQuery(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.cells is not None and args.cells < 0:
        raise InvalidQuery(f"--cells must be >= 0, got {args.cells}")
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    if not methods:
        raise InvalidQuery("--methods names no method")
    bench = TabularBenchmark.open(args.store)
    noise = default_noise(bench)
    seeds = tuple(range(args.first_seed, args.first_seed + args.seeds))
    config = OneShotConfig(
        methods=methods,
        seeds=seeds,
        device=args.device,
        epochs=args.epochs,
        channels=args.channels,
        cells_per_stage=args.cells,
        batch_size=args.batch_size,
        time_budget_s=args.time_budget,
        baselines=tuple(b.strip() for b in args.baselines.split(",") if b.strip()),
        baseline_seeds=tuple(range(args.first_seed, args.first_seed + args.baseline_seeds))
        if args.baseline_seeds
        else None,
        rank_sample=args.rank_sample,
        use_surrogate=not args.no_surrogate,
        data_dir=args.data_dir,
        download=args.download,
        protocol=Protocol(noise=noise),
    )
    return run_and_report(args.store, args.out, config, overwrite=args.overwrite, report=not args.no_report,
                          plots=not args.no_plots)  # fmt: skip


def run_and_report(store: str, out: str, config: Any, *, overwrite: bool, report: bool, plots: bool = True) -> int:
    """Run a one-shot comparison (progress on stderr), print its summary and, unless told not to, its report."""
    from nasbench.oneshot.experiment import SUMMARY_FILE, run_oneshot_experiment

    path = run_oneshot_experiment(
        store, out, config, overwrite=overwrite, progress=lambda msg: print(msg, file=sys.stderr)
    )
    print((path / SUMMARY_FILE).read_text())
    if report:
        from nasbench.cli.report_commands import write_and_print_report

        write_and_print_report(str(path), plots=plots)
    return 0
