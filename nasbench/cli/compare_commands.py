"""``nasbench compare``: run strategies many times against a benchmark and keep every trajectory."""

from __future__ import annotations

import argparse
from typing import Any

from nasbench.cli.progress import Progress
from nasbench.errors import InvalidQuery
from nasbench.oneshot import METHODS as ONESHOT_METHODS

DEFAULT_STRATEGIES = "random_search,regularized_evolution,local_search,reinforce"
MAX_SEEDS = 100_000


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "compare",
        help="run search strategies against a benchmark under a simulated clock",
        description="Run each strategy under N seeds against a benchmark store; results go to --out "
        "(experiment.json + runs.jsonl), which `nasbench report` turns into tables, plots and statistics. "
        "Re-running the same command resumes an interrupted comparison.",
    )
    p.add_argument("store", help="benchmark store (.h5)")
    p.add_argument("--out", required=True, help="results directory")
    p.add_argument(
        "--strategies",
        default=DEFAULT_STRATEGIES,
        help="comma-separated names, each optionally with hyperparameters: "
        f"regularized_evolution:population_size=20:sample_size=5 (default: {DEFAULT_STRATEGIES}). Weight-sharing "
        "methods (enas, darts, gdas, rsws) are trained for real as `nasbench oneshot` does, and the other "
        "strategies then run on the simulated clock up to their cost",
    )
    p.add_argument("--seeds", type=int, default=100, help="number of seeded runs per strategy (default 100)")
    p.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed .. first-seed+N-1")
    p.add_argument("--budget", type=int, default=None, help="evaluations per run (default 150 without --time-budget)")
    p.add_argument("--time-budget", type=float, default=None, help="simulated seconds per run")
    p.add_argument("--workers", type=int, default=1, help="simulated asynchronous workers per run (default 1)")
    p.add_argument("--processes", type=int, default=None, help="real processes running seeds (default: all cores)")
    p.add_argument("--backend", choices=("local", "ray"), default="local", help="where runs execute")
    p.add_argument("--search-metric", help="what strategies see (default: the store's default, else val_acc)")
    p.add_argument("--search-epoch", type=int, help="epoch strategies see (default: the store's last)")
    p.add_argument("--score-metric", help="how the incumbent is scored (default: the store's default, else test_acc)")
    p.add_argument("--score-epoch", type=int, help="epoch of the score (default: the store's last)")
    p.add_argument(
        "--noise",
        choices=("mean", "sample"),
        default=None,
        help="read the mean over training seeds, or sample one seed per evaluation "
        "(default: sample when the store has named seeds)",
    )
    p.add_argument(
        "--objective",
        action="append",
        default=[],
        metavar="NAME[:min|max]",
        help="a further objective beside the search metric, repeatable: a cost known before training (a static "
        "figure, e.g. edgegpu_latency_ms joined from HW-NAS-Bench); runs are then scored by the hypervolume of "
        "their incumbent set",
    )
    p.add_argument(
        "--constraint",
        action="append",
        default=[],
        metavar="NAME<=X",
        help="a constraint on a static figure, repeatable (params_m<=1.0, raspi4_latency_ms<=20): incumbents are "
        "the best feasible",
    )
    p.add_argument(
        "--surrogate",
        choices=("auto", "always", "never"),
        default="auto",
        help="answer cells the store lacks from a surrogate fitted on it (a hybrid benchmark, saved in "
        "OUT/surrogate); auto (default): when the store does not cover the whole space",
    )
    p.add_argument("--oneshot-seeds", type=int, default=3, help="seeded runs per weight-sharing method (default 3)")
    p.add_argument("--device", default="cpu", help="where weight-sharing methods train: cpu (default), cuda, cuda:N")
    p.add_argument("--charge-overhead", action="store_true", help="charge strategies' real compute time to the clock")
    p.add_argument("--overwrite", action="store_true", help="replace a results directory holding another experiment")
    p.add_argument("--no-report", action="store_true", help="do not write the report after the runs")
    p.set_defaults(run=run_compare)
    s = subparsers.add_parser(
        "strategies",
        help="list the search strategies, their hyperparameters and what they need",
        description="Every strategy `nasbench compare --strategies` takes (built-in and installed plug-ins), with "
        "its hyperparameters (type, allowed values, default) and what it needs from a benchmark.",
    )
    s.add_argument("names", nargs="*", help="only these strategies (default: all)")
    s.set_defaults(run=run_strategies)


