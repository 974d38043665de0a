"""``nasbench suite SUITE.toml --out DIR``: one list of strategies on several benchmarks, ranked across them."""

from __future__ import annotations

import argparse
from typing import Any

from nasbench.cli.progress import Progress


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "suite",
        help="run strategies on several benchmarks and rank them across the benchmarks",
        description="Run the strategies of a suite file (TOML: strategies, seeds, budget, and [[benchmarks]] "
        "entries with a name, a store and optionally their own protocol and budget) on each benchmark, as "
        "`nasbench compare` would into OUT/<name>, then write OUT/report.md: a table per benchmark, average ranks "
        "across benchmarks with Friedman and Nemenyi (the benchmarks as samples), wins/ties/losses against random "
        "search, and normalised regret averaged over benchmarks. Re-running resumes.",
    )
    p.add_argument("suite", help="the suite file (.toml)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--processes", type=int, default=None, help="real processes running seeds (default: all cores)")
    p.add_argument("--backend", choices=("local", "ray"), default="local", help="where runs execute")
    p.add_argument("--overwrite", action="store_true", help="replace entries holding another experiment")
    p.set_defaults(run=run_suite_command)


def run_suite_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from nasbench.analysis.suite_report import write_suite_report
    from nasbench.errors import InvalidQuery
    from nasbench.runner.suite import Suite, run_suite

    if args.processes is not None and args.processes < 1:
        raise InvalidQuery(f"--processes must be >= 1, got {args.processes}")
    suite = Suite.read(args.suite)
    with Progress(f"suite: {len(suite.entries)} benchmarks", "run") as bar:
        run_suite(suite, args.out, processes=args.processes, backend=args.backend, overwrite=args.overwrite,
                  progress=lambda name, done, total: bar.update(done, total))  # fmt: skip
    analysis, report = write_suite_report(Path(args.out), [e.name for e in suite.entries])
    for place, j in enumerate(analysis.avg_ranks.argsort(kind="stable"), start=1):
        print(f"{place}  {analysis.labels[int(j)]:<40s} average rank {analysis.avg_ranks[j]:.2f}")
    print(f"wrote {report}")
    return 0
