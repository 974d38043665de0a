"""``nasbench report DIR``: rank the strategies of a finished (or running) comparison and write its report."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "report",
        help="rank the strategies of a comparison and write its report",
        description="Read a results directory made by `nasbench compare`, print the final table and write "
        "report.md, summary.json and PNG figures (curves, average rank, critical-difference diagram) into it.",
    )
    p.add_argument("dir", help="results directory of `nasbench compare`")
    p.add_argument("--format", default="md", choices=["md"], help="report format (default: md)")
    p.add_argument("--no-plots", action="store_true", help="skip the figures (faster; no matplotlib)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the tests (default: 0.05)")
    p.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    return write_and_print_report(args.dir, plots=not args.no_plots, fmt=args.format, alpha=args.alpha)


def write_and_print_report(directory: str, *, plots: bool = True, fmt: str = "md", alpha: float = 0.05) -> int:
    """Write the report of a results directory and print its table (also the last step of `nasbench compare`)."""
    from nasbench.analysis.report import format_table, write_report
    from nasbench.runner.experiment import ResultsError

    if not 0 < alpha < 1:
        raise ResultsError(f"--alpha must be between 0 and 1, got {alpha}")
    analysis, files = write_report(directory, plots=plots, fmt=fmt, alpha=alpha)
    print(format_table(analysis))
    print()
    print(analysis.conclusion)
    for note in analysis.notes:
        print(f"note: {note}")
    print(
        f"wrote {files.report}, {files.summary.name}" + (f" and {len(files.figures)} figures" if files.figures else "")
    )
    return 0