def run_compare(args: argparse.Namespace) -> int:
    from nasbench.benchmark import TabularBenchmark
    from nasbench.runner.experiment import Experiment, StrategySpec, covers_space, run_experiment
    from nasbench.runner.simulate import Budget, Protocol, default_noise

    if not 1 <= args.seeds <= MAX_SEEDS:
        raise InvalidQuery(f"--seeds must be in 1..{MAX_SEEDS:,}, got {args.seeds}")
    if args.first_seed < 0:
        raise InvalidQuery(f"--first-seed must be >= 0, got {args.first_seed}")
    if args.processes is not None and args.processes < 1:
        raise InvalidQuery(f"--processes must be >= 1, got {args.processes}")
    if args.workers < 1:
        raise InvalidQuery(f"--workers must be >= 1, got {args.workers}")
    texts = [text.strip() for text in args.strategies.split(",") if text.strip()]
    oneshot = [text for text in texts if text.split(":")[0] in ONESHOT_METHODS]
    if oneshot:
        return _run_with_oneshot(args, oneshot, [text for text in texts if text not in oneshot])
    specs = tuple(StrategySpec.parse(text) for text in texts)
    if not specs:
        raise InvalidQuery("--strategies names no strategy")
    evaluations = args.budget if args.budget is not None or args.time_budget is not None else 150
    bench = TabularBenchmark.open(args.store)
    noise = args.noise or default_noise(bench)
    protocol = Protocol(args.search_metric, args.search_epoch, args.score_metric, args.score_epoch, noise,
                        tuple(args.objective), tuple(args.constraint))  # fmt: skip
    protocol.resolved(bench)  # fail before any run on a metric, epoch or objective the store lacks
    hybrid = args.surrogate == "always" or (args.surrogate == "auto" and not covers_space(bench))
    if hybrid and (args.objective or args.constraint):
        raise InvalidQuery(
            "objectives and constraints read each arch's costs from the table, which does not hold every arch of "
            "the space: use a complete store, or --surrogate never to search the table's archs only"
        )
    experiment = Experiment(
        store=args.store,
        strategies=specs,
        seeds=tuple(range(args.first_seed, args.first_seed + args.seeds)),
        protocol=protocol,
        budget=Budget(evaluations=evaluations, time_s=args.time_budget),
        workers=args.workers,
        charge_overhead=args.charge_overhead,
        hybrid=hybrid,
    )
    if hybrid:
        size = getattr(bench.space, "size", None)
        of = f" of {size:,}" if size is not None else ""
        print(f"{args.store} holds {len(bench):,}{of} architectures: the others are answered by a surrogate")
    with Progress(f"compare: {len(specs)} strategies x {args.seeds} seeds", "run") as bar:
        run_experiment(experiment, args.out, processes=args.processes, backend=args.backend, overwrite=args.overwrite,
                       progress=bar.update, table=bench)  # fmt: skip
    print(f"results in {args.out}")
    if not args.no_report:
        from nasbench.cli.report_commands import write_and_print_report

        write_and_print_report(args.out)
    return 0


def _run_with_oneshot(args: argparse.Namespace, methods: list[str], baselines: list[str]) -> int:
    """Weight-sharing methods train for real; the other strategies run up to their cost (``nasbench oneshot``)."""
    from nasbench.benchmark import TabularBenchmark
    from nasbench.cli.oneshot_commands import run_and_report
    from nasbench.oneshot.experiment import OneShotConfig
    from nasbench.runner.simulate import Protocol, default_noise

    if args.budget is not None:
        raise InvalidQuery(
            "--budget does not apply beside weight-sharing methods: the other strategies run on the simulated clock "
            "up to the largest one-shot cost (--time-budget caps each one-shot search instead)"
        )
    if args.oneshot_seeds < 1:
        raise InvalidQuery(f"--oneshot-seeds must be >= 1, got {args.oneshot_seeds}")
    bench = TabularBenchmark.open(args.store)
    noise = args.noise or default_noise(bench)
    config = OneShotConfig(
        methods=tuple(methods),
        seeds=tuple(range(args.first_seed, args.first_seed + args.oneshot_seeds)),
        device=args.device,
        time_budget_s=args.time_budget,
        baselines=tuple(baselines),
        baseline_seeds=tuple(range(args.first_seed, args.first_seed + args.seeds)),
        use_surrogate=args.surrogate != "never",
        protocol=Protocol(args.search_metric, args.search_epoch, args.score_metric, args.score_epoch, noise),
    )
    return run_and_report(args.store, args.out, config, overwrite=args.overwrite, report=not args.no_report)


def run_strategies(args: argparse.Namespace) -> int:
    from nasbench.strategies import registry, strategy_class
    from nasbench.strategies.hyperparameters import declared

    for name in args.names or list(registry()):
        cls = strategy_class(name)
        needs = [*cls.requires, *(["several epochs (multi-fidelity)"] if cls.multi_fidelity else [])]
        print(f"{name}  ({registry()[name]}){'  needs: ' + ', '.join(needs) if needs else ''}")
        for param in declared(cls):
            print(f"    {param.describe()}")
    return 0
