"""``nasbench explain STORE [ARCH]`` and ``nasbench explain RESULTS_DIR [ARCH]``: why architectures win."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from nasbench.errors import StoreError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "explain",
        help="why an architecture wins and what a strategy learned",
        description="For a store: the functional-ANOVA landscape of a metric over the space's decisions (exact on "
        "a complete table, estimated from a surrogate on a partial one), and one architecture explained (ARCH, "
        "default the table's best): per-decision Shapley contributions and every single-decision change. For a "
        "results directory of `nasbench compare`: the same for the comparison's score and the winner's final "
        "incumbent, and what each strategy's proposals kept. Writes explain.md, explain.json and PNG figures.",
    )
    p.add_argument("target", help="a .h5 store, or a results directory of `nasbench compare`")
    p.add_argument("arch", nargs="?", help="architecture to explain: official string or comma-separated decisions")
    p.add_argument("--metric", help="metric to explain (store only; default: the store's score metric)")
    p.add_argument("--epoch", type=int, help="epoch (store only; default: the store's score epoch, else its last)")
    p.add_argument("--baseline", default="mean", choices=["mean", "median"], help="what contributions are against")
    p.add_argument("--repeats", type=int, help="bootstrap resamples / surrogate refits for the intervals")
    p.add_argument("--seed", type=int, default=0, help="seed of resamples, refits and samples (default 0)")
    p.add_argument("--store", help="results directory only: where the comparison's store is now")
    p.add_argument("--within", type=float, help="results only: closeness to the optimum that counts as reaching it")
    p.add_argument("--out", help="output folder (default: RESULTS_DIR/explain, or ./STORE-explain/ for a store)")
    p.add_argument("--no-plots", action="store_true", help="skip the figures")
    p.set_defaults(run=run_explain)


def _arch(text: str | None) -> object:
    if text is None:
        return None
    if "," in text and not text.startswith("|"):
        try:
            return tuple(int(v) for v in text.split(","))
        except ValueError:
            return text
    return text


def run_explain(args: argparse.Namespace) -> int:
    from nasbench.explain.run import explain_results, explain_store
    from nasbench.runner.experiment import ResultsError

    start = time.perf_counter()
    target = Path(args.target)
    command = "nasbench explain " + " ".join([args.target, *([args.arch] if args.arch else [])])
    common = {"out": args.out, "baseline": args.baseline, "repeats": args.repeats, "seed": args.seed}
    if target.is_dir():
        if args.metric is not None or args.epoch is not None:
            raise ResultsError("--metric and --epoch are for a store; a results directory explains its score metric")
        result = explain_results(
            target, _arch(args.arch), store=args.store, within=args.within, plots=not args.no_plots,
            command=command, **common,
        )  # fmt: skip
    elif target.is_file():
        if args.store is not None or args.within is not None:
            raise ResultsError("--store and --within are for a results directory, not a store")
        result = explain_store(
            target, _arch(args.arch), metric=args.metric, epoch=args.epoch, plots=not args.no_plots,
            command=command, **common,
        )  # fmt: skip
    else:
        raise StoreError(f"{target} is neither a store file nor a results directory")
    land, win = result.landscape, result.winner
    scale, unit = (100.0, "pp") if land.metric.endswith("_acc") else (1.0, land.metric)
    print(f"{'exact' if land.exact else 'estimated'} landscape of {land.metric}@{land.epoch}: {land.design}")
    higher = land.shares.get("higher")
    print(
        f"variance: main effects {100 * land.shares['main']:.1f} %, pairs {100 * land.shares['pairs']:.1f} %"
        + (f", higher orders {100 * higher:.1f} %" if higher is not None else "")
    )
    for row in land.importance.head(5).itertuples():
        print(f"  {100 * row.fraction:6.2f} %  {row.term}")
    print(f"{win.arch_str}: {scale * win.value:.2f} vs baseline {scale * win.baseline_value:.2f} ({win.baseline})")
    parts = win.contributions.reindex(win.contributions["contribution"].abs().sort_values(ascending=False).index)
    for row in parts.head(3).itertuples():
        print(f"  {scale * row.contribution:+.3f} {unit}  {row.decision}: {row.choice}")
    gains = win.neighbours["gain"]
    if len(gains) and not math.isnan(float(gains.max())):
        better = int((gains > 0).sum())
        print(f"  best single change: {scale * float(gains.max()):+.3f} {unit}; {better} of {len(gains)} improve")
    if result.learned is not None:
        for sentence in result.learned.summary["sentence"]:
            print(f"- {sentence}")
    print(f"wrote {result.files[0]} and {len(result.files) - 1} more files in {time.perf_counter() - start:.1f} s")
    return 0
